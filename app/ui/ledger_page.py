"""The Transactions tab: the ledger's accounts and transactions, filtered, sorted, edited.

Everything the ledger service does runs in a worker thread (``asyncio.to_thread`` through the
window's :class:`~app.ui.tasks.TaskRunner`, one key per kind of work: the newest request wins).
The transactions are read once per change and turned into display rows there; filtering and
sorting (by exact values) are pure functions over those rows, also run in a worker, so 50,000
transactions never stall the window. A hidden page reads again only when it is shown.

Keyboard: Insert or Ctrl+Shift+N adds a transaction, Enter or F2 edits the selected one, Delete
deletes the selected rows (after asking), Ctrl+C copies them with exact figures, Ctrl+F goes to
the free-text filter. The window's own F2 and Delete (wallets) do not fire while the table has
the keyboard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QDate, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QHideEvent, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.domain.errors import report
from app.domain.ledger import Account, Transaction, TxKind
from app.domain.text import clean_text
from app.ui.dialogs.account_dialog import KIND_NAMES, AccountDialog
from app.ui.dialogs.import_dialog import ImportDialog
from app.ui.dialogs.transaction_dialog import TransactionDialog
from app.ui.empty_view import ExplainingTableView
from app.ui.models.ledger_models import (
    KIND_TEXT,
    TransactionsModel,
    TxColumn,
    TxFilter,
    TxRow,
    arrange,
    assets_of,
    tx_rows,
    tx_tsv,
)
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.services.ledger import LedgerService
    from app.ui.link_dialog import LinkChoices, LinkDialog, WalletLinks

log = logging.getLogger(__name__)
T = TypeVar("T")
DAY = 86400
NO_ACCOUNTS = (
    "No accounts yet.\n\nThe ledger holds what the chains cannot see — shares at a broker, cash "
    "at a bank, coins on an exchange or in cold storage — and its transactions give cost basis, "
    "P&L and returns.\n\nWallets → Scan history… records your wallets' past transfers here, "
    "and File → Exchange accounts… → Import history an exchange's trades. Or press Add "
    "account… (left) to create one, then Add transaction…; or Import CSV… to bring a Koinly, "
    "CoinTracking or Chainfolio file: the import can create the accounts it names."
)
NO_TRANSACTIONS = (
    "No transactions yet.\n\nPress Add transaction… (Insert) to record a buy, sell, deposit, "
    "transfer, income or fee, or Import CSV… to bring them from a file."
)
NO_MATCH = "No transaction matches these filters.\n\nClear the filters to see every transaction."
EXPORT_FILTERS = {
    "Chainfolio CSV (*.csv)": "generic",
    "Koinly universal CSV (*.csv)": "koinly",
    "CoinTracking CSV (*.csv)": "cointracking",
}
SaveChooser = Callable[[QWidget, str, Callable[[str, str], None]], None]


def ask_export_path(parent: QWidget, suggested: str, done: Callable[[str, str], None]) -> None:
    dialog = QFileDialog(parent, "Export transactions", suggested)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setNameFilters(list(EXPORT_FILTERS))
    dialog.setDefaultSuffix("csv")
    dialog.fileSelected.connect(
        lambda path: done(path, EXPORT_FILTERS[dialog.selectedNameFilter()])
    )
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


@dataclass(frozen=True, slots=True)
class LedgerData:
    accounts: tuple[Account, ...]
    counts: dict[str, int]
    rows: list[TxRow]
    assets: dict[str, str]  # asset id -> short name, by name (the asset filter's items)


def without_gc(work: Callable[[], T], *, keep: bool = True) -> T:
    """Run ``work`` (in a worker thread) with the cyclic garbage collector paused, and with
    ``keep`` move what survives it (the result, the service's cached transactions) out of the
    collector's reach before it runs again.

    A report over 50,000 transactions makes and drops hundreds of thousands of small objects
    (180,000 price rows for returns alone); each collection they trigger walks them while
    holding the interpreter lock the window needs to draw, and the young generation's first
    pass over 50,000 freshly read transactions and their rows took 60-100 ms
    (``tests/benchmarks/ledger_window.py``). Reference counting frees the garbage as it goes;
    the survivors hold no reference cycles, so ``gc.freeze`` (which the app also does after its
    start-up imports) costs nothing they need. Not used for frequent small requests (the
    Timeline's label): each freeze also keeps anything else alive at that moment out of the
    collector's reach."""
    import gc

    from app.domain.gc_pause import gc_paused

    with gc_paused():
        result = work()
        if keep:
            gc.freeze()
    return result


def read_ledger(service: LedgerService) -> LedgerData:
    """In a worker thread: accounts and every transaction as display rows."""
    accounts = tuple(service.accounts())
    txs = service.transactions()
    counts: dict[str, int] = {}
    for t in txs:
        counts[t.account] = counts.get(t.account, 0) + 1
        if t.to_account:
            counts[t.to_account] = counts.get(t.to_account, 0) + 1
    rows = tx_rows(reversed(txs))
    return LedgerData(accounts, counts, rows, dict(assets_of(rows)))


class TransactionsTable(ExplainingTableView):
    """Keys the window also binds (F2, Delete) act on the transactions while the table has the
    keyboard; Insert adds, Ctrl+C copies rows."""

    add_key = Signal()
    edit_key = Signal()
    delete_key = Signal()
    copy_key = Signal()

    def event(self, e: QEvent) -> bool:
        if (
            e.type() == QEvent.Type.ShortcutOverride
            and isinstance(e, QKeyEvent)
            and self._action(e) is not None
        ):
            e.accept()  # an accepted override turns the shortcut into a key press
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        signal = self._action(e)
        if signal is not None:
            signal.emit()
            e.accept()
            return
        super().keyPressEvent(e)

    def _action(self, e: QKeyEvent) -> Any:
        if e.matches(QKeySequence.StandardKey.Copy):
            return self.copy_key
        if e.matches(QKeySequence.StandardKey.Delete) or e.key() == Qt.Key.Key_Delete:
            return self.delete_key
        if e.key() in (Qt.Key.Key_F2, Qt.Key.Key_Return, Qt.Key.Key_Enter) and not e.modifiers():
            return self.edit_key
        if e.key() == Qt.Key.Key_Insert and not e.modifiers():
            return self.add_key
        return None


class LedgerPage(QWidget):
    """``changed`` after every write (the Performance tab and the Timeline read again)."""

    changed = Signal()
    loaded = Signal()
    arranged = Signal()
    message = Signal(str)

    def __init__(
        self,
        service: Callable[[], LedgerService],
        tasks: TaskRunner,
        currency: Callable[[], str] = lambda: "USD",
        parent: QWidget | None = None,
        save_chooser: SaveChooser | None = None,
        links: WalletLinks | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._links = links
        self.link_dialog: LinkDialog | None = None
        self.tasks = tasks
        self._currency = currency
        self.save_chooser = save_chooser or ask_export_path
        self.data: LedgerData | None = None
        self._dirty = True
        self._selected_ids: set[int] = set()
        self.dialog: TransactionDialog | None = None
        self._keys = f"ledger-{id(self)}"

        # --- accounts (left) ----------------------------------------------------------------
        self.accounts = QListWidget()
        self.accounts.setAccessibleName("Accounts")
        self.accounts.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.accounts.setSpacing(3)  # each account is two lines: name, then kind and count
        self.accounts.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.add_account_button = QPushButton("Add &account…")
        self.add_account_button.clicked.connect(self.add_account)
        self.remove_account_button = QPushButton("Remove account…")
        self.remove_account_button.clicked.connect(self.remove_account)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        caption = QLabel("Accounts")
        caption.setTextFormat(Qt.TextFormat.PlainText)
        left_box.addWidget(caption)
        left_box.addWidget(self.accounts, 1)
        left_box.addWidget(self.add_account_button)
        left_box.addWidget(self.remove_account_button)
        self.link_button: QPushButton | None = None
        if links is not None:
            self.link_button = QPushButton("&Link to wallet…")
            self.link_button.setToolTip(
                "Say which watched wallet this account records: the Performance tab then shows "
                "where the wallet's balance and the account's transactions disagree."
            )
            self.link_button.clicked.connect(self.link_wallet)
            left_box.addWidget(self.link_button)

        # --- filters --------------------------------------------------------------------
        self.account_filter = QComboBox()
        self.account_filter.setAccessibleName("Show the account")
        self.kind_filter = QComboBox()
        self.kind_filter.setAccessibleName("Show the type")
        self.kind_filter.addItem("All types", None)
        for kind in TxKind:
            self.kind_filter.addItem(KIND_TEXT[kind], kind)
        self.asset_filter = QComboBox()
        self.asset_filter.setAccessibleName("Show the asset")
        self.asset_filter.setMinimumContentsLength(10)
        self.asset_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.from_date = self._date_edit("From date (Any: from the first)")
        self.to_date = self._date_edit("To date (Any: up to today)")
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Filter by text…")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setAccessibleName("Filter by text")
        self._fill_filters([], {})
        filters = QHBoxLayout()
        for widget in (self.account_filter, self.kind_filter, self.asset_filter):
            filters.addWidget(widget)
        filters.addWidget(QLabel("From"))
        filters.addWidget(self.from_date)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.to_date)
        filters.addWidget(self.text_filter, 1)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        self._filter_timer.timeout.connect(self.rearrange)
        for combo in (self.account_filter, self.kind_filter, self.asset_filter):
            combo.currentIndexChanged.connect(self.rearrange)
        for edit in (self.from_date, self.to_date):
            edit.dateChanged.connect(self.rearrange)
        self.text_filter.textChanged.connect(lambda _t: self._filter_timer.start())

        # --- actions --------------------------------------------------------------------
        self.add_button = QPushButton("Add &transaction…")
        self.add_button.setToolTip("Record a transaction (Insert or Ctrl+Shift+N)")
        self.add_button.clicked.connect(self.add_transaction)
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setToolTip("Edit the selected transaction (Enter or F2)")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.setToolTip("Delete the selected transactions (Delete)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.import_button = QPushButton("&Import CSV…")
        self.import_button.clicked.connect(self.import_csv)
        self.export_button = QPushButton("E&xport CSV…")
        self.export_button.clicked.connect(self.export_csv)
        self.count_label = QLabel()
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.status.hide()
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addSpacing(12)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        for sequence in ("Ins", "Ctrl+Shift+N"):
            act = QAction(self)
            act.setShortcut(QKeySequence(sequence))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(self.add_transaction)
            self.addAction(act)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(
            lambda: self.text_filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        self.addAction(find)

        # --- table ----------------------------------------------------------------------
        self.model = TransactionsModel(self)
        self.model.sort_wanted.append(self.rearrange)
        self.table = TransactionsTable(NO_ACCOUNTS)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Transactions")
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(TxColumn.DATE, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        widths = (100, 120, 90, 110, 120, 130, 110, 110)
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        self.table.add_key.connect(self.add_transaction)
        self.table.edit_key.connect(self.edit_selected)
        self.table.delete_key.connect(self.delete_selected)
        self.table.copy_key.connect(self.copy_selection)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addLayout(filters)
        right_box.addLayout(buttons)
        right_box.addWidget(self.status)
        right_box.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([190, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(split)
        self._update_buttons()

    @staticmethod
    def _date_edit(name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(QDate(1970, 1, 1))
        edit.setSpecialValueText("Any")  # shown at the minimum: no bound
        edit.setDate(edit.minimumDate())
        edit.setAccessibleName(name)
        return edit

    # --- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the ledger again (in a worker thread); a hidden page waits until shown."""
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        service = self._service
        self._run(
            "read",
            lambda: without_gc(lambda: read_ledger(service())),
            self._on_loaded,
            "Reading the ledger",
        )

    def _run(
        self,
        what: str,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
        doing: str,
    ) -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._dirty = True  # no loop (shutting down): read again when next shown
            return False
        self.tasks.run(
            asyncio.to_thread(work),
            on_success=self._alive(on_success),
            on_failure=self._alive(lambda exc: self._show_status(report(exc, doing, log))),
            key=f"{self._keys}-{what}",
        )
        return True

    def _alive(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        def call(value: Any) -> None:
            if isValid(self):
                handler(value)

        return call

    def _on_loaded(self, data: LedgerData) -> None:
        self.data = data
        self._fill_accounts(data)
        names = sorted({a.name for a in data.accounts} | {n for n in data.counts})
        self._fill_filters(names, data.assets)
        self._show_status("")
        self.rearrange()
        self.loaded.emit()

    def _fill_accounts(self, data: LedgerData) -> None:
        current = self.selected_account()
        self.accounts.clear()
        for account in data.accounts:
            n = data.counts.get(account.name, 0)
            text = (
                f"{clean_text(account.name, 64)}\n{KIND_NAMES[account.kind]} · {n:,} transactions"
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, account.name)
            item.setToolTip(clean_text(account.note, 200) if account.note else "")
            self.accounts.addItem(item)
            if account.name == current:
                self.accounts.setCurrentItem(item)
        self._update_buttons()

    def _fill_filters(self, accounts: list[str], assets: dict[str, str] | Any) -> None:
        for combo, first, items in (
            (self.account_filter, "All accounts", [(clean_text(n, 64), n) for n in accounts]),
            (self.asset_filter, "All assets", [(name, aid) for aid, name in assets.items()]),
        ):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, None)
            for text, data in items:
                combo.addItem(text, data)
            at = combo.findData(keep) if keep is not None else 0
            combo.setCurrentIndex(max(at, 0))
            combo.blockSignals(False)

    def current_filter(self) -> TxFilter:
        def bound(edit: QDateEdit, end: bool) -> int | None:
            if edit.date() == edit.minimumDate():
                return None
            d = edit.date()
            ts = int(datetime(d.year(), d.month(), d.day(), tzinfo=UTC).timestamp())
            return ts + DAY if end else ts

        kind = self.kind_filter.currentData()
        return TxFilter(
            account=self.account_filter.currentData(),
            kind=None if kind is None else TxKind(kind),
            asset=self.asset_filter.currentData(),
            since=bound(self.from_date, False),
            until=bound(self.to_date, True),
            text=self.text_filter.text().strip(),
        )

    def rearrange(self) -> None:
        """Filter and sort the rows (in a worker thread), then show them."""
        self._filter_timer.stop()
        if self.data is None:
            return
        rows, flt = self.data.rows, self.current_filter()
        column, order = self.model.sort_column, self.model.sort_order
        if not self._run(
            "arrange",
            lambda: arrange(rows, flt, column, order),
            self._on_arranged,
            "Sorting the transactions",
        ):
            self._on_arranged(arrange(rows, flt, column, order))

    def _on_arranged(self, rows: list[TxRow]) -> None:
        keep = self._selected_ids or {r.id for r in self.selected_rows()}
        self.model.set_rows(rows)
        total = len(self.data.rows) if self.data else 0
        if self.data is not None and not self.data.accounts and not total:
            self.table.set_placeholder(NO_ACCOUNTS)
        elif not total:
            self.table.set_placeholder(NO_TRANSACTIONS)
        else:
            self.table.set_placeholder(NO_MATCH)
        shown = len(rows)
        self.count_label.setText(
            f"{total:,} transaction{'s' if total != 1 else ''}"
            if shown == total
            else f"{shown:,} of {total:,} transactions"
        )
        if keep:
            self._select_ids(keep)
        self._selected_ids = set()
        self._update_buttons()
        self.arranged.emit()

    def _select_ids(self, ids: set[int]) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for i, row in enumerate(self.model.rows()):
            if row.id in ids:
                selection.select(self.model.index(i, 0), self.model.index(i, len(TxColumn) - 1))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.table.selectionModel().select(selection, flags)

    # --- selection ----------------------------------------------------------------------
    def selected_rows(self) -> list[TxRow]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row_at(r) for r in rows if r < self.model.rowCount()]

    def selected_account(self) -> str | None:
        item = self.accounts.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def account_names(self) -> list[str]:
        return [a.name for a in self.data.accounts] if self.data else []

    def _update_buttons(self) -> None:
        n = len(self.selected_rows())
        self.edit_button.setEnabled(n == 1)
        self.delete_button.setEnabled(n >= 1)
        self.remove_account_button.setEnabled(self.selected_account() is not None)
        if self.link_button is not None:
            self.link_button.setEnabled(self.selected_account() is not None)
        self.export_button.setEnabled(bool(self.data and self.data.rows))

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _notify(self, text: str) -> None:
        self.message.emit(text)

    # --- transactions ---------------------------------------------------------------------
    def add_transaction(self) -> TransactionDialog | None:
        return self._open_dialog(None)

    def edit_selected(self) -> TransactionDialog | None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return None
        return self._open_dialog(rows[0].tx)

    def _open_dialog(self, tx: Transaction | None) -> TransactionDialog:
        service = self._service
        accounts = self.account_names()
        assets = list(self.data.assets) if self.data else []
        dialog = TransactionDialog(
            accounts,
            self.tasks,
            lambda t, replacing: service().check(t, replacing),
            tx=tx,
            currency=self._currency(),
            assets=assets,
            parent=self,
        )
        if tx is None and self.selected_account() is not None:
            dialog.account.setCurrentIndex(max(0, dialog.account.findData(self.selected_account())))
        dialog.submitted.connect(lambda t: self._save(dialog, t))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _save(self, dialog: TransactionDialog, tx: Transaction) -> None:
        service = self._service
        editing = dialog.editing

        def work() -> Transaction:
            if editing is None or editing.id is None:
                return service().add(tx)
            return service().edit(
                editing.id,
                account=tx.account, kind=tx.kind, ts=tx.ts, asset=tx.asset, amount=tx.amount,
                price=tx.price, price_currency=tx.price_currency, fee=tx.fee,
                fee_currency=tx.fee_currency, to_account=tx.to_account,
                income_kind=tx.income_kind, note=tx.note,
            )  # fmt: skip

        def done(saved: Transaction) -> None:
            if isValid(dialog):
                dialog.accept()
            self._selected_ids = {saved.id} if saved.id is not None else set()
            self._notify("Transaction saved" if editing else "Transaction added")
            self._written()

        def failed(exc: BaseException) -> None:
            if isValid(dialog):
                dialog.show_error(report(exc, "Saving the transaction", log))

        self.tasks.run(asyncio.to_thread(work), done, failed, key=f"{self._keys}-save")

    def delete_selected(self) -> QMessageBox | None:
        rows = self.selected_rows()
        if not rows:
            return None
        n = len(rows)
        first = rows[0].cells
        what = (
            f"the {first[TxColumn.TYPE].lower()} of {first[TxColumn.AMOUNT]} "
            f"{first[TxColumn.ASSET]} on {first[TxColumn.DATE]}"
            if n == 1
            else f"these {n:,} transactions"
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete transactions" if n > 1 else "Delete transaction",
            f"Delete {what}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText("Cost basis, P&L and returns are computed again without it.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        ids = [r.id for r in rows]
        service = self._service

        def finished(result: int) -> None:
            box.deleteLater()
            if result != QMessageBox.StandardButton.Yes:
                return

            def work() -> int:
                svc = service()
                for tx_id in ids:
                    svc.remove(tx_id)
                return len(ids)

            def done(count: int) -> None:
                self._notify(f"Deleted {count:,} transaction{'s' if count != 1 else ''}")
                self._written()

            self._run("delete", work, done, "Deleting transactions")

        box.finished.connect(finished)
        box.open()
        return box

    def copy_selection(self) -> str:
        rows = self.selected_rows()
        if not rows:
            return ""
        text = tx_tsv(rows)
        QGuiApplication.clipboard().setText(text)
        self._notify(f"Copied {len(rows):,} transaction{'s' if len(rows) != 1 else ''}")
        return text

    # --- accounts -------------------------------------------------------------------------
    def add_account(self) -> AccountDialog:
        dialog = AccountDialog(set(self.account_names()), parent=self)
        service = self._service

        def save(name: str, kind: str, note: str) -> None:
            def done(account: Account) -> None:
                if isValid(dialog):
                    dialog.accept()
                self._notify(f"Added the account {clean_text(account.name, 64)}")
                self._written()

            def failed(exc: BaseException) -> None:
                if isValid(dialog):
                    dialog.show_error(report(exc, "Adding the account", log))

            self.tasks.run(
                asyncio.to_thread(lambda: service().add_account(name, kind, note)),
                done,
                failed,
                key=f"{self._keys}-account",
            )

        dialog.submitted.connect(save)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def remove_account(self) -> QMessageBox | None:
        name = self.selected_account()
        if name is None:
            return None
        count = self.data.counts.get(name, 0) if self.data else 0
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove account",
            f"Remove the account {clean_text(name, 64)}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(
            f"Its {count:,} transaction{'s' if count != 1 else ''} (transfers to it included) "
            "are deleted with it."
            if count
            else "It has no transactions."
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        service = self._service

        def finished(result: int) -> None:
            box.deleteLater()
            if result != QMessageBox.StandardButton.Yes:
                return

            def done(removed: int) -> None:
                self._notify(
                    f"Removed the account {clean_text(name, 64)} and {removed:,} transactions"
                )
                self._written()

            self._run(
                "account",
                lambda: service().remove_account(name, with_transactions=True),
                done,
                "Removing the account",
            )

        box.finished.connect(finished)
        box.open()
        return box

    def link_wallet(self) -> None:
        """Read the wallets and the account's link in a worker, then open the dialog
        (``link_dialog``); the choice is written by ``PortfolioService.link``/``unlink``."""
        from app.ui.link_dialog import read_choices

        name, links = self.selected_account(), self._links
        if name is None or links is None:
            return
        self._run("link", lambda: read_choices(links, name), self._open_link, "Reading the wallets")

    def _open_link(self, choices: LinkChoices) -> None:
        from app.ui.link_dialog import LinkDialog

        links = self._links
        assert links is not None
        dialog = LinkDialog(choices, parent=self)
        self.link_dialog = dialog
        account = choices.account

        def save(address: str | None) -> None:
            def done(_result: object) -> None:
                if isValid(dialog):
                    dialog.accept()
                name = clean_text(account, 64)
                self._notify(
                    f"Linked {name} to its wallet" if address else f"{name} is no longer linked"
                )
                self.changed.emit()  # the Performance tab compares again

            def failed(exc: BaseException) -> None:
                if isValid(dialog):
                    dialog.show_error(report(exc, "Linking the account", log))

            def work() -> object:
                service = links.service()
                return service.link(account, address) if address else service.unlink(account)

            self.tasks.run(asyncio.to_thread(work), done, failed, key=f"{self._keys}-link")

        dialog.submitted.connect(save)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    # --- CSV ------------------------------------------------------------------------------
    def import_csv(self) -> ImportDialog:
        dialog = ImportDialog(self._service, self.tasks, self.account_names(), parent=self)

        def imported(result: Any) -> None:
            self._notify(f"Imported {result.added:,} transactions")
            self._written()

        dialog.imported.connect(imported)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def export_csv(self, path: str | None = None, fmt: str = "generic") -> None:
        if path is not None:
            self._export(path, fmt)
            return
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        self.save_chooser(self, f"chainfolio-transactions-{day}.csv", self._export)

    def _export(self, path: str, fmt: str) -> None:
        if not path:
            return
        service = self._service

        def work() -> int:
            text = service().export_csv(fmt)
            with open(path, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            return max(text.count("\n") - 1, 0)

        self._run("export", work, lambda n: self._notify(f"Exported {n:,} transactions to {path}"),
                  "Exporting the transactions")  # fmt: skip

    # --- after a write --------------------------------------------------------------------
    def _written(self) -> None:
        self._dirty = True
        self.reload()
        self.changed.emit()

    # --- Qt events ------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def hideEvent(self, event: QHideEvent) -> None:
        self._filter_timer.stop()
        super().hideEvent(event)
