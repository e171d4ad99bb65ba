"""The window's free-text fields refuse wallet secrets like the command line: the field is
emptied, the message names it and never shows the text, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.chains.registry import ChainRegistry
from app.config import Settings
from app.domain.addresses import ParsedAddress, parse_address
from app.ui.dialogs.networks_tab import NetworksTab
from app.ui.dialogs.settings_dialog import SettingsDialog
from app.ui.dialogs.wallet_dialog import WalletDialog
from tests.support.fakes import MemorySecrets
from tests.ui.test_settings_dialog import OK
from tests.unit.test_secret_inputs import HEX_KEY, SEED_12, XPRV

ADDR = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"


def _check(text: str) -> ParsedAddress | str:
    return parse_address(text)


def test_wallet_dialog_label_and_group_refuse_secrets(qtbot: QtBot) -> None:
    dialog = WalletDialog(_check)
    qtbot.addWidget(dialog)
    dialog.address.setText(ADDR)
    submitted: list[tuple[str, str, str]] = []
    dialog.submitted.connect(lambda *a: submitted.append(a))
    for edit, field, secret in ((dialog.label, "name", SEED_12), (dialog.group, "group", XPRV)):
        edit.setText(secret)
        assert edit.text() == ""
        feedback = dialog.feedback.text()
        assert f"The wallet {field} looks like" in feedback
        assert secret.split()[0] not in feedback
    dialog.label.setText("cold")
    dialog.ok_button.click()
    assert submitted == [(ADDR, "cold", "")]


def _networks(qtbot: QtBot, tmp_path: Path, secrets: MemorySecrets) -> NetworksTab:
    tab = NetworksTab(ChainRegistry(tmp_path / "networks.toml", secrets))
    qtbot.addWidget(tab)
    return tab


def test_networks_tab_refuses_secrets_and_bad_urls(qtbot: QtBot, tmp_path: Path) -> None:
    secrets = MemorySecrets()
    t = _networks(qtbot, tmp_path, secrets)
    t.chain_list.setCurrentItem(t.chain_item("eip155:1"))
    before = t.current_urls()
    for url, words in (
        (HEX_KEY, "looks like a private key"),
        ("https://h.example/?q=" + SEED_12.replace(" ", "+"), "looks like a seed phrase"),
        ("http://127.0.0.1:1/ x", "spaces"),
        ("http://127.0.0.1:1/\n", "line breaks"),
    ):
        t.new_url.setText(url)
        t.add_url_button.click()
        assert words in t.url_error.text() and not t.url_error.isHidden(), url
        assert HEX_KEY not in t.url_error.text() and "winner" not in t.url_error.text()
        if "looks like" in words:
            assert t.new_url.text() == ""  # a refused secret does not stay on screen
    assert t.current_urls() == before

    t.fields["name"].setText("N" * 100_000)  # no maxLength: Qt would cut a pasted phrase
    t.fields["chain_id"].setText("1337")
    t.fields["urls"].setText(f"http://127.0.0.1:1 {HEX_KEY}")
    t.fields["symbol"].setText("ETH")
    t.add_network_button.click()
    assert "looks like a private key" in t.field_errors["urls"].text()
    assert "network name is too long (" in t.field_errors["name"].text()
    assert t.fields["urls"].text() == ""
    assert HEX_KEY not in t.field_errors["urls"].text()
    t.fields["urls"].setText(f"http://127.0.0.1:1, {SEED_12}")
    t.add_network_button.click()
    assert "looks like a seed phrase" in t.field_errors["urls"].text()
    assert t.fields["urls"].text() == ""
    assert not t.busy
    assert not (tmp_path / "networks.toml").exists()
    assert secrets.values == {}


def test_api_key_value_that_is_a_wallet_secret_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    secrets = MemorySecrets()
    dialog = SettingsDialog(
        Settings.load(tmp_path / "settings.toml"), secrets, OK, autostart_supported=lambda: False
    )  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.key_name.setEditText("coingecko.demo")
    dialog.key_value.setText(SEED_12)
    dialog.store_key_button.click()
    assert "The key value looks like a seed phrase" in dialog.key_feedback.text()
    assert dialog.key_value.text() == "" and secrets.values == {}

    dialog.key_name.setEditText(HEX_KEY)
    dialog.key_value.setText("CG-fine-1234")
    dialog.store_key_button.click()
    assert "The key name looks like a private key" in dialog.key_feedback.text()
    assert dialog.key_name.currentText() == "" and secrets.values == {}

    dialog.key_name.setEditText("rpc.eip155:1.0")
    dialog.key_value.setText(HEX_KEY)  # some providers' keys are 64 hex digits
    dialog.store_key_button.click()
    assert secrets.values == {"rpc.eip155:1.0": HEX_KEY}
