"""Without an acceptable keyring: refuse to store, say what is missing, write no file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.secrets import KeyringSecretStore, SecretStoreUnavailable, secret_status


class PlaintextFileKeyring(KeyringBackend):
    """Shaped like keyrings.alt.file.PlaintextKeyring: writes values to a file."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.path.write_text(password)

    def delete_password(self, service: str, username: str) -> None:
        self.path.unlink(missing_ok=True)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_fail_backend_says_what_is_missing_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    before = _files(tmp_path)
    store = KeyringSecretStore(fail.Keyring())
    status = store.status()
    assert not status.usable
    assert "Secret Service" in (status.problem or "")
    assert "gnome-keyring" in (status.fix or "") and "KeePassXC" in (status.fix or "")
    assert store.get("coingecko.demo") is None  # the app keeps working without keys
    assert store.names() == []
    with pytest.raises(SecretStoreUnavailable) as err:
        store.set("coingecko.demo", "CG-never-stored-777")
    assert "gnome-keyring" in str(err.value) and "CG-never-stored-777" not in str(err.value)
    with pytest.raises(SecretStoreUnavailable):
        store.delete("coingecko.demo")
    assert _files(tmp_path) == before


def test_plaintext_backend_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "keyring_pass.cfg"
    store = KeyringSecretStore(PlaintextFileKeyring(target))
    assert not store.status().usable
    assert "keyrings.alt" in (store.status().fix or "")
    with pytest.raises(SecretStoreUnavailable):
        store.set("coingecko.demo", "CG-plain-123")
    assert not target.exists()


def test_real_keyrings_alt_refused_if_installed(tmp_path: Path) -> None:
    alt: Any = pytest.importorskip("keyrings.alt.file")
    assert not secret_status(alt.PlaintextKeyring()).usable


def test_cli_with_fail_backend(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        "CHAINFOLIO_DATA_DIR": str(data),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "HOME": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "app", "keys", "set", "coingecko.demo"],
        input="CG-cli-never-999\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "gnome-keyring" in run.stderr and "CG-cli-never-999" not in run.stderr + run.stdout
    status = subprocess.run(
        [sys.executable, "-m", "app", "keys", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 1 and "NOT AVAILABLE" in status.stdout
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"CG-cli-never-999" not in path.read_bytes()
