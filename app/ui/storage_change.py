"""Encrypting or decrypting the database from the window (Settings → Data).

A conversion needs the database to itself: the window stops its schedule and background work,
closes its data, converts in a worker thread (progress in a modal dialog), and then restarts
itself so the data opens the normal way: with its new key, or as it was after a failure.
Nothing here runs a query on the window's thread.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from app.domain.errors import ChainfolioError

if TYPE_CHECKING:
    from app.storage.encryption import DatabaseKey
    from app.ui.application import ChainfolioApp

log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class StorageChange:
    """``encrypt`` with a keyring key (``passphrase`` None) or a passphrase; or decrypt."""

    encrypt: bool
    passphrase: str | None = None

    def __repr__(self) -> str:
        return f"StorageChange(encrypt={self.encrypt})"


def _new_key(change: StorageChange) -> DatabaseKey | None:
    from app.storage.encryption import KeyringKeys, KeyUnavailable, new_passphrase_key
    from app.storage.encryption import new_random_key as random_key

    if not change.encrypt:
        return None
    if change.passphrase is not None:
        return new_passphrase_key(change.passphrase)
    keys = KeyringKeys()
    problem = keys.problem()
    if problem is not None:
        raise KeyUnavailable(f"No usable system keyring to keep the key in. {problem}")
    key = random_key()
    keys.put(key)
    return key


def _forget(key: DatabaseKey | None) -> None:
    from app.storage.encryption import KeyringKeys

    if key is not None and not key.from_passphrase:
        KeyringKeys().delete(key.salt)


async def change_storage(app: ChainfolioApp, change: StorageChange) -> bool:
    """Convert the database; True when it was converted. The app restarts either way (its
    data was closed for the conversion)."""
    from app.storage.conversion import convert

    context = app.context
    if context is None:
        return False
    paths = context.paths
    old_key = context.database_key
    verb = "Encrypting" if change.encrypt else "Decrypting"
    progress = QProgressDialog(f"{verb} your data…", "", 0, 100, app.window)
    progress.setWindowTitle(f"{verb} your data")
    progress.setCancelButton(None)
    progress.setWindowModality(Qt.WindowModality.ApplicationModal)
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.setValue(0)
    progress.show()
    loop = asyncio.get_running_loop()

    def report(fraction: float, message: str) -> None:  # from the converting thread
        def show() -> None:
            progress.setValue(int(fraction * 100))
            progress.setLabelText(f"{message}…")

        loop.call_soon_threadsafe(show)

    new_key: DatabaseKey | None = None
    problem: str | None = None
    try:
        progress.setLabelText("Closing your data…")
        await app.release_data()
        new_key = await asyncio.to_thread(_new_key, change)
        await asyncio.to_thread(
            convert, paths.database, paths.backups_dir, old_key, new_key, progress=report
        )
        if not change.encrypt:
            await asyncio.to_thread(_forget, old_key)
        else:
            from app.log_privacy import mask_addresses_in_logs, scrub_log_files

            mask_addresses_in_logs()
            await asyncio.to_thread(scrub_log_files, paths.log_dir)
    except ChainfolioError as exc:
        problem = str(exc)
    except OSError as exc:
        log.warning("converting the database failed", exc_info=True)
        problem = f"The conversion stopped: {exc.strerror or exc}. Your data was kept as it was."
    if problem is not None:
        await asyncio.to_thread(_forget, new_key)
        log.warning("database conversion refused: %s", problem)
    progress.close()
    progress.deleteLater()
    if problem is None:
        text = (
            "Your data is now encrypted"
            + (
                ": its passphrase is asked every time Chainfolio starts."
                if change.passphrase is not None
                else ", with its key kept in the system keyring."
            )
            if change.encrypt
            else "Your data is no longer encrypted."
        ) + " Chainfolio restarts now to open it."
    else:
        text = f"{problem} Chainfolio restarts now to open your data again."
    box = QMessageBox(
        QMessageBox.Icon.Information if problem is None else QMessageBox.Icon.Warning,
        "Chainfolio", text, QMessageBox.StandardButton.Ok, app.window,
    )  # fmt: skip
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.finished.connect(lambda _r: app.restart())
    box.open()
    return problem is None
