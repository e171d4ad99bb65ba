"""Session-scoped real Secret Service (private dbus-daemon + gnome-keyring-daemon)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.keyring_service import SecretServiceSession, missing_tools, secret_service


@pytest.fixture(scope="session")
def secret_service_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecretServiceSession]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"Install {' '.join(missing)} (apt: gnome-keyring dbus) for keyring tests")
    with secret_service(Path(tmp_path_factory.mktemp("secret-service"))) as session:
        yield session


@pytest.fixture
def secret_backend(secret_service_session: SecretServiceSession) -> Iterator[Any]:
    """keyring's SecretService backend, chosen explicitly; every chainfolio entry wiped after."""
    from keyring.backends.SecretService import Keyring

    backend = Keyring()
    yield backend
    from app.secrets import INDEX_ENTRY, SERVICE, KeyringSecretStore

    store = KeyringSecretStore(backend)
    for name in [*store.names(), INDEX_ENTRY]:
        with contextlib.suppress(Exception):
            backend.delete_password(SERVICE, name)
