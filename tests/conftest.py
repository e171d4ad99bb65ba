"""Shared fixtures. Every test gets its own data directory (portable mode)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
# No test may touch the keyring of the person running them: the default is keyring's "fail"
# backend (the app's no-keyring path); keyring tests start a private Secret Service and choose
# its backend explicitly.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

ROOT = Path(__file__).resolve().parent.parent
# postgres_server / postgres_url / storage_engine: the real PostgreSQL server for the tests.
pytest_plugins = ["tests.support.postgres"]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("CHAINFOLIO_DATA_DIR", str(d))
    yield d


_real_connect = __import__("socket").socket.connect
_real_connect_ex = __import__("socket").socket.connect_ex


def _loopback_only(address: object) -> None:
    import ipaddress

    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            ok = ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may not reach the network (tried {host})")


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every in-process connection must go to 127.0.0.1/::1; the public defaults are never hit."""
    import socket

    def connect(self: socket.socket, address: object) -> None:
        _loopback_only(address)
        _real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        _loopback_only(address)
        return int(_real_connect_ex(self, address))

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(autouse=True)
def _declared_requests_are_exact() -> Iterator[None]:
    """A request whose sender declares what it carries (``app.net.recorder.Reveals``) is not
    searched by the privacy ledger; in the tests its whole body is searched too, and any
    difference from the declaration fails the test that sent it."""
    from app.net.recorder import Recorder

    Recorder.check_reveals = True
    Recorder.undeclared.clear()
    yield
    wrong, Recorder.undeclared[:] = list(Recorder.undeclared), []
    assert not wrong, f"requests declared the wrong watched addresses: {wrong}"


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Every test starts with the cyclic garbage collector running and leaves it as it found it:
    an in-process ``refresh --once`` turns it off for good, as that command does (its process
    ends right after), and the tests after it would otherwise run without it."""
    import gc

    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()
