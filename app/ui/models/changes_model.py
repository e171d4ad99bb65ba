""" "What changed" between two snapshots as a table: per asset (and position), the change split
into price effect and quantity effect. Values stay Decimal; floats are sort keys only."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from app.domain.changes import AssetChange
from app.domain.positions import position_kind, position_protocol
from app.domain.text import clean_text
from app.ui.models.base import Index, ListTableModel
from app.ui.models.holdings_data import WALLET_GROUP, kind_label, protocol_label
from app.ui.models.holdings_format import amount_text, exact, money_text
from app.ui.theme import colours

SORT_ROLE = Qt.ItemDataRole.UserRole


class ChangeColumn(enum.IntEnum):
    ASSET = 0
    CHAIN = 1
    POSITION = 2
    BEFORE = 3
    AFTER = 4
    PRICE_EFFECT = 5
    QUANTITY_EFFECT = 6
    CHANGE = 7


HEADERS = (
    "Asset", "Chain", "Position", "Value before", "Value after", "Price effect",
    "Quantity effect", "Change",
)  # fmt: skip
SIGNED = {ChangeColumn.PRICE_EFFECT, ChangeColumn.QUANTITY_EFFECT, ChangeColumn.CHANGE}
NUMERIC = SIGNED | {ChangeColumn.BEFORE, ChangeColumn.AFTER}


def describe_position(key: str) -> str:
    """The position as the Portfolio tab names it: "Aave v3 · Supplied", "Wallet"."""
    if not key:
        return WALLET_GROUP
    if position_kind(key) is None:
        return clean_text(key, 40)
    return f"{clean_text(protocol_label(position_protocol(key)), 30)} · {kind_label(key)}"


class WhatChangedModel(ListTableModel[AssetChange]):
    HEADERS = HEADERS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.currency = "USD"
        self.chain_names: dict[str, str] = {}

    def set_changes(
        self, rows: list[AssetChange], currency: str, chain_names: dict[str, str]
    ) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.currency = currency
        self.chain_names = dict(chain_names)
        self.endResetModel()

    def _number(self, row: AssetChange, column: ChangeColumn) -> Decimal:
        return {
            ChangeColumn.BEFORE: row.value_before,
            ChangeColumn.AFTER: row.value_after,
            ChangeColumn.PRICE_EFFECT: row.price_effect,
            ChangeColumn.QUANTITY_EFFECT: row.quantity_effect,
            ChangeColumn.CHANGE: row.change,
        }[column]

    def _display(self, row: AssetChange, column: ChangeColumn) -> str:
        if column == ChangeColumn.ASSET:
            return clean_text(row.symbol, 32)
        if column == ChangeColumn.CHAIN:
            return clean_text(self.chain_names.get(row.chain, row.chain), 40)
        if column == ChangeColumn.POSITION:
            return describe_position(row.position)
        # rounded for display only, straight from the Decimal; signed where it is a change
        return money_text(self._number(row, column), self.currency, plus=column in SIGNED)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = ChangeColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == SORT_ROLE:
            if column in NUMERIC:
                return float(self._number(row, column))
            return self._display(row, column).lower()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column in SIGNED:
            value = self._number(row, column)
            return colours().gain if value > 0 else colours().loss if value < 0 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == ChangeColumn.ASSET:
                return row.asset_id
            if column in (ChangeColumn.BEFORE, ChangeColumn.AFTER):
                amount = row.amount_before if column == ChangeColumn.BEFORE else row.amount_after
                return f"{amount_text(amount, 18)} {clean_text(row.symbol, 32)}"
            if column in NUMERIC:
                return f"{exact(self._number(row, column))} {self.currency}"  # unrounded
        return None
