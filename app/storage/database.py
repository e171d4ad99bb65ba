"""Opening the database: WAL mode, schema version check, backup, then Alembic migrations.

Start-up takes a fast path: when the stored revision is already the head, Alembic (and its
script parsing) is not loaded at all.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from app.domain.errors import DatabaseError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Revisions in order; a test checks this against Alembic's own history.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
HEAD_REVISION = REVISIONS[-1]
BUSY_TIMEOUT_MS = 5000
BACKUPS_KEPT = 5


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def create_sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    event.listen(engine, "connect", _on_connect)
    return engine


def read_revision(path: Path) -> str | None:
    """The schema revision stored in the file, or None for a new/empty database."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise DatabaseError(f"Cannot open the database {path}: {exc}") from None
    try:
        has_table = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
            if tables and tables[0]:
                raise DatabaseError(
                    f"{path} is an SQLite file that Chainfolio did not create; "
                    "choose another data directory."
                )
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc):
            raise DatabaseError(
                f"The database {path} is locked by another program; close it and try again."
            ) from None
        raise DatabaseError(
            f"The database {path} is damaged or not a database ({exc}). Your backups are in "
            f"{path.parent / 'backups'}."
        ) from None
    finally:
        con.close()


def backup(path: Path, backups_dir: Path, revision: str) -> Path:
    """Copy the database with SQLite's online backup API (consistent even in WAL mode)."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = backups_dir / f"chainfolio-r{revision}-{stamp}.sqlite3"
    src = sqlite3.connect(path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    old = sorted(backups_dir.glob("chainfolio-r*.sqlite3"))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    log.info("backed up database before migration to %s", target)
    return target


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, target: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(engine), target)


def open_database(path: Path, backups_dir: Path) -> Engine:
    """Open (creating or upgrading) the database and return its engine.

    Refuses a database written by a newer version instead of touching it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    current = read_revision(path)
    if current is not None and current not in REVISIONS:
        raise DatabaseError(
            f"This database ({path}) was written by a newer version of Chainfolio "
            f"(schema {current}; this version knows up to {HEAD_REVISION}). Nothing was changed: "
            "update Chainfolio, or start it with another --data-dir."
        )
    engine = create_sqlite_engine(path)
    if current != HEAD_REVISION:
        if current is not None:
            backup(path, backups_dir, current)
        log.info("migrating database %s from %s to %s", path, current or "empty", HEAD_REVISION)
        try:
            migrate(engine)
        except Exception as exc:
            engine.dispose()
            if "locked" in str(exc):
                raise DatabaseError(
                    f"The database {path} is locked by another program (is Chainfolio already "
                    "running with this data directory?). Nothing was changed."
                ) from None
            raise DatabaseError(
                f"Upgrading the database failed ({exc}); a backup taken just before is in "
                f"{backups_dir}."
            ) from exc
    return engine
