"""Add or edit a ledger transaction; every field is checked as it is typed.

Each field has its own line under it that says, in the domain's words, what is wrong with it
(a negative amount, a date in the future, an asset id that does not exist, a seed phrase in the
note). Field checks are the domain's own functions and cost microseconds; once every field
reads well, the whole entry goes to ``LedgerService.check`` in a worker thread (it also knows
what each account holds at that time: a sell beyond the holding is said at the amount).

Nothing typed is lost on an error: the dialog stays open with every field as it was, except a
wallet secret pasted into the note, which is wiped at once (never kept on screen or in the
field's undo history), as everywhere in the app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal

from PySide6.QtCore import QDateTime, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.domain.assets import AssetError, asset_from_symbol, currency_code
from app.domain.errors import report
from app.domain.ledger import (
    FUTURE_SLACK_SECONDS,
    IncomeKind,
    LedgerError,
    Transaction,
    TxKind,
    parse_amount,
)
from app.domain.secret_text import refusal, secret_kind
from app.domain.text import clean_text
from app.ui.models.ledger_models import KIND_TEXT, asset_text
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text

log = logging.getLogger(__name__)
Check = Callable[[Transaction, int | None], Transaction]
FIELDS = ("kind", "account", "to_account", "date", "asset", "amount", "price", "fee", "note")
_INFLOW = (TxKind.BUY, TxKind.DEPOSIT, TxKind.INCOME)


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def field_of(message: str) -> str:
    """Which field a message of the domain or the service is about."""
    m = message.lower()
    if m.startswith("fee") or "a fee" in m:
        return "fee"
    if m.startswith("price") or "a price" in m or "needs a price" in m:
        return "price"
    if "date" in m or "1970" in m:
        return "date"
    if "takes more" in m or m.startswith("amount"):
        return "amount"
    if "transfer" in m or "destination" in m:
        return "to_account"
    if "account" in m:
        return "account"
    if "note" in m:
        return "note"
    if "income" in m:
        return "kind"
    if "asset" in m or "isin" in m or "caip" in m or "currency code" in m:
        return "asset"
    return ""


class TransactionDialog(QDialog):
    """Modal, opened with ``open()``. ``submitted(Transaction)`` on Save; the dialog stays
    open while the page saves, and :meth:`show_error` puts a failure back on the field."""

    submitted = Signal(object)

    def __init__(
        self,
        accounts: Sequence[str],
        tasks: TaskRunner,
        check: Check | None,
        *,
        tx: Transaction | None = None,
        currency: str = "USD",
        assets: Sequence[str] = (),
        clock: Callable[[], float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        import time

        self._clock = clock or time.time
        self._tasks = tasks
        self._check = check
        self.editing = tx
        self._problems: dict[str, str] = {}
        self._touched: set[str] = set()
        self._generation = 0  # a check's result is used only if nothing changed meanwhile
        self._checked: Transaction | None = None
        self._busy = False
        self.setWindowTitle("Edit transaction" if tx else "Add transaction")
        self.setMinimumWidth(560)

        self.kind = QComboBox()
        for kind in TxKind:
            self.kind.addItem(KIND_TEXT[kind], kind)
        self.account = QComboBox()
        self.to_account = QComboBox()
        for name in accounts:
            self.account.addItem(clean_text(name, 64), name)
            self.to_account.addItem(clean_text(name, 64), name)
        self.income_kind = QComboBox()
        for ik in IncomeKind:
            self.income_kind.addItem(ik.value.capitalize(), ik)
        self.date = QDateTimeEdit()
        self.date.setTimeZone(QTimeZone.utc())
        self.date.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
        self.date.setCalendarPopup(True)
        self.date.setDateTime(QDateTime.fromSecsSinceEpoch(int(self._clock()), QTimeZone.utc()))
        self.asset = QLineEdit()
        self.asset.setPlaceholderText("BTC, ETH, fiat:EUR, stock:XNAS:AAPL, etf:IE00B4L5Y983…")
        if assets:
            from PySide6.QtWidgets import QCompleter

            completer = QCompleter(list(assets), self.asset)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.asset.setCompleter(completer)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 1.25")
        self.price = QLineEdit()
        self.price.setPlaceholderText("per unit")
        self.price_currency = QLineEdit(currency)
        self.price_currency.setMaximumWidth(90)
        self.fee = QLineEdit()
        self.fee.setPlaceholderText("optional")
        self.fee_currency = QLineEdit(currency)
        self.fee_currency.setMaximumWidth(90)
        self.fee_currency.setToolTip("A currency code (USD, EUR…) or the asset itself")
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional")

        names = {
            self.kind: "Type", self.account: "Account", self.to_account: "To account",
            self.income_kind: "Kind of income", self.date: "Date and time (UTC)",
            self.asset: "Asset", self.amount: "Amount", self.price: "Price per unit",
            self.price_currency: "Price currency", self.fee: "Fee",
            self.fee_currency: "Fee currency", self.note: "Note",
        }  # fmt: skip
        for widget, name in names.items():
            widget.setAccessibleName(name)

        self.messages: dict[str, QLabel] = {}
        for key in FIELDS:
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            label.setObjectName(f"{key}Message")
            label.hide()
            self.messages[key] = label

        form = QFormLayout()
        self.form = form
        form.addRow("&Type", self._with_message(self.kind, "kind"))
        form.addRow("A&ccount", self._with_message(self.account, "account"))
        form.addRow("&To account", self._with_message(self.to_account, "to_account"))
        form.addRow("&Income", self.income_kind)
        form.addRow("&Date", self._with_message(self.date, "date"))
        form.addRow("A&sset", self._with_message(self.asset, "asset"))
        form.addRow("A&mount", self._with_message(self.amount, "amount"))
        form.addRow(
            "&Price", self._with_message(self._pair(self.price, self.price_currency), "price")
        )
        form.addRow("&Fee", self._with_message(self._pair(self.fee, self.fee_currency), "fee"))
        form.addRow("&Note", self._with_message(self.note, "note"))

        self.feedback = QLabel()
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setWordWrap(True)
        self.feedback.setObjectName("feedback")
        self.feedback.setAccessibleName("Check of the transaction")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save" if tx else "Add transaction")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self._check_whole)

        if tx is not None:
            self._fill(tx)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for combo in (self.account, self.to_account, self.income_kind):
            combo.currentIndexChanged.connect(self.validate)
        self.date.dateTimeChanged.connect(self.validate)
        for edit in (self.asset, self.amount, self.price, self.price_currency, self.fee,
                     self.fee_currency):  # fmt: skip
            edit.textChanged.connect(self.validate)
        self.note.textChanged.connect(self._note_changed)
        self._kind_changed()
        if not accounts:
            self._say("account", "Add an account first (Accounts… on the Transactions tab).")

    # --- layout helpers -----------------------------------------------------------------
    def _with_message(self, widget: QWidget, key: str) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(self.messages[key])
        box.setFocusProxy(widget)
        return box

    @staticmethod
    def _pair(first: QWidget, second: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(first, 1)
        row.addWidget(second)
        box.setFocusProxy(first)
        return box

    def _fill(self, tx: Transaction) -> None:
        from app.ui.models.holdings_format import exact

        self.kind.setCurrentIndex(self.kind.findData(tx.kind))
        self.account.setCurrentIndex(max(0, self.account.findData(tx.account)))
        if tx.to_account:
            self.to_account.setCurrentIndex(max(0, self.to_account.findData(tx.to_account)))
        if tx.income_kind is not None:
            self.income_kind.setCurrentIndex(self.income_kind.findData(tx.income_kind))
        self.date.setDateTime(QDateTime.fromSecsSinceEpoch(tx.ts, QTimeZone.utc()))
        self.asset.setText(tx.asset)
        self.amount.setText(exact(tx.amount))
        self.price.setText("" if tx.price is None else exact(tx.price))
        if tx.price_currency:
            self.price_currency.setText(tx.price_currency)
        self.fee.setText(exact(tx.fee) if tx.fee else "")
        if tx.fee_currency:
            self.fee_currency.setText(tx.fee_currency)
        self.note.setText(tx.note)

    def _row_visible(self, field: QWidget, visible: bool) -> None:
        self.form.setRowVisible(self._row_of(field), visible)

    def _row_of(self, widget: QWidget) -> int:
        w: QWidget | None = widget
        while w is not None:
            position = self.form.getWidgetPosition(w)
            row = int(position[0])  # type: ignore[index]
            if row >= 0:
                return row
            w = w.parentWidget()
        return -1

    # --- checks -------------------------------------------------------------------------
    def current_kind(self) -> TxKind:
        return TxKind(self.kind.currentData())

    def _kind_changed(self) -> None:
        kind = self.current_kind()
        self._row_visible(self.to_account, kind is TxKind.TRANSFER)
        self._row_visible(self.income_kind, kind is TxKind.INCOME)
        self.validate()

    def _say(self, key: str, text: str, role: Role = Role.ERROR) -> None:
        label = self.messages[key]
        shown = label.isVisible()
        label.setText(text)
        label.setVisible(bool(text))
        paint_text(label, role)
        if bool(text) != shown or text:
            self._fit_timer.start()

    def _fit(self) -> None:
        """Tall enough for every message on screen (wrapped messages must not be clipped);
        the width stays as the person left it."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width()
        height = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if height > self.height():
            self.resize(width, height)

    def _note_changed(self, text: str) -> None:
        kind = secret_kind(text, allow_hex_key=True) if text else None
        if kind is not None:
            self.note.blockSignals(True)
            self.note.clear()  # never kept on screen or in the field's undo history
            self.note.blockSignals(False)
            self._say("note", "⚠ " + sentence(refusal(kind, "note")), Role.WARNING)
            self.validate(keep_note_message=True)
            return
        self.validate()

    def _field_problems(self) -> dict[str, str]:
        """Each field on its own, with the domain's functions (no database)."""
        problems: dict[str, str] = {}
        kind = self.current_kind()
        if self.account.currentIndex() < 0:
            problems["account"] = "Add an account first (Accounts… on the Transactions tab)."
        if kind is TxKind.TRANSFER and self.to_account.currentData() == self.account.currentData():
            problems["to_account"] = "A transfer goes to another account."
        ts = self.timestamp()
        if ts > self._clock() + FUTURE_SLACK_SECONDS:
            problems["date"] = "The date is in the future."
        asset = self.asset.text()
        if not asset.strip():
            problems["asset"] = "Enter the asset (BTC, fiat:EUR, stock:XNAS:AAPL…)."
        else:
            try:
                asset_from_symbol(asset)
            except AssetError as exc:
                text = str(exc)
                if text.startswith("unknown asset"):  # the CSV wording names a CLI option
                    text = (
                        f"{text.split(':', 1)[0]}: write its full id (a CAIP-19 id for "
                        "crypto, or stock:…, etf:…, bond:…, commodity:… or fiat:…)"
                    )
                problems["asset"] = sentence(text)
        for key, edit, allow_zero in (
            ("amount", self.amount, False),
            ("price", self.price, True),
            ("fee", self.fee, True),
        ):
            text = edit.text().strip()
            if not text:
                if key == "amount":
                    problems[key] = "Enter the amount."
                elif key == "price" and kind in (TxKind.BUY, TxKind.SELL):
                    problems[key] = f"A {kind.value} needs a price per unit and its currency."
                continue
            try:
                parse_amount(text, key, allow_zero=allow_zero)
            except LedgerError as exc:
                problems[key] = sentence(str(exc))
        if self.price.text().strip() and "price" not in problems:
            try:
                currency_code(self.price_currency.text())
            except AssetError as exc:
                problems["price"] = "Price currency: " + sentence(str(exc))
        return problems

    def timestamp(self) -> int:
        return int(self.date.dateTime().toSecsSinceEpoch())

    def transaction(self) -> Transaction:
        """The entry as typed (checked by :meth:`validate`; the service checks it again)."""
        kind = self.current_kind()
        asset = asset_from_symbol(self.asset.text()).id
        price = self.price.text().strip()
        fee = self.fee.text().strip()
        fee_currency = self.fee_currency.text().strip()
        if fee_currency and fee_currency.upper() == self.asset.text().strip().upper():
            fee_currency = asset
        return Transaction(
            account=str(self.account.currentData()),
            kind=kind,
            ts=self.timestamp(),
            asset=asset,
            amount=Decimal(self.amount.text().strip()),
            price=Decimal(price) if price else None,
            price_currency=self.price_currency.text().strip().upper() if price else None,
            fee=Decimal(fee) if fee else Decimal(0),
            fee_currency=(fee_currency or None) if fee and Decimal(fee) else None,
            to_account=str(self.to_account.currentData()) if kind is TxKind.TRANSFER else None,
            income_kind=IncomeKind(self.income_kind.currentData())
            if kind is TxKind.INCOME
            else None,
            note=self.note.text(),
            id=None if self.editing is None else self.editing.id,
        )

    def validate(self, *_args: object, keep_note_message: bool = False) -> None:
        problems = self._field_problems()
        self._problems = problems
        self._checked = None
        self._generation += 1
        for key, edit in (("asset", self.asset), ("amount", self.amount), ("price", self.price)):
            if edit.text() or self.editing is not None:
                self._touched.add(key)  # an empty field is asked for once it was typed in
        for key in FIELDS:
            if key == "note" and keep_note_message:
                continue
            shown = key in self._touched or key not in ("asset", "amount", "price")
            self._say(key, problems.get(key, "") if shown else "")
        self.feedback.setText("")
        if problems:
            self.save_button.setEnabled(False)
            self._check_timer.stop()
            return
        if self._check is None:
            self.save_button.setEnabled(not self._busy)
            return
        self.save_button.setEnabled(False)
        self._set_feedback("Checking…", None)
        self._check_timer.start()

    def _check_whole(self) -> None:
        """The whole entry, as the service would store it, in a worker thread."""
        if self._check is None or self._problems:
            return
        try:
            tx = self.transaction()
        except (LedgerError, AssetError, ArithmeticError) as exc:
            self._put_back(str(exc))
            return
        check = self._check
        replacing = None if self.editing is None else self.editing.id
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        generation = self._generation

        def current(handler: Callable[[object], None]) -> Callable[[object], None]:
            def call(value: object) -> None:
                if isValid(self) and generation == self._generation:
                    handler(value)

            return call

        self._tasks.run(
            asyncio.to_thread(check, tx, replacing),
            on_success=current(self._checked_ok),
            on_failure=current(self._checked_bad),
            key=f"tx-dialog-check-{id(self)}",
        )

    def _checked_ok(self, tx: object) -> None:
        assert isinstance(tx, Transaction)
        self._checked = tx
        self._set_feedback(f"✓ {KIND_TEXT[tx.kind]} of {asset_text(tx.asset)} reads well.", "ok")
        self.save_button.setEnabled(not self._busy)

    def _checked_bad(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self._put_back(report(exc, "Checking the transaction", log))

    def _put_back(self, message: str) -> None:
        key = field_of(message)
        text = sentence(message)
        if key:
            self._say(key, text)
            self._set_feedback("", None)
        else:
            self._set_feedback(text, "error")
        self.save_button.setEnabled(False)

    def _set_feedback(self, text: str, kind: str | None) -> None:
        roles = {"error": Role.ERROR, "ok": Role.OK}
        self.feedback.setText(text)
        paint_text(self.feedback, roles.get(kind or ""))

    def _submit(self) -> None:
        if self._problems or (self._check is not None and self._checked is None):
            return
        tx = self._checked or self.transaction()
        self.set_busy(True)
        self.submitted.emit(tx)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy and not self._problems)
        if busy:
            self._set_feedback("Saving…", None)

    def show_error(self, message: str) -> None:
        """A save that failed: said at its field; everything typed stays."""
        self.set_busy(False)
        self._put_back(message)

    def problems(self) -> dict[str, str]:
        """Messages on screen now, by field (tests and screen readers)."""
        return {k: v.text() for k, v in self.messages.items() if v.text()}
