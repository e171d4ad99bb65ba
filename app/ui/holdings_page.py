"""The portfolio page: a summary header over the holdings table of the latest snapshot."""

from __future__ import annotations

import time
from decimal import Decimal

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.snapshot import Snapshot
from app.ui.models.holdings_model import (
    ROW_ROLE,
    SORT_ROLE,
    HoldingColumn,
    HoldingsModel,
    format_money,
)

SMALL_VALUE = Decimal(1)


def describe_age(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min ago"
    if seconds < 36 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


class HoldingsFilter(QSortFilterProxyModel):
    """Text filter over asset, chain and wallet, plus "hide small balances"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hide_small = True
        self.text = ""
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self.text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_hide_small(self, hide: bool) -> None:
        self.beginFilterChange()
        self.hide_small = hide
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: object) -> bool:
        model = self.sourceModel()
        row = model.data(model.index(source_row, 0), ROW_ROLE)
        if row is None:
            return False
        value = row.holding.value
        if self.hide_small and value is not None and value < SMALL_VALUE:
            return False
        if self.text:
            haystack = f"{row.holding.symbol} {row.chain_name} {row.wallet_name}".lower()
            return self.text in haystack
        return True


class HoldingsPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HoldingsModel(self)
        self.proxy = HoldingsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.snapshot: Snapshot | None = None

        self.total_label = QLabel("—")
        self.total_label.setObjectName("totalValue")
        font = self.total_label.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.total_label.setFont(font)
        self.total_label.setTextFormat(Qt.TextFormat.PlainText)
        self.updated_label = QLabel("No refresh yet: press Refresh (Ctrl+R).")
        self.updated_label.setTextFormat(Qt.TextFormat.PlainText)
        self.stale_label = QLabel()
        self.stale_label.setTextFormat(Qt.TextFormat.PlainText)
        self.stale_label.setStyleSheet("color: #b45309;")
        self.stale_label.setWordWrap(True)
        self.stale_label.hide()

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by asset, chain or wallet")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.hide_small = QCheckBox("Hide small balances (< 1)")
        self.hide_small.setChecked(True)
        self.hide_small.toggled.connect(self.proxy.set_hide_small)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HoldingColumn.VALUE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        summary = QVBoxLayout()
        summary.addWidget(self.total_label)
        summary.addWidget(self.updated_label)
        summary.addWidget(self.stale_label)
        tools = QHBoxLayout()
        tools.addWidget(self.filter, 1)
        tools.addWidget(self.hide_small)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(summary)
        layout.addLayout(tools)
        layout.addWidget(self.table)

    def show_snapshot(
        self,
        snapshot: Snapshot | None,
        chain_names: dict[str, str],
        wallet_names: dict[str, str],
        now: float | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.model.set_snapshot(snapshot, chain_names, wallet_names)
        if snapshot is None:
            self.total_label.setText("—")
            self.updated_label.setText("No refresh yet: press Refresh (Ctrl+R).")
            self.stale_label.hide()
            return
        self.total_label.setText(format_money(snapshot.total, snapshot.currency))
        age = (now if now is not None else time.time()) - snapshot.taken_at
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(snapshot.taken_at))
        self.updated_label.setText(f"Last refresh {stamp} ({describe_age(age)})")
        stale = [s for s in snapshot.sources if s.state.value != "ok"]
        if stale:
            names = ", ".join(chain_names.get(s.source, s.source) for s in stale)
            self.stale_label.setText(
                f"⚠ {names} could not be read; {format_money(snapshot.stale_total, snapshot.currency)}"
                " of the total is from earlier data."
            )
            self.stale_label.show()
        else:
            self.stale_label.hide()
