from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Paths, Settings
from app.domain.errors import SettingsError


def test_portable_paths_put_everything_in_one_dir(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path)
    assert paths.portable
    assert paths.database.parent == tmp_path
    assert paths.settings_file.parent == tmp_path
    assert paths.log_dir.parent == tmp_path


def test_env_var_selects_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINFOLIO_DATA_DIR", str(tmp_path))
    assert Paths.resolve().data_dir == tmp_path


def test_defaults_without_file(tmp_path: Path) -> None:
    s = Settings.load(tmp_path / "settings.toml")
    assert s.get("refresh.interval_minutes") == 15
    assert s.get("currency") == "USD"


def test_set_validates_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    s = Settings.load(path)
    s.set("refresh.interval_minutes", "30")
    s.set("ui.start_minimized", "yes")
    s.save()
    again = Settings.load(path)
    assert again.get("refresh.interval_minutes") == 30
    assert again.get("ui.start_minimized") is True
    assert "[refresh]" in path.read_text()


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("refresh.interval_minutes", "0", "between 1 and 1440"),
        ("refresh.interval_minutes", "soon", "whole number"),
        ("currency", "DOGE", "must be one of"),
        ("ui.theme", "pink", "must be one of"),
        ("no.such.key", "1", "unknown setting"),
    ],
)
def test_invalid_values_are_refused(tmp_path: Path, key: str, value: str, needle: str) -> None:
    s = Settings.load(tmp_path / "settings.toml")
    with pytest.raises(SettingsError, match=needle):
        s.set(key, value)


def test_invalid_file_is_reported_and_last_good_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    good = Settings.load(path)
    good.set("refresh.interval_minutes", 42)
    good.save()
    path.write_text("[refresh]\ninterval_minutes = -5\n")
    broken = Settings.load(path)
    assert broken.load_problem and "not valid" in broken.load_problem
    assert broken.get("refresh.interval_minutes") == 42
    assert path.read_text() == "[refresh]\ninterval_minutes = -5\n"  # untouched
    broken.set("currency", "EUR")
    broken.save()
    aside = list(tmp_path.glob("settings.toml.invalid-*"))
    assert len(aside) == 1 and "-5" in aside[0].read_text()
    final = Settings.load(path)
    assert final.get("currency") == "EUR" and final.get("refresh.interval_minutes") == 42


def test_unparseable_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("this is = = not toml")
    s = Settings.load(path)
    assert s.load_problem and "TOML" in s.load_problem
    assert s.get("currency") == "USD"


def test_unknown_keys_from_newer_versions_survive_a_save(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[future]\nthing = "kept"\n')
    s = Settings.load(path)
    s.set("currency", "CHF")
    s.save()
    assert 'thing = "kept"' in path.read_text()


def test_remember_saves_and_survives_an_unwritable_file(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.load(tmp_path / "settings.toml")
    settings.remember("ui.show_spam", True)
    assert Settings.load(tmp_path / "settings.toml").get("ui.show_spam") is True
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    elsewhere = Settings.load(blocked / "settings.toml")  # its folder is a file: cannot save
    elsewhere.remember("ui.show_spam", True)
    assert elsewhere.get("ui.show_spam") is True and "could not save settings" in caplog.text
