"""Table model of the watched wallets. Rows are immutable Wallet objects."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from app.domain.model import Wallet
from app.ui.models.base import Index, ListTableModel


class WalletColumn(enum.IntEnum):
    NAME = 0
    ADDRESS = 1
    NETWORK = 2
    GROUP = 3
    ADDED = 4


HEADERS = {
    WalletColumn.NAME: "Name",
    WalletColumn.ADDRESS: "Address",
    WalletColumn.NETWORK: "Type",
    WalletColumn.GROUP: "Group",
    WalletColumn.ADDED: "Added",
}
FAMILY_NAMES = {"evm": "EVM (Ethereum & L2s)", "solana": "Solana"}
WALLET_ROLE = Qt.ItemDataRole.UserRole + 1


class WalletsModel(ListTableModel[Wallet]):
    HEADERS = tuple(HEADERS[c] for c in WalletColumn)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        wallet = self.valid_row(index)
        if wallet is None:
            return None
        column = WalletColumn(index.column())
        if role == WALLET_ROLE:
            return wallet
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(wallet, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == WalletColumn.ADDRESS:
                return wallet.address
            if column == WalletColumn.NAME and wallet.ens_name:
                return wallet.ens_name
        if role == Qt.ItemDataRole.UserRole:  # sort key
            if column == WalletColumn.ADDED:
                return wallet.created_at.timestamp()
            return self._display(wallet, column).lower()
        if role == Qt.ItemDataRole.FontRole and column == WalletColumn.ADDRESS:
            from PySide6.QtGui import QFontDatabase

            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        return None

    @staticmethod
    def _display(wallet: Wallet, column: WalletColumn) -> str:
        if column == WalletColumn.NAME:
            return wallet.label or wallet.ens_name or "—"
        if column == WalletColumn.ADDRESS:
            return wallet.address
        if column == WalletColumn.NETWORK:
            return FAMILY_NAMES.get(wallet.family.value, wallet.family.value)
        if column == WalletColumn.GROUP:
            return wallet.group
        return wallet.created_at.astimezone().strftime("%Y-%m-%d")

    # --- updates --------------------------------------------------------------------------
    def set_wallets(self, wallets: list[Wallet]) -> None:
        self.beginResetModel()
        self._rows = list(wallets)
        self.endResetModel()

    def add_wallet(self, wallet: Wallet) -> None:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(wallet)
        self.endInsertRows()

    def update_wallet(self, wallet: Wallet) -> None:
        for row, existing in enumerate(self._rows):
            if existing.id == wallet.id:
                self._rows[row] = wallet
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(WalletColumn) - 1))
                return

    def remove_wallet(self, wallet: Wallet) -> None:
        for row, existing in enumerate(self._rows):
            if existing.id == wallet.id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
                return

    def wallet_at(self, row: int) -> Wallet:
        return self.row_at(row)

    def wallets(self) -> list[Wallet]:
        return list(self._rows)
