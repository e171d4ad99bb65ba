"""A stored snapshot reaches the database file through the refresh's own background step, not
inside the next snapshot's commit: SQLite's automatic checkpoint is only a backstop (40 MB),
and the composition root registers a checkpoint after every stored snapshot."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from app.config import Paths, Settings
from app.domain.outcome import RefreshStatus
from app.services.refresh import RefreshResult
from app.storage.database import WAL_AUTOCHECKPOINT_PAGES, checkpoint, open_database
from tests.integration.storage.helpers import snapshot
from tests.support.fakes import MemorySecrets

pytestmark = pytest.mark.integration


def _snapshots_in_the_file_alone(db: Path, scratch: Path) -> int:
    """How many snapshots the database file holds without its WAL (what a crash of the WAL
    would leave to recover from, and what the checkpoint moved)."""
    scratch.mkdir(exist_ok=True)
    copy = scratch / "alone.sqlite3"
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(db, copy)
    con = sqlite3.connect(copy)
    try:
        return int(con.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    finally:
        con.close()


def test_the_backstop_is_raised_on_every_connection(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    with engine.connect() as con:
        (pages,) = con.exec_driver_sql("PRAGMA wal_autocheckpoint").fetchone()  # type: ignore[misc]
    engine.dispose()
    assert pages == WAL_AUTOCHECKPOINT_PAGES


def test_the_refresh_step_moves_the_snapshot_into_the_file(tmp_path: Path) -> None:
    paths = Paths.resolve(str(tmp_path / "data"))
    ctx = bootstrap(paths, Settings.load(paths.settings_file))
    ctx.secrets = MemorySecrets()  # type: ignore[assignment]
    db = paths.data_dir / "chainfolio.sqlite3"
    try:
        checkpoint(ctx.engine)  # the schema is in the file
        stored = ctx.snapshots.write(snapshot(int(time.time()), 10**18))
        # Committed, but only in the WAL: the commit itself no longer copies it over.
        assert _snapshots_in_the_file_alone(db, tmp_path / "scratch") == 0
        step = {r.name: r for r in ctx.refresh._steps}["database checkpoint"]
        assert step.background  # never part of what the refresh's outcome waits for
        result = RefreshResult(RefreshStatus.OK, "ok", int(time.time()), "USD")
        asyncio.run(step.step(result))
        assert _snapshots_in_the_file_alone(db, tmp_path / "scratch") == 1
        latest = ctx.snapshots.latest()
        assert latest is not None and latest.id == stored
    finally:
        ctx.close()
