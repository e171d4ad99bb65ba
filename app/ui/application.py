"""The application object: QApplication + qasync loop, tray, scheduler, single instance, and
one shutdown path.

Start-up order is chosen for a fast first paint: Qt and the window first, then the database
(SQLAlchemy and Alembic imports), then everything else in the background. Chain libraries
(web3, solana) are only imported when a refresh needs them.

When the desktop has a system tray, closing the window hides it there (ui.close_to_tray) and
the scheduler keeps refreshing; without one, closing the window quits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.config import Paths, Settings
from app.domain.errors import ChainfolioError
from app.domain.gc_pause import gc_paused
from app.ui.icons import app_icon
from app.ui.main_window import MainWindow
from app.ui.single_instance import SingleInstance
from app.ui.tasks import TaskRunner
from app.ui.theme import apply_theme
from app.ui.tray import Tray, tray_available

if TYPE_CHECKING:
    from app.bootstrap import AppContext
    from app.domain.snapshot import Snapshot
    from app.services.refresh import RefreshResult
    from app.services.scheduler import RefreshOutcome, RefreshScheduler
    from app.storage.encryption import DatabaseKey
    from app.ui.shared_updates import SharedUpdates

log = logging.getLogger(__name__)


# Imported in a worker thread once the window is up, so the first refresh and the first look
# at the timeline do not pay for them on the window's thread (100-400 ms on a slow machine).
WARM_UP_MODULES = (
    "numpy", "pyqtgraph", "app.ui.timeline_plot", "httpx", "app.chains.evm.reader",
    "app.chains.solana.reader", "app.prices.factory", "app.services.alerts", "app.services.risk",
    # first used by the first refresh (~150 modules; its worst stall, tests/benchmarks/ui_stall.py)
    "httpcore", "h11", "h2.connection", "anyio._backends._asyncio", "keyring", "eth_hash.auto",
    "Crypto.Hash.keccak",
)  # fmt: skip


def _open_context(paths: Paths, settings: Settings, key: DatabaseKey | None = None) -> AppContext:
    """The app's context: the database opened (and migrated), the wallets read once. Runs in a
    worker thread from :meth:`ChainfolioApp.start`; nothing in it touches a widget. ``key``:
    an encrypted database's key, found (or asked for) before."""
    from app.bootstrap import bootstrap

    context = bootstrap(paths, settings, key=key)
    # What attaching the window uses, built here rather than on the window's thread: the
    # services (their modules' imports), the network list, the first compiled query.
    context.wallets.list()
    _ = context.chain_names, context.refresh, context.risk, context.alerts, context.price_ids
    import app.services.scheduler
    import app.ui.alerts_page
    import app.ui.risk_page  # noqa: F401  (module code only: no widget is made here)

    return context


def warm_up() -> None:
    import gc
    import importlib

    for name in WARM_UP_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the module's real user reports the problem, with context
            log.debug("warm-up import of %s failed", name, exc_info=True)
    # Everything alive now (Qt wrappers, the libraries just imported) lives as long as the app:
    # moved out of the cyclic collector's reach, a full collection no longer walks it. Without
    # this a collection during a refresh stalled the window for 100+ ms (tests/benchmarks/
    # ui_stall.py).
    gc.freeze()


class ChainfolioApp:
    def __init__(
        self, qapp: QApplication, paths: Paths, settings: Settings, tray: bool | None = None
    ) -> None:
        """``tray``: whether to use a system-tray icon (default: when the desktop has a tray)."""
        self.qapp = qapp
        self.paths = paths
        self.settings = settings
        self.tasks = TaskRunner()
        # Quitting is always explicit (Quit, or closing the window without a tray).
        qapp.setQuitOnLastWindowClosed(False)
        self.window = MainWindow(self.tasks)
        self.window.quit_requested.connect(self.quit)
        self.window.settings_changed.connect(self.on_settings_changed)
        self.window.storage_change_requested.connect(self._change_storage)
        self.restart_requested = False  # run() starts the app again once it has shut down
        self._storage_change: asyncio.Task[bool] | None = None
        self.instance = SingleInstance(paths.data_dir)
        self.instance.activated.connect(self.show_window)
        self.context: AppContext | None = None
        self.scheduler: RefreshScheduler | None = None
        self.tray: Tray | None = None
        if tray_available() if tray is None else tray:
            self.tray = Tray(
                self.window.act_refresh, self.window.act_pause, self.window.act_quit,
                self.window.isVisible,
            )  # fmt: skip
            self.tray.toggle_window_requested.connect(self.toggle_window)
            self.window.hides_to_tray = lambda: bool(self.settings.get("ui.close_to_tray"))
            self.window.hidden_to_tray.connect(self._hint_once)
            self.window.holdings_page.shown.connect(self._day_change_to_tray)
            self.tray.show()
        self._quitting = False
        self._finished = asyncio.Event()
        self._warmed: asyncio.Future[None] | None = None
        self._latest: asyncio.Future[Snapshot | None] | None = None
        self._rows_shown: asyncio.Future[None] | None = None  # the last snapshot, on screen
        self._tray_snapshot: Snapshot | None = None
        self.opened: asyncio.Task[bool] | None = None  # set by start()
        self._opening: asyncio.Future[AppContext] | None = None
        self.shared: SharedUpdates | None = None  # live updates from a shared database

    def show_window(self) -> None:
        self.window.show()
        self.window.setWindowState(
            self.window.windowState() & ~self.window.windowState().WindowMinimized
        )
        self.window.raise_()
        self.window.activateWindow()

    def toggle_window(self) -> None:
        if self.window.isVisible():
            self.window.hide()
        else:
            self.show_window()

    def _hint_once(self) -> None:
        """The first time the window hides to the tray, say so; remember it in the settings."""
        if self.tray is None or self.settings.get("ui.tray_hint_shown"):
            return
        self.tray.hint_still_running()
        self.settings.remember("ui.tray_hint_shown", True)

    def open_data(self) -> bool:
        """Open the database now, on this thread (tests and tools); :meth:`start` opens it in a
        worker thread instead. Reports a problem instead of crashing."""
        try:
            context = _open_context(self.paths, self.settings)
        except ChainfolioError as exc:
            self._cannot_open(exc)
            return False
        self._attach_context(context)
        return True

    async def _open_data_async(self) -> bool:
        """:meth:`open_data` with the database opened (SQLAlchemy and Alembic imported, the
        schema checked or migrated, wallets read) in a worker thread: the window's thread only
        attaches the result, so it never stalls right after the first paint. An encrypted
        database is unlocked first (its key from the keyring, or its passphrase asked)."""
        from app.storage.encryption import encrypted_salt

        # 16 bytes read here, on purpose: a plaintext database starts opening at once.
        salt = encrypted_salt(self.paths.database)
        try:
            key = await self._unlock(salt) if salt is not None else None
        except ChainfolioError as exc:
            self._cannot_open(exc)
            return False
        extra = (key,) if key is not None else ()
        self._opening = asyncio.ensure_future(
            asyncio.to_thread(_open_context, self.paths, self.settings, *extra)
        )
        try:
            # Shielded: quitting meanwhile cancels this task, never the opening (a migration
            # is not stopped half-way); shutdown waits for it and closes what it opened.
            context = await asyncio.shield(self._opening)
        except ChainfolioError as exc:
            self._cannot_open(exc)
            return False
        if self._quitting:
            return False  # shutdown closes it
        self._attach_context(context)
        return True

    async def _unlock(self, salt: bytes) -> DatabaseKey:
        """The encrypted database's key: from the keyring; else the passphrase asked in a
        dialog, again after a wrong one, until it opens the file or the person quits."""
        from app.storage.encryption import (
            KeyringKeys,
            KeyUnavailable,
            opens,
            passphrase_key,
            unlock,
            wrong_passphrase_sentence,
        )
        from app.ui.dialogs.passphrase_dialog import ask_passphrase

        path = self.paths.database
        try:
            found = await asyncio.to_thread(unlock, path, KeyringKeys(), None)
            if found is not None:
                return found
        except KeyUnavailable:
            pass  # not in the keyring: a passphrase
        problem: str | None = None
        while True:
            passphrase = await ask_passphrase(path, problem, self.window)
            if passphrase is None:
                raise KeyUnavailable(
                    f"Your data ({path}) is encrypted and was not opened, as no passphrase was "
                    "given. Nothing was changed."
                )
            key = await asyncio.to_thread(passphrase_key, passphrase, salt)
            if await asyncio.to_thread(opens, path, key):
                return key
            problem = wrong_passphrase_sentence(path)

    def _cannot_open(self, exc: ChainfolioError) -> None:
        log.error("cannot open data: %s", exc)
        box = QMessageBox(
            QMessageBox.Icon.Critical, "Chainfolio cannot open your data", str(exc),
            QMessageBox.StandardButton.Close, self.window,
        )  # fmt: skip
        box.finished.connect(lambda _r: self.quit())
        box.open()

    def _attach_context(self, context: AppContext) -> None:
        self.context = context

        async def rows_shown() -> None:
            """The last snapshot read and its rows on screen (or nothing to show). The
            ledger's tabs wait for it (see MainWindow.attach): built while a worker thread
            read the snapshot or prepared its 10,000 rows, each of their calls into Python
            waited for the interpreter lock (27-48 ms for ~18 ms of work)."""
            if self._latest is not None:
                await asyncio.gather(self._latest, return_exceptions=True)
            if self.window.holdings_ready is not None:  # set by _show_latest, just before
                await asyncio.gather(self.window.holdings_ready, return_exceptions=True)

        shown = self._rows_shown = asyncio.ensure_future(rows_shown())
        self.window.attach(self.context, ledger_after=shown)
        self._attach_portfolio()
        # The last snapshot is read off the window's thread (thousands of holdings take a
        # while) and shown before any network.
        self._latest = self.tasks.run(
            asyncio.to_thread(self.context.snapshots.latest),
            on_success=self._show_latest,
            on_failure=self._latest_failed,
            key="latest",
        )
        if self.settings.load_problem:
            self.window.statusBar().showMessage(self.settings.load_problem, 20000)
        self._follow_shared_database(context)

    def _follow_shared_database(self, context: AppContext) -> None:
        """On a shared PostgreSQL database, show every snapshot another desktop stores and
        keep a local copy of it; on the copy (the server was unreachable), say so and retry."""
        from app.ui.shared_updates import SharedUpdates, keep_copy, retry_until_reachable

        if context.shared_offline:
            self.window.statusBar().showMessage(context.shared_offline)
            self.tasks.run(
                retry_until_reachable(context.settings),
                on_success=lambda _ok: self.restart(),  # reconnect: the app starts again
                key="shared-retry",
            )
            return

        def reload(_snapshot_id: int) -> None:
            if self.scheduler is not None:  # the group's next refresh is an interval from now
                self.scheduler.refreshed_elsewhere()
            self.tasks.run(
                asyncio.to_thread(context.snapshots.latest),
                on_success=self._show_latest,
                on_failure=self._latest_failed,
                key="latest",
            )
            self.tasks.run(keep_copy(context.engine, context.paths.data_dir), key="shared-copy")

        self.shared = SharedUpdates(context.engine, reload)
        if self.shared.start():
            self.tasks.run(keep_copy(context.engine, context.paths.data_dir), key="shared-copy")

    def _latest_failed(self, exc: BaseException) -> None:
        """A locked or damaged database: the same sentence the command line prints."""
        log.error("cannot read the last snapshot: %s", exc)
        if isinstance(exc, ChainfolioError):
            self.window.statusBar().showMessage(str(exc))

    def _attach_portfolio(self) -> None:
        """The last snapshot is shown before any network; the first refresh follows."""
        assert self.context is not None
        from app.services.scheduler import RefreshScheduler

        context = self.context
        refresher = context.refresh
        self.window.set_refresher(refresher, context.chain_names)
        self._attach_defi()

        async def refresh() -> RefreshResult:
            # Never import the chain libraries on two threads at once: a refresh waits for
            # the warm-up imports (a half-initialised module breaks the importer otherwise).
            if self._warmed is not None:
                await asyncio.shield(self._warmed)
            return await refresher.refresh()

        self.scheduler = RefreshScheduler(
            refresh,
            lambda: int(self.settings.get("refresh.interval_minutes")),
            lambda: bool(self.settings.get("refresh.auto")),
            has_work=lambda: bool(context.wallets.list()),
        )
        self.window.set_scheduler(self.scheduler)
        self.scheduler.subscribe(on_outcome=self._on_outcome)
        if self.tray is not None:
            self.scheduler.subscribe(on_state=self.tray.show_schedule)

    def _show_latest(self, latest: Snapshot | None) -> None:
        self.window.show_snapshot(latest)
        self._show_in_tray(latest)

    def _attach_defi(self) -> None:
        """Risk and Alerts tabs; fired alerts become desktop notifications from the tray."""
        assert self.context is not None
        self.window.set_defi(
            self.context.risk.assess, self.context.alerts, self.context.yields.report
        )
        assert self.window.alerts_page is not None
        self.window.alerts_page.alert_fired.connect(self._alert_fired)

    def _alert_fired(self, title: str, message: str) -> None:
        if self.tray is not None:
            self.tray.notify(title, message, warning=True)
        else:
            self.window.statusBar().showMessage(f"{title}: {message}", 30000)

    def start(self) -> None:
        """Open the data (in a worker thread), show the last snapshot, then refresh in the
        background: at once, then on the schedule. Returns at once; ``opened`` is done when
        the data is attached (True) or could not be opened (False)."""

        # No cyclic collection from here until the warm-up imports are done: start-up makes
        # the app's long-lived objects (modules, widgets, the data's), and a full collection
        # among them, run by whichever thread allocates, held the interpreter lock 30-70 ms
        # (tests/benchmarks/ui_stall.py, warm_up). The warm-up then freezes them all.
        pause = contextlib.ExitStack()
        pause.enter_context(gc_paused())

        async def open_then_refresh() -> bool:
            try:
                if not await self._open_data_async() or self.scheduler is None:
                    return False
                # The scheduler starts once the last snapshot is shown, so the first refresh
                # never races it; the warm-up imports once the window's thread has also built
                # the ledger's tabs: meanwhile, each of its calls into Python waited for the
                # interpreter lock (50-100 ms stalls, tests/benchmarks/ui_stall.py).
                for step in (self._rows_shown, self.window.ledger_ready):
                    if step is not None:
                        await asyncio.gather(step, return_exceptions=True)
                self._start_background()
                return True
            finally:
                if self._warmed is None:
                    pause.close()
                else:
                    self._warmed.add_done_callback(lambda _done: pause.close())

        self.opened = self.tasks.run(open_then_refresh(), key="start")
        # Cancelled before its first step (a quit at once), the coroutine's own clean-up
        # never runs: the collector must not stay off.
        self.opened.add_done_callback(lambda task: pause.close() if task.cancelled() else None)

    def _start_background(self) -> None:
        assert self.scheduler is not None
        if not os.environ.get("CHAINFOLIO_STARTUP_PROBE"):
            self._warmed = asyncio.ensure_future(asyncio.to_thread(warm_up))
        if os.environ.get("CHAINFOLIO_TRAY_PROBE"):
            from app.ui.probe import install_probe  # the end-to-end test's hook

            install_probe(self)
        offline = self.context is not None and self.context.shared_offline
        if not os.environ.get("CHAINFOLIO_STARTUP_PROBE") and not offline:
            self.scheduler.start()  # (not on the read-only copy of a shared database)

    def _on_outcome(self, outcome: RefreshOutcome) -> None:
        if self.tray is None:
            return
        if outcome.snapshot is not None:
            self._show_in_tray(outcome.snapshot)
        self.tray.report(outcome, int(self.settings.get("refresh.notify_after_failures")))

    def _show_in_tray(self, snapshot: Snapshot | None) -> None:
        """Total at once; the 24 h change once the Portfolio tab has compared the snapshot with
        the one a day earlier (it reads that off the GUI thread; the tray reuses its figure)."""
        if self.tray is None:
            return
        self._tray_snapshot = snapshot
        self.tray.show_portfolio(snapshot, None)

    def _day_change_to_tray(self) -> None:
        snapshot, portfolio = self._tray_snapshot, self.window.holdings_page.portfolio
        if self.tray is None or snapshot is None or portfolio.taken_at != snapshot.taken_at:
            return
        self.tray.show_portfolio(snapshot, portfolio.day)

    def on_settings_changed(self, keys: list[str]) -> None:
        if self.context is not None:  # networks, URLs, prices, currency, keys: next refresh
            self.context.settings_changed(keys)
        if "ui.theme" in keys:
            apply_theme(self.qapp, str(self.settings.get("ui.theme")))
        if "currency" in keys:
            self.window.update_timeline()
        if self.scheduler is not None and {"refresh.auto", "refresh.interval_minutes"} & set(keys):
            self.scheduler.reschedule()

    async def run(self) -> int:
        """Runs inside the qasync loop until Quit."""
        self.qapp.aboutToQuit.connect(self._finished.set)
        if os.environ.get("CHAINFOLIO_STARTUP_PROBE"):
            # Used by tests/benchmarks/startup.py: report the first paint, then quit.
            def probe() -> None:
                print("first-paint", flush=True)
                QTimer.singleShot(0, self.quit)

            self.window.first_paint.connect(probe)
        if self.settings.get("ui.start_minimized") and self.tray is not None:
            QTimer.singleShot(0, self.start)
        else:
            # Paint first; only then pay for the database and its imports.
            self.window.first_paint.connect(lambda: QTimer.singleShot(0, self.start))
            self.show_window()
        await self._finished.wait()
        await self.shutdown()
        return 0

    def _change_storage(self, change: object) -> None:
        """Settings → Data asked to encrypt or decrypt: closes the data, converts, restarts."""
        from app.ui.storage_change import StorageChange, change_storage

        if self._storage_change is not None or not isinstance(change, StorageChange):
            return
        self._storage_change = asyncio.ensure_future(change_storage(self, change))

    async def release_data(self) -> None:
        """Stop everything that uses the database and close it, for a conversion: no new
        connection can be opened on it afterwards (the app restarts after)."""
        from sqlalchemy import event

        if self.scheduler is not None:
            await self.scheduler.aclose()
        await self.tasks.cancel_all()
        if self._warmed is not None:
            await asyncio.gather(self._warmed, return_exceptions=True)
        if self.context is not None:
            await self.context.aclose()

            def refuse(*_args: object) -> None:
                raise ChainfolioError("Your data is closed while it is being converted.")

            event.listen(self.context.engine, "do_connect", refuse)

    def restart(self) -> None:
        self.restart_requested = True
        self.quit()

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self.window.hide()
        # Not qapp.quit(): that stops the Qt loop at once, and the asyncio clean-up in
        # shutdown() would never get to run. run() finishes instead, and qasync stops the loop.
        self._finished.set()

    async def shutdown(self) -> None:
        """The one, idempotent, clean-up path: timer, tasks, network clients, database, tray
        icon, socket."""
        if self.scheduler is not None:
            await self.scheduler.aclose()
        if self.shared is not None:
            await asyncio.to_thread(self.shared.stop)
        await self.tasks.cancel_all()
        if self._storage_change is not None:  # a conversion is never cut half-way
            await asyncio.gather(self._storage_change, return_exceptions=True)
        if self._warmed is not None:
            await asyncio.gather(self._warmed, return_exceptions=True)
        if self._opening is not None:  # the database may still be opening in its thread
            (opened,) = await asyncio.gather(self._opening, return_exceptions=True)
            if self.context is None and not isinstance(opened, BaseException):
                opened.close()  # opened after Quit: never attached
        if self.context is not None:
            await self.context.aclose()
        if self.tray is not None:
            self.tray.hide()
        self.instance.close()
        log.info("Chainfolio stopped")


def make_qapplication(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName("Chainfolio")
    QApplication.setOrganizationName("Chainfolio")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("chainfolio")
    qapp = QApplication(argv)
    qapp.setWindowIcon(app_icon())
    return qapp


def run(paths: Paths, settings: Settings, qt_args: list[str]) -> int:
    import qasync

    qapp = make_qapplication([sys.argv[0], *qt_args])
    apply_theme(qapp, str(settings.get("ui.theme")))
    app = ChainfolioApp(qapp, paths, settings)
    if app.instance.notify_running():
        log.info("Chainfolio is already running for %s; asked it to show", paths.data_dir)
        print("Chainfolio is already running; its window was brought forward.")
        return 0
    if not app.instance.listen():
        log.warning("could not claim the single-instance socket %s", app.instance.name)
    try:
        from app.net import with_lookup_threads  # name lookups each get a thread

        code = asyncio.run(app.run(), loop_factory=lambda: with_lookup_threads(qasync.QEventLoop()))
    except (asyncio.CancelledError, KeyboardInterrupt):
        return 0
    if app.restart_requested:
        _start_again()
    return code


def _start_again() -> None:
    """Replace this process by a new Chainfolio with the same arguments (after a conversion,
    so the data opens the normal way)."""
    args = sys.argv[1:]
    argv = [sys.executable, *args] if getattr(sys, "frozen", False) else [
        sys.executable, "-m", "app", *args,
    ]  # fmt: skip
    log.info("restarting Chainfolio")
    logging.shutdown()
    os.execv(sys.executable, argv)  # noqa: S606 - the same program, its own arguments
