"""The main window: menus, toolbar, the wallets page and the status bar.

The window is built and shown before the database is opened (fast first paint); the app
attaches the context afterwards with :meth:`attach`, then the refresh service and the
scheduler. The status bar says when the next automatic refresh happens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QWidget,
)

from app import __version__
from app.domain.errors import report
from app.domain.model import Wallet
from app.domain.outcome import RefreshStatus, plain_reason
from app.domain.snapshot import Snapshot
from app.services.scheduler import describe
from app.ui.accessibility import name_widgets
from app.ui.collector import CollectorHold
from app.ui.dialogs.wallet_dialog import WalletDialog
from app.ui.first_run import FirstRunPage
from app.ui.holdings_page import HoldingsPage
from app.ui.icons import app_icon
from app.ui.models.wallets_model import WalletsModel
from app.ui.tasks import TaskRunner
from app.ui.timeline_page import TimelinePage
from app.ui.wallets_page import WalletsPage

if TYPE_CHECKING:
    from app.bootstrap import AppContext
    from app.config import Settings
    from app.domain.portfolios import Portfolio
    from app.services.alerts import AlertService
    from app.services.ledger import LedgerService
    from app.services.refresh import RefreshProgress, RefreshResult, RefreshService
    from app.services.scheduler import RefreshOutcome, RefreshScheduler, ScheduleState
    from app.ui.alerts_page import AlertsPage
    from app.ui.ledger_page import LedgerPage
    from app.ui.models.unexplained_model import UnexplainedView
    from app.ui.performance_page import PerformancePage
    from app.ui.portfolio_picker import ManageDialog
    from app.ui.risk_page import Assess, RiskPage
    from app.ui.yield_page import Report, YieldPage

log = logging.getLogger(__name__)


class _FirstPaint(QObject):
    """Emits the window's ``first_paint`` once it has painted, then stops watching.

    An event filter that removes itself, not an ``event()`` override: an override would run
    Python for every event of the window for as long as it lives, each call waiting for the
    interpreter lock while a worker thread runs Python."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        window = self._window
        # The top-level widget paints its whole backing store while handling UpdateRequest.
        if event.type() != QEvent.Type.UpdateRequest or not window.isVisible():
            return False
        window.removeEventFilter(self)
        QMainWindow.event(window, event)  # painted now, then told
        window.first_paint.emit()
        return True


class MainWindow(QMainWindow):
    quit_requested = Signal()
    settings_changed = Signal(list)  # keys whose values changed in the settings dialog
    first_paint = Signal()
    hidden_to_tray = Signal()  # the window was closed and hid itself; the app keeps running
    ledger_tabs_added = Signal()  # the Transactions and Performance tabs are in place
    storage_change_requested = Signal(object)  # Settings → Data: a StorageChange

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.context: AppContext | None = None
        self.installEventFilter(_FirstPaint(self))
        self.setWindowTitle("Chainfolio")
        self.setWindowIcon(app_icon())
        self.resize(1000, 640)

        self.wallets_model = WalletsModel(self)
        self.wallets_page = WalletsPage(self.wallets_model)
        self.wallets_page.add_requested.connect(self.add_wallet)
        self.wallets_page.paste_requested.connect(self.show_first_run)
        self.wallets_page.edit_requested.connect(self.edit_wallet)
        self.wallets_page.selection_changed.connect(self._update_actions)
        self.holdings_page = HoldingsPage()
        self.holdings_page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # The Portfolio tab: the first-run page until a wallet is watched and read once.
        self.first_run = FirstRunPage(tasks)
        self.first_run.added.connect(self._wallets_added)
        self.first_run.add_one_requested.connect(self.add_wallet)
        self._first_refresh_pending = False
        self.portfolio_stack = QStackedWidget()
        self.portfolio_stack.addWidget(self.holdings_page)
        self.portfolio_stack.addWidget(self.first_run)
        self.tabs.addTab(self.portfolio_stack, "Portfolio")
        self.timeline_page = TimelinePage()
        self.tabs.addTab(self.timeline_page, "Timeline")
        self.tabs.addTab(self.wallets_page, "Wallets")
        self.setCentralWidget(self.tabs)
        self.tabs.tabBar().setAccessibleName("Pages")
        # Pages build some controls when first shown: name them for screen readers then.
        self.tabs.currentChanged.connect(lambda _i: QTimer.singleShot(0, self.name_widgets))
        for signal in (
            self.wallets_model.modelReset, self.wallets_model.rowsInserted,
            self.wallets_model.rowsRemoved,
        ):  # fmt: skip
            signal.connect(self._sync_portfolio)
        self.refresher: RefreshService | None = None
        self.scheduler: RefreshScheduler | None = None
        self.risk_page: RiskPage | None = None
        self.alerts_page: AlertsPage | None = None
        self.yield_page: YieldPage | None = None
        self.ledger_page: LedgerPage | None = None
        self.ledger_ready: asyncio.Task[None] | None = None  # the tabs being added (a loop runs)
        self.holdings_ready: asyncio.Task[bool] | None = None  # the last snapshot's rows
        # The collector's pass over a refresh's objects waits until its rows are on screen.
        self.collector = CollectorHold(self)
        self.performance_page: PerformancePage | None = None
        self.chain_names: dict[str, str] = {}
        # Set by the app: whether closing the window hides it to the tray instead of quitting.
        self.hides_to_tray: Callable[[], bool] | None = None

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.status_label = QLabel("Opening your data…")
        self.statusBar().addWidget(self.status_label, 1)
        self.schedule_label = QLabel()
        self.statusBar().addPermanentWidget(self.schedule_label)
        # "Next refresh in 12 min" counts down; minutes are enough, so a slow timer.
        self.schedule_timer = QTimer(self)
        self.schedule_timer.setInterval(20_000)
        self.schedule_timer.timeout.connect(self._update_schedule)
        self.progress = QProgressBar()
        # Wide enough for its longest text at any font size: a squeezed bar clipped it.
        longest = self.progress.fontMetrics().horizontalAdvance("Reading chains… 100/100")
        self.progress.setFixedWidth(max(220, longest + 40))
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName("Refresh progress")
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self._update_actions()

    # --- construction -----------------------------------------------------------------
    def _build_actions(self) -> None:
        self.act_refresh = QAction("&Refresh now", self)
        self.act_refresh.setShortcut(QKeySequence("Ctrl+R"))
        self.act_refresh.setStatusTip("Read every balance and price again")
        self.act_refresh.triggered.connect(self.refresh_now)
        self.act_pause = QAction("&Pause auto-refresh", self)
        self.act_pause.setCheckable(True)
        self.act_pause.setStatusTip(
            "Stop refreshing on a timer until you resume (Refresh now works)"
        )
        self.act_pause.toggled.connect(self._pause_toggled)
        self.act_add = QAction("&Add wallet…", self)
        self.act_add.setShortcut(QKeySequence.StandardKey.New)
        self.act_add.setStatusTip("Watch a new address")
        self.act_add.triggered.connect(self.add_wallet)
        self.act_edit = QAction("&Edit wallet…", self)
        self.act_edit.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.act_edit.triggered.connect(lambda: self.edit_wallet())
        self.act_remove = QAction("&Remove wallet", self)
        self.act_remove.setShortcut(QKeySequence.StandardKey.Delete)
        self.act_remove.triggered.connect(self.remove_selected)
        self.act_scan_history = QAction("Scan &history…", self)
        self.act_scan_history.setStatusTip(
            "Read the wallets' past transfers from the chains into the ledger"
        )
        self.act_scan_history.triggered.connect(self.scan_history)
        self.act_quit = QAction("&Quit", self)
        self.act_quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.act_quit.triggered.connect(self.quit_requested)
        self.act_settings = QAction("&Settings…", self)
        self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        self.act_settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.act_settings.triggered.connect(self.open_settings)
        self.act_exchanges = QAction("&Exchange accounts…", self)
        self.act_exchanges.triggered.connect(self.open_exchanges)
        self.act_about = QAction("&About Chainfolio", self)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.act_about.triggered.connect(self.show_about)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_add)
        file_menu.addAction(self.act_settings)
        file_menu.addAction(self.act_exchanges)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Wallets")
        edit_menu.addAction(self.act_add)
        edit_menu.addAction(self.act_edit)
        edit_menu.addAction(self.act_remove)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_scan_history)
        refresh_menu = bar.addMenu("&Refresh")
        refresh_menu.addAction(self.act_refresh)
        refresh_menu.addAction(self.act_pause)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.act_refresh)
        toolbar.addAction(self.act_pause)
        toolbar.addSeparator()
        toolbar.addAction(self.act_add)
        toolbar.addAction(self.act_edit)
        toolbar.addAction(self.act_remove)
        toolbar.addSeparator()
        from app.ui.portfolio_picker import PortfolioPicker

        self.portfolio_picker = PortfolioPicker()
        self.portfolio_picker.setEnabled(False)  # until the data is open
        self.portfolio_picker.chosen.connect(self._portfolio_chosen)
        self.portfolio_picker.manage_requested.connect(self.manage_portfolios)
        self.manage_dialog: ManageDialog | None = None
        self._snapshot: Snapshot | None = None
        self._snapshot_shown = False
        self._portfolio_scope: str | None = None  # the portfolio shown, for worker threads
        toolbar.addWidget(self.portfolio_picker)
        self.addToolBar(toolbar)

    # --- context ----------------------------------------------------------------------
    def attach(self, context: AppContext, *, ledger_after: Awaitable[object] | None = None) -> None:
        """``ledger_after``: the Transactions and Performance tabs are built once it is done
        (the last snapshot read and shown), not while a worker thread reads it."""
        self.context = context
        self.first_run.attach(
            context.wallets.check,
            lambda addresses: context.activity.find(addresses),  # built on first use
            context.wallets.add_many,
        )
        self.wallets_model.set_wallets(context.wallets.list())
        self.holdings_page.price_ids = context.price_ids  # "Set price source…" in the table
        self.holdings_page.refresh_wanted.connect(self.refresh_now)
        self._update_actions()
        self._update_status()
        self._remember_view_choices(context.settings)
        self._attach_ledger(context, ledger_after)
        self._load_portfolios(str(context.settings.get("ui.portfolio")))
        self._add_privacy_tab(context)
        self.name_widgets()

    def _add_privacy_tab(self, context: AppContext) -> None:
        """The Privacy tab (last): what each host has learnt, read when the tab is shown."""
        from app.ui.privacy_page import PrivacyPage, privacy_reader

        self.privacy_page = PrivacyPage(privacy_reader(context), self.tasks)
        self.tabs.addTab(self.privacy_page, "Privacy")

    # --- portfolios (app.ui.portfolio_picker) -------------------------------------------
    def _portfolio_name(self) -> str | None:
        return self.portfolio_picker.current() or None

    def _load_portfolios(self, select: str, reapply: bool = False) -> None:
        """Read the portfolios in a worker, fill the selector and select ``select`` (All when
        it is gone); ``reapply``: the shown one's members may have changed, scope again."""
        context = self.context
        if context is None:
            return

        def show(portfolios: list[Portfolio]) -> None:
            self.portfolio_picker.setEnabled(True)
            # Re-reading after an edit keeps what is chosen now: the person may have picked
            # another portfolio while the list was being read.
            target = self.portfolio_picker.current() if reapply else select
            changed = self.portfolio_picker.set_portfolios(portfolios, target)
            if reapply and not changed and self._portfolio_name() is not None:
                self._portfolio_chosen(self.portfolio_picker.current())

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            show(context.portfolios.portfolios())  # no loop (tests without one): at once
            return
        self.tasks.run(
            asyncio.to_thread(lambda: context.portfolios.portfolios()), show, key="portfolios"
        )

    def _portfolio_chosen(self, name: str) -> None:
        """Scope the Portfolio tab, the Timeline's total and the Performance tab."""
        context = self.context
        if context is None:
            return
        context.settings.remember("ui.portfolio", name)
        self._portfolio_scope = name or None
        if self._snapshot_shown:
            self.show_snapshot(self._snapshot)
        picked = self.portfolio_picker.portfolio()
        if name and picked is not None:
            from app.ui.portfolio_picker import portfolio_net_worth, portfolio_what_changed

            members = picked.wallets
            self.timeline_page.set_total(
                lambda: portfolio_net_worth(context.portfolios, context.history, name),
                lambda start, end: portfolio_what_changed(
                    context.snapshots, context.history, members, start, end
                ),
            )
        else:
            self.timeline_page.set_total(None)
        if self.performance_page is not None:
            self.performance_page.set_portfolio(name or None)

    def manage_portfolios(self) -> ManageDialog | None:
        from app.ui.portfolio_picker import ManageDialog, read_manage_data

        context = self.context
        if context is None:
            return None
        dialog = ManageDialog(
            lambda: context.portfolios,
            lambda: read_manage_data(
                context.portfolios, context.wallets.list, lambda: context.ledger.accounts()
            ),
            self.tasks,
            parent=self,
        )
        self.manage_dialog = dialog
        dialog.changed.connect(
            lambda: self._load_portfolios(self.portfolio_picker.current(), reapply=True)
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _attach_ledger(self, context: AppContext, after: Awaitable[object] | None = None) -> None:
        """The Transactions and Performance tabs, added once their modules are imported in a
        worker thread (~40 ms of imports kept off the window's thread while the data is being
        attached) and ``after`` is done; at once when no event loop runs. ``ledger_ready`` is
        done when the tabs are in place."""
        import asyncio
        import importlib

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._add_ledger_tabs(context)
            return

        def load() -> None:
            # Everything _add_ledger_tabs and the pages' constructors import, so that none of it
            # is imported on the window's thread.
            for name in (
                "app.ui.ledger_page",
                "app.ui.performance_page",
                "app.ui.link_dialog",
                "app.ui.models.unexplained_model",
            ):
                importlib.import_module(name)

        async def add() -> None:
            await asyncio.to_thread(load)
            if after is not None:
                # Building the two pages (~20 ms on this thread) while a worker thread read the
                # last snapshot stalled the window 50-100 ms: each call into Python waited for
                # the interpreter lock (tests/benchmarks/ui_stall.py, warm_up).
                await asyncio.gather(after, return_exceptions=True)
            self._add_ledger_tabs(context)

        self.ledger_ready = self.tasks.run(add(), key="ledger-ui")

    def _add_ledger_tabs(self, context: AppContext) -> None:
        """The Transactions and Performance tabs (after Timeline), and the ledger's returns
        beside the Timeline's range. The ledger service is built, and used, in worker threads
        only (its first use imports the ledger's maths)."""
        from app.ui.ledger_page import LedgerPage
        from app.ui.performance_page import PerformancePage, timeline_text

        settings = context.settings

        def service() -> LedgerService:
            return context.ledger  # built on first use, in a worker thread

        def returns_text(lo: float, hi: float) -> str:
            name = self._portfolio_scope  # read in a worker: a plain attribute, no Qt call
            if name:
                from app.ui.portfolio_picker import portfolio_timeline_text

                return portfolio_timeline_text(context.portfolios, name, lo, hi, time.time())
            return timeline_text(context.ledger, lo, hi, time.time())

        def unexplained(portfolio: str | None) -> UnexplainedView:
            from app.ui.models.unexplained_model import unexplained_view

            labels = {w.address: w.display_name for w in context.wallets.list()}
            return unexplained_view(context.portfolios.unexplained(portfolio), labels)

        from app.ui.link_dialog import WalletLinks

        self.ledger_page = LedgerPage(
            service,
            self.tasks,
            lambda: str(settings.get("currency")),
            links=WalletLinks(context.wallets.list, lambda: context.portfolios),
        )
        self.performance_page = PerformancePage(
            service, settings, unexplained=unexplained, portfolios=lambda: context.portfolios
        )
        self.performance_page.set_portfolio(self._portfolio_name())
        at = self.tabs.indexOf(self.timeline_page) + 1
        self.tabs.insertTab(at, self.ledger_page, "Transactions")
        self.tabs.insertTab(at + 1, self.performance_page, "Performance")
        for page in (self.ledger_page, self.performance_page):
            page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.ledger_page.changed.connect(self.performance_page.reload)
        self.ledger_page.changed.connect(self.timeline_page.reload_returns)
        self.settings_changed.connect(self.performance_page.settings_changed)
        self.timeline_page.set_returns(returns_text)
        self.name_widgets()
        self.ledger_tabs_added.emit()

    def _remember_view_choices(self, settings: Settings) -> None:
        """The Portfolio tab opens as it was left: grouping and the two toggles are settings."""
        from app.ui.models.holdings_data import GroupBy

        page = self.holdings_page
        page.set_group_by(GroupBy(str(settings.get("ui.holdings_group_by"))))
        page.hide_small.setChecked(bool(settings.get("ui.hide_small_balances")))
        page.show_spam.setChecked(bool(settings.get("ui.show_spam")))

        page.group_box.currentIndexChanged.connect(
            lambda _i: settings.remember("ui.holdings_group_by", str(page.group_box.currentData()))
        )
        page.hide_small.toggled.connect(lambda on: settings.remember("ui.hide_small_balances", on))
        page.show_spam.toggled.connect(lambda on: settings.remember("ui.show_spam", on))

    # --- portfolio --------------------------------------------------------------------
    def set_refresher(self, refresher: RefreshService, chain_names: dict[str, str]) -> None:
        """Show the last stored snapshot at once (no network), then allow refreshing."""
        self.refresher = refresher
        self.chain_names = chain_names
        refresher.subscribe(self._on_progress)
        self._update_actions()
        self.update_timeline()

    def update_timeline(self) -> None:
        """(Re)point the timeline at the history, with today's names and currency; it reads
        only when it is shown."""
        if self.context is None:
            return
        names = {**self.chain_names}
        names.update({w.address: w.display_name for w in self.wallets_model.wallets()})
        currency = str(self.context.settings.get("currency"))
        context = self.context
        # before the first snapshot: rebuilt from the scanned on-chain history (in a worker)
        self.timeline_page.set_reconstruction(lambda: context.onchain_timeline.read(), reload=False)
        self.timeline_page.set_store(lambda: context.history, currency, names)

    def set_defi(self, assess: Assess, alerts: AlertService, yields: Report | None = None) -> None:
        """The Risk, Yield and Alerts tabs, once the database is open (they read its history)."""
        from app.ui.alerts_page import AlertsPage
        from app.ui.risk_page import RiskPage
        from app.ui.yield_page import YieldPage

        self.risk_page = RiskPage(self.tasks, assess)
        self.alerts_page = AlertsPage(alerts, self.tasks)
        at = self.tabs.indexOf(self.wallets_page)
        self.tabs.insertTab(at, self.risk_page, "Risk")
        if yields is not None:
            self.yield_page = YieldPage(self.tasks, yields)
            self.tabs.insertTab(at + 1, self.yield_page, "Yield")
            at += 1
        self.tabs.insertTab(at + 1, self.alerts_page, "Alerts")
        self.name_widgets()

    def name_widgets(self) -> list[QWidget]:
        """Every keyboard-reachable control gets an accessible name (app.ui.accessibility);
        returns those that could not be named (a test keeps it empty)."""
        return name_widgets(self)

    def show_snapshot(self, snapshot: Snapshot | None) -> None:
        self._snapshot, self._snapshot_shown = snapshot, True
        names = {w.address: w.display_name for w in self.wallets_model.wallets()}
        picked = self.portfolio_picker.portfolio()
        scope = None
        if picked is not None:  # one portfolio: its wallets' holdings, kept in the worker
            from app.ui.portfolio_picker import scoped_snapshot

            members = picked.wallets
            scope = partial(scoped_snapshot, wallets=members)
        if self.context is None:
            self.holdings_page.show_snapshot(snapshot, self.chain_names, names)
        else:
            # Rows are prepared and the day-earlier snapshot read off the GUI thread: with
            # thousands of holdings either would stall the window.
            from app.services.day_change import comparison_time

            store = self.context.snapshots
            baseline = (
                None
                if snapshot is None
                else (lambda: store.at_or_before(comparison_time(snapshot)))
            )
            self.holdings_ready = self.tasks.run(
                self.holdings_page.show_snapshot_async(
                    snapshot, self.chain_names, names, baseline=baseline, scope=scope
                ),
                key="holdings",
            )
        if self.risk_page is not None:
            self.risk_page.show_snapshot(snapshot, self.chain_names, names)
        if self.yield_page is not None:
            self.yield_page.show_snapshot(snapshot, self.chain_names, names)
        if self.alerts_page is not None:
            self.alerts_page.wallets = [
                (w.address, w.display_name) for w in self.wallets_model.wallets()
            ]
            self.alerts_page.set_snapshot(snapshot)

    def set_scheduler(self, scheduler: RefreshScheduler) -> None:
        """Refreshes go through the scheduler from now on; its outcomes update the window."""
        self.scheduler = scheduler
        scheduler.subscribe(on_state=self._on_schedule, on_outcome=self._on_outcome)
        self._on_schedule(scheduler.state)
        self.schedule_timer.start()

    def refresh_now(self) -> None:
        if self.refresher is None or self.refresher.running:
            return
        if self.scheduler is not None:
            # The outcome arrives through _on_outcome, like automatic refreshes do.
            self.tasks.run(self.scheduler.refresh_now(), key="refresh")
            self._update_actions()
            return
        self.tasks.run(
            self.refresher.refresh(),
            on_success=self._on_result,
            on_failure=self._on_refresh_failed,
        )
        self._update_actions()

    def _on_progress(self, event: RefreshProgress) -> None:
        if event.stage == "started":
            self.collector.hold()
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(0)
            self.progress.setFormat("Reading chains… %v/%m")
            self.progress.show()
        elif event.stage == "chain":
            self.progress.setValue(event.done)
        elif event.stage == "pricing":
            self.progress.setFormat("Fetching prices…")
        elif event.stage == "done":
            self.progress.hide()
        if self._first_refresh_pending:
            self.first_run.show_progress(event.stage, event.done, event.total)
        self._update_actions()

    def _on_outcome(self, outcome: RefreshOutcome) -> None:
        if outcome.result is not None:
            self._on_result(outcome.result)
        elif outcome.error is not None:
            self._on_refresh_failed(outcome.error)

    def _on_schedule(self, state: ScheduleState) -> None:
        if self.act_pause.isChecked() != state.paused:
            blocked = self.act_pause.blockSignals(True)
            self.act_pause.setChecked(state.paused)
            self.act_pause.blockSignals(blocked)
        self.act_pause.setEnabled(state.auto)
        self.schedule_label.setText(describe(state, time.time()))

    def _update_schedule(self) -> None:
        if self.scheduler is not None and self.isVisible():
            self.schedule_label.setText(describe(self.scheduler.state, time.time()))

    def _pause_toggled(self, paused: bool) -> None:
        if self.scheduler is not None:
            self.scheduler.set_paused(paused)

    def _on_result(self, result: RefreshResult) -> None:
        """Show what a refresh did: its snapshot if one was stored, and its outcome in words.
        (Alert checks and the rest of the after-refresh work ran in the pipeline.)"""
        self.progress.hide()
        self._first_refresh_done()
        rows = None
        if result.stored and result.snapshot is not None:
            self.show_snapshot(result.snapshot)
            rows = self.holdings_ready
            self.update_timeline()
            if self.performance_page is not None:  # linked wallets: a newer observation
                self.performance_page.load_unexplained()
        elif result.status is RefreshStatus.FAILED:
            self.holdings_page.summary.show_refresh_problem(result.summary)
        if rows is None or rows.done():
            self.collector.release_soon()
        else:  # shown, superseded or failed: the collector runs after it
            rows.add_done_callback(lambda _rows: self.collector.release_soon())
        self._update_actions()
        failed = result.status is RefreshStatus.FAILED
        self.statusBar().showMessage(
            f"Refresh failed. {result.summary}" if failed else result.summary,
            30000 if failed or result.status is RefreshStatus.PARTIAL else 4000,
        )

    def _on_refresh_failed(self, exc: BaseException | str) -> None:
        self.collector.release_soon()
        self.progress.hide()
        self._first_refresh_done()
        self._update_actions()
        reason = plain_reason(exc) if isinstance(exc, str) else report(exc, "The refresh", log)
        self.statusBar().showMessage(f"Refresh failed: {reason}", 30000)

    def _update_actions(self) -> None:
        ready = self.context is not None
        settings_ready = ready
        if self.context is not None and self.context.shared_offline:
            ready = False  # a read-only copy of a shared database: nothing can be stored
        selected = len(self.wallets_page.selected_wallets()) if ready else 0
        self.act_add.setEnabled(ready)
        self.act_settings.setEnabled(settings_ready)
        self.act_pause.setEnabled(self.scheduler is not None and self.scheduler.state.auto)
        self.act_refresh.setEnabled(
            ready and self.refresher is not None and not self.refresher.running
        )
        self.act_edit.setEnabled(ready and selected == 1)
        self.act_remove.setEnabled(ready and selected >= 1)

    def _update_status(self) -> None:
        if self.context is None:
            return
        n = self.wallets_model.rowCount()
        where = self.context.paths.data_dir
        self.status_label.setText(f"{n} wallet{'s' if n != 1 else ''} watched · data in {where}")

    # --- wallet actions ---------------------------------------------------------------
    def add_wallet(self) -> WalletDialog | None:
        if self.context is None:
            return None
        dialog = WalletDialog(self.context.wallets.check, parent=self)
        dialog.submitted.connect(lambda a, lab, g: self._save_new(dialog, a, lab, g))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _save_new(self, dialog: WalletDialog, address: str, label: str, group: str) -> None:
        assert self.context is not None

        def done(wallet: Wallet) -> None:
            dialog.accept()
            self._wallets_added([wallet])

        self.tasks.run(
            self.context.wallets.add(address, label, group),
            on_success=done,
            on_failure=lambda exc: dialog.show_error(report(exc, "Adding the wallet", log)),
            key="add-wallet",
        )

    def _wallets_added(self, wallets: list[Wallet]) -> None:
        """New wallets are shown; the first ones start a refresh at once, and the Portfolio
        tab shows its progress until the portfolio is ready."""
        first = self.wallets_model.rowCount() == 0
        if first and wallets and self.refresher is not None:
            self._first_refresh_pending = True
            self.first_run.show_reading(wallets)
        for wallet in wallets:
            self.wallets_model.add_wallet(wallet)
        self._update_status()
        self._update_actions()
        if len(wallets) == 1:
            self.statusBar().showMessage(f"Added {wallets[0].display_name}", 5000)
        elif wallets:
            self.statusBar().showMessage(f"Added {len(wallets)} wallets", 5000)
        else:
            self.statusBar().showMessage("Those addresses are already watched.", 8000)
        if self._first_refresh_pending:
            self.refresh_now()

    def _first_refresh_done(self) -> None:
        if self._first_refresh_pending:
            self._first_refresh_pending = False
            self.first_run.show_paste()
            self._sync_portfolio()

    def show_first_run(self) -> None:
        """The Portfolio tab's first-run page, keyboard in its address box."""
        self.tabs.setCurrentWidget(self.portfolio_stack)
        if self.portfolio_stack.currentWidget() is self.first_run:
            self.first_run.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def _sync_portfolio(self) -> None:
        """The first-run page while nothing is watched (or the first refresh still runs)."""
        first = self.context is not None and (
            self.wallets_model.rowCount() == 0 or self._first_refresh_pending
        )
        self.portfolio_stack.setCurrentWidget(self.first_run if first else self.holdings_page)

    def edit_wallet(self, wallet: Wallet | None = None) -> WalletDialog | None:
        if self.context is None:
            return None
        if wallet is None:
            selected = self.wallets_page.selected_wallets()
            if len(selected) != 1:
                return None
            wallet = selected[0]
        dialog = WalletDialog(self.context.wallets.check, wallet=wallet, parent=self)
        target = wallet

        def save(_address: str, label: str, group: str) -> None:
            assert self.context is not None
            try:
                updated = self.context.wallets.edit(target, label=label, group=group)
            except Exception as exc:
                dialog.show_error(report(exc, "Saving the wallet", log))
                return
            self.wallets_model.update_wallet(updated)
            dialog.accept()

        dialog.submitted.connect(save)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def remove_selected(self) -> QMessageBox | None:
        if self.context is None:
            return None
        wallets = self.wallets_page.selected_wallets()
        if not wallets:
            return None
        names = ", ".join(w.display_name for w in wallets[:3]) + ("…" if len(wallets) > 3 else "")
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove wallets" if len(wallets) > 1 else "Remove wallet",
            f"Stop watching {names}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Its history stays on this computer until you delete it.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(result: int) -> None:
            if result == QMessageBox.StandardButton.Yes and self.context is not None:
                for wallet in wallets:
                    self.context.wallets.remove(wallet)
                    self.wallets_model.remove_wallet(wallet)
                self._update_status()
                self._update_actions()
            box.deleteLater()

        box.finished.connect(finished)
        box.open()
        return box

    def open_settings(self) -> QDialog | None:
        if self.context is None:
            return None
        from app.ui.dialogs.settings_dialog import open_settings_dialog

        dialog = open_settings_dialog(
            self.context.settings, self.context.secrets, parent=self, registry=self.context.networks
        )
        dialog.settings_changed.connect(self.settings_changed)
        return dialog

    def open_exchanges(self) -> QDialog | None:
        """File → Exchange accounts…: an account added or removed is read by a refresh at once."""
        context = self.context
        if context is None:
            return None
        from app.ui.dialogs.exchanges_dialog import open_exchanges_dialog

        def changed() -> None:
            self.settings_changed.emit(["exchanges"])  # source names, then the next refresh
            self.refresh_now()

        dialog = open_exchanges_dialog(
            self, context.exchanges, self.tasks, changed, context.exchange_history
        )
        dialog.imported.connect(self._after_history_scan)  # the ledger has new entries
        return dialog

    def scan_history(self) -> QDialog | None:
        """The "Scan history" window (modeless; one per window, a running scan survives
        closing it)."""
        context = self.context
        if context is None:
            return None
        from app.ui.scan_history import ScanHistoryDialog

        dialog = getattr(self, "scan_dialog", None)
        if dialog is None:
            dialog = ScanHistoryDialog(lambda: context.onchain_history, self)
            dialog.finished_scan.connect(lambda _report: self._after_history_scan())
            self.scan_dialog = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def _after_history_scan(self) -> None:
        if self.ledger_page is not None:
            self.ledger_page.reload()
            self.ledger_page.changed.emit()  # Performance and the Timeline's returns follow
        self.timeline_page.reload()

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("About Chainfolio")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Chainfolio {__version__}")
        box.setInformativeText(
            "A local-first portfolio tracker for crypto and DeFi.\n\n"
            "Watch-only: it never holds a private key and never signs anything. Your addresses "
            "and history stay on this computer; only read-only balance and price queries leave "
            "it.\n\nLicensed under the GNU GPL v3 or later."
        )
        box.finished.connect(box.deleteLater)
        box.open()
        return box

    # --- Qt events --------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        event.ignore()
        if self.hides_to_tray is not None and self.hides_to_tray():
            self.hide()
            self.hidden_to_tray.emit()
        else:
            self.quit_requested.emit()
