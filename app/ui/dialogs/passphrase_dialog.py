"""Asking for a passphrase: the encrypted database's at start, or a new one (typed twice).

Shown with ``open()`` and awaited through a future (:func:`ask_passphrase`), never ``exec()``
inside a coroutine. The text typed is never shown, logged or kept after the dialog closes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.theme import Role, paint_text

MIN_NEW_PASSPHRASE = 8


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class PassphraseDialog(QDialog):
    """``new``: choosing a passphrase (typed twice, at least 8 characters); otherwise asking
    for the one that opens ``path``, with ``problem`` (a wrong passphrase) said above."""

    def __init__(
        self,
        path: Path,
        problem: str | None = None,
        parent: QWidget | None = None,
        *,
        new: bool = False,
        intro: str | None = None,
    ) -> None:
        super().__init__(parent)
        self._new = new
        self.setWindowTitle("Choose a passphrase" if new else "Unlock your Chainfolio data")
        self.setModal(True)
        self.setMinimumWidth(460)
        self.intro = _plain(
            intro
            or (
                "Choose the passphrase that will be asked every time Chainfolio starts. "
                "Without it nobody, you included, can read the data: keep it safe."
                if new
                else f"Your Chainfolio data ({path}) is encrypted. Enter its passphrase to "
                "open it. (If its key is kept in the system keyring instead, quit, unlock the "
                "keyring and start Chainfolio again.)"
            )
        )
        self.entry = QLineEdit()
        self.entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.entry.setAccessibleName("Passphrase")
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.again.setAccessibleName("The same passphrase again")
        self.problem = _plain(problem or "")
        paint_text(self.problem, Role.ERROR)
        self.problem.setVisible(bool(problem))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Use this passphrase" if new else "Open")
        if not new:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quit")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Passphrase:", self.entry)
        if new:
            form.addRow("Again:", self.again)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.entry.setFocus()

    def say(self, problem: str) -> None:
        self.problem.setText(problem)
        self.problem.setVisible(True)

    def _accept(self) -> None:
        text = self.entry.text()
        if not text:
            self.say("Type the passphrase first.")
            return
        if self._new:
            if len(text) < MIN_NEW_PASSPHRASE:
                self.say(f"Choose at least {MIN_NEW_PASSPHRASE} characters.")
                return
            if self.again.text() != text:
                self.say("The two passphrases differ.")
                return
        self.accept()

    def passphrase(self) -> str:
        return self.entry.text()

    def clear(self) -> None:
        self.entry.clear()
        self.again.clear()


async def ask_passphrase(
    path: Path,
    problem: str | None,
    parent: QWidget | None,
    *,
    new: bool = False,
    intro: str | None = None,
) -> str | None:
    """Show the dialog (``open()``) and wait for it: the passphrase, or None when cancelled."""
    dialog = PassphraseDialog(path, problem, parent, new=new, intro=intro)
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not future.done():
            accepted = result == QDialog.DialogCode.Accepted.value
            future.set_result(dialog.passphrase() if accepted else None)
        dialog.clear()

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await future
    finally:
        if dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()
