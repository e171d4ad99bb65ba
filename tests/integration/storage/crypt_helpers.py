"""Shared by the encryption, backup and keyring-key tests: full dumps and a seeded data folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.storage.encryption import DatabaseKey, connect
from tests.integration.storage.helpers import WALLET, cli, seed

PASSPHRASE = "correct horse battery"
AMOUNT = "1000000000000000002"  # the third snapshot's raw balance, stored as text


def dump(db: Path, key: DatabaseKey | None = None) -> list[str]:
    """Every schema statement, then every row of every table with its values' types."""
    con = connect(db, key)
    try:
        schema = con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        lines = [repr(tuple(r)) for r in schema]
        for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall():
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            lines += sorted(f"{name}: {[(type(v).__name__, v) for v in r]!r}" for r in rows)
        return lines
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def seed_portfolio(data: Path) -> Path:
    """A wallet, three snapshots (history and holdings) and a ledger account with a buy."""
    seed(data)
    assert cli(data, "accounts", "add", "Broker", "--kind", "broker").returncode == 0
    done = cli(data, "tx", "add", "--account", "Broker", "--type", "buy", "--asset", "ETH",
               "--amount", "0.75", "--price", "1800.25", "--currency", "USD",
               "--date", "2024-03-01")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return data


def plaintext_needles() -> list[bytes]:
    return [
        WALLET.encode(),
        WALLET.lower().encode(),
        WALLET[2:].lower().encode(),
        AMOUNT.encode(),
        b"2000.5",
        b"1800.25",
        b"SQLite format 3",
        b"snapshot_holdings",
    ]
