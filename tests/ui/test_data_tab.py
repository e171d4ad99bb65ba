"""Settings → Data: encrypting from the window (closes the data, converts with progress,
restarts) and writing a backup file while the app runs. Real files, real SQLCipher."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app.config import Paths, Settings
from app.storage.encryption import connect, encrypted_salt, passphrase_key
from app.ui.application import ChainfolioApp
from app.ui.dialogs.data_tab import DataTab
from app.ui.dialogs.passphrase_dialog import PassphraseDialog

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def started(qapp, qtbot, data_dir: Path) -> ChainfolioApp:  # type: ignore[no-untyped-def]
    from app.bootstrap import bootstrap

    paths = Paths.resolve(data_dir)
    paths.ensure()
    ctx = bootstrap(paths)
    from app.domain.addresses import AddressFamily
    from app.domain.model import Wallet
    from app.storage.wallet_store import SqlWalletRepository

    SqlWalletRepository(ctx.engine).add(Wallet(address=WALLET, family=AddressFamily.EVM))
    ctx.close()
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    app.start()
    assert app.opened is not None
    qtbot.waitUntil(app.opened.done, timeout=20000)
    assert app.opened.result() is True
    return app


def visible(qapp: QApplication, kind: type, text: str = "") -> list:  # type: ignore[type-arg]
    return [
        w for w in qapp.topLevelWidgets()
        if isinstance(w, kind) and w.isVisible() and text in getattr(w, "text", lambda: "")()
    ]  # fmt: skip


def data_tab(app: ChainfolioApp) -> DataTab:
    dialog = app.window.open_settings()
    assert dialog is not None
    tab = dialog.data_tab  # type: ignore[attr-defined]
    assert isinstance(tab, DataTab)
    return tab


def test_encrypt_with_a_passphrase_from_the_window(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = started(qapp, qtbot, data_dir)
    tab = data_tab(app)
    assert "not encrypted" in tab.status.text()
    assert not tab.encrypt_keyring.isEnabled()  # no keyring in tests: said in its tooltip
    assert "Not available here" in tab.encrypt_keyring.toolTip()
    tab.encrypt_passphrase.click()
    qtbot.waitUntil(lambda: bool(visible(qapp, PassphraseDialog)), timeout=10000)
    (ask,) = visible(qapp, PassphraseDialog)
    ask.entry.setText("short")
    ask.again.setText("short")
    ask.buttons.accepted.emit()
    assert ask.isVisible() and "at least 8" in ask.problem.text()
    ask.entry.setText("a window passphrase")
    ask.again.setText("a window passphrase")
    ask.buttons.accepted.emit()
    qtbot.waitUntil(lambda: bool(visible(qapp, QMessageBox, "now encrypted")), timeout=60000)
    db = app.paths.database
    salt = encrypted_salt(db)
    assert salt is not None and WALLET.encode() not in db.read_bytes()
    con = connect(db, passphrase_key("a window passphrase", salt))
    assert con.execute("SELECT address FROM wallets").fetchall() == [(WALLET,)]
    con.close()
    (box,) = visible(qapp, QMessageBox, "now encrypted")
    assert "restarts" in box.text()
    box.done(0)
    assert app.restart_requested
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20000)
    assert task.exception() is None


def test_backup_file_from_the_window_while_it_runs(
    qapp, qtbot, qasync_loop, data_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app = started(qapp, qtbot, data_dir)
    tab = data_tab(app)
    file = tmp_path / "mine.chainfolio-backup"
    task = tab.start_backup(file, "backup passphrase")
    # The task is done a moment before its done-callback says so below the buttons (and
    # enables them again): wait for both.
    qtbot.waitUntil(lambda: task.done() and tab.backup.isEnabled(), timeout=60000)
    assert task.exception() is None, task.exception()
    assert "Backup written to" in tab.message.text() and tab.backup.isEnabled()
    salt = encrypted_salt(file)
    assert salt is not None
    con = connect(file, passphrase_key("backup passphrase", salt))
    assert con.execute("SELECT address FROM wallets").fetchall() == [(WALLET,)]
    con.close()
    again = tab.start_backup(file, "backup passphrase")  # exists: a sentence, nothing written
    qtbot.waitUntil(lambda: again.done() and tab.backup.isEnabled(), timeout=60000)
    assert "already exists" in tab.message.text()
    assert app.context is not None and app.context.wallets.list()  # the app kept its data
    tab.window().close()
    shutdown = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(shutdown.done, timeout=20000)


def test_a_refused_conversion_keeps_the_data_and_says_why(
    qapp, qtbot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """Another Chainfolio holds the database: the window's conversion refuses, the file is as
    it was, and the app restarts to open it again."""
    import hashlib
    import subprocess
    import sys

    from app.ui.storage_change import StorageChange

    app = started(qapp, qtbot, data_dir)
    db = app.paths.database
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys\n"
         "con = sqlite3.connect(sys.argv[1])\n"
         "con.execute('SELECT count(*) FROM wallets').fetchone()\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n",
         str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        app.window.storage_change_requested.emit(StorageChange(encrypt=True, passphrase="p" * 10))
        qtbot.waitUntil(lambda: bool(visible(qapp, QMessageBox, "in use")), timeout=60000)
        before = hashlib.sha256(db.read_bytes()).hexdigest()
    finally:
        holder.communicate("\n", timeout=30)
    (box,) = visible(qapp, QMessageBox, "in use")
    assert "open your data again" in box.text() and "Traceback" not in box.text()
    assert encrypted_salt(db) is None
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    box.done(0)
    assert app.restart_requested
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20000)


def test_restart_runs_the_same_command_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import sys

    import app.ui.application as application

    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(os, "execv", lambda exe, argv: calls.append((exe, list(argv))))
    monkeypatch.setattr(application.logging, "shutdown", lambda: None)  # the session logs on
    monkeypatch.setattr(sys, "argv", ["/x/app/__main__.py", "--data-dir", "/d"])
    application._start_again()
    assert calls == [(sys.executable, [sys.executable, "-m", "app", "--data-dir", "/d"])]


def test_decrypt_from_the_window(qapp, qtbot, qasync_loop, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Encrypted data opened with its passphrase, then Settings → Data → Decrypt…"""
    from app.log_privacy import stop_masking
    from app.storage import conversion
    from app.storage.encryption import new_passphrase_key

    paths = Paths.resolve(data_dir)
    paths.ensure()
    from app.bootstrap import bootstrap
    from app.domain.addresses import AddressFamily
    from app.domain.model import Wallet
    from app.storage.wallet_store import SqlWalletRepository

    ctx = bootstrap(paths)
    SqlWalletRepository(ctx.engine).add(Wallet(address=WALLET, family=AddressFamily.EVM))
    ctx.close()
    conversion.convert(paths.database, paths.backups_dir, None, new_passphrase_key("p" * 12))
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    try:
        app.start()
        qtbot.waitUntil(lambda: bool(visible(qapp, PassphraseDialog)), timeout=20000)
        (ask,) = visible(qapp, PassphraseDialog)
        ask.entry.setText("p" * 12)
        ask.buttons.accepted.emit()
        assert app.opened is not None
        qtbot.waitUntil(app.opened.done, timeout=20000)
        tab = data_tab(app)
        assert "passphrase is asked" in tab.status.text()
        assert tab.decrypt.isVisibleTo(tab) and not tab.encrypt_passphrase.isVisibleTo(tab)
        tab.decrypt.click()
        qtbot.waitUntil(
            lambda: bool(visible(qapp, QMessageBox, "unencrypted again")), timeout=10000
        )
        (confirm,) = visible(qapp, QMessageBox, "unencrypted again")
        go = next(b for b in confirm.buttons() if b.text() == "Decrypt and restart")
        go.click()
        qtbot.waitUntil(
            lambda: bool(visible(qapp, QMessageBox, "no longer encrypted")), timeout=60000
        )
        db = paths.database
        assert encrypted_salt(db) is None and db.read_bytes().startswith(b"SQLite format 3")
        con = connect(db, None)
        assert con.execute("SELECT address FROM wallets").fetchall() == [(WALLET,)]
        con.close()
        (box,) = visible(qapp, QMessageBox, "no longer encrypted")
        box.done(0)
        assert app.restart_requested
        task = asyncio.ensure_future(app.shutdown())
        qtbot.waitUntil(task.done, timeout=20000)
    finally:
        stop_masking()
