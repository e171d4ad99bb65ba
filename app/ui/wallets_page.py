"""The wallets page: an empty state for a new user, else the table of watched wallets."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.domain.model import Wallet
from app.ui.empty_view import ExplainingTableView
from app.ui.icons import app_icon
from app.ui.models.wallets_model import WalletColumn, WalletsModel


class EmptyState(QWidget):
    add_requested = Signal()
    paste_requested = Signal()  # several at once: the first-run page on the Portfolio tab

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Watch your first wallet")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        text = QLabel(
            "Add the public address of a wallet you own — an Ethereum or L2 address (0x…), "
            "a Solana address, or an ENS name. Chainfolio reads balances privately from your "
            "machine; it never asks for a private key or seed phrase."
        )
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setMaximumWidth(460)
        button = QPushButton("Add wallet…")
        button.setAccessibleName("Add a wallet")
        button.setDefault(True)
        button.clicked.connect(self.add_requested)
        button.setObjectName("emptyAddButton")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        paste = QPushButton("Paste several addresses…")
        paste.setAccessibleName("Paste several addresses at once")
        paste.setObjectName("pasteAddresses")
        paste.clicked.connect(self.paste_requested)
        row.addWidget(paste)
        row.addStretch(1)
        text_row = QHBoxLayout()
        text_row.addStretch(1)
        text_row.addWidget(text)
        text_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(icon)
        layout.addWidget(title)
        layout.addLayout(text_row)
        layout.addSpacing(12)
        layout.addLayout(row)
        layout.addStretch(3)


class WalletsPage(QStackedWidget):
    """Switches between the empty state and the table as wallets come and go."""

    add_requested = Signal()
    paste_requested = Signal()
    edit_requested = Signal(object)
    selection_changed = Signal()

    def __init__(self, model: WalletsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)

        self.empty = EmptyState()
        self.empty.add_requested.connect(self.add_requested)
        self.empty.paste_requested.connect(self.paste_requested)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter wallets")
        self.filter.setAccessibleName("Filter wallets by name, address or group")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter.textChanged.connect(self._explain_empty)

        # Empty only when the filter hides every wallet (no wallets at all: the empty state).
        self.table = ExplainingTableView()
        self.table.setAccessibleName("Watched wallets")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(WalletColumn.ADDED, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(WalletColumn.ADDRESS, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(
            lambda index: self.edit_requested.emit(self._wallet_at_proxy_row(index.row()))
        )
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.selection_changed.emit()
        )

        list_page = QWidget()
        layout = QVBoxLayout(list_page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.filter)
        layout.addWidget(self.table)

        self.addWidget(self.empty)
        self.addWidget(list_page)
        model.modelReset.connect(self._sync_page)
        model.rowsInserted.connect(self._sync_page)
        model.rowsRemoved.connect(self._sync_page)
        self._sync_page()

    def _sync_page(self) -> None:
        self.setCurrentIndex(1 if self.model.rowCount() else 0)
        self._explain_empty()

    def _explain_empty(self) -> None:
        n = self.model.rowCount()
        text = self.filter.text().strip()
        self.table.set_placeholder(
            f"No wallet matches {text!r}. Clear the filter to see all {n} "
            f"wallet{'s' if n != 1 else ''}."
            if text
            else ""
        )

    def _wallet_at_proxy_row(self, row: int) -> Wallet:
        source = self.proxy.mapToSource(self.proxy.index(row, 0))
        return self.model.wallet_at(source.row())

    def selected_wallets(self) -> list[Wallet]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self._wallet_at_proxy_row(r) for r in sorted(rows)]
