"""``wallets add A B C`` and ``wallets import FILE``: every entry checked, all added in one
transaction or none, a bad entry named by its position and never echoed."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

from app.cli import main
from app.domain.addresses import AddressFamily
from app.domain.errors import DuplicateWalletError
from app.domain.model import Wallet
from app.storage.database import open_database
from app.storage.wallet_store import SqlWalletRepository

A = "0x52908400098527886E0F7030069857D2E4169EE7"
B = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"
C = "0xde709f2102306220921060314715629080e2fb77"  # all lower case: stored checksummed
SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SEED = " ".join(["abandon"] * 11 + ["about"])


def run(data: Path, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_err, old_in = sys.stderr, sys.stdin
    sys.stderr = err
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(["--data-dir", str(data), *argv], stdout=out)
    finally:
        sys.stderr, sys.stdin = old_err, old_in
    return code, out.getvalue(), err.getvalue()


def stored(data: Path) -> list[tuple[str, str, str]]:
    con = sqlite3.connect(data / "chainfolio.sqlite3")
    try:
        return con.execute(
            "SELECT address, label, wallet_group FROM wallets ORDER BY id"
        ).fetchall()
    finally:
        con.close()


def test_add_takes_several_addresses(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "wallets", "add", A, B, SOL, "--group", "cold")
    assert code == 0, err
    assert [row[0] for row in stored(tmp_path)] == [A, B, SOL]
    assert {row[2] for row in stored(tmp_path)} == {"cold"}
    assert out.count("Added") == 3


@pytest.mark.parametrize("bad", [KEY, SEED, "0x1234", "not-an-address"])
def test_one_bad_address_adds_none_and_is_named_by_position(tmp_path: Path, bad: str) -> None:
    run(tmp_path, "wallets", "add", C)
    code, out, err = run(tmp_path, "wallets", "add", A, bad, B)
    assert code == 1 and out == ""
    assert "address 2" in err and "Nothing was added" in err
    assert bad not in err and KEY[10:30] not in err and "abandon" not in err
    assert "Traceback" not in err
    assert len(stored(tmp_path)) == 1


def test_already_watched_and_repeated_addresses_are_skipped(tmp_path: Path) -> None:
    run(tmp_path, "wallets", "add", A)
    code, out, err = run(tmp_path, "wallets", "add", A.lower(), B, B)
    assert code == 0, err
    assert [row[0] for row in stored(tmp_path)] == [A, B]
    assert "2 already watched" in out


def test_import_reads_csv_with_labels_groups_comments_and_a_header(tmp_path: Path) -> None:
    listing = tmp_path / "wallets.csv"
    listing.write_text(
        f'address,label,group\n{A},Main,hot\n\n# a comment\n{B}\n{SOL},"Staking, long term",cold\n',
        encoding="utf-8",
    )
    code, out, err = run(tmp_path, "wallets", "import", str(listing))
    assert code == 0, err
    assert stored(tmp_path) == [
        (A, "Main", "hot"),
        (B, "", ""),
        (SOL, "Staking, long term", "cold"),
    ]
    assert "Added 3 wallets" in out


def test_import_from_stdin(tmp_path: Path) -> None:
    code, _out, err = run(tmp_path, "wallets", "import", "-", stdin=f"{A}\n{B}\n")
    assert code == 0, err
    assert [row[0] for row in stored(tmp_path)] == [A, B]


def test_import_names_bad_lines_and_adds_nothing(tmp_path: Path) -> None:
    listing = tmp_path / "wallets.txt"
    listing.write_text(f"{A}\n{B},label with {KEY}\n{KEY}\n{SOL},a,b,c\n")
    code, out, err = run(tmp_path, "wallets", "import", str(listing))
    assert code == 1 and out == ""
    for line in ("line 2", "line 3", "line 4"):
        assert line in err
    assert KEY not in err and KEY[5:25] not in err
    assert not (tmp_path / "chainfolio.sqlite3").exists() or stored(tmp_path) == []


def test_import_of_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    code, _out, err = run(tmp_path, "wallets", "import", str(tmp_path / "nope.csv"))
    assert code == 1 and "nope.csv" in err and "Traceback" not in err


def test_repository_adds_many_in_one_transaction_or_none(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    commits: list[int] = []
    event.listen(engine, "commit", lambda _con: commits.append(1))
    repo = SqlWalletRepository(engine)
    batch = [Wallet(address=f"0x{i:040x}", family=AddressFamily.EVM) for i in range(1, 2001)]
    saved = repo.add_many(batch)
    assert len(commits) == 1
    assert [w.address for w in saved] == [w.address for w in batch]
    assert len({w.id for w in saved}) == 2000 and all(w.id for w in saved)
    more = [Wallet(address=f"0x{i:040x}", family=AddressFamily.EVM) for i in range(3000, 3005)]
    with pytest.raises(DuplicateWalletError):
        repo.add_many([*more, batch[0]])
    assert len(repo.list()) == 2000
    engine.dispose()
