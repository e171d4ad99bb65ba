"""Add or edit a wallet, with live validation of the address as it is typed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.addresses import ParsedAddress
from app.domain.errors import ChainfolioError, SecretInputError
from app.domain.model import MAX_GROUP_LENGTH, MAX_LABEL_LENGTH, Wallet
from app.domain.text import person_text
from app.ui.theme import Role, paint_text

Checker = Callable[[str], ParsedAddress | str]


class WalletDialog(QDialog):
    """Modal, opened with ``open()``. ``submitted(address, label, group)`` on OK.

    The dialog stays open while the window saves; ``show_error`` puts a failure back on it.
    """

    submitted = Signal(str, str, str)

    def __init__(
        self, check: Checker, wallet: Wallet | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._check = check
        self.editing = wallet
        self.setWindowTitle("Edit wallet" if wallet else "Add wallet")
        self.setMinimumWidth(520)

        intro = QLabel(
            "Paste a public address. Chainfolio only reads balances: it never needs, and never "
            "accepts, a private key or seed phrase."
            if wallet is None
            else "Change how this wallet is shown."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)

        self.address = QLineEdit()
        self.address.setPlaceholderText(
            "0x… (Ethereum & L2s), Solana address, name.eth, or Bitcoin bc1…/xpub/zpub"
        )
        self.address.setClearButtonEnabled(True)
        # No setMaxLength: Qt would cut a pasted seed phrase to a few words before any check
        # could see it whole. Length is checked like everything else, as the text changes.
        self.address.setAccessibleName("Address")
        self.label = QLineEdit()
        self.label.setPlaceholderText("e.g. Hardware wallet")
        self.label.setAccessibleName("Name")
        self.group = QLineEdit()
        self.group.setPlaceholderText("optional, e.g. Long term")
        self.group.setAccessibleName("Group")
        self._address_ok = wallet is not None
        self._text_problems: dict[str, str] = {}
        self.label.textChanged.connect(
            lambda _text: self._check_text(self.label, "wallet name", MAX_LABEL_LENGTH)
        )
        self.group.textChanged.connect(
            lambda _text: self._check_text(self.group, "wallet group", MAX_GROUP_LENGTH)
        )
        self.feedback = QLabel()
        self.feedback.setWordWrap(True)
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setObjectName("feedback")
        self.feedback.setAccessibleName("Address check")

        form = QFormLayout()
        form.addRow("&Address", self.address)
        form.addRow("&Name", self.label)
        form.addRow("&Group", self.group)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save" if wallet else "Add wallet")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        if wallet is not None:
            self.address.setText(wallet.address)
            self._show_read_only(self.address)
            self.label.setText(wallet.label)
            self.group.setText(wallet.group)
            self.ok_button.setEnabled(True)
        else:
            self.address.textChanged.connect(self._validate)
            self._validate("")

    @staticmethod
    def _show_read_only(edit: QLineEdit) -> None:
        """Looks like text, not like a field: no frame, no clear button, the window's
        background. It stays focusable and selectable, so it can be read and copied."""
        edit.setReadOnly(True)
        edit.setFrame(False)
        edit.setClearButtonEnabled(False)
        edit.setCursorPosition(0)
        palette = edit.palette()
        palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
        edit.setPalette(palette)
        note = "The address cannot be changed: remove the wallet and add the new address."
        edit.setToolTip(note)
        edit.setAccessibleDescription(f"Read-only. {note}")

    def _set_feedback(self, text: str, kind: str) -> None:
        roles = {"error": Role.ERROR, "warning": Role.WARNING, "ok": Role.OK, "info": None}
        self.feedback.setText(text)
        paint_text(self.feedback, roles[kind])  # theme roles: readable in light and dark
        self.feedback.setProperty("kind", kind)

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(self._address_ok and not self._text_problems)

    def _check_text(self, edit: QLineEdit, field: str, cap: int) -> None:
        """Name and group: a wallet secret is wiped from the field at once; too long is said."""
        try:
            person_text(edit.text(), field, cap)
        except SecretInputError as exc:
            edit.blockSignals(True)
            edit.clear()  # never keep a secret on screen or in the widget's undo history
            edit.blockSignals(False)
            self._text_problems.pop(field, None)
            self._set_feedback(f"⚠ {exc}", "warning")
        except ChainfolioError as exc:
            self._text_problems[field] = str(exc)
            self._set_feedback(str(exc), "error")
        else:
            if self._text_problems.pop(field, None) is not None:
                self._set_feedback("", "info")
        self._update_ok()

    def _validate(self, text: str) -> None:
        self._address_ok = False
        if not text.strip():
            self._set_feedback("", "info")
            self.ok_button.setEnabled(False)
            return
        try:
            result = self._check(text)
        except SecretInputError as exc:
            # Never keep a secret on screen or in the widget's undo history.
            self.address.blockSignals(True)
            self.address.clear()
            self.address.blockSignals(False)
            self._set_feedback(f"⚠ {exc}", "warning")
            self.ok_button.setEnabled(False)
            return
        except ChainfolioError as exc:
            self._set_feedback(str(exc), "error")
            self.ok_button.setEnabled(False)
            return
        if isinstance(result, str):
            self._set_feedback(f"ENS name: {result} will be looked up when you add it.", "ok")
        elif result.family.value == "bitcoin":
            from app.domain.bitcoin import describe_watch

            self._set_feedback(f"✓ {describe_watch(result.watch, result.address)}", "ok")
        else:
            kind = "EVM address (Ethereum and L2s)" if result.family.value == "evm" else "Solana"
            self._set_feedback(f"✓ {kind}: {result.address}", "ok")
        self._address_ok = True
        self._update_ok()

    def _submit(self) -> None:
        self.set_busy(True)
        self.submitted.emit(self.address.text().strip(), self.label.text(), self.group.text())

    def set_busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy and self._address_ok and not self._text_problems)
        self.address.setEnabled(not busy)
        if busy:
            self._set_feedback("Saving…", "info")

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self._set_feedback(message, "error")
