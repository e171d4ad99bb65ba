"""Holdings of one snapshot as a table. Numbers stay Decimal; floats never appear here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from app.domain.balances import SourceState, to_decimal_amount
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.ui.models.base import Index, ListTableModel

SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


class HoldingColumn(enum.IntEnum):
    ASSET = 0
    CHAIN = 1
    WALLET = 2
    AMOUNT = 3
    PRICE = 4
    VALUE = 5
    SHARE = 6


HEADERS = {
    HoldingColumn.ASSET: "Asset",
    HoldingColumn.CHAIN: "Chain",
    HoldingColumn.WALLET: "Wallet",
    HoldingColumn.AMOUNT: "Amount",
    HoldingColumn.PRICE: "Price",
    HoldingColumn.VALUE: "Value",
    HoldingColumn.SHARE: "Share",
}
NUMERIC = {HoldingColumn.AMOUNT, HoldingColumn.PRICE, HoldingColumn.VALUE, HoldingColumn.SHARE}


def format_amount(value: Decimal, places: int = 6) -> str:
    """Group thousands, trim trailing zeros, keep small amounts readable."""
    if value == 0:
        return "0"
    if abs(value) < Decimal("0.000001"):
        return f"{value:.2E}"
    text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
    return text


def format_money(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return (
        f"{value:,.2f} {currency}" if abs(value) >= 1 or value == 0 else f"{value:.6g} {currency}"
    )


@dataclass(frozen=True, slots=True)
class HoldingRow:
    holding: SnapshotHolding
    chain_name: str
    wallet_name: str
    amount: Decimal
    share: Decimal | None


class HoldingsModel(ListTableModel[HoldingRow]):
    HEADERS = tuple(HEADERS[c] for c in HoldingColumn)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = "USD"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = HoldingColumn(index.column())
        h = row.holding
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            if column == HoldingColumn.AMOUNT:
                return float(row.amount)  # sort keys only; shown values stay exact
            if column == HoldingColumn.PRICE:
                return float(h.price) if h.price is not None else -1.0
            if column == HoldingColumn.VALUE:
                return float(h.value) if h.value is not None else -1.0
            if column == HoldingColumn.SHARE:
                return float(row.share) if row.share is not None else -1.0
            return self._display(row, column).lower()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if h.state is not SourceState.OK:
                return "Could not be read in the last refresh: showing the last known amount."
            if column == HoldingColumn.ASSET:
                return h.asset_id
            if column == HoldingColumn.WALLET:
                return h.wallet
            if column == HoldingColumn.AMOUNT:
                return format(row.amount, "f")
        if role == Qt.ItemDataRole.ForegroundRole and h.state is not SourceState.OK:
            from PySide6.QtGui import QColor

            return QColor("#b45309")
        return None

    def _display(self, row: HoldingRow, column: HoldingColumn) -> str:
        h = row.holding
        if column == HoldingColumn.ASSET:
            return h.symbol + ("  ⚠ stale" if h.state is not SourceState.OK else "")
        if column == HoldingColumn.CHAIN:
            return row.chain_name
        if column == HoldingColumn.WALLET:
            return row.wallet_name
        if column == HoldingColumn.AMOUNT:
            return format_amount(row.amount)
        if column == HoldingColumn.PRICE:
            return format_money(h.price, self.currency)
        if column == HoldingColumn.VALUE:
            return format_money(h.value, self.currency)
        return "—" if row.share is None else f"{row.share:.1f} %"

    def set_snapshot(
        self, snapshot: Snapshot | None, chain_names: dict[str, str], wallet_names: dict[str, str]
    ) -> None:
        self.beginResetModel()
        self._rows = []
        if snapshot is not None:
            self.currency = snapshot.currency
            total = snapshot.total
            for h in snapshot.holdings:
                address = h.wallet.rsplit(":", 1)[-1]
                share = (h.value / total * 100) if h.value is not None and total else None
                self._rows.append(
                    HoldingRow(
                        holding=h,
                        chain_name=chain_names.get(h.chain, h.chain),
                        wallet_name=wallet_names.get(address, address[:6] + "…" + address[-4:]),
                        amount=to_decimal_amount(h.raw, h.decimals),
                        share=share,
                    )
                )
        self.endResetModel()
