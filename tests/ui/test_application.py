"""The application object: start-up order, real process launch, one idempotent shutdown."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from app.config import Paths, Settings
from app.ui.application import ChainfolioApp


def test_shutdown_is_idempotent_and_closes_the_database(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    paths = Paths.resolve(data_dir)
    paths.ensure()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
    assert app.instance.listen()
    assert app.open_data()
    assert app.context is not None and app.window.act_add.isEnabled()
    for _ in range(2):
        task = asyncio.ensure_future(app.shutdown())
        qtbot.waitUntil(task.done, timeout=5000)
        assert task.exception() is None
    assert app.context._closed
    assert not ChainfolioApp(
        qapp, paths, Settings.load(paths.settings_file)
    ).instance.notify_running(timeout_ms=100)


def test_real_process_paints_and_quits(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CHAINFOLIO_STARTUP_PROBE="1")
    out = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "first-paint" in out.stdout  # the probe quits at once: the data may not be open yet
    log = (tmp_path / "logs" / "chainfolio.log").read_text()
    assert "Chainfolio stopped" in log


def test_newer_database_is_reported_not_crashed(qapp, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from app.storage.database import open_database

    paths = Paths.resolve(data_dir)
    open_database(paths.database, paths.backups_dir).dispose()
    con = sqlite3.connect(paths.database)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
    assert not app.open_data()
    boxes = [
        w
        for w in qapp.topLevelWidgets()
        if w.isVisible() and "newer version" in getattr(w, "text", lambda: "")()
    ]
    assert boxes
    for box in boxes:
        box.close()


def test_start_warms_up_heavy_imports_in_a_thread_joined_at_shutdown(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """The timeline's chart library and the chain readers are imported off the window's thread
    after start-up; shutdown waits for that thread."""
    import sys

    from app.ui.application import WARM_UP_MODULES

    paths = Paths.resolve(data_dir)
    paths.ensure()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    app.start()  # the last snapshot is read first, then the warm-up starts
    qtbot.waitUntil(lambda: app._warmed is not None, timeout=10000)
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20000)
    assert app._warmed is not None and app._warmed.done()
    assert all(name in sys.modules for name in WARM_UP_MODULES)
    import gc

    assert gc.get_freeze_count() > 0  # long-lived objects left out of full collections
    gc.unfreeze()


def test_start_opens_the_data_off_the_window_thread_and_quit_waits_for_it(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """start() returns before the database is opened (SQLAlchemy, Alembic and the migration
    run in a worker thread); quitting meanwhile lets the opening finish and closes it."""
    import threading

    import app.ui.application as application

    opened_on: list[str] = []
    real = application._open_context

    def spy(paths: Paths, settings: Settings):  # type: ignore[no-untyped-def]
        opened_on.append(threading.current_thread().name)
        return real(paths, settings)

    paths = Paths.resolve(data_dir)
    paths.ensure()
    application._open_context = spy  # type: ignore[assignment]
    try:
        app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
        app.start()
        assert app.context is None and app.opened is not None  # not on this thread
        qtbot.waitUntil(app.opened.done, timeout=20000)
        assert app.opened.result() is True and app.context is not None
        assert opened_on and opened_on[0] != threading.main_thread().name
        assert app.window.refresher is not None and app.scheduler is not None
        task = asyncio.ensure_future(app.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)
        assert app.context._closed

        # Quit right after start: the opening is not cut half-way, and what it opened is closed.
        other = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
        other.start()
        other.quit()
        task = asyncio.ensure_future(other.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)
        assert task.exception() is None and other.context is None
        assert other._opening is not None and other._opening.done()
        assert other._opening.result()._closed
    finally:
        application._open_context = real  # type: ignore[assignment]


def test_start_builds_the_ledger_tabs_after_the_rows_are_shown_and_warms_up_last(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """While a worker thread reads the last snapshot or prepares its rows, the window's thread
    builds nothing big (each of its calls into Python would wait for the interpreter lock:
    50-100 ms stalls); the Transactions and Performance tabs follow the rows on screen, and the
    warm-up imports start only once the tabs are in place."""
    import threading

    import app.ui.application as application
    import app.ui.holdings_page as holdings_page

    order: list[str] = []
    release, reading = threading.Event(), threading.Event()
    rows_release, preparing = threading.Event(), threading.Event()
    real_open, real_warm = application._open_context, application.warm_up
    real_build = holdings_page.build_portfolio

    def open_context(paths: Paths, settings: Settings):  # type: ignore[no-untyped-def]
        context = real_open(paths, settings)
        latest = context.snapshots.latest

        def slow_latest():  # type: ignore[no-untyped-def]
            reading.set()
            assert release.wait(20)
            order.append("snapshot read")
            return latest()

        context.snapshots.latest = slow_latest  # type: ignore[method-assign]
        return context

    def slow_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        preparing.set()
        assert rows_release.wait(20)
        return real_build(*args, **kwargs)

    def warm_up() -> None:
        order.append("warm-up")
        real_warm()

    paths = Paths.resolve(data_dir)
    paths.ensure()
    application._open_context = open_context  # type: ignore[assignment]
    application.warm_up = warm_up
    holdings_page.build_portfolio = slow_build  # type: ignore[assignment]
    try:
        app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
        window = app.window
        window.holdings_page.shown.connect(lambda: order.append("rows shown"))
        window.ledger_tabs_added.connect(lambda: order.append("ledger tabs"))
        app.start()
        qtbot.waitUntil(reading.is_set, timeout=20000)
        import sys

        # The ledger's modules are imported meanwhile; a few turns of the loop later (when the
        # tabs used to be built) they still wait for the snapshot.
        qtbot.waitUntil(lambda: "app.ui.link_dialog" in sys.modules, timeout=20000)
        qtbot.wait(100)
        assert window.ledger_page is None and app._warmed is None and order == []
        release.set()
        # The snapshot is read; its rows are being prepared in a worker: still no tabs.
        qtbot.waitUntil(preparing.is_set, timeout=20000)
        qtbot.wait(100)
        assert window.ledger_page is None and order == ["snapshot read"]
        rows_release.set()
        qtbot.waitUntil(lambda: app._warmed is not None, timeout=20000)
        assert order == ["snapshot read", "rows shown", "ledger tabs", "warm-up"]
        assert window.ledger_page is not None and window.performance_page is not None
        task = asyncio.ensure_future(app.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)
    finally:
        release.set()
        rows_release.set()
        application._open_context = real_open  # type: ignore[assignment]
        application.warm_up = real_warm
        holdings_page.build_portfolio = real_build  # type: ignore[assignment]


def test_no_garbage_collection_during_start_up_and_the_collector_back_after_it(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """A full collection among start-up's new objects held the interpreter lock 30-70 ms while
    the window painted: the collector is off from start() until the warm-up imports are done
    (they freeze what is alive), then on again; a start cancelled at once leaves it on."""
    import gc
    import threading

    import app.ui.application as application

    assert gc.isenabled()
    seen: list[bool] = []
    release = threading.Event()
    real_warm = application.warm_up

    def warm_up() -> None:
        seen.append(gc.isenabled())
        assert release.wait(20)
        real_warm()

    paths = Paths.resolve(data_dir)
    paths.ensure()
    application.warm_up = warm_up
    try:
        app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
        app.start()
        assert not gc.isenabled()  # from the start, before the data is opened
        qtbot.waitUntil(lambda: bool(seen), timeout=20000)
        assert seen == [False] and not gc.isenabled()
        release.set()
        qtbot.waitUntil(lambda: app._warmed is not None and app._warmed.done(), timeout=20000)
        qtbot.waitUntil(gc.isenabled, timeout=5000)
        task = asyncio.ensure_future(app.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)

        quitting = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
        quitting.start()
        assert quitting.opened is not None
        quitting.opened.cancel()  # quit before it began
        qtbot.waitUntil(quitting.opened.done, timeout=5000)
        qtbot.waitUntil(gc.isenabled, timeout=5000)
        task = asyncio.ensure_future(quitting.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)
    finally:
        release.set()
        application.warm_up = real_warm
        gc.enable()
