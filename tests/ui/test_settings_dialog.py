"""Settings dialog: field-level validation, saving, autostart, API keys through the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app import autostart
from app.config import Settings
from app.secrets import KeyringSecretStore, SecretStatus
from app.ui.dialogs.settings_dialog import MASK, SettingsDialog
from tests.support.fakes import MemorySecrets
from tests.support.messages import leaks

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


# ------------------------------------------------------------------ messages for a person


def test_leak_detector_catches_what_it_should() -> None:
    assert leaks("Lookup failed (ClientConnectorDNSError)") == ["ClientConnectorDNSError"]
    assert leaks("Keyring: OK (keyring.backends.SecretService.Keyring)") != []
    assert leaks("refresh.interval_minutes: must be between 1 and 1440") != []
    assert leaks("The refresh interval must be between 1 and 1440, not 0.") == []


@pytest.mark.parametrize("bad", ["0", "-3", "99999", "abc", "", "yes please", "1.5", "ftp://x y"])
def test_no_setting_message_names_a_key_or_a_class(bad: str) -> None:
    from app.config import SETTINGS
    from app.domain.errors import SettingsError

    messages = []
    for setting in SETTINGS.values():
        try:
            setting.coerce(bad)
        except SettingsError as exc:
            messages.append(str(exc))
    assert messages
    assert [m for m in messages if leaks(m)] == []


def test_interval_error_is_a_sentence_without_the_key(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    dialog = make(qtbot, settings)
    dialog.interval.setText("0")
    text = dialog._errors["refresh.interval_minutes"].text()
    assert text.startswith("The refresh interval") and leaks(text) == []


def test_keyring_status_names_the_keyring_in_words(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    status = SecretStatus(True, "keyring.backends.SecretService.Keyring")
    dialog = make(qtbot, settings, status=status)
    text = dialog.keyring_status.text()
    assert "GNOME Keyring" in text and leaks(text) == []
    refused = KeyringSecretStore(fail.Keyring()).status()
    assert leaks(refused.describe()) == [], refused.describe()


def test_a_failing_keyring_is_reported_without_its_exception(
    qtbot: QtBot, settings: Settings, config_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The keyring says "org.freedesktop.DBus.Error.ServiceUnknown" and raises RuntimeError: the
    person reads that the keyring could not store the key; the log keeps the detail."""
    from keyring.backends.SecretService import Keyring

    class Broken(Keyring):
        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown: no secrets service")

    store = KeyringSecretStore(Broken())
    dialog = make(qtbot, settings, store, store.status())
    dialog.key_name.setEditText("coingecko.demo")
    dialog.key_value.setText("CG-broken-4242")
    with caplog.at_level("WARNING"):
        dialog.store_key_button.click()
    text = dialog.key_feedback.text()
    assert "could not store" in text and leaks(text) == [] and "DBus" not in text
    assert "RuntimeError" in caplog.text and "CG-broken-4242" not in caplog.text + text


def test_save_stores_only_what_changed(
    qtbot: QtBot, tmp_path: Path, config_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Saving the dialog after changing one field marks only that setting "(changed)" in
    ``chainfolio config list``; saving again with nothing changed writes nothing new."""
    from app.cli import main

    data = tmp_path / "portable"
    data.mkdir()
    settings = Settings.load(data / "settings.toml")
    dialog = make(qtbot, settings)
    dialog.interval.setText("30")
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.save()
    assert changed.args[0] == ["refresh.interval_minutes"]
    assert main(["--data-dir", str(data), "config", "list"]) == 0
    marked = [line for line in capsys.readouterr().out.splitlines() if "(changed)" in line]
    assert marked == ["refresh.interval_minutes = 30  (changed)"]

    again = make(qtbot, Settings.load(data / "settings.toml"))
    again.interval.setText("15")  # back to the default: nothing left to store
    again.save()
    assert Settings.load(data / "settings.toml").is_default("refresh.interval_minutes")
    assert "interval" not in (data / "settings.toml").read_text()


def test_an_old_file_holding_defaults_is_not_marked_changed(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('currency = "USD"\n[refresh]\ninterval_minutes = 15\nauto = false\n')
    settings = Settings.load(path)
    assert settings.is_default("currency") and settings.is_default("refresh.interval_minutes")
    assert not settings.is_default("refresh.auto")


def test_network_editor_errors_show_whole_and_go_once_fixed(
    qtbot: QtBot, settings: Settings, config_home: Path
) -> None:
    from app.chains.registry import ChainRegistry

    secrets = MemorySecrets()
    dialog = SettingsDialog(
        settings,
        secrets,
        OK,
        autostart_supported=lambda: False,
        registry=ChainRegistry(settings.path.with_name("networks.toml"), secrets),
    )  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.resize(600, 520)  # a small screen: the tab scrolls rather than squeezing rows
    dialog.open()
    tab = dialog.networks_tab
    assert tab is not None
    dialog.tabs.setCurrentIndex(1)
    for key, text in {
        "name": "Home",
        "chain_id": "1",
        "urls": "ftp://node",
        "symbol": "??",
    }.items():
        tab.fields[key].setText(text)
    tab.fields["multicall3"].setText("0x1234")
    tab.check_and_add()
    qtbot.waitUntil(lambda: not tab.field_errors["urls"].isHidden())
    QApplication.processEvents()  # the layout places the messages
    for key in ("urls", "multicall3", "chain_id", "symbol"):
        label = tab.field_errors[key]
        assert not label.isHidden() and leaks(label.text()) == []
        wanted = label.heightForWidth(label.width())
        assert label.height() >= wanted, f"{key}: {label.height()} < {wanted} (clipped)"
        assert tab.fields[key].height() >= tab.fields[key].minimumSizeHint().height()
    assert tab.field_errors["urls"].height() >= 2 * label.fontMetrics().lineSpacing()
    tab.fields["symbol"].setText("HOME")  # fixed: its message goes at once
    assert tab.field_errors["symbol"].isHidden()
    tab.fields["urls"].setText("http://127.0.0.1:8545")
    tab.fields["chain_id"].setText("999001")
    tab.fields["multicall3"].clear()
    assert all(label.isHidden() for label in tab.field_errors.values())
    assert tab.custom_feedback.text() == ""
