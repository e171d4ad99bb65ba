"""The Timeline tab: net worth over time, its breakdown, and "what changed" between two dates.

Start-up stays fast: this module imports only Qt. The chart (pyqtgraph, numpy) and the history
service are imported when the page is first shown, and a page that is hidden only notes that
it is out of date; it reloads when shown. Every database read runs in a worker thread, one of
each kind at a time (:class:`~app.ui.timeline_reads.LatestReads`: a newer request of the same
kind replaces an older one), so the GUI thread only draws.

Wiring (the lead's side)::

    page = TimelinePage()
    tabs.addTab(page, "Timeline")
    page.set_store(context.engine, currency, names)  # names: chain id / wallet address -> label
    page.reload()                                      # after each refresh
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QDateTime, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.ui.models.changes_model import SORT_ROLE, WhatChangedModel
from app.ui.models.holdings_format import money_text
from app.ui.timeline_reads import LatestReads

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.domain.onchain_timeline import Reconstruction
    from app.services.history import Breakdown, Comparison, HistoryService, NetWorth
    from app.ui.timeline_plot import TimelinePlot

log = logging.getLogger(__name__)

T = TypeVar("T")
HOUR = 3600
DAY = 86400
RANGES: tuple[tuple[str, str, int | None], ...] = (
    ("24h", "24 h", DAY),
    ("7d", "7 d", 7 * DAY),
    ("30d", "30 d", 30 * DAY),
    ("1y", "1 y", 365 * DAY),
    ("all", "All", None),
)
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("total", "Total"),
    ("chain", "By chain"),
    ("asset", "By asset"),
    ("wallet", "By wallet"),
)
EMPTY_TEXT = (
    "No history yet.\n\nEvery refresh stores a snapshot of your portfolio; the timeline of its "
    "value starts with the first one. Press Refresh (Ctrl+R) or wait for the next automatic "
    "refresh."
)


def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


FIT_ROWS = 24  # rows measured to size the "what changed" columns


def fit_columns(table: QTableView, rows: int) -> None:
    """Size each column to its header and the display text of the first ``rows`` rows.

    ``resizeColumnsToContents`` asks the delegate for every role of every measured cell
    (64 rows cost 30 ms on the GUI thread, the longest stall of opening the tab); the width of
    the display text and the header is all a column of plain text needs.
    """
    model = table.model()
    cells = table.fontMetrics()
    header = table.horizontalHeader()
    heads = header.fontMetrics()
    pad = 2 * table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 12
    arrow = table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header)
    for column in range(model.columnCount()):
        title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        width = heads.horizontalAdvance(title) + arrow + pad
        for row in range(min(rows, model.rowCount())):
            text = model.index(row, column).data()
            if text:
                width = max(width, cells.horizontalAdvance(str(text)) + pad)
        header.resizeSection(column, width)


class TimelinePage(QWidget):
    net_worth_loaded = Signal()
    breakdown_loaded = Signal()
    changes_loaded = Signal()
    load_failed = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._source: Engine | HistoryService | Callable[[], HistoryService] | None = None
        self._service: HistoryService | None = None
        self.currency = "USD"
        self.names: dict[str, str] = {}
        self.plot: TimelinePlot | None = None
        self.net_worth: NetWorth | None = None
        self.breakdown: Breakdown | None = None
        self.comparison: Comparison | None = None
        self.reads = LatestReads(self._alive(self._on_failure))
        self._total: Callable[[], NetWorth] | None = None
        # The part before the first snapshot, rebuilt from the scanned on-chain history.
        self._reconstruct: Callable[[], Reconstruction | None] | None = None
        self.reconstruction: Reconstruction | None = None
        self._changes: Callable[[int, int], Comparison] | None = None
        self._dirty = False
        self._range_key: str | None = "all"
        self._programmatic = False
        self._pinned = False  # the user picked the compared dates; stop following the view
        self._compare: tuple[int, int] | None = None

        # --- tool row -----------------------------------------------------------------
        self.range_group = QButtonGroup(self)
        self._range_buttons: dict[str, QToolButton] = {}
        tools = QHBoxLayout()
        for key, text, _seconds in RANGES:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, k=key: self.set_range(k))
            self.range_group.addButton(button)
            self._range_buttons[key] = button
            tools.addWidget(button)
        self._range_buttons["all"].setChecked(True)
        # The ledger's TWR and IRR over the visible range (set_returns); hidden without one.
        self._returns: Callable[[float, float], str] | None = None
        self.returns_label = QLabel()
        self.returns_label.setTextFormat(Qt.TextFormat.PlainText)
        self.returns_label.setObjectName("timelineReturns")
        self.returns_label.setAccessibleName("Ledger returns over the visible range")
        self.returns_label.setToolTip(
            "Time-weighted and money-weighted return of the ledger's accounts over the range "
            "shown (Performance tab for more)"
        )
        self.returns_label.hide()
        tools.addSpacing(8)
        tools.addWidget(self.returns_label)
        tools.addSpacing(12)
        self.breakdown_box = QComboBox()
        self.breakdown_box.setAccessibleName("Break the value down by")
        for key, text in BREAKDOWNS:
            self.breakdown_box.addItem(text, key)
        self.breakdown_box.currentIndexChanged.connect(self._on_breakdown_kind)
        self.stacked_box = QCheckBox("Stacked")
        self.stacked_box.setChecked(True)
        self.stacked_box.setEnabled(False)
        self.stacked_box.toggled.connect(self._on_stacked)
        tools.addWidget(self.breakdown_box)
        tools.addWidget(self.stacked_box)
        self.readout = QLabel()
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setObjectName("timelineReadout")
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools.addWidget(self.readout, 1)
        # Says what the dashed part is and how far it is from the first snapshot (plain text).
        self.recon_note = QLabel()
        self.recon_note.setObjectName("timelineReconstructed")
        self.recon_note.setTextFormat(Qt.TextFormat.PlainText)
        self.recon_note.setWordWrap(True)
        self.recon_note.hide()

        # --- chart (created on first show) ---------------------------------------------
        self.plot_holder = QWidget()
        self.plot_layout = QVBoxLayout(self.plot_holder)
        self.plot_layout.setContentsMargins(0, 0, 0, 0)

        # --- what changed ---------------------------------------------------------------
        changes = QGroupBox("What changed")
        self.from_edit = self._date_edit()
        self.to_edit = self._date_edit()
        self.from_edit.dateTimeChanged.connect(self._on_dates_edited)
        self.to_edit.dateTimeChanged.connect(self._on_dates_edited)
        self.visible_button = QPushButton("Use visible range")
        self.visible_button.setToolTip("Compare the start and the end of the chart's range")
        self.visible_button.clicked.connect(self.follow_view)
        self.change_summary = QLabel()
        self.change_summary.setTextFormat(Qt.TextFormat.PlainText)
        self.change_summary.setWordWrap(True)
        self.changes_model = WhatChangedModel(self)
        self.changes_proxy = QSortFilterProxyModel(self)
        self.changes_proxy.setSortRole(SORT_ROLE)
        self.changes_proxy.setSourceModel(self.changes_model)
        self.changes_table = QTableView()
        self.changes_table.setModel(self.changes_proxy)
        self.changes_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.changes_table.setSortingEnabled(True)  # starts in the model's order: |change|
        self.changes_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.changes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes_table.setAlternatingRowColors(True)
        self.changes_table.verticalHeader().hide()
        header = self.changes_table.horizontalHeader()
        # Sized to the contents once, not on every reload: ResizeToContents asks the model for
        # every cell of every row each time, tens of thousands of calls on the GUI thread.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._changes_sized = False
        pick = QHBoxLayout()
        pick.addWidget(QLabel("From"))
        pick.addWidget(self.from_edit)
        pick.addWidget(QLabel("to"))
        pick.addWidget(self.to_edit)
        pick.addWidget(self.visible_button)
        pick.addStretch(1)
        box = QVBoxLayout(changes)
        box.addLayout(pick)
        box.addWidget(self.change_summary)
        box.addWidget(self.changes_table)
        self._changes_timer = QTimer(self)
        self._changes_timer.setSingleShot(True)
        self._changes_timer.setInterval(300)
        self._changes_timer.timeout.connect(self._load_changes)

        # --- layout: empty state or content -----------------------------------------------
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.plot_holder)
        self.splitter.addWidget(changes)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.plot_holder.setMinimumHeight(140)  # the chart never shrinks to a strip
        self._split_set = False  # the 3:2 split is applied once, at the first show
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(tools)
        inner.addWidget(self.recon_note)
        inner.addWidget(self.splitter, 1)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("timelineEmpty")
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.stack)

    @staticmethod
    def _date_edit() -> QDateTimeEdit:
        edit = QDateTimeEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        return edit

    # --- public API ---------------------------------------------------------------------
    def set_store(
        self,
        source: Engine | HistoryService | Callable[[], HistoryService],
        currency: str,
        names: Mapping[str, str],
    ) -> None:
        """Show the history in ``source`` (the app's history service or what builds it, or a
        SQLAlchemy engine).
        ``names`` maps chain ids (CAIP-2) and wallet addresses to the names to show."""
        self._source = source
        self._service = None
        self.currency = currency
        self.names = dict(names)
        self.reload()

    def reload(self) -> None:
        """Read the history again (call after each refresh). A hidden page waits until shown."""
        if self._source is None:
            return
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        service = self._history()
        total = self._total
        self._in_thread("net-worth", self._on_net_worth, total or service.net_worth)
        if self._reconstruct is not None and total is None:
            self._in_thread("reconstruction", self._on_reconstruction, self._reconstruct)

    def set_total(
        self,
        total: Callable[[], NetWorth] | None,
        changes: Callable[[int, int], Comparison] | None = None,
    ) -> None:
        """Chart ``total()`` (read in a worker; one portfolio's value per snapshot) instead of
        the whole history's, and list ``changes(start, end)`` under it; None: the whole
        history again. The breakdown by chain, wallet or asset is of the whole history, so it
        is offered only then."""
        self._total = total
        self._changes = changes
        if total is not None:
            self.set_breakdown("total")
            self._on_reconstruction(None)
        self.breakdown_box.setEnabled(total is None)
        self.reload()

    def set_reconstruction(
        self, read: Callable[[], Reconstruction | None] | None, *, reload: bool = True
    ) -> None:
        """``read()`` (in a worker thread) gives the values before the first snapshot rebuilt
        from the scanned on-chain history; drawn dashed and marked as reconstructed, with the
        gap to the first snapshot shown. Only the whole history has one (not a portfolio)."""
        self._reconstruct = read
        if read is None:
            self._on_reconstruction(None)
        if reload:
            self.reload()

    def _on_reconstruction(self, r: Reconstruction | None) -> None:
        if self._total is not None:
            r = None  # a portfolio's timeline: the rebuilt part is of every scanned wallet
        self.reconstruction = r
        if r is None or not len(r):
            self.recon_note.hide()
        else:
            gap = r.gap_value
            text = (
                f"Dashed: reconstructed from on-chain history from {stamp(float(r.times[0]))}"
                " (the wallets' scanned transfers at daily prices), before the first snapshot."
            )
            if gap is not None:
                text += (
                    f" Gap to the first snapshot: {money_text(gap, r.currency, plus=True)}"
                    " (what the scan does not explain: DeFi positions, wallets or transfers not"
                    " scanned)."
                )
            if r.unpriced:
                text += f" {len(r.unpriced)} asset(s) without any price are left out."
            self.recon_note.setText(text)
            self.recon_note.show()
        if self.plot is not None:
            self.plot.set_reconstruction(r, self._clock())
            if self._range_key is not None:
                self.set_range(self._range_key)

    def set_range(self, key: str) -> None:
        """Show the last 24 h / 7 d / 30 d / 1 y (ending now), or all history."""
        self._range_key = key
        self._range_buttons[key].setChecked(True)
        if self.plot is None or self.net_worth is None or not len(self.net_worth):
            return
        lo, hi = self._range_bounds(key)
        self._programmatic = True
        try:
            self.plot.set_x_range(lo, hi)
        finally:
            self._programmatic = False

    def set_returns(self, returns: Callable[[float, float], str] | None) -> None:
        """``returns(lo, hi)``, run in a worker thread on every settled range change, gives the
        label beside the range buttons ("" hides it)."""
        self._returns = returns
        self.reload_returns()

    def reload_returns(self) -> None:
        if self.plot is None or self._returns is None or not self.isVisible():
            return
        lo, hi = self.plot.x_range()
        self._in_thread("returns", self._on_returns, partial(self._returns, lo, hi))

    def _on_returns(self, text: str) -> None:
        self.returns_label.setText(text)
        self.returns_label.setVisible(bool(text))

    def range_buttons(self) -> list[QToolButton]:
        """The 24 h / 7 d / 30 d / 1 y / All buttons, in that order."""
        return list(self._range_buttons.values())

    def range_button(self, key: str) -> QToolButton:
        return self._range_buttons[key]

    def set_breakdown(self, kind: str) -> None:
        """``total``, ``chain``, ``asset`` or ``wallet``."""
        self.breakdown_box.setCurrentIndex(self.breakdown_box.findData(kind))

    def visible_range(self) -> tuple[float, float] | None:
        return None if self.plot is None else self.plot.x_range()

    def value_text_at(self, t: float) -> str:
        """What the crosshair shows at time ``t`` (empty when there is nothing to show)."""
        found = self._describe(t)
        return "" if found is None else found[2]

    def follow_view(self) -> None:
        """Compare the start and the end of the visible range again (the default)."""
        self._pinned = False
        self._sync_dates_to_view()
        self._load_changes()

    # --- loading ------------------------------------------------------------------------
    def _history(self) -> HistoryService:
        if self._service is None:
            from app.services.history import HistoryService

            if isinstance(self._source, HistoryService):
                self._service = self._source
            elif callable(self._source):  # the app's history service, built on first use
                self._service = self._source()
            else:
                from app.storage.history_store import SqlHistoryStore

                self._service = HistoryService(SqlHistoryStore(self._source))  # type: ignore[arg-type]
        return self._service

    def _ensure_plot(self) -> TimelinePlot:
        if self.plot is None:
            from app.ui.timeline_plot import TimelinePlot

            self.plot = TimelinePlot(self._describe)
            self.plot.x_range_changed.connect(self._on_x_range_changed)
            self.plot.x_range_settled.connect(self._on_x_range_settled)
            self.plot.hovered.connect(self._update_readout)
            self.plot_layout.addWidget(self.plot)
        return self.plot

    def _in_thread(self, key: str, on_success: Callable[[T], None], work: Callable[[], T]) -> None:
        """Run ``work`` in a worker thread, one read per key at a time; a newer request with
        the same key replaces an older one (:class:`LatestReads`).

        Without a running event loop (the app is shutting down) nothing is started and the
        page reads again when it is next shown.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._dirty = True
            return
        self.reads.run(key, work, self._alive(on_success))

    def _alive(self, handler: Callable[[T], None]) -> Callable[[T], None]:
        """A result may arrive after the page was closed and deleted: drop it then."""

        def call(value: T) -> None:
            if isValid(self):
                handler(value)

        return call

    def _on_failure(self, exc: BaseException) -> None:
        from app.domain.errors import report  # the sentence for the screen; details to the log

        message = "Could not read the history. " + report(exc, "Reading the history", log)
        self.readout.setText(message)
        self.load_failed.emit(message)

    def _on_net_worth(self, nw: NetWorth) -> None:
        self.net_worth = nw
        if not len(nw):
            self.stack.setCurrentWidget(self.empty_label)
            self.net_worth_loaded.emit()
            return
        self.stack.setCurrentIndex(1)
        plot = self._ensure_plot()
        self._programmatic = True  # new limits may move the view: not the person's doing
        try:
            plot.set_net_worth(nw, self._clock())
            if plot.reconstruction is not self.reconstruction:
                plot.set_reconstruction(self.reconstruction, self._clock())
        finally:
            self._programmatic = False
        if self._range_key is not None:
            self.set_range(self._range_key)
        last = len(nw) - 1
        self.readout.setText(
            f"{stamp(float(nw.times[last]))} · {money_text(nw.total_at(last), self.currency)}"
        )
        self.net_worth_loaded.emit()
        self._on_x_range_settled(*plot.x_range())

    def _range_bounds(self, key: str) -> tuple[float, float]:
        assert self.net_worth is not None
        first, last = float(self.net_worth.times[0]), float(self.net_worth.times[-1])
        if self.reconstruction is not None and len(self.reconstruction):
            first = min(first, float(self.reconstruction.times[0]))
        seconds = dict((k, s) for k, _t, s in RANGES)[key]
        if seconds is None:
            return (first - HOUR, last + HOUR) if first == last else (first, last)
        now = max(self._clock(), last)
        return now - seconds, now

    def _on_x_range_changed(self, _lo: float, _hi: float) -> None:
        if self._programmatic:
            return
        self._range_key = None  # the person panned or zoomed: no range button applies
        self.range_group.setExclusive(False)
        for button in self._range_buttons.values():
            button.setChecked(False)
        self.range_group.setExclusive(True)

    def _on_x_range_settled(self, _lo: float, _hi: float) -> None:
        self._load_breakdown()
        self.reload_returns()
        if not self._pinned:
            self._sync_dates_to_view()
            self._load_changes()

    # --- breakdown ----------------------------------------------------------------------
    def _kind(self) -> str:
        return str(self.breakdown_box.currentData())

    def _on_breakdown_kind(self) -> None:
        self.stacked_box.setEnabled(self._kind() != "total")
        self._load_breakdown()

    def _on_stacked(self, stacked: bool) -> None:
        if self.plot is not None:
            self.plot.set_breakdown(self.breakdown, stacked)

    def _load_breakdown(self) -> None:
        kind = self._kind()
        if kind == "total" or self.plot is None or not self.net_worth:
            self.breakdown = None
            if self.plot is not None:
                self.plot.set_breakdown(None, self.stacked_box.isChecked())
            return
        lo, hi = self.plot.x_range()
        half = (hi - lo) / 2
        # half a screen of margin each side for panning; one min/max pair per two pixels is
        # as fine as stacked areas can show, and keeps the read to ~2 rows per pixel and key
        self._in_thread(
            "breakdown",
            self._on_breakdown,
            partial(
                self._history().breakdown,
                kind,
                lo - half,
                hi + half,
                self.plot.buckets(),
                names=self.names,
                net_worth=self.net_worth,
            ),
        )

    def _on_breakdown(self, breakdown: Breakdown) -> None:
        if breakdown.kind != self._kind():
            return
        self.breakdown = breakdown
        if self.plot is not None:
            self.plot.set_breakdown(breakdown, self.stacked_box.isChecked())
        self.breakdown_loaded.emit()

    # --- crosshair ----------------------------------------------------------------------
    def _describe(self, t: float) -> tuple[float, float, str] | None:
        b = self.breakdown
        if b is not None and self._kind() != "total" and len(b.times):
            i = b.nearest(t)
            assert i is not None
            lines = [stamp(float(b.times[i])),
                     f"Total {money_text(Decimal(b.totals_exact[i]), self.currency)}"]  # fmt: skip
            lines += [f"{label} {money_text(v, self.currency)}" for label, v in b.exact_at(i)]
            return float(b.times[i]), float(b.totals[i]), "\n".join(lines)
        nw = self.net_worth
        if nw is None or not len(nw):
            return None
        r = self.reconstruction
        if r is not None and len(r) and t < float(nw.times[0]) - 43_200:
            return self._describe_reconstructed(r, t)
        i = nw.nearest(t)
        assert i is not None
        text = f"{stamp(float(nw.times[i]))}\nTotal {money_text(nw.total_at(i), self.currency)}"
        return float(nw.times[i]), float(nw.values[i]), text

    def _describe_reconstructed(self, r: Reconstruction, t: float) -> tuple[float, float, str]:
        import bisect

        i = min(max(bisect.bisect_left(r.times, t), 0), len(r.times) - 1)
        if i > 0 and t - r.times[i - 1] < r.times[i] - t:
            i -= 1
        lines = [
            stamp(float(r.times[i])),
            f"Reconstructed {money_text(r.forward[i], r.currency)}",
        ]
        if r.back:
            lines.append(f"Walked back from the first snapshot {money_text(r.back[i], r.currency)}")
        return float(r.times[i]), float(r.forward[i]), "\n".join(lines)

    def _update_readout(self, text: str) -> None:
        """Time and total in the tool row; the per-series values stay in the chart's label."""
        if text:
            self.readout.setText(" · ".join(text.splitlines()[:2]))

    # --- what changed -------------------------------------------------------------------
    def _sync_dates_to_view(self) -> None:
        if self.plot is None or self.net_worth is None or not len(self.net_worth):
            return
        lo, hi = self.plot.x_range()
        first, last = int(self.net_worth.times[0]), int(self.net_worth.times[-1])
        start = max(int(lo), first)
        end = max(min(int(hi), max(last, int(self._clock()))), start)
        self._compare = (start, end)
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            edit.blockSignals(True)
            edit.setDateTime(QDateTime.fromSecsSinceEpoch(value))
            edit.blockSignals(False)

    def _on_dates_edited(self) -> None:
        self._pinned = True
        self._compare = (
            int(self.from_edit.dateTime().toSecsSinceEpoch()),
            int(self.to_edit.dateTime().toSecsSinceEpoch()),
        )
        self._changes_timer.start()

    def _load_changes(self) -> None:
        self._changes_timer.stop()
        if self._compare is None or self._source is None:
            return
        start, end = self._compare
        if start >= end:
            self.change_summary.setText("Pick a start before the end.")
            self.changes_model.set_changes([], self.currency, self.names)
            return
        compare = self._changes or self._history().what_changed
        self._in_thread("changes", self._on_changes, partial(compare, start, end))

    def _on_changes(self, comparison: Comparison) -> None:
        self.comparison = comparison
        currency = comparison.currency or self.currency
        self.changes_model.set_changes(comparison.rows, currency, self.names)
        if not self._changes_sized and comparison.rows:
            self._changes_sized = True
            fit_columns(self.changes_table, FIT_ROWS)
        if comparison.before_time is None or comparison.after_time is None:
            self.change_summary.setText(
                "Fewer than two snapshots in this range: nothing to compare."
            )
        else:
            self.change_summary.setText(
                f"{stamp(comparison.before_time)} → {stamp(comparison.after_time)}:  "
                f"{money_text(comparison.change, currency, plus=True)}  =  price effect "
                f"{money_text(comparison.price_effect, currency, plus=True)}  +  quantity effect "
                f"{money_text(comparison.quantity_effect, currency, plus=True)}"
            )
        self.changes_loaded.emit()

    # --- Qt events ----------------------------------------------------------------------
    def hideEvent(self, event: QHideEvent) -> None:
        """A hidden page starts no reads: pending range and date timers stop here."""
        pending = self._changes_timer.isActive()
        self._changes_timer.stop()
        if self.plot is not None:
            pending = self.plot.stop_timers() or pending
        if pending and self._source is not None:
            self._dirty = True  # read again when shown
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._split_set and self.splitter.height() > 0:
            # Size hints would give the table most of the height (the chart is built later);
            # start at 3:2 for the chart, the person's own dragging is kept afterwards.
            self._split_set = True
            total = sum(self.splitter.sizes()) or self.splitter.height()
            self.splitter.setSizes([total * 3 // 5, total - total * 3 // 5])
        if self._dirty:
            self.reload()  # the read starts at once, in a worker thread
        if self.plot is None:
            # Built in the next turn of the loop: the tab switch paints the page first, and
            # building pyqtgraph's widgets (~15 ms) is not added to that same stall.
            QTimer.singleShot(0, self, self._ensure_plot)
