"""Real servers for the one-way-out tests: anvil, counting HTTP fronts, SOCKS5 proxies, and a
socket guard that lets the app's thread connect to nothing but the proxy."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.evm.anvil import Anvil, running
from tests.support.net import free_port, port_open, wait_until

ROOT = Path(__file__).resolve().parents[3]
TEST_NAMES = ("node.privacy.test", "price.privacy.test", "ens.privacy.test")


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    yield from running(31337)


@dataclass
class Socks:
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"socks5h://127.0.0.1:{self.port}"

    def entries(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture
def socks(tmp_path: Path) -> Iterator[Socks]:
    """tests/support/socks_server.py in its own process: logs every CONNECT with its
    credentials, and resolves the test-only host names the test process cannot."""
    port = free_port()
    log = tmp_path / "socks.jsonl"
    maps = [a for name in TEST_NAMES for a in ("--map", f"{name}=127.0.0.1")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.socks_server", "--port", str(port), "--log",
         str(log), *maps],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: port_open(port), 20, "the SOCKS server to listen")
        yield Socks(port, log, proc)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Microsocks:
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def microsocks(tmp_path: Path) -> Iterator[Microsocks]:
    """Debian's microsocks (packaging/bootstrap.sh installs it); it logs each connection."""
    exe = shutil.which("microsocks")
    if exe is None:
        pytest.skip("microsocks not installed: apt-get install microsocks")
    port = free_port()
    log = tmp_path / "microsocks.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "-i", "127.0.0.1", "-p", str(port)], stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_until(lambda: port_open(port), 20, "microsocks to listen")
        yield Microsocks(port, log, proc)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Guard:
    """What the app's thread tried: every IP connection and every name lookup."""

    allowed: set[int]
    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    blocked: list[tuple[str, int]] = field(default_factory=list)


@contextlib.contextmanager
def only_ports(monkeypatch: pytest.MonkeyPatch, *allowed: int) -> Iterator[Guard]:
    """In the test's own thread (where the app's event loop runs), an IP connection to any
    port but ``allowed`` fails and is noted; a lookup of a test-only name fails from any
    thread (only the proxy may resolve it). The servers' threads are left alone."""
    guard = Guard(set(allowed))
    app_thread = threading.current_thread()
    connect, connect_ex, lookup = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(sock: socket.socket, address: object) -> None:
        if threading.current_thread() is not app_thread:
            return
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            target = (str(address[0]), int(address[1]))
            guard.connects.append(target)
            if target[1] not in guard.allowed:
                guard.blocked.append(target)
                raise ConnectionRefusedError(f"direct connection to {target} blocked by the test")

    def guarded_connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return int(connect_ex(sock, address))

    def guarded_lookup(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".test"):
            guard.lookups.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "test-only name: only the proxy resolves it")
        return lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    try:
        yield guard
    finally:
        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", lookup)


@pytest.fixture(autouse=True)
def _egress_restored() -> Iterator[None]:
    """A test that sets a proxy or own-nodes-only leaves the process's egress as it found it."""
    from app import net

    before = net.current()
    yield
    net.install(before)
