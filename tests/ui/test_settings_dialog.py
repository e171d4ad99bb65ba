"""Settings dialog: field-level validation, saving, autostart, API keys through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from app import autostart
from app.config import Settings
from app.secrets import KeyringSecretStore, SecretStatus
from app.ui.dialogs.settings_dialog import MASK, SettingsDialog
from tests.support.fakes import MemorySecrets

OK = SecretStatus(True, "test.Memory")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    yield home


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path / "settings.toml")


def make(
    qtbot: QtBot, settings: Settings, secrets: object = None, status: SecretStatus = OK
) -> SettingsDialog:
    dialog = SettingsDialog(
        settings, secrets or MemorySecrets(), status, autostart_supported=lambda: True
    )  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_interval_validation_is_field_level(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    dialog = make(qtbot, settings)
    dialog.interval.setText("0")
    error = dialog._errors["refresh.interval_minutes"]
    assert "between 1 and 1440" in error.text() and not error.isHidden()
    assert not dialog.save_button.isEnabled()
    dialog.interval.setText("abc")
    assert "whole number" in error.text()
    dialog.interval.setText("30")
    assert error.isHidden() and dialog.save_button.isEnabled()


def test_currency_validation(qtbot: QtBot, settings: Settings, config_home: Path) -> None:
    dialog = make(qtbot, settings)
    dialog.currency.setEditText("XYZ")
    assert "must be one of" in dialog._errors["currency"].text()
    dialog.save()
    assert dialog.result() == 0 and "Fix the fields" in dialog.save_problem.text()
    assert not settings.path.exists()
    dialog.currency.setEditText("eur")
    assert dialog._errors["currency"].isHidden()


def test_save_writes_settings_and_autostart(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    dialog = make(qtbot, settings)
    dialog.currency.setEditText("EUR")
    dialog.interval.setText("5")
    dialog.start_minimized.setChecked(True)
    dialog.start_at_login.setChecked(True)
    dialog.theme_buttons["dark"].setChecked(True)
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.save()
    assert set(changed.args[0]) == {
        "currency",
        "refresh.interval_minutes",
        "ui.start_minimized",
        "ui.theme",
    }
    reloaded = Settings.load(settings.path)
    assert reloaded.get("currency") == "EUR"
    assert reloaded.get("refresh.interval_minutes") == 5
    assert reloaded.get("ui.theme") == "dark"
    entry = config_home / "autostart" / "chainfolio.desktop"
    assert entry.exists() and "Exec=" in entry.read_text()

    again = make(qtbot, reloaded)
    assert again.start_at_login.isChecked() and again.theme_buttons["dark"].isChecked()
    again.start_at_login.setChecked(False)
    again.save()
    assert not entry.exists()


def test_api_keys_add_replace_remove_masked(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    secrets = MemorySecrets()
    dialog = make(qtbot, settings, secrets)
    dialog.key_name.setEditText("coingecko.demo")
    dialog.key_value.setText("CG-ui-secret-1111")
    dialog.store_key_button.click()
    assert secrets.values == {"coingecko.demo": "CG-ui-secret-1111"}
    assert dialog.key_value.text() == ""
    shown = dialog.key_list.item(0).text()
    assert "coingecko.demo" in shown and MASK in shown and "1111" not in shown

    dialog.key_value.setText("CG-ui-secret-2222")
    dialog.store_key_button.click()
    assert secrets.values["coingecko.demo"] == "CG-ui-secret-2222"
    assert "Replaced" in dialog.key_feedback.text()

    dialog.key_name.setEditText("bad name!")
    dialog.key_value.setText("whatever-value")
    dialog.store_key_button.click()
    assert "not a valid key name" in dialog.key_feedback.text()
    assert "whatever-value" not in dialog.key_feedback.text()

    dialog.key_list.setCurrentRow(0)
    dialog.remove_key_button.click()
    assert secrets.values == {} and dialog.key_list.count() == 0


def test_no_keyring_shows_what_is_missing(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    store = KeyringSecretStore(fail.Keyring())
    dialog = make(qtbot, settings, store, store.status())
    text = dialog.keyring_status.text()
    assert "NOT AVAILABLE" in text and "gnome-keyring" in text
    assert not dialog.store_key_button.isEnabled() and not dialog.key_value.isEnabled()


def test_autostart_leaves_foreign_entry_alone(config_home: Path) -> None:
    path = autostart.entry_path()
    path.parent.mkdir(parents=True)
    path.write_text("[Desktop Entry]\nExec=something-else\n")
    assert not autostart.is_enabled()
    assert autostart.disable() is False and path.exists()
    autostart.enable(["/opt/Chain folio/bin/chainfolio", "--data-dir", "$HOME/x"])
    text = path.read_text()
    assert 'Exec="/opt/Chain folio/bin/chainfolio" --data-dir "\\$HOME/x"' in text
    assert autostart.disable() is True and not path.exists()
