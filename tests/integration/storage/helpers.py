"""Storage fault tests: run the real CLI in a child process, seed and read back snapshots."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.config import Paths
from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus

ROOT = Path(__file__).resolve().parents[3]
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
OTHER = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"
TRACEBACK = "Traceback (most recent call last)"


def cli(
    data_dir: Path,
    *argv: str,
    stdin: str | None = None,
    drop_root: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m app --data-dir D ...``; ``drop_root``: without root's power to ignore file
    modes, so a chmod-ed file or folder is read-only even when the tests run as root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir), *argv]
    if drop_root and os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *cmd]
    return subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


def seed(data_dir: Path, snapshots: int = 3) -> list[tuple[object, ...]]:
    """A data folder with one wallet and ``snapshots`` stored snapshots; returns its history."""
    from app.bootstrap import bootstrap
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.storage.wallet_store import SqlWalletRepository

    paths = Paths.resolve(data_dir)
    paths.ensure()
    ctx = bootstrap(paths)
    try:
        from app.domain.addresses import AddressFamily
        from app.domain.model import Wallet

        SqlWalletRepository(ctx.engine).add(Wallet(address=WALLET, family=AddressFamily.EVM))
        store = SqlSnapshotStore(ctx.engine)
        for i in range(snapshots):
            store.write(snapshot(1_700_000_000 + i * 3600, 10**18 + i))
    finally:
        ctx.close()
    return history(data_dir)


def snapshot(taken_at: int, raw: int, wallet: str = WALLET) -> Snapshot:
    from decimal import Decimal

    return Snapshot(
        taken_at=taken_at,
        currency="USD",
        holdings=(
            SnapshotHolding(
                wallet=f"eip155:1:{wallet}",
                asset_id="eip155:1/slip44:60",
                symbol="ETH",
                decimals=18,
                raw=raw,
                price=Decimal("2000.5"),
                value=Decimal(raw) * Decimal("2000.5") / 10**18,
                state=SourceState.OK,
                as_of=taken_at,
            ),
        ),
        sources=(SourceStatus("eip155:1", SourceState.OK, None, taken_at),),
    )


def history(data_dir: Path) -> list[tuple[object, ...]]:
    """Every stored snapshot with its holdings, read without writing anything."""
    con = sqlite3.connect(f"file:{data_dir / 'chainfolio.sqlite3'}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT s.id, s.taken_at, s.total, s.stale_total, h.wallet, h.asset_id, h.raw, "
            "h.value, h.state FROM snapshots s LEFT JOIN snapshot_holdings h "
            "ON h.snapshot_id = s.id ORDER BY s.id, h.wallet, h.asset_id"
        ).fetchall()
    finally:
        con.close()


def one_sentence(stderr: str, *needles: str) -> str:
    """The error the person sees: no traceback, one line, naming what it must."""
    assert TRACEBACK not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("chainfolio: error:")]
    assert len(errors) == 1, stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def offline(data_dir: Path) -> None:
    """Ethereum and the price source at a local port where nothing listens."""
    from tests.support.net import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    for argv in (
        ("networks", "set-rpc", "eip155:1", dead),
        ("config", "set", "prices.order", "defillama"),
        ("config", "set", "prices.defillama.url", dead),
    ):
        assert cli(data_dir, *argv).returncode == 0


def damage_table(db: Path, table: str) -> None:
    """Overwrite the root page of ``table`` with garbage (the file stays an SQLite file)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    con.close()
    with db.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\xa5" * page_size)
