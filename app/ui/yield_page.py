"""The Yield tab: every interest-bearing position with the rate its protocol quotes now, the
yield it actually realised over its own last 30 days of snapshots, and the portfolio's
value-weighted APY.

The report reads the snapshot history, so it is built off the GUI thread (``report`` is
``YieldService.report``); a newer snapshot cancels the report of an older one. Symbols are
hostile text: plain text everywhere, escaped in tooltips.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import report as report_error
from app.domain.positions import position_kind
from app.domain.rates import RateSide, percent
from app.domain.snapshot import Snapshot
from app.services.yields import YieldReport, YieldRow
from app.ui.models.base import Index, ListTableModel
from app.ui.models.holdings_data import KIND_NAMES, protocol_label, short_address
from app.ui.models.holdings_format import format_number, plain_money
from app.ui.models.risk_model import rich_tooltip
from app.ui.report_table import empty_or, report_table
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)
Report = Callable[[Snapshot | None], YieldReport]
SORT_ROLE = Qt.ItemDataRole.UserRole

EXPLANATION = (
    "APY now is the rate each protocol quotes at the last refresh, compounding included; for a "
    "debt it is what the loan costs. Realised is what the position actually grew by over its own "
    "snapshots of the last 30 days (deposits and withdrawals left out), once there is a day of "
    "history."
)
EMPTY = (
    "No interest-bearing positions.\n\nSupplies and loans on Aave, Spark, Compound and Morpho, "
    "Sky savings (sDAI, sUSDS) and Pendle positions show here with their APY after a refresh."
)


class YieldColumn(enum.IntEnum):
    ASSET = 0
    POSITION = 1
    CHAIN = 2
    WALLET = 3
    VALUE = 4
    APY = 5
    REALISED = 6
    YEARLY = 7


HEADERS = {
    YieldColumn.ASSET: "Asset",
    YieldColumn.POSITION: "Position",
    YieldColumn.CHAIN: "Chain",
    YieldColumn.WALLET: "Wallet",
    YieldColumn.VALUE: "Value",
    YieldColumn.APY: "APY now",
    YieldColumn.REALISED: "Realised (30 d)",
    YieldColumn.YEARLY: "A year at this rate",
}
NUMERIC = {YieldColumn.VALUE, YieldColumn.APY, YieldColumn.REALISED, YieldColumn.YEARLY}


def summary_text(report: YieldReport) -> str:
    """One line for the portfolio: weighted APY, what earns, what is owed, yearly income."""
    p = report.portfolio
    if not report.rows:
        return ""
    c = report.currency
    parts = [
        f"Portfolio yield: {percent(p.apy) or 'not meaningful (debts exceed earning positions)'}"
        + (" a year" if p.apy is not None else ""),
        f"earning {plain_money(p.earning_value, c)}",
    ]
    if p.owing_value:
        parts.append(f"owing {plain_money(p.owing_value, c)}")
    parts.append(f"about {plain_money(p.yearly, c, plus=True)} a year at today's rates")
    return ", ".join(parts) + "."


class YieldModel(ListTableModel[YieldRow]):
    HEADERS = tuple(HEADERS[c] for c in YieldColumn)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = "USD"
        self._chains: Mapping[str, str] = {}
        self._wallets: Mapping[str, str] = {}

    def set_report(
        self, report: YieldReport, chain_names: Mapping[str, str], wallet_names: Mapping[str, str]
    ) -> None:
        self.beginResetModel()
        self.currency = report.currency
        self._chains, self._wallets = dict(chain_names), dict(wallet_names)
        self._rows = list(report.rows)
        self.endResetModel()

    def _position(self, row: YieldRow) -> str:
        kind = position_kind(row.position)
        label = KIND_NAMES.get(kind, "") if kind is not None else ""
        return (
            f"{protocol_label(row.protocol)} · {label}" if label else protocol_label(row.protocol)
        )

    def _wallet(self, row: YieldRow) -> str:
        address = row.wallet.rsplit(":", 1)[-1]
        return self._wallets.get(address) or short_address(address)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = YieldColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return rich_tooltip(self._tooltip(row))
        return None

    def _text(self, row: YieldRow, column: YieldColumn) -> str:
        match column:
            case YieldColumn.ASSET:
                return row.symbol
            case YieldColumn.POSITION:
                return self._position(row)
            case YieldColumn.CHAIN:
                return self._chains.get(row.chain, row.chain)
            case YieldColumn.WALLET:
                return self._wallet(row)
            case YieldColumn.VALUE:
                return "—" if row.value is None else f"{format_number(row.value)} {self.currency}"
            case YieldColumn.APY:
                sign = "−" if row.rate.side is RateSide.BORROW else ""
                return sign + percent(row.rate.apy)
            case YieldColumn.REALISED:
                sign = "−" if row.rate.side is RateSide.BORROW and row.realised else ""
                return sign + percent(row.realised) if row.realised is not None else "—"
            case YieldColumn.YEARLY:
                y = row.yearly
                return "—" if y is None else f"{format_number(y, plus=True)} {self.currency}"

    @staticmethod
    def _sort_key(row: YieldRow, column: YieldColumn) -> Any:
        match column:
            case YieldColumn.VALUE:
                return float(row.value or 0)
            case YieldColumn.APY:
                return float(-row.rate.apy if row.rate.side is RateSide.BORROW else row.rate.apy)
            case YieldColumn.REALISED:
                return float(row.realised) if row.realised is not None else float("-inf")
            case YieldColumn.YEARLY:
                return float(row.yearly or 0)
        return None

    def _tooltip(self, row: YieldRow) -> str:
        lines = [f"{row.symbol} — {self._position(row)}"]
        if row.rate.apr is not None:
            lines.append(f"Quoted rate (APR): {percent(row.rate.apr, 4)}")
        lines.append(f"APY with compounding: {percent(row.rate.apy, 4)}")
        if row.realised is None:
            lines.append("Realised: needs a day of snapshots without deposits or withdrawals")
        else:
            lines.append(f"Realised over its recent snapshots: {percent(row.realised, 4)}")
        return "\n".join(lines)


class YieldPage(QWidget):
    def __init__(
        self, tasks: TaskRunner | None = None, report: Report | None = None,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self._tasks = tasks
        self._report = report
        self.model = YieldModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)

        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setBold(True)
        self.summary.setFont(font)
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setWordWrap(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.hide()

        self.table = report_table(self.proxy, YieldColumn.VALUE, "Interest-bearing positions")
        self.empty, self.stack = empty_or(self.table, EMPTY)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.summary)
        layout.addWidget(self.explanation)
        layout.addWidget(self.status)
        layout.addWidget(self.stack, 1)

    @property
    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def show_snapshot(
        self,
        snapshot: Snapshot | None,
        chain_names: Mapping[str, str],
        wallet_names: Mapping[str, str],
    ) -> None:
        """Build the report of ``snapshot`` in a worker thread, then show it."""
        if snapshot is None or not snapshot.rates or self._tasks is None or self._report is None:
            from app.services.yields import YieldService

            self.show_report(YieldService().report(snapshot), chain_names, wallet_names)
            return
        self._set_status("Reading the positions' history…")
        build = self._report
        self._tasks.run(
            asyncio.to_thread(build, snapshot),
            lambda r: self.show_report(r, chain_names, wallet_names),
            lambda exc: self._set_status(report_error(exc, "Reading the yield history", log)),
            key="yield-page",
        )

    def show_report(
        self, report: YieldReport, chain_names: Mapping[str, str], wallet_names: Mapping[str, str]
    ) -> None:
        self.model.set_report(report, chain_names, wallet_names)
        self.summary.setText(summary_text(report))
        self.summary.setVisible(bool(report.rows))
        self.stack.setCurrentWidget(self.table if report.rows else self.empty)
        self._set_status("")

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
