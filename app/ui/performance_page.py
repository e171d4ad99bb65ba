"""The Performance tab: profit and loss of the ledger, and its returns over a date range.

P&L per holding or per account — realised, unrealised, income, fees, cost basis and market
value — by FIFO or average cost, kept per account or pooled (the choice is the settings
``ledger.cost_basis`` and ``ledger.basis_scope``, changed here and remembered). A figure that
leaves out units of unknown cost says "+ unknown"; a figure that cannot be known at all says
"unknown": never 0. Returns: time-weighted (TWR) and money-weighted (IRR) return, cumulative and
annualised, for the whole ledger and each account, over a preset (1 m, 3 m, YTD, 1 y, all) or
the dates typed in From/To.

Every figure is computed by ``LedgerService`` in a worker thread, one computation of each kind at
a time, a newer request replacing a waiting one (:class:`~app.ui.timeline_reads.LatestReads`):
clicking through the presets on a ledger of 50,000 transactions runs one computation and then
the newest, never a pile of them fighting the window for the interpreter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.domain.errors import report, user_message
from app.domain.ledger import LedgerError
from app.ui.empty_view import ExplainingTableView
from app.ui.ledger_page import without_gc
from app.ui.models.holdings_format import money_text
from app.ui.models.ledger_models import (
    EXACT_ROLE,
    PnlColumn,
    PnlModel,
    PnlRow,
    ReturnsModel,
    ReturnsRow,
    percent,
    pnl_rows,
    pnl_tsv,
    returns_tsv,
)
from app.ui.theme import Role, paint_text
from app.ui.timeline_reads import LatestReads

if TYPE_CHECKING:
    from app.config import Settings
    from app.domain.cost_basis import PnlReport
    from app.services.ledger import LedgerService, ReturnsReport
    from app.services.portfolios import PortfolioService
    from app.ui.models.unexplained_model import UnexplainedView

log = logging.getLogger(__name__)
PRESETS = (("1m", "1 m"), ("3m", "3 m"), ("ytd", "YTD"), ("1y", "1 y"), ("all", "All"))
METHODS = (("fifo", "FIFO (oldest first)"), ("average", "Average cost"))
SCOPES = (("account", "Per account"), ("pooled", "Pooled across accounts"))
EMPTY = (
    "No profit and loss to show yet.\n\nP&L and returns come from the ledger: add an account "
    "and its transactions on the Transactions tab, or import a CSV file there (Koinly, "
    "CoinTracking or the Chainfolio template)."
)


def preset_range(key: str, today: date) -> tuple[date | None, date]:
    """(start, end) of a preset; start None: from the first transaction."""
    q = QDate(today.year, today.month, today.day)
    if key == "1m":
        start = q.addMonths(-1)
    elif key == "3m":
        start = q.addMonths(-3)
    elif key == "1y":
        start = q.addYears(-1)
    elif key == "ytd":
        start = QDate(today.year, 1, 1)
    else:
        return None, today
    return date(start.year(), start.month(), start.day()), today


@dataclass(frozen=True, slots=True)
class PnlView:
    report: PnlReport
    holdings: list[PnlRow]
    accounts: list[PnlRow]


def compute_pnl(service: LedgerService, method: str, scope: str) -> PnlView:
    """In a worker thread: the report and the rows of both views (switching is instant)."""
    result = service.pnl(method=method, scope=scope)
    return PnlView(result, pnl_rows(result, False), pnl_rows(result, True))


def compute_returns(
    service: LedgerService, start: date | None, end: date
) -> tuple[list[ReturnsRow], str]:
    """In a worker thread: the whole ledger first, then each account that has transactions."""
    rows: list[ReturnsRow] = []
    currency = ""
    if not service.transactions():
        return rows, currency
    names = [None, *[a.name for a in service.accounts()]]
    for name in names:
        if name is not None and not service.transactions(account=name):
            continue
        try:
            result = service.returns(account=name, start=start, end=end)
        except LedgerError as exc:
            rows.append(ReturnsRow(name or "", None, user_message(exc, "Computing returns")))
            continue
        currency = result.currency
        rows.append(ReturnsRow(name or "", result.figures, "", result.notes))
    return rows, currency


def compute_portfolio_pnl(service: PortfolioService, name: str, method: str, scope: str) -> PnlView:
    """In a worker thread: one portfolio's P&L (its ledger accounts' holdings)."""
    result = service.pnl(name, method=method, scope=scope)
    return PnlView(result, pnl_rows(result, False), pnl_rows(result, True))


def compute_portfolio_returns(
    service: PortfolioService, name: str, start: date | None, end: date
) -> tuple[list[ReturnsRow], str]:
    """In a worker thread: the portfolio's ledger accounts as one set (TWR and IRR), then its
    wallets' time-weighted return over the snapshots (no IRR: see PortfolioService)."""
    from app.domain.returns import ReturnFigures

    result = service.returns(name, start, end)
    rows: list[ReturnsRow] = []
    if result.accounts is not None:
        rows.append(
            ReturnsRow("Ledger accounts", result.accounts.figures, "", result.accounts.notes)
        )
    w = result.wallets
    if w is not None:
        if w.twr is None or w.start is None or w.end is None:
            rows.append(ReturnsRow("Wallets", None, " ".join(result.notes)))
        else:
            figures = ReturnFigures(
                start_day=w.start // 86400, end_day=w.end // 86400,
                days=(w.end - w.start) // 86400 + 1,
                start_value=float(w.start_value or 0), end_value=float(w.end_value or 0),
                inflows=float(w.inflows), outflows=float(w.outflows), twr=float(w.twr),
                twr_annualised=None, irr=None, irr_cumulative=None, unpriced=(),
                irr_note="Wallets: time-weighted return over the snapshots only.",
            )  # fmt: skip
            rows.append(ReturnsRow("Wallets", figures, "", result.notes))
    return rows, result.currency


def range_returns(service: LedgerService, lo: float, hi: float, now: float) -> ReturnsReport | None:
    """Returns of the whole ledger over the Timeline's visible range (UTC days), or None when
    the ledger is empty or the range lies in the future."""
    if not service.transactions():
        return None
    today = datetime.fromtimestamp(now, UTC).date()
    end = min(datetime.fromtimestamp(max(hi, 0), UTC).date(), today)
    start = datetime.fromtimestamp(max(lo, 0), UTC).date()
    if start > end:
        return None
    return service.returns(start=start, end=end)


def timeline_text(service: LedgerService, lo: float, hi: float, now: float) -> str:
    """The Timeline's label for its visible range ("" hides it; a problem is said briefly,
    the Performance tab says it in full)."""
    from app.domain.errors import ChainfolioError

    try:
        return returns_label(without_gc(lambda: range_returns(service, lo, hi, now), keep=False))
    except ChainfolioError as exc:
        log.info("ledger returns for the timeline: %s", exc)
        return "Ledger returns unavailable (see the Performance tab)"


def returns_label(result: ReturnsReport | None) -> str:
    """The Timeline's one-line summary."""
    if result is None:
        return ""
    f = result.figures
    twr = percent(f.twr)
    if f.twr_annualised is not None:
        twr += f" ({percent(f.twr_annualised)} a year)"
    irr = "IRR —" if f.irr is None else f"IRR {percent(f.irr)} a year"
    return f"Ledger: TWR {twr} · {irr}"


class CopyTable(ExplainingTableView):
    """Ctrl+C copies the selected rows with exact figures (``copy_key``)."""

    copy_key = Signal()

    def event(self, e: Any) -> bool:
        from PySide6.QtCore import QEvent

        if (
            e.type() == QEvent.Type.ShortcutOverride
            and isinstance(e, QKeyEvent)
            and e.matches(QKeySequence.StandardKey.Copy)
        ):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.matches(QKeySequence.StandardKey.Copy):
            self.copy_key.emit()
            e.accept()
            return
        super().keyPressEvent(e)


class PerformancePage(QWidget):
    pnl_loaded = Signal()
    returns_loaded = Signal()
    unexplained_loaded = Signal()
    message = Signal(str)

    def __init__(
        self,
        service: Callable[[], LedgerService],
        settings: Settings | None = None,
        clock: Callable[[], float] | None = None,
        parent: QWidget | None = None,
        unexplained: Callable[[str | None], UnexplainedView] | None = None,
        portfolios: Callable[[], PortfolioService] | None = None,
    ) -> None:
        super().__init__(parent)
        import time

        self._service = service
        self._unexplained = unexplained
        self._portfolios = portfolios
        self.portfolio: str | None = None  # None: the whole ledger
        self._settings = settings
        self._clock = clock or time.time
        self.reads = LatestReads(self._alive(self._on_failure))
        self.view: PnlView | None = None
        self._dirty = True
        self._preset: str | None = "1y"
        self._sized = False

        # --- P&L ------------------------------------------------------------------------
        self.method = QComboBox()
        for key, text in METHODS:
            self.method.addItem(text, key)
        self.method.setAccessibleName("Cost basis method")
        self.scope = QComboBox()
        for key, text in SCOPES:
            self.scope.addItem(text, key)
        self.scope.setAccessibleName("Cost basis kept")
        self.rows_box = QComboBox()
        self.rows_box.addItem("By holding", False)
        self.rows_box.addItem("By account", True)
        self.rows_box.setAccessibleName("Show P&L")
        if settings is not None:
            self.method.setCurrentIndex(
                max(0, self.method.findData(str(settings.get("ledger.cost_basis"))))
            )
            self.scope.setCurrentIndex(
                max(0, self.scope.findData(str(settings.get("ledger.basis_scope"))))
            )
        self.method.currentIndexChanged.connect(self._basis_changed)
        self.scope.currentIndexChanged.connect(self._basis_changed)
        self.rows_box.currentIndexChanged.connect(lambda _i: self._show_rows())
        controls = QHBoxLayout()
        for caption, widget in (
            ("Cost basis", self.method), ("Kept", self.scope), ("Show", self.rows_box)
        ):  # fmt: skip
            label = QLabel(caption)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
            controls.addSpacing(8)
        controls.addStretch(1)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Total profit and loss")
        self.pnl_model = PnlModel(self)
        self.pnl_table = CopyTable(EMPTY)
        self.pnl_table.setModel(self.pnl_model)
        self.pnl_table.setAccessibleName("Profit and loss")
        self._table_setup(self.pnl_table)
        self.pnl_table.setSortingEnabled(True)
        self.pnl_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.pnl_table.copy_key.connect(self.copy_pnl)
        self.notes = QLabel()
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setWordWrap(True)
        self.notes.hide()
        pnl_box = QWidget()
        pnl_layout = QVBoxLayout(pnl_box)
        pnl_layout.setContentsMargins(0, 0, 0, 0)
        pnl_layout.addLayout(controls)
        pnl_layout.addWidget(self.summary)
        pnl_layout.addWidget(self.pnl_table, 1)
        pnl_layout.addWidget(self.notes)

        # --- returns --------------------------------------------------------------------
        returns = QGroupBox("Returns")
        self.preset_group = QButtonGroup(self)
        self.preset_buttons: dict[str, QToolButton] = {}
        range_row = QHBoxLayout()
        for key, text in PRESETS:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setAccessibleName(f"Returns over {text}" if key != "all" else "Returns over all")
            button.clicked.connect(lambda _=False, k=key: self.set_preset(k))
            self.preset_group.addButton(button)
            self.preset_buttons[key] = button
            range_row.addWidget(button)
        range_row.addSpacing(12)
        self.from_date = self._date_edit("Returns from")
        self.to_date = self._date_edit("Returns to")
        range_row.addWidget(QLabel("From"))
        range_row.addWidget(self.from_date)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.to_date)
        range_row.addStretch(1)
        self.from_date.dateChanged.connect(self._dates_edited)
        self.to_date.dateChanged.connect(self._dates_edited)
        self.returns_model = ReturnsModel(self)
        self.returns_table = CopyTable("Returns appear here once the ledger has transactions.")
        self.returns_table.setModel(self.returns_model)
        self.returns_table.setAccessibleName("Returns")
        self._table_setup(self.returns_table)
        self.returns_table.copy_key.connect(self.copy_returns)
        self.returns_notes = QLabel(
            "TWR: the growth of the money invested, whatever was added or taken out when "
            "(compare with a fund). IRR: the yearly rate your own deposits and withdrawals "
            "earned. Figures under a year are not annualised."
        )
        self.returns_notes.setTextFormat(Qt.TextFormat.PlainText)
        self.returns_notes.setWordWrap(True)
        inner = QVBoxLayout(returns)
        inner.addLayout(range_row)
        inner.addWidget(self.returns_table, 1)
        inner.addWidget(self.returns_notes)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(pnl_box)
        split.addWidget(returns)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.unexplained_box: QGroupBox | None = None
        if unexplained is not None:
            split.addWidget(self._unexplained_section())
            split.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(split)
        self._set_preset_dates("1y")
        self.preset_buttons["1y"].setChecked(True)

    def _unexplained_section(self) -> QGroupBox:
        """Linked wallets against the ledger: observed minus recorded, per asset."""
        from app.ui.models.unexplained_model import EMPTY as NO_LINK
        from app.ui.models.unexplained_model import UnexplainedModel

        box = QGroupBox("Unexplained change")
        self.unexplained_box = box
        self.unexplained_model = UnexplainedModel(self)
        self.unexplained_table = CopyTable(NO_LINK)
        self.unexplained_table.setModel(self.unexplained_model)
        self.unexplained_table.setAccessibleName("Unexplained change")
        self._table_setup(self.unexplained_table)
        self.unexplained_table.copy_key.connect(self.copy_unexplained)
        self.unexplained_notes = QLabel()
        self.unexplained_notes.setTextFormat(Qt.TextFormat.PlainText)
        self.unexplained_notes.setWordWrap(True)
        self.unexplained_notes.hide()
        inner = QVBoxLayout(box)
        inner.addWidget(self.unexplained_table, 1)
        inner.addWidget(self.unexplained_notes)
        return box

    @staticmethod
    def _table_setup(table: QTableView) -> None:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(118)
        header.setStretchLastSection(True)

    @staticmethod
    def _date_edit(name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(QDate(1970, 1, 1))
        edit.setSpecialValueText("First")  # the minimum: from the first transaction
        edit.setAccessibleName(name)
        return edit

    # --- public API -----------------------------------------------------------------------
    def reload(self) -> None:
        """Compute P&L and returns again; a hidden page waits until it is shown."""
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        self.load_pnl()
        self.load_returns()
        self.load_unexplained()

    def settings_changed(self, keys: list[str]) -> None:
        if {"currency", "ledger.cost_basis", "ledger.basis_scope"} & set(keys):
            if self._settings is not None:
                for box, key in ((self.method, "ledger.cost_basis"),
                                 (self.scope, "ledger.basis_scope")):  # fmt: skip
                    box.blockSignals(True)
                    box.setCurrentIndex(max(0, box.findData(str(self._settings.get(key)))))
                    box.blockSignals(False)
            self.reload()

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock(), UTC).date()

    def set_preset(self, key: str) -> None:
        self._preset = key
        self.preset_buttons[key].setChecked(True)
        self._set_preset_dates(key)
        self.load_returns()

    def date_range(self) -> tuple[date | None, date]:
        def value(edit: QDateEdit) -> date | None:
            if edit.date() == edit.minimumDate():
                return None
            d = edit.date()
            return date(d.year(), d.month(), d.day())

        return value(self.from_date), value(self.to_date) or self.today()

    # --- P&L ------------------------------------------------------------------------------
    def _basis_changed(self) -> None:
        method, scope = str(self.method.currentData()), str(self.scope.currentData())
        if self._settings is not None:
            self._settings.remember("ledger.cost_basis", method)
            self._settings.remember("ledger.basis_scope", scope)
        self.load_pnl()

    def set_portfolio(self, name: str | None) -> None:
        """Show one portfolio's P&L, returns and unexplained change (None: everything)."""
        if name == self.portfolio:
            return
        self.portfolio = name
        self.view = None
        self.pnl_model.set_rows([], False)
        self.returns_model.set_rows([], self.returns_model.currency)
        self.reload()

    def load_pnl(self) -> None:
        service, portfolios, name = self._service, self._portfolios, self.portfolio
        method, scope = str(self.method.currentData()), str(self.scope.currentData())
        self.summary.setText("Computing…")
        paint_text(self.summary, Role.MUTED)
        if name is not None and portfolios is not None:
            work = lambda: compute_portfolio_pnl(portfolios(), name, method, scope)  # noqa: E731
        else:
            work = lambda: compute_pnl(service(), method, scope)  # noqa: E731
        self._in_thread("pnl", lambda: (name, work()), self._on_pnl_of)

    def _on_pnl_of(self, result: tuple[str | None, PnlView]) -> None:
        name, view = result
        if name == self.portfolio:  # else the newer portfolio's is being computed
            self._on_pnl(view)

    def _on_pnl(self, view: PnlView) -> None:
        if view.report.method.value != self.method.currentData() or (
            view.report.scope.value != self.scope.currentData()
        ):
            return  # a newer choice is being computed
        self.view = view
        self._show_rows()
        if not self._sized and view.holdings:
            from app.ui.timeline_page import fit_columns

            self._sized = True  # once: the person's own widths are kept afterwards
            fit_columns(self.pnl_table, 40)
            header = self.pnl_table.horizontalHeader()
            for column in range(header.count() - 1):  # the total row is bold: wider
                header.resizeSection(column, header.sectionSize(column) + 16)
        t, cur = view.report.total, view.report.currency
        if not view.holdings:
            self.summary.setText("")
        else:
            unknown = []
            if t.unrealised_unknown_holdings:
                unknown.append(f"unrealised unknown for {t.unrealised_unknown_holdings}")
            partial = sum(
                1 for h in view.report.holdings if h.unknown_basis_quantity and h.unrealised
            )
            if partial:
                unknown.append(f"units of unknown cost in {partial}")
            if t.realised_unknown_quantity_holdings:
                unknown.append(f"sales of unknown cost in {t.realised_unknown_quantity_holdings}")
            tail = f" (holdings with {', '.join(unknown)})" if unknown else ""
            self.summary.setText(
                f"Total P&L {money_text(t.total, cur, plus=True)} = realised "
                f"{money_text(t.realised, cur, plus=True)} + unrealised "
                f"{money_text(t.unrealised, cur, plus=True)} + income "
                f"{money_text(t.income, cur)} − fees {money_text(t.fees, cur)}{tail}. "
                f"Market value {money_text(t.market_value, cur)}, cost basis "
                f"{money_text(t.cost_basis, cur)}."
            )
        paint_text(
            self.summary,
            Role.GAIN if t.total > 0 else Role.LOSS if t.total < 0 else None,
        )
        self.notes.setText(" ".join(view.report.notes))
        self.notes.setVisible(bool(view.report.notes))
        paint_text(self.notes, Role.MUTED)
        self.pnl_loaded.emit()

    def _show_rows(self) -> None:
        if self.view is None:
            return
        by_account = bool(self.rows_box.currentData())
        rows = self.view.accounts if by_account else self.view.holdings
        self.pnl_model.set_rows(list(rows), by_account)
        self.pnl_table.setColumnHidden(PnlColumn.ASSET, by_account)
        self.pnl_table.setColumnHidden(PnlColumn.QUANTITY, by_account)
        header = self.pnl_table.horizontalHeader()
        if header.sortIndicatorSection() >= 0:
            self.pnl_model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    # --- returns --------------------------------------------------------------------------
    def _set_preset_dates(self, key: str) -> None:
        start, end = preset_range(key, self.today())
        for edit, value in ((self.from_date, start), (self.to_date, end)):
            edit.blockSignals(True)
            if value is None:
                edit.setDate(edit.minimumDate())
            else:
                edit.setDate(QDate(value.year, value.month, value.day))
            edit.blockSignals(False)

    def _dates_edited(self) -> None:
        self._preset = None
        self.preset_group.setExclusive(False)
        for button in self.preset_buttons.values():
            button.setChecked(False)
        self.preset_group.setExclusive(True)
        self.load_returns()

    def load_returns(self) -> None:
        start, end = self.date_range()
        if start is not None and start > end:
            self.returns_model.set_rows([ReturnsRow("", None, "Pick a start before the end.")],
                                        self.returns_model.currency)  # fmt: skip
            return
        service, portfolios, name = self._service, self._portfolios, self.portfolio

        def work() -> tuple[date | None, date, tuple[list[ReturnsRow], str]]:
            if name is not None and portfolios is not None:
                return start, end, compute_portfolio_returns(portfolios(), name, start, end)
            return start, end, compute_returns(service(), start, end)

        self._in_thread("returns", lambda: (name, work()), self._on_returns_of)

    def _on_returns_of(self, result: tuple[str | None, Any]) -> None:
        if result[0] == self.portfolio:
            self._on_returns(result[1])

    def _on_returns(self, result: tuple[date | None, date, tuple[list[ReturnsRow], str]]) -> None:
        start, end, (rows, currency) = result
        if (start, end) != self.date_range():
            return  # the range changed meanwhile; its own computation follows
        self.returns_model.set_rows(rows, currency or self.returns_model.currency)
        self.returns_loaded.emit()

    # --- unexplained change ------------------------------------------------------------
    def load_unexplained(self) -> None:
        """Compare linked wallets with the ledger again (after a refresh or a ledger edit)."""
        work = self._unexplained
        if work is None:
            return
        name = self.portfolio
        self._in_thread("unexplained", lambda: (name, work(name)), self._on_unexplained_of)

    def _on_unexplained_of(self, result: tuple[str | None, UnexplainedView]) -> None:
        if result[0] == self.portfolio:
            self._on_unexplained(result[1])

    def _on_unexplained(self, view: UnexplainedView) -> None:
        self.unexplained_view = view
        self.unexplained_table.set_placeholder(view.empty_text)
        self.unexplained_model.set_rows(view.rows)
        if view.rows and not getattr(self, "_unexplained_sized", False):
            from app.ui.timeline_page import fit_columns

            self._unexplained_sized = True
            fit_columns(self.unexplained_table, 40)
        from app.ui.models.ledger_models import tip

        self.unexplained_notes.setText(view.caption)
        self.unexplained_notes.setToolTip(tip(view.details) if view.details else "")
        self.unexplained_notes.setVisible(bool(view.caption))
        paint_text(self.unexplained_notes, Role.MUTED)
        self.unexplained_loaded.emit()

    def copy_unexplained(self) -> str:
        from app.ui.models.unexplained_model import unexplained_tsv

        table = self.unexplained_table
        picked = sorted({i.row() for i in table.selectionModel().selectedRows()})
        all_rows = self.unexplained_model.rows()
        rows = [all_rows[r] for r in picked] or all_rows
        if not rows:
            return ""
        text = unexplained_tsv(rows)
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(rows):,} rows of unexplained change")
        return text

    # --- copy -----------------------------------------------------------------------------
    def copy_pnl(self) -> str:
        picked = sorted({i.row() for i in self.pnl_table.selectionModel().selectedRows()})
        rows = [self.pnl_model.row_at(r) for r in picked] or self.pnl_model.rows()
        if not rows:
            return ""
        text = pnl_tsv(rows)
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(rows):,} P&L rows")
        return text

    def copy_returns(self) -> str:
        picked = sorted({i.row() for i in self.returns_table.selectionModel().selectedRows()})
        all_rows = self.returns_model.rows()
        rows = [all_rows[r] for r in picked] or all_rows
        if not rows:
            return ""
        text = returns_tsv(rows)
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {len(rows):,} rows of returns")
        return text

    def exact_cell(self, row: int, column: int) -> str:
        return str(self.pnl_model.index(row, column).data(EXACT_ROLE) or "")

    # --- plumbing -------------------------------------------------------------------------
    def _in_thread(
        self, key: str, work: Callable[[], Any], on_success: Callable[[Any], None]
    ) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._dirty = True
            return
        self.reads.run(key, lambda: without_gc(work), self._alive(on_success))

    def _alive(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        def call(value: Any) -> None:
            if isValid(self):
                handler(value)

        return call

    def _on_failure(self, exc: BaseException) -> None:
        self.summary.setText(report(exc, "Computing profit and loss", log))
        paint_text(self.summary, Role.ERROR)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.reload()
