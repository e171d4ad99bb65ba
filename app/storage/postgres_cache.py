"""A local, read-only copy of what the window last saw of a shared PostgreSQL database.

When the server is down or unreachable at start, the window opens this SQLite file instead
(read-only), says so, and keeps trying the server. It holds the wallets and the newest snapshot
(with its breakdown, lending accounts and rates): enough to show the portfolio as it was. It is
replaced atomically (written beside, then renamed), so a crash never leaves half a copy.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from sqlalchemy import Engine, MetaData, insert, select

from app.domain.errors import DatabaseError

log = logging.getLogger(__name__)

COPY_NAME = "shared-copy.sqlite3"
WHOLE_TABLES = ("wallets", "tokens", "holding_texts")  # holding_texts: revision 0018
SNAPSHOT_TABLES = ("snapshot_rows", "snapshot_breakdown", "snapshot_accounts", "snapshot_rates")


def copy_path(data_dir: Path) -> Path:
    return data_dir / COPY_NAME


_WRITING = threading.Lock()  # one copy written at a time (a newer one waits its turn)


def save_copy(source: Engine, path: Path) -> int | None:
    """Write the wallets and the newest snapshot of ``source`` to ``path``; the id of the
    snapshot kept (None: there is none yet)."""
    with _WRITING:
        return _save_copy(source, path)


def _save_copy(source: Engine, path: Path) -> int | None:
    from app.storage.database import open_database

    tmp = path.with_name(path.name + ".new")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    target = open_database(tmp, path.parent / "backups")
    meta = MetaData()
    meta.reflect(source, only=[*WHOLE_TABLES, "snapshots", *SNAPSHOT_TABLES])
    kept: int | None = None
    try:
        with source.connect() as src, target.begin() as dst:
            for name in WHOLE_TABLES:
                rows = [dict(r) for r in src.execute(select(meta.tables[name])).mappings()]
                if rows:
                    dst.execute(insert(meta.tables[name]), rows)
            snaps = meta.tables["snapshots"]
            head = (
                src.execute(select(snaps).order_by(snaps.c.taken_at.desc(), snaps.c.id.desc()))
                .mappings()
                .first()
            )
            if head is not None:
                kept = int(head["id"])
                dst.execute(insert(snaps), [dict(head)])
                for name in SNAPSHOT_TABLES:
                    table = meta.tables[name]
                    rows = [
                        dict(r)
                        for r in src.execute(
                            select(table).where(table.c.snapshot_id == kept)
                        ).mappings()
                    ]
                    if rows:
                        dst.execute(insert(table), rows)
        from sqlalchemy import text

        with target.connect() as con:
            con.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        target.dispose()
    for side in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        side.unlink(missing_ok=True)
    os.replace(tmp, path)
    log.info("kept a local copy of the shared database's newest snapshot (%s)", kept)
    return kept


def open_copy(path: Path) -> Engine:
    """The local copy, read-only; DatabaseError when there is none."""
    if not path.exists():
        raise DatabaseError("There is no local copy of the shared database yet.")
    from app.storage.database import create_sqlite_engine

    return create_sqlite_engine(path, read_only=True)
