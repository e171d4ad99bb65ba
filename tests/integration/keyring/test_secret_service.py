"""KeyringSecretStore against a real Secret Service (gnome-keyring on a private bus)."""

from __future__ import annotations

from typing import Any

import pytest

from app.logging_setup import redact
from app.secrets import (
    SERVICE,
    InvalidSecretName,
    KeyringSecretStore,
    SecretStoreError,
    secret_status,
)

pytestmark = pytest.mark.integration


def test_status_is_usable(secret_backend: Any) -> None:
    status = secret_status(secret_backend)
    assert status.usable, status.describe()
    assert "SecretService" in status.backend


def test_round_trip_replace_delete_list(secret_backend: Any) -> None:
    store = KeyringSecretStore(secret_backend)
    assert store.names() == []
    assert store.get("coingecko.demo") is None
    store.set("coingecko.demo", "CG-demo-first-1234")
    store.set("rpc.eip155:1.0", "alchemy-key-abcdef")
    assert store.get("coingecko.demo") == "CG-demo-first-1234"
    assert store.names() == ["coingecko.demo", "rpc.eip155:1.0"]

    store.set("coingecko.demo", "CG-demo-second-5678")
    assert KeyringSecretStore(secret_backend).get("coingecko.demo") == "CG-demo-second-5678"
    assert store.names() == ["coingecko.demo", "rpc.eip155:1.0"]

    store.delete("coingecko.demo")
    assert store.get("coingecko.demo") is None
    assert store.names() == ["rpc.eip155:1.0"]
    store.delete("coingecko.demo")  # idempotent
    # the value really lives in the Secret Service under our service name
    assert secret_backend.get_password(SERVICE, "rpc.eip155:1.0") == "alchemy-key-abcdef"


def test_values_read_are_registered_for_redaction(secret_backend: Any) -> None:
    secret_backend.set_password(SERVICE, "coingecko.pro", "CG-pro-written-elsewhere-9")
    assert KeyringSecretStore(secret_backend).get("coingecko.pro") == "CG-pro-written-elsewhere-9"
    assert "CG-pro-written-elsewhere-9" not in redact("key=CG-pro-written-elsewhere-9")


def test_bad_names_and_values_refused_without_echo(secret_backend: Any) -> None:
    store = KeyringSecretStore(secret_backend)
    with pytest.raises(InvalidSecretName):
        store.set("../etc", "whatever-value")
    with pytest.raises(InvalidSecretName):
        store.get("_index")
    with pytest.raises(SecretStoreError) as err:
        store.set("coingecko.demo", "two\nlines-secret")
    assert "lines-secret" not in str(err.value)
    assert store.names() == []


def test_cli_round_trip_in_subprocess(
    secret_service_session: Any, secret_backend: Any, tmp_path: Any
) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, **secret_service_session.env, "CHAINFOLIO_DATA_DIR": str(tmp_path)}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("keys", "status").returncode == 0
    done = cli("keys", "set", "coingecko.demo", stdin="CG-cli-value-4242\n")
    assert done.returncode == 0, done.stderr
    listed = cli("keys", "list")
    assert "coingecko.demo" in listed.stdout and "4242" not in listed.stdout
    assert secret_backend.get_password(SERVICE, "coingecko.demo") == "CG-cli-value-4242"
    assert cli("keys", "remove", "coingecko.demo").returncode == 0
    assert "No keys stored." in cli("keys", "list").stdout


_CHOSEN = """
import sys
if sys.argv[1] == "app":
    from app.secrets import default_backend
    backend = default_backend()
    assert sys.modules["keyring.backends.macOS.api"] is None, "the macOS bindings were loaded"
else:
    import keyring
    backend = keyring.get_keyring()
print(type(backend).__module__ + "." + type(backend).__qualname__)
"""


@pytest.mark.parametrize("bus", ["secret service", "no session bus"])
def test_the_app_picks_the_keyring_keyring_itself_picks(
    secret_service_session: Any, bus: str
) -> None:
    """The app skips keyring's macOS bindings outside macOS (~70 ms of every first keyring use,
    find_library running ldconfig and the compiler); the backend chosen must not change, with a
    Secret Service on the bus and with none."""
    import os
    import subprocess
    import sys

    env = {**os.environ, **secret_service_session.env}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    if bus == "no session bus":
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env["XDG_RUNTIME_DIR"] = "/nonexistent"

    def chosen(how: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _CHOSEN, how], env=env, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    expected = "SecretService.Keyring" if bus == "secret service" else "fail.Keyring"
    assert chosen("app") == chosen("keyring") and chosen("app").endswith(expected)
