from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from app.bootstrap import AppContext
from app.domain.addresses import AddressFamily
from app.domain.model import Wallet
from app.ui.main_window import MainWindow
from app.ui.models.wallets_model import WalletColumn, WalletsModel
from app.ui.tasks import TaskRunner

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"


def gone(widget: object) -> bool:
    return not isValid(widget) or not widget.isVisible()  # type: ignore[attr-defined]


def make_window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.show()
    window.attach(context)
    return window


def test_wallets_model_passes_modeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = WalletsModel()
    model.set_wallets(
        [
            Wallet(id=1, address=ADDR, family=AddressFamily.EVM, label="<b>Main</b>"),
            Wallet(id=2, address=SOL, family=AddressFamily.SOLANA, group="phone"),
        ]
    )
    qtmodeltester.check(model)
    model.add_wallet(Wallet(id=3, address=ADDR.lower(), family=AddressFamily.EVM))
    model.remove_wallet(Wallet(id=1, address=ADDR, family=AddressFamily.EVM))
    qtmodeltester.check(model)
    assert model.index(0, WalletColumn.NETWORK).data() == "Solana"


def test_empty_state_then_table(qtbot: QtBot, context: AppContext, qasync_loop: object) -> None:
    window = make_window(qtbot, context)
    assert window.wallets_page.currentWidget() is window.wallets_page.empty
    dialog = window.add_wallet()
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.address, ADDR.lower())
    assert dialog.ok_button.isEnabled()
    assert ADDR in dialog.feedback.text()
    dialog.label.setText("Hardware")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: gone(dialog), timeout=5000)
    assert window.wallets_page.currentWidget() is not window.wallets_page.empty
    assert [w.address for w in context.wallets.list()] == [ADDR]
    assert "1 wallet watched" in window.status_label.text()


def test_dialog_explains_bad_input_and_clears_secrets(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    window = make_window(qtbot, context)
    dialog = window.add_wallet()
    assert dialog is not None
    qtbot.keyClicks(dialog.address, ADDR.replace("aAeb", "aaeb"))
    assert "EIP-55" in dialog.feedback.text()
    assert not dialog.ok_button.isEnabled()
    dialog.address.setText("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    assert "private key" in dialog.feedback.text()
    assert dialog.address.text() == ""  # the secret does not stay on screen
    assert not dialog.ok_button.isEnabled()


def test_duplicate_is_reported_in_dialog(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    window = make_window(qtbot, context)
    dialog = window.add_wallet()
    assert dialog is not None
    dialog.address.setText(ADDR)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 1, timeout=5000)
    second = window.add_wallet()
    assert second is not None
    second.address.setText(ADDR.lower())
    assert "already" in second.feedback.text()


def test_edit_and_remove(qtbot: QtBot, context: AppContext, qasync_loop: object) -> None:
    window = make_window(qtbot, context)
    dialog = window.add_wallet()
    assert dialog is not None
    dialog.address.setText(SOL)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 1, timeout=5000)
    window.wallets_page.table.selectRow(0)
    assert window.act_edit.isEnabled() and window.act_remove.isEnabled()
    edit = window.edit_wallet()
    assert edit is not None and edit.address.isReadOnly()
    edit.label.setText("Phone")
    edit.ok_button.click()
    assert context.wallets.list()[0].label == "Phone"
    assert window.wallets_model.index(0, WalletColumn.NAME).data() == "Phone"
    window.wallets_page.table.selectRow(0)
    box = window.remove_selected()
    assert box is not None
    from PySide6.QtWidgets import QMessageBox

    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 0, timeout=5000)
    assert context.wallets.list() == []
    assert window.wallets_page.currentWidget() is window.wallets_page.empty


def test_about_and_shortcuts(qtbot: QtBot, context: AppContext) -> None:
    window = make_window(qtbot, context)
    box = window.show_about()
    assert "Chainfolio" in box.text()
    box.close()
    assert window.act_add.shortcut().toString() == "Ctrl+N"
    assert window.act_quit.shortcut().toString() == "Ctrl+Q"
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Wallets", "&Refresh", "&Help"]
    assert window.act_settings.shortcut().toString() == "Ctrl+,"


def test_settings_dialog_opens_from_the_window_and_reports_changes(
    qtbot: QtBot, context: AppContext
) -> None:
    window = make_window(qtbot, context)
    dialog = window.open_settings()
    assert dialog is not None and dialog.isVisible() and dialog.isModal()
    with qtbot.waitSignal(window.settings_changed, timeout=2000) as changed:
        dialog.settings_changed.emit(["ui.theme"])
    assert changed.args == [["ui.theme"]]
    dialog.close()


def test_hostile_label_shown_as_plain_text(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = make_window(qtbot, context)
    window.wallets_model.set_wallets(
        [Wallet(id=9, address=ADDR, family=AddressFamily.EVM, label="<img src=x>")]
    )
    assert window.wallets_model.index(0, WalletColumn.NAME).data() == "<img src=x>"


def test_forced_themes_set_the_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QPalette

    from app.ui.application import apply_theme

    original = qapp.palette()
    try:
        apply_theme(qapp, "dark")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        apply_theme(qapp, "light")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 180
    finally:
        qapp.setPalette(original)


def test_portfolio_view_choices_are_remembered(qtbot: QtBot, context: AppContext) -> None:
    from app.config import Settings
    from app.ui.models.holdings_data import GroupBy

    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.attach(context)
    page = window.holdings_page
    assert page.model.group_by == GroupBy.NONE and page.hide_small.isChecked()
    page.set_group_by(GroupBy.PROTOCOL)
    page.hide_small.setChecked(False)
    page.show_spam.setChecked(True)
    saved = Settings.load(context.paths.settings_file)
    assert saved.get("ui.holdings_group_by") == "protocol"
    assert saved.get("ui.hide_small_balances") is False and saved.get("ui.show_spam") is True

    again = MainWindow(TaskRunner())
    qtbot.addWidget(again)
    again.attach(context)
    assert again.holdings_page.model.group_by == GroupBy.PROTOCOL
    assert not again.holdings_page.hide_small.isChecked()
    assert again.holdings_page.show_spam.isChecked()
