"""Storage on a real SQLite file: migrations, WAL, version check, backups."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.domain.addresses import AddressFamily
from app.domain.errors import DatabaseError, DuplicateWalletError, WalletNotFoundError
from app.domain.model import Wallet
from app.storage.database import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    REVISIONS,
    _alembic_config,
    create_sqlite_engine,
    migrate,
    open_database,
    read_revision,
)
from app.storage.wallet_store import SqlWalletRepository

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_revision_list_matches_alembic_history(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "x.sqlite3")
    script = ScriptDirectory.from_config(_alembic_config(engine))
    history = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(history) == REVISIONS
    assert script.get_current_head() == HEAD_REVISION


def test_migrate_from_empty_creates_schema_in_wal_mode(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = open_database(db, tmp_path / "backups")
    with engine.connect() as con:
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        tables = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master"))}
    assert {"wallets", "app_meta", "alembic_version"} <= tables
    assert read_revision(db) == HEAD_REVISION
    assert not (tmp_path / "backups").exists()  # nothing to back up on a new database
    engine.dispose()


def test_migrate_from_previous_revision_keeps_data_and_backs_up(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = create_sqlite_engine(db)
    migrate(engine, REVISIONS[-2])
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO wallets (family, address, label, created_at) "
                "VALUES ('evm', :a, 'old', '2026-01-01T00:00:00+00:00')"
            ),
            {"a": ADDR},
        )
    engine.dispose()
    engine = open_database(db, tmp_path / "backups")
    wallets = SqlWalletRepository(engine).list()
    assert [(w.address, w.label, w.group) for w in wallets] == [(ADDR, "old", "")]
    backups = list((tmp_path / "backups").glob("*.sqlite3"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == REVISIONS[-2]
    engine.dispose()


def test_database_from_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    open_database(db, tmp_path / "b").dispose()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    before = db.read_bytes()
    with pytest.raises(DatabaseError, match="newer version of Chainfolio"):
        open_database(db, tmp_path / "b")
    assert db.read_bytes() == before


def test_damaged_file_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="is damaged"):
        open_database(db, tmp_path / "b")


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE other (x)")
    with pytest.raises(DatabaseError, match="did not create"):
        open_database(db, tmp_path / "b")


def test_wallet_repository_round_trip(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "c.sqlite3", tmp_path / "b")
    repo = SqlWalletRepository(engine)
    saved = repo.add(Wallet(address=ADDR, family=AddressFamily.EVM, label="main", group="hot"))
    assert saved.id is not None
    with pytest.raises(DuplicateWalletError):
        repo.add(Wallet(address=ADDR, family=AddressFamily.EVM))
    repo.update(saved.with_label("renamed"))
    assert repo.get_by_address(ADDR) is not None
    assert repo.list()[0].label == "renamed"
    repo.remove(saved.id)
    assert repo.list() == []
    with pytest.raises(WalletNotFoundError):
        repo.remove(saved.id)
    engine.dispose()


def test_locked_database_gives_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    open_database(db, tmp_path / "b").dispose()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0001'")
    con.commit()
    con.close()
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        import app.storage.database as database

        old = database.BUSY_TIMEOUT_MS
        database.BUSY_TIMEOUT_MS = 50
        try:
            with pytest.raises(DatabaseError, match="locked"):
                open_database(db, tmp_path / "b")
        finally:
            database.BUSY_TIMEOUT_MS = old
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert MIGRATIONS_DIR.is_dir()


def test_snapshots_from_revision_0005_survive_the_positions_migration(tmp_path: Path) -> None:
    """0006 rebuilds snapshot_holdings with a wider key; old holdings become wallet balances."""
    from app.storage.snapshot_store import SqlSnapshotStore

    db = tmp_path / "chainfolio.sqlite3"
    engine = create_sqlite_engine(db)
    migrate(engine, "0005")
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO snapshots (id, taken_at, currency, total, stale_total, sources) "
                "VALUES (1, 100, 'USD', '5.5', '0', '[]')"
            )
        )
        con.execute(
            text(
                "INSERT INTO snapshot_holdings VALUES "
                "(1, 'eip155:1:0xabc', 'eip155:1/slip44:60', 'ETH', 18, '1000', '5.5', '5.5', "
                "'ok', 100)"
            )
        )
    engine.dispose()
    engine = open_database(db, tmp_path / "backups")
    snap = SqlSnapshotStore(engine).latest()
    assert snap is not None and snap.total == Decimal("5.5") and snap.accounts == ()
    [h] = snap.holdings
    assert (h.raw, h.position, h.is_spam) == (1000, "", False)
    with engine.begin() as con:  # the cascade still removes a snapshot's holdings
        con.execute(text("DELETE FROM snapshots"))
        assert con.execute(text("SELECT count(*) FROM snapshot_holdings")).scalar() == 0
    engine.dispose()
