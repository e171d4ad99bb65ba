"""URL settings are checked strictly, and no setting accepts a wallet secret or an API key."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.domain.errors import SettingsError
from tests.unit.test_secret_inputs import HEX_KEY, SEED_12

URL_KEY = "prices.defillama.url"


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:1/\n",
        "http://127.0.0.1:1/ ",
        "http://127.0.0.1:1/\r\nHost: evil",
        "http://127.0.0.1: 1/",
        "ftp://127.0.0.1/",
        "http://",
        "file:///etc/passwd",
        "127.0.0.1:1",
    ],
)
def test_url_settings_are_strict(tmp_path: Path, value: str) -> None:
    settings = Settings(tmp_path / "settings.toml")
    with pytest.raises(SettingsError) as info:
        settings.set(URL_KEY, value)
    assert value.strip() not in str(info.value)
    assert settings.get(URL_KEY) == "https://coins.llama.fi"


def test_a_good_url_is_kept_exactly(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.toml")
    assert settings.set(URL_KEY, "http://127.0.0.1:8080/prices") == "http://127.0.0.1:8080/prices"


@pytest.mark.parametrize(
    "value",
    [
        "https://h.example/?apikey=abc123",
        "https://h.example/api/v3/k3y",
        "https://user:pass@h.example/",
    ],
)
def test_url_settings_refuse_api_keys(tmp_path: Path, value: str) -> None:
    settings = Settings(tmp_path / "settings.toml")
    with pytest.raises(SettingsError, match="keyring") as info:
        settings.set(URL_KEY, value)
    assert value not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (URL_KEY, f"https://h.example/{HEX_KEY}"),
        (URL_KEY, "https://h.example/?q=" + SEED_12.replace(" ", "+")),
        ("currency", HEX_KEY),
        ("ui.theme", SEED_12),
        ("prices.order", SEED_12.replace(" ", ",")),
    ],
)
def test_no_setting_takes_or_echoes_a_secret(tmp_path: Path, key: str, value: str) -> None:
    settings = Settings(tmp_path / "settings.toml")
    with pytest.raises(SettingsError, match="looks like") as info:
        settings.set(key, value)
    message = str(info.value)
    assert HEX_KEY not in message and "sausage" not in message


def test_a_secret_in_the_settings_file_is_reported_without_echo(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(f'[prices.defillama]\nurl = "https://h.example/{HEX_KEY}"\n')
    settings = Settings.load(path)
    assert settings.load_problem is not None
    assert HEX_KEY not in settings.load_problem
    assert settings.get(URL_KEY) == "https://coins.llama.fi"
