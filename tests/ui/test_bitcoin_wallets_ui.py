"""Bitcoin keys in the window: the first-run page and the wallet dialog check a zpub, an xpub
and a bc1 address as they are typed and add the key itself (never only its first address); an
xprv or a seed phrase is wiped at once and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap import AppContext
from app.config import Settings
from app.secrets import SecretStatus
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.dialogs.wallet_dialog import WalletDialog
from app.ui.first_run import FirstRunPage
from app.ui.tasks import TaskRunner
from tests.support.fakes import MemorySecrets
from tests.unit.bitcoin.test_derivation import XPRV, XPUB_44, ZPUB_84

FIRST_84 = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"


def page_for(qtbot: QtBot, context: AppContext) -> FirstRunPage:
    page = FirstRunPage(TaskRunner())
    qtbot.addWidget(page)
    page.attach(context.wallets.check, None, context.wallets.add_many)
    page.show()
    return page


def cell(page: FirstRunPage, row: int, column: int) -> str:
    item = page.results.item(row, column)
    return item.text() if item is not None else ""


def test_first_run_adds_the_keys_themselves(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    page = page_for(qtbot, context)
    page.editor.setPlainText(f"{ZPUB_84}\n{TAPROOT}\n{XPUB_44}\n{FIRST_84}")
    assert cell(page, 0, 1) == (
        f"✓ Bitcoin extended public key zpub6rFR…tZYs, first address {FIRST_84}"
    )
    assert cell(page, 1, 1) == f"✓ Bitcoin address: {TAPROOT}"
    assert cell(page, 2, 1).startswith("✓ Bitcoin extended public key xpub6Bos…")
    assert cell(page, 3, 1) == "The same as line 1: remove one."  # the zpub's own address
    page.editor.setPlainText(f"{ZPUB_84}\n{TAPROOT}\n{XPUB_44}")
    assert page.add_button.isEnabled()
    page.add_button.click()
    qtbot.waitUntil(lambda: len(context.wallets.list()) == 3, timeout=5000)
    stored = {w.address: w.watch for w in context.wallets.list()}
    assert stored[FIRST_84] == ZPUB_84 and stored[TAPROOT] is None
    assert XPUB_44 in stored.values()


@pytest.mark.parametrize("secret", [XPRV, f"wpkh({XPRV}/<0;1>/*)"])
def test_first_run_wipes_an_xprv(qtbot: QtBot, context: AppContext, secret: str) -> None:
    page = page_for(qtbot, context)
    page.editor.setPlainText(f"{ZPUB_84}\n{secret}")
    assert page.editor.toPlainText() == ""
    assert page.checks == [] and not page.add_button.isEnabled()
    assert "was not saved" in page.feedback.text() and XPRV[:20] not in page.feedback.text()
    assert context.wallets.list() == []


def test_wallet_dialog_checks_a_zpub_and_wipes_an_xprv(qtbot: QtBot, context: AppContext) -> None:
    dialog = WalletDialog(context.wallets.check)
    qtbot.addWidget(dialog)
    dialog.address.setText(ZPUB_84)
    assert dialog.ok_button.isEnabled()
    assert "zpub6rFR…tZYs" in dialog.feedback.text() and ZPUB_84 not in dialog.feedback.text()
    dialog.address.setText(XPRV)
    assert dialog.address.text() == "" and not dialog.ok_button.isEnabled()
    assert "extended private key" in dialog.feedback.text()
    assert XPRV[:20] not in dialog.feedback.text()


def test_settings_bitcoin_tab(qtbot: QtBot, tmp_path: Path) -> None:
    """A wrong Electrum server keeps the dialog open on the Bitcoin tab and changes nothing; a
    right one is saved with the gap limit and announced in ``settings_changed``."""
    settings = Settings.load(tmp_path / "settings.toml")
    dialog = SettingsDialog(
        settings,
        MemorySecrets(),
        SecretStatus(True, "test.Memory"),
        autostart_supported=lambda: False,
    )  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.open()
    tab = dialog.bitcoin_tab
    assert dialog.tabs.tabText(dialog.tabs.indexOf(tab)) == "Bitcoin"
    tab.server.setText("ftp://node.local")
    assert not tab.problem.isHidden() and "ssl://host:port" in tab.problem.text()
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.tabs.currentWidget() is tab
    assert Settings.load(tmp_path / "settings.toml").get("bitcoin.electrum_server") == ""

    tab.server.setText("ssl://node.local:50002")
    tab.gap.setValue(40)
    assert tab.problem.isHidden()
    announced: list[str] = []
    dialog.settings_changed.connect(announced.extend)
    dialog.save_button.click()
    assert not dialog.isVisible()
    assert {"bitcoin.electrum_server", "bitcoin.gap_limit"} <= set(announced)
    saved = Settings.load(tmp_path / "settings.toml")
    assert saved.get("bitcoin.electrum_server") == "ssl://node.local:50002"
    assert saved.get("bitcoin.gap_limit") == 40
