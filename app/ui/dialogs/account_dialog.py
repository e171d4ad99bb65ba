"""Add a ledger account (a broker, a bank, an exchange without an API, a cold-storage note):
its name and kind, checked as typed with the domain's own rules."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.ledger import AccountKind, LedgerError, account_name, free_text
from app.domain.secret_text import secret_kind
from app.ui.dialogs.transaction_dialog import sentence
from app.ui.theme import Role, paint_text

KIND_NAMES = {
    AccountKind.BROKER: "Broker",
    AccountKind.BANK: "Bank",
    AccountKind.EXCHANGE: "Exchange (no API)",
    AccountKind.COLD_STORAGE: "Cold storage",
    AccountKind.OTHER: "Other",
}


class AccountDialog(QDialog):
    """``submitted(name, kind, note)``; the dialog stays open until the page accepts it, and
    :meth:`show_error` puts a failure back on it."""

    submitted = Signal(str, str, str)

    def __init__(self, existing: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._existing = {n.casefold() for n in existing}
        self.setWindowTitle("Add account")
        self.setMinimumWidth(440)
        intro = QLabel(
            "An account holds what the chains cannot see: shares at a broker, cash at a bank, "
            "coins on an exchange or in cold storage. Its transactions give cost basis and P&L."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Broker, Savings bank, Ledger Nano")
        self.name.setAccessibleName("Account name")
        self.kind = QComboBox()
        for kind, text in KIND_NAMES.items():
            self.kind.addItem(text, kind.value)
        self.kind.setAccessibleName("Kind of account")
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional")
        self.note.setAccessibleName("Account note")
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Kind", self.kind)
        form.addRow("N&ote", self.note)
        self.feedback = QLabel()
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setWordWrap(True)
        self.feedback.setAccessibleName("Check of the account")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Add account")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.feedback)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(lambda _t: self._validate(self.name))
        self.note.textChanged.connect(lambda _t: self._validate(self.note))
        self._validate(None)

    def _say(self, text: str, role: Role | None) -> None:
        self.feedback.setText(text)
        paint_text(self.feedback, role)

    def _validate(self, changed: QLineEdit | None) -> None:
        for edit in (self.name, self.note):
            text = edit.text()
            if text and secret_kind(text, allow_hex_key=edit is self.note) is not None:
                edit.blockSignals(True)
                edit.clear()  # never kept on screen or in the undo history
                edit.blockSignals(False)
                what = "account name" if edit is self.name else "note"
                self._say(
                    f"⚠ That looks like a wallet secret; the {what} was cleared. Chainfolio "
                    "never stores a seed phrase or a private key.",
                    Role.WARNING,
                )
                self.ok_button.setEnabled(False)
                return
        problem = ""
        try:
            name = account_name(self.name.text()) if self.name.text().strip() else ""
            free_text(self.note.text(), "account note")
        except LedgerError as exc:
            problem = sentence(str(exc))
        else:
            if not name:
                problem = "Give the account a name." if changed is self.name else ""
            elif name.casefold() in self._existing:
                problem = "There is already an account with that name."
        self._say(problem, Role.ERROR if problem else None)
        self.ok_button.setEnabled(not problem and bool(self.name.text().strip()))

    def _submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.ok_button.setEnabled(False)
        self.submitted.emit(self.name.text(), str(self.kind.currentData()), self.note.text())

    def show_error(self, message: str) -> None:
        self._say(sentence(message), Role.ERROR)
        self.ok_button.setEnabled(True)
