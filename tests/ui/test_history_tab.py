"""Settings → History: no explorer by default; choosing one names it as the party that sees the
addresses; the Etherscan key goes to the keyring, never to the settings file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.config import Settings
from app.secrets import SecretStatus
from app.ui.dialogs.history_tab import HistoryTab
from app.ui.dialogs.settings_dialog import SettingsDialog
from tests.support.fakes import MemorySecrets

OK = SecretStatus(True, "test.Memory")
SEED = " ".join(["abandon"] * 11 + ["about"])


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    yield home


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path / "settings.toml")


def dialog_with(qtbot: QtBot, settings: Settings, secrets: MemorySecrets) -> SettingsDialog:
    dialog = SettingsDialog(settings, secrets, OK, autostart_supported=lambda: False)
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_no_explorer_is_the_default_and_says_nothing_is_sent(
    qtbot: QtBot, settings: Settings
) -> None:
    tab = HistoryTab(settings, MemorySecrets())
    qtbot.addWidget(tab)
    assert tab.choice() == "none"
    assert tab.who_sees.text() == "No address is sent to a block explorer."
    assert not tab.key_box.isEnabled()
    assert tab.key_status.text() == "No Etherscan key is stored yet."


@pytest.mark.parametrize(
    ("choice", "name"), [("etherscan", "Etherscan"), ("blockscout", "Blockscout")]
)
def test_choosing_an_explorer_names_it_as_the_one_that_sees_the_addresses(
    qtbot: QtBot, settings: Settings, choice: str, name: str
) -> None:
    tab = HistoryTab(settings, MemorySecrets())
    qtbot.addWidget(tab)
    tab.choices[choice].setChecked(True)
    text = tab.who_sees.text()
    assert text.startswith(name) and "will see the addresses of your wallets" in text
    assert tab.who_sees.textFormat() == tab.who_sees.textFormat().PlainText
    assert tab.key_box.isEnabled() is (choice == "etherscan")


def test_the_key_goes_to_the_keyring_only(qtbot: QtBot, settings: Settings, tmp_path: Path) -> None:
    secrets = MemorySecrets()
    tab = HistoryTab(settings, secrets)
    qtbot.addWidget(tab)
    tab.choices["etherscan"].setChecked(True)
    tab.store_button.click()
    assert tab.key_status.text() == "Paste the key first."
    tab.key_value.setText(SEED)
    tab.store_button.click()
    assert tab.key_value.text() == "" and secrets.get("etherscan") is None
    assert "seed phrase" in tab.key_status.text() and "abandon" not in tab.key_status.text()
    tab.key_value.setText("ABCDEFGHIJKLMNOPQRSTUVWXYZ12345678")
    tab.store_button.click()
    assert secrets.get("etherscan") == "ABCDEFGHIJKLMNOPQRSTUVWXYZ12345678"
    assert tab.key_value.text() == ""
    assert tab.key_status.text() == "The Etherscan key is stored in the keyring."
    settings.save()
    assert "ABCDEFGHIJ" not in (tmp_path / "settings.toml").read_text()


def test_the_choice_is_saved_with_the_dialog(
    qtbot: QtBot, settings: Settings, config_home: Path, tmp_path: Path
) -> None:
    dialog = dialog_with(qtbot, settings, MemorySecrets())
    tab = dialog.history_tab
    assert (
        dialog.tabs.indexOf(tab) >= 0 and dialog.tabs.tabText(dialog.tabs.indexOf(tab)) == "History"
    )
    tab.choices["blockscout"].setChecked(True)
    emitted: list[list[str]] = []
    dialog.settings_changed.connect(emitted.append)
    dialog.save_button.click()
    assert ["history.explorer"] in emitted
    assert Settings.load(tmp_path / "settings.toml").get("history.explorer") == "blockscout"


def test_cancel_keeps_no_explorer(qtbot: QtBot, settings: Settings, config_home: Path) -> None:
    dialog = dialog_with(qtbot, settings, MemorySecrets())
    dialog.history_tab.choices["etherscan"].setChecked(True)
    dialog.reject()
    assert settings.get("history.explorer") == "none"
