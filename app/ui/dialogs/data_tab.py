"""Settings → Data: the database encrypted at rest, and encrypted backup files.

Encrypting or decrypting is handed to the app (``MainWindow.storage_change_requested``): it
closes the data, converts it in a worker thread with progress, and restarts. A backup file is
written while the app keeps running: in a worker thread when the database is encrypted (the
app's own connections use the same SQLCipher library), otherwise by the command line in a
child process, so two SQLite libraries never hold locks on one file inside one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ChainfolioError
from app.ui.dialogs.passphrase_dialog import PassphraseDialog
from app.ui.storage_change import StorageChange
from app.ui.theme import Role, paint_text

log = logging.getLogger(__name__)

EXPLAIN_ENCRYPT = (
    "Encrypting writes an encrypted copy of your database (SQLCipher, AES-256), checks every "
    "table against the original and only then puts it in its place; the backups taken before "
    "upgrades are encrypted too, and the log stops recording addresses. Your data is closed "
    "meanwhile and Chainfolio restarts when it is done."
)
EXPLAIN_BACKUP = (
    "A backup file holds your whole portfolio, encrypted with a passphrase of its own. It is "
    "also how you move to a new computer: install Chainfolio there and run "
    "“chainfolio backup restore FILE”."
)


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class DataTab(QWidget):
    """``window``: the main window (its ``context`` and ``storage_change_requested``)."""

    def __init__(self, window: QWidget | None) -> None:
        super().__init__()
        self._window = window
        self._context: Any = getattr(window, "context", None)
        self._task: asyncio.Future[Any] | None = None
        self._dialog: Any = None
        self.status = _plain()
        self.encrypt_keyring = QPushButton("Encrypt, key in the system keyring")
        self.encrypt_passphrase = QPushButton("Encrypt with a passphrase…")
        self.decrypt = QPushButton("Decrypt…")
        self.backup = QPushButton("Create a backup file…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setVisible(False)
        self.message = _plain()

        encryption = QGroupBox("Encryption at rest")
        col = QVBoxLayout(encryption)
        col.addWidget(self.status)
        col.addWidget(_plain(EXPLAIN_ENCRYPT))
        row = QHBoxLayout()
        for button in (self.encrypt_keyring, self.encrypt_passphrase, self.decrypt):
            row.addWidget(button)
        row.addStretch(1)
        col.addLayout(row)
        self.keyring_note = _plain()
        paint_text(self.keyring_note, Role.MUTED)
        self.keyring_note.setVisible(False)
        col.addWidget(self.keyring_note)
        backups = QGroupBox("Backup file")
        col2 = QVBoxLayout(backups)
        col2.addWidget(_plain(EXPLAIN_BACKUP))
        row2 = QHBoxLayout()
        row2.addWidget(self.backup)
        row2.addStretch(1)
        col2.addLayout(row2)
        layout = QVBoxLayout(self)
        layout.addWidget(encryption)
        layout.addWidget(backups)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.encrypt_keyring.clicked.connect(self._ask_keyring)
        self.encrypt_passphrase.clicked.connect(self._ask_passphrase)
        self.decrypt.clicked.connect(self._ask_decrypt)
        self.backup.clicked.connect(self._ask_backup_file)
        self._show_state()

    @classmethod
    def attach(cls, dialog: Any, window: QWidget | None) -> DataTab:
        """Add the tab to the settings dialog (its ``tabs``)."""
        tab = cls(window)
        dialog.tabs.addTab(tab, "Data")
        return tab

    # ------------------------------------------------------------------ state

    @property
    def database(self) -> Path | None:
        return self._context.paths.database if self._context is not None else None

    def _show_state(self) -> None:
        if self._context is None:
            self.status.setText("Your data is not open yet.")
            for b in (self.encrypt_keyring, self.encrypt_passphrase, self.decrypt, self.backup):
                b.setEnabled(False)
            return
        key = self._context.database_key
        if key is None:
            self.status.setText(
                f"Your data is not encrypted: anyone who can read {self.database} can read "
                "your portfolio."
            )
        elif key.from_passphrase:
            self.status.setText(
                "Your data is encrypted; its passphrase is asked every time Chainfolio starts."
            )
        else:
            self.status.setText("Your data is encrypted; its key is kept in the system keyring.")
        self.encrypt_keyring.setVisible(key is None)
        self.encrypt_passphrase.setVisible(key is None)
        self.decrypt.setVisible(key is not None)
        problem = self._keyring_problem() if key is None else None
        self.encrypt_keyring.setEnabled(problem is None)
        if problem is not None:
            self.encrypt_keyring.setToolTip(f"Not available here: {problem}")
            self.keyring_note.setText(
                "No usable system keyring here, so only a passphrase can protect your data."
            )
            self.keyring_note.setVisible(True)

    def _keyring_problem(self) -> str | None:
        """Why the keyring cannot keep the key (the app's keyring status, probed once)."""
        status_of = getattr(getattr(self._context, "secrets", None), "status", None)
        if status_of is None:  # a secret store that cannot say: ask the keyring itself
            from app.storage.encryption import KeyringKeys

            return KeyringKeys().problem()
        status = status_of()
        return None if status.usable else str(status.problem)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        paint_text(self.message, Role.ERROR if error else None)

    # ------------------------------------------------------------------ conversion

    def _request(self, change: StorageChange) -> None:
        signal = getattr(self._window, "storage_change_requested", None)
        if signal is None:
            self._say("Encryption can only be changed from the main window.", error=True)
            return
        signal.emit(change)
        dialog = self.window()
        if dialog is not self._window and hasattr(dialog, "reject"):
            dialog.reject()  # the settings close; the app shows the conversion's progress

    def _confirm(self, title: str, text: str, button: str, change: StorageChange) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        go = box.addButton(button, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def done(_result: int) -> None:
            if box.clickedButton() is go:
                self._request(change)

        box.finished.connect(done)
        self._dialog = box
        box.open()

    def _ask_keyring(self) -> None:
        self._confirm(
            "Encrypt your data",
            "Your data will be encrypted with a random key kept in the system keyring, so "
            "nothing is asked at start. " + EXPLAIN_ENCRYPT,
            "Encrypt and restart",
            StorageChange(encrypt=True),
        )

    def _ask_passphrase(self) -> None:
        assert self.database is not None
        dialog = PassphraseDialog(
            self.database, None, self, new=True,
            intro="Choose the passphrase that will be asked every time Chainfolio starts. "
            "Without it nobody, you included, can read your data: keep it safe. "
            + EXPLAIN_ENCRYPT,
        )  # fmt: skip

        def done(result: int) -> None:
            if result == PassphraseDialog.DialogCode.Accepted.value:
                change = StorageChange(encrypt=True, passphrase=dialog.passphrase())
                dialog.clear()
                self._request(change)

        dialog.finished.connect(done)
        self._dialog = dialog
        dialog.open()

    def _ask_decrypt(self) -> None:
        self._confirm(
            "Decrypt your data",
            "Your data will be stored unencrypted again: anyone who can read the file can read "
            "your portfolio, and the log records addresses again. Chainfolio restarts when it "
            "is done.",
            "Decrypt and restart",
            StorageChange(encrypt=False),
        )

    # ------------------------------------------------------------------ backup file

    def _ask_backup_file(self) -> None:
        dialog = QFileDialog(self, "Create a backup file")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("Chainfolio backup (*.chainfolio-backup)")
        dialog.setDefaultSuffix("chainfolio-backup")
        dialog.fileSelected.connect(lambda name: self._ask_backup_passphrase(Path(name)))
        self._dialog = dialog
        dialog.open()

    def _ask_backup_passphrase(self, file: Path) -> None:
        dialog = PassphraseDialog(
            file, None, self, new=True,
            intro=f"Choose a passphrase for the backup file {file}. You will need it to "
            "restore the backup, on this computer or a new one.",
        )  # fmt: skip

        def done(result: int) -> None:
            if result == PassphraseDialog.DialogCode.Accepted.value:
                passphrase = dialog.passphrase()
                dialog.clear()
                self.start_backup(file, passphrase)

        dialog.finished.connect(done)
        self._dialog = dialog
        dialog.open()

    def start_backup(self, file: Path, passphrase: str) -> asyncio.Future[Any]:
        """Write the backup off the window's thread; the result is said below the buttons."""
        self.backup.setEnabled(False)
        self.bar.setVisible(True)
        self._say(f"Writing the backup to {file}…")
        self._task = asyncio.ensure_future(self._backup(file, passphrase))
        self._task.add_done_callback(self._backup_done)
        return self._task

    async def _backup(self, file: Path, passphrase: str) -> str:
        context = self._context
        if context.database_key is not None:
            from app.storage.backup import create_backup

            report = await asyncio.to_thread(
                create_backup, context.paths.database, context.database_key, file, passphrase
            )
            return f"Backup written to {file} ({report.rows:,} rows)."
        return await _backup_in_child(context.paths, file, passphrase)

    def _backup_done(self, task: asyncio.Future[Any]) -> None:
        self.bar.setVisible(False)
        self.backup.setEnabled(True)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self._say(str(task.result()) + " Keep its passphrase safe.")
        elif isinstance(exc, ChainfolioError):
            self._say(str(exc), error=True)
        else:
            log.warning("writing a backup failed", exc_info=exc)
            self._say("The backup could not be written; the log has the details.", error=True)


async def _backup_in_child(paths: Any, file: Path, passphrase: str) -> str:
    """``chainfolio backup create FILE`` in a child process, the passphrase on its stdin."""
    frozen = getattr(sys, "frozen", False)
    argv = [] if frozen else ["-m", "app"]
    env = dict(os.environ)
    if paths.portable:
        env["CHAINFOLIO_DATA_DIR"] = str(paths.data_dir)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv, "--passphrase-stdin", "backup", "create", str(file),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await proc.communicate((passphrase + "\n").encode())
    if proc.returncode != 0:
        lines = [ln for ln in err.decode(errors="replace").splitlines() if ln.strip()]
        reason = lines[-1].removeprefix("chainfolio: error: ") if lines else "unknown error"
        raise ChainfolioError(reason)
    return out.decode(errors="replace").strip().split(" Keep its")[0]
