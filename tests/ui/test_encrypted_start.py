"""Starting the window on an encrypted database: the passphrase is asked before the data
opens, asked again after a wrong one (with the reason), and quitting the dialog leaves the
file as it was, with a sentence."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import Paths, Settings
from app.storage import conversion
from app.storage.database import open_database
from app.storage.encryption import new_passphrase_key
from app.ui.application import ChainfolioApp
from app.ui.dialogs.passphrase_dialog import PassphraseDialog

PASSPHRASE = "window passphrase"


@pytest.fixture(autouse=True)
def _masking_undone() -> Iterator[None]:
    """Opening encrypted data masks addresses in every log line of the process: undone after,
    so later tests in this process see their logs as usual."""
    yield
    from app.log_privacy import stop_masking

    stop_masking()


def encrypted_data(data_dir: Path) -> Paths:
    paths = Paths.resolve(data_dir)
    paths.ensure()
    open_database(paths.database, paths.backups_dir).dispose()
    conversion.convert(paths.database, paths.backups_dir, None, new_passphrase_key(PASSPHRASE))
    return paths


def visible_dialog(qapp: QApplication) -> PassphraseDialog | None:
    found = [w for w in qapp.topLevelWidgets() if isinstance(w, PassphraseDialog) and w.isVisible()]
    return found[0] if found else None


def test_wrong_then_right_passphrase_opens_the_data(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    paths = encrypted_data(data_dir)
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    app.start()
    qtbot.waitUntil(lambda: visible_dialog(qapp) is not None, timeout=20000)
    dialog = visible_dialog(qapp)
    assert dialog is not None and not dialog.problem.isVisible()
    assert str(paths.database) in dialog.intro.text()
    dialog.entry.setText("not it at all")
    dialog.buttons.accepted.emit()
    # Asked again, saying why; the data is not open.
    qtbot.waitUntil(
        lambda: (d := visible_dialog(qapp)) is not None and d.problem.isVisible(), timeout=20000
    )
    again = visible_dialog(qapp)
    assert again is not None and "does not open the database" in again.problem.text()
    assert again.entry.text() == "" and app.context is None
    again.entry.setText(PASSPHRASE)
    again.buttons.accepted.emit()
    assert app.opened is not None
    qtbot.waitUntil(app.opened.done, timeout=20000)
    assert app.opened.result() is True
    assert app.context is not None and app.context.database_key is not None
    from app.log_privacy import masking

    assert masking()  # encrypted data: no address reaches a log line from now on
    assert app.context.wallets.list() == []
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20000)
    assert task.exception() is None


def test_quitting_the_passphrase_dialog_says_so_and_changes_nothing(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    paths = encrypted_data(data_dir)
    before = hashlib.sha256(paths.database.read_bytes()).hexdigest()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    app.start()
    qtbot.waitUntil(lambda: visible_dialog(qapp) is not None, timeout=20000)
    dialog = visible_dialog(qapp)
    assert dialog is not None
    dialog.buttons.rejected.emit()
    assert app.opened is not None
    qtbot.waitUntil(app.opened.done, timeout=20000)
    assert app.opened.result() is False and app.context is None
    boxes = [
        w for w in qapp.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.isVisible() and "encrypted" in w.text()
    ]  # fmt: skip
    assert boxes and "no passphrase was given" in boxes[0].text()
    assert "Nothing was changed" in boxes[0].text()
    for box in boxes:
        box.close()
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20000)
    assert hashlib.sha256(paths.database.read_bytes()).hexdigest() == before
