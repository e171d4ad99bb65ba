"""``chainfolio wallets add xpub…|zpub…|bc1…``: stored watch-only, shortened in output, private
keys and seeds refused with nothing stored; the derived-address cache goes with its wallet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import main
from app.config import Paths
from app.storage.bitcoin_store import CachedAddress, SqlBitcoinStore
from app.storage.database import open_database
from app.storage.tables import bitcoin_addresses, bitcoin_wallets
from tests.unit.bitcoin.test_derivation import XPRV, XPUB_86, ZPUB_84

FIRST_84 = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_add_list_and_remove_a_zpub(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    code, out = run(data_dir, "-v", "wallets", "add", ZPUB_84)
    assert code == 0
    assert "zpub6rFR…tZYs" in out and FIRST_84 in out and ZPUB_84 not in out
    descriptor = f"tr([73c5da0a/86'/0'/0']{XPUB_86}/<0;1>/*)"
    assert run(data_dir, "wallets", "add", descriptor, "--label", "taproot")[0] == 0
    assert run(data_dir, "wallets", "add", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")[0] == 0
    rows = json.loads(run(data_dir, "wallets", "list", "--json")[1])
    assert [(r["family"], r["address"], r["label"]) for r in rows] == [
        ("bitcoin", FIRST_84, "Bitcoin zpub6rFR…tZYs"),
        ("bitcoin", "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr", "taproot"),
        ("bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", ""),
    ]
    assert ZPUB_84 not in caplog.text and XPUB_86 not in caplog.text
    # the same key again is refused; its first address too (the same coins)
    assert run(data_dir, "wallets", "add", ZPUB_84)[0] == 1
    assert run(data_dir, "wallets", "add", FIRST_84)[0] == 1
    paths = Paths.resolve(data_dir)
    engine = open_database(paths.database, paths.backups_dir)
    try:
        with engine.connect() as con:
            stored = sorted(con.execute(select(bitcoin_wallets.c.watch)).scalars())
        assert len(stored) == 2 and ZPUB_84 in stored
        assert any(s.startswith(descriptor + "#") for s in stored)  # its checksum added
        wallet_id = int(rows[0]["id"])
        SqlBitcoinStore(engine).save_addresses(
            wallet_id, [CachedAddress(0, 0, FIRST_84, True), CachedAddress(1, 0, "bc1qx", False)]
        )
        assert SqlBitcoinStore(engine).addresses(wallet_id)[0] == CachedAddress(
            0, 0, FIRST_84, True
        )
        # removed by its key: the key and the cache go with it
        assert run(data_dir, "wallets", "remove", ZPUB_84)[0] == 0
        with engine.connect() as con:
            assert con.execute(select(func.count()).select_from(bitcoin_addresses)).scalar() == 0
            assert ZPUB_84 not in list(con.execute(select(bitcoin_wallets.c.watch)).scalars())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "secret",
    [
        XPRV,
        f"wpkh({XPRV}/84'/0'/0'/<0;1>/*)",
        "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1",
    ],
)
def test_private_keys_are_refused_and_nothing_stored(
    data_dir: Path, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(data_dir, "-v", "wallets", "add", secret)[0] == 1
    captured = capsys.readouterr()
    assert "not saved" in captured.err
    body = secret[5:40] if secret.startswith("wpkh") else secret[:30]
    assert body not in captured.err + captured.out
    for f in data_dir.rglob("*"):
        if f.is_file():
            assert body.encode() not in f.read_bytes(), f
    assert json.loads(run(data_dir, "wallets", "list", "--json")[1]) == []


def test_bad_zpub_is_explained(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = ZPUB_84[:-3] + ("aaa" if not ZPUB_84.endswith("aaa") else "bbb")
    assert run(data_dir, "wallets", "add", typo)[0] == 1
    assert "checksum" in capsys.readouterr().err
