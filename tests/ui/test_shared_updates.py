"""A window on a shared PostgreSQL database shows a snapshot another desktop stores, through
LISTEN/NOTIFY (no polling), and stops listening when it quits."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import Paths, Settings
from app.storage.postgres import create_postgres_engine
from app.storage.snapshot_store import SqlSnapshotStore
from app.ui.application import ChainfolioApp
from tests.integration.storage.helpers import snapshot
from tests.support.postgres import PASSWORD


def test_the_window_shows_a_snapshot_stored_by_another_desktop(  # type: ignore[no-untyped-def]
    qapp, qtbot, qasync_loop, data_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    paths = Paths.resolve(data_dir)
    paths.ensure()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
    assert app.open_data()
    assert app.shared is not None
    qtbot.waitUntil(lambda: app.shared is not None and app.shared.listening, timeout=30000)
    assert not (data_dir / "chainfolio.sqlite3").exists()  # the history is on the server

    other_desktop = create_postgres_engine(postgres_url, PASSWORD)
    try:
        sid = SqlSnapshotStore(other_desktop).write(snapshot(1_700_000_000, 2 * 10**18))
    finally:
        other_desktop.dispose()

    def shown() -> bool:
        s = app.window._snapshot
        return s is not None and s.total == Decimal("4001")

    qtbot.waitUntil(shown, timeout=30000)
    assert app.shared.last_heard == sid
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.exception() is None and app.shared is not None and not app.shared.listening


def test_server_down_at_start_shows_the_local_copy_read_only_and_reconnects(  # type: ignore[no-untyped-def]
    qapp, qtbot, qasync_loop, data_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.bootstrap import bootstrap
    from app.domain.errors import DatabaseError
    from app.storage.postgres_cache import copy_path
    from app.ui import shared_updates
    from tests.support.postgres import _free_port

    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    paths = Paths.resolve(data_dir)
    paths.ensure()
    down = f"postgresql://chainfolio@127.0.0.1:{_free_port()}/nowhere"
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", down)
    with pytest.raises(DatabaseError, match="cannot be reached"):  # no copy yet: said plainly
        bootstrap(paths)

    # Online once: the window keeps a local copy of what it shows.
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", postgres_url)
    writer = create_postgres_engine(postgres_url, PASSWORD)
    try:
        online = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
        assert online.open_data()
        SqlSnapshotStore(writer).write(snapshot(1_700_000_000, 3 * 10**18))
        qtbot.waitUntil(lambda: copy_path(data_dir).exists(), timeout=30000)
        task = asyncio.ensure_future(online.shutdown())
        qtbot.waitUntil(task.done, timeout=10000)
    finally:
        writer.dispose()
    online.window.close()

    # The server is unreachable at the next start: the copy, read-only, and a plain sentence.
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", down)
    monkeypatch.setattr(shared_updates, "RETRY_SECONDS", 0.05)
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
    assert app.open_data()
    assert app.context is not None and app.context.shared_offline
    qtbot.waitUntil(lambda: app.window._snapshot is not None, timeout=30000)
    assert app.window._snapshot is not None
    assert app.window._snapshot.total == Decimal("6001.5")
    message = app.window.statusBar().currentMessage()
    assert "cannot be reached" in message and "read-only copy" in message
    assert PASSWORD not in message and "OperationalError" not in message
    assert not app.window.act_refresh.isEnabled() and not app.window.act_add.isEnabled()
    assert app.window.act_settings.isEnabled()  # this computer's settings stay editable
    assert app.scheduler is not None and not app.scheduler.running
    from app.storage.snapshot_store import SqlSnapshotStore as Store

    with pytest.raises(DatabaseError):  # nothing can be written to the copy
        Store(app.context.engine).write(snapshot(1_700_003_600, 1))
    # The server answers again: the app starts over on it.
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", postgres_url)
    qtbot.waitUntil(lambda: app.restart_requested, timeout=30000)
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=10000)
