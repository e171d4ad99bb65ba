"""File → Exchange accounts…: add, see and remove exchange accounts (read-only API keys).

The key is checked with the exchange before anything is kept (a key that may trade or withdraw
is refused, with the reason); it then goes to the OS keyring only. Opened with ``open()``; the
check runs on the app's loop and is cancelled when the dialog closes.

"Import history" brings every account's trades, deposits and withdrawals into the ledger
(:class:`~app.services.exchange_history.ExchangeHistoryService`) on the app's loop, with its
progress shown here; the window stays usable. Closing the dialog stops the import: the pages
already read are kept and the next import continues from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ChainfolioError
from app.domain.exchanges import EXCHANGES, NEEDS_PASSPHRASE, CoinBalance, Credentials
from app.domain.text import clean_text
from app.services.exchange_history import (
    ExchangeHistoryService,
    ImportProgress,
    ImportReport,
    summary,
)
from app.services.exchanges import AccountView, ExchangeService
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class ExchangesDialog(QDialog):
    changed = Signal()  # an account was added or removed: the next refresh reads the new set

    imported = Signal()  # an import finished: the ledger may have new entries

    def __init__(
        self,
        service: ExchangeService,
        tasks: TaskRunner,
        parent: QWidget | None = None,
        history: ExchangeHistoryService | None = None,
    ) -> None:
        super().__init__(parent)
        self.service, self.tasks, self.history = service, tasks, history
        self._running: list[asyncio.Task[Any]] = []
        self.finished.connect(self._stop)
        self.setWindowTitle("Exchange accounts")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        intro = _plain(
            "Chainfolio reads balances with a read-only API key. Create one on the exchange "
            "with reading rights only: a key that may trade or withdraw is refused. The key "
            "and secret are kept in the system keyring, nowhere else."
        )
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Exchange", "Key"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Exchange accounts")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove)
        self.table.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.table.selectedItems()))
        )
        self.import_button = QPushButton("Import history")
        self.import_button.setToolTip(
            "Bring every account's trades, deposits and withdrawals into the ledger (only "
            "what is new). Deposits and withdrawals to your own wallets become transfers."
        )
        self.import_button.setEnabled(False)
        self.import_button.setVisible(history is not None)
        self.import_button.clicked.connect(self._import)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the exchanges do not say how much is left
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Import progress")
        self.progress.hide()
        self._importing = False

        self.exchange = QComboBox()
        for key, name in EXCHANGES.items():
            self.exchange.addItem(name, key)
        self.exchange.setAccessibleName("Exchange")
        self.name = QLineEdit()
        self.name.setPlaceholderText("binance")
        self.name.setAccessibleName("Account name")
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("API key")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("API secret")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("API passphrase")
        self.form = QFormLayout()
        self.form.addRow("Exchange", self.exchange)
        self.form.addRow("Name", self.name)
        self.form.addRow("API key", self.key)
        self.form.addRow("API secret", self.secret)
        self.form.addRow("Passphrase", self.passphrase)
        self.add_button = QPushButton("Check and add")
        self.add_button.clicked.connect(self._add)
        self.status = _plain()
        self.status.setObjectName("exchangesStatus")
        self.exchange.currentIndexChanged.connect(self._exchange_chosen)
        self._exchange_chosen()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.progress, 1)
        row.addStretch(1)
        row.addWidget(self.remove_button)
        add_row = QHBoxLayout()
        add_row.addStretch(1)
        add_row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(row)
        box = QGroupBox("Add an account")
        inner = QVBoxLayout(box)
        inner.addLayout(self.form)
        inner.addLayout(add_row)
        layout.addWidget(box)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.reload()

    # --- table ------------------------------------------------------------------------------
    def reload(self) -> None:
        self._track(
            self.tasks.run(
                asyncio.to_thread(self.service.accounts),
                on_success=self._show,
                on_failure=self._failed,
                key="exchanges-list",
            )
        )

    def _show(self, views: list[AccountView]) -> None:
        self.import_button.setEnabled(bool(views) and not self._importing)
        self.table.setRowCount(len(views))
        for i, v in enumerate(views):
            key = "In the keyring" if v.has_key else "Missing from the keyring: add it again"
            for col, text in enumerate((v.account.name, EXCHANGES[v.account.exchange], key)):
                item = QTableWidgetItem(clean_text(text, 60))
                item.setData(Qt.ItemDataRole.UserRole, v.account.name)
                self.table.setItem(i, col, item)

    # --- add / remove -----------------------------------------------------------------------
    def _exchange_chosen(self, _index: int = 0) -> None:
        key = str(self.exchange.currentData())
        needs = key in NEEDS_PASSPHRASE
        self.passphrase.setVisible(needs)
        label = self.form.labelForField(self.passphrase)
        if label is not None:
            label.setVisible(needs)
        self.name.setPlaceholderText(key)

    def _busy(self, busy: bool, text: str = "") -> None:
        for w in (self.add_button, self.remove_button, self.exchange, self.name, self.key):
            w.setEnabled(not busy)
        self.secret.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)
        if not busy:
            self.remove_button.setEnabled(bool(self.table.selectedItems()))
        paint_text(self.status, None)
        self.status.setText(text)

    def _add(self) -> None:
        exchange = str(self.exchange.currentData())
        credentials = Credentials(
            self.key.text().strip(),
            self.secret.text().strip(),
            self.passphrase.text() or None if exchange in NEEDS_PASSPHRASE else None,
        )
        name = self.name.text().strip() or exchange
        self._busy(True, f"Checking the key with {EXCHANGES[exchange]}…")
        self._track(
            self.tasks.run(
                self.service.add(name, exchange, credentials),
                on_success=self._added,
                on_failure=self._failed,
                key="exchanges-add",
            )
        )

    def _added(self, outcome: tuple[Any, list[CoinBalance], str | None]) -> None:
        account, holdings, warning = outcome
        self.key.clear()
        self.secret.clear()
        self.passphrase.clear()
        self.name.clear()
        coins = len({b.code for b in holdings})
        self._busy(
            False,
            f"Added {account.title}: {coins} coin{'s' if coins != 1 else ''} held now. The next "
            "refresh reads it." + (f" {warning}" if warning else ""),
        )
        self.changed.emit()
        self.reload()

    def _remove(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        name = str(items[0].data(Qt.ItemDataRole.UserRole))
        self._busy(True, f"Removing {name}…")
        self._track(
            self.tasks.run(
                asyncio.to_thread(self.service.remove, name),
                on_success=lambda _gone: self._removed(name),
                on_failure=self._failed,
                key="exchanges-remove",
            )
        )

    def _removed(self, name: str) -> None:
        self._busy(False, f"Removed {name} and its key.")
        self.changed.emit()
        self.reload()

    # --- history import ----------------------------------------------------------------------
    def _import(self) -> None:
        history = self.history
        if history is None or self._importing:
            return
        self._importing = True
        self.import_button.setEnabled(False)
        self.progress.show()
        paint_text(self.status, None)
        self.status.setText("Importing the accounts' history…")
        history.subscribe(self._progress)
        self._track(
            self.tasks.run(
                history.import_history(),
                on_success=self._import_done,
                on_failure=self._import_failed,
                key="exchanges-import",
            )
        )

    def _progress(self, p: ImportProgress) -> None:
        self.status.setText(
            f"Importing {clean_text(p.title, 60)} ({p.accounts_done + 1} of "
            f"{p.accounts_total}): {p.records:,} new record{'s' if p.records != 1 else ''}…"
        )

    def _import_ended(self) -> None:
        if self.history is not None:
            self.history.unsubscribe(self._progress)
        self._importing = False
        self.progress.hide()
        self.import_button.setEnabled(self.table.rowCount() > 0)

    def _import_done(self, report: ImportReport) -> None:
        self._import_ended()
        paint_text(self.status, Role.ERROR if report.failed else None)
        self.status.setText(" ".join(summary(report)) or "No exchange accounts to import.")
        self.imported.emit()

    def _import_failed(self, exc: BaseException) -> None:
        self._import_ended()
        self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        paint_text(self.status, Role.ERROR)
        if isinstance(exc, ChainfolioError):
            self.status.setText(str(exc))
        else:
            self.status.setText("That did not work; the log has the details.")

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._running = [t for t in self._running if not t.done()] + [task]

    def _stop(self, _result: int = 0) -> None:
        if self._importing and self.history is not None:
            self.history.unsubscribe(self._progress)
        for task in self._running:
            task.cancel()
        self._running = []


def open_exchanges_dialog(
    parent: QWidget,
    service: ExchangeService,
    tasks: TaskRunner,
    on_change: Callable[[], None] | None = None,
    history: ExchangeHistoryService | None = None,
) -> ExchangesDialog:
    dialog = ExchangesDialog(service, tasks, parent, history)
    if on_change is not None:
        dialog.changed.connect(on_change)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
