"""Failing fast when no name resolves: the memory of failed lookups, and the transport using it
(a fake resolver for the names, real HTTP to a real local server)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import httpx
import pytest

from app import net
from app.net.names import NO_NAMES, NameFailures, is_name_error, needs_lookup
from app.net.policy import NetPolicy


def test_a_few_hosts_failing_mean_the_network_is_down_for_every_name() -> None:
    now = [100.0]
    names = NameFailures(hosts=3, window=10.0, clock=lambda: now[0])
    names.failed("a.example")
    names.failed("a.example")  # the same host again counts once
    names.failed("b.example")
    assert not names.down("c.example")  # two hosts: a typo or two, not the network
    names.failed("c.example")
    assert names.down("d.example") and names.down("a.example")
    for address in ("127.0.0.1", "::1", "[::1]", "192.168.1.20", "localhost", "node.localhost"):
        assert not names.down(address)  # no lookup needed: a node on this computer or LAN
    now[0] += 10.5  # the failures are older than the window: look names up again
    assert not names.down("d.example")


def test_reaching_any_host_clears_the_memory() -> None:
    names = NameFailures(hosts=2)
    names.failed("a.example")
    names.failed("b.example")
    assert names.down("c.example")
    names.reached()
    assert not names.down("c.example")


def test_what_needs_a_lookup() -> None:
    assert needs_lookup("eth.drpc.org") and needs_lookup("node.lan")
    assert not needs_lookup("10.0.0.5") and not needs_lookup("fe80::1")
    assert not needs_lookup("LOCALHOST")


def test_only_a_name_that_did_not_resolve_is_a_name_error() -> None:
    def wrapped(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except OSError as inner:
                raise httpx.ConnectError(str(inner)) from inner
        except httpx.ConnectError as exc:
            return exc

    assert is_name_error(wrapped(socket.gaierror(socket.EAI_NONAME, "Name or service not known")))
    assert is_name_error(wrapped(socket.gaierror(socket.EAI_AGAIN, "Temporary failure")))
    assert not is_name_error(wrapped(ConnectionRefusedError(111, "Connection refused")))
    assert not is_name_error(httpx.ConnectError("no cause"))


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A resolver for the test's names: ``*.invalid`` never resolves, ``up.test`` is this
    computer; every lookup is counted. Nothing is asked of a DNS server."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        asked.append(name)
        if name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real("127.0.0.1" if name == "up.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


@pytest.fixture
def egress() -> Iterator[net.Egress]:
    e = net.Egress()
    previous = net.install(e)
    yield e
    net.install(previous)


def _get(*urls: str) -> list[str]:
    """Each URL in turn: "ok", or the error's text."""

    async def go() -> list[str]:
        out = []
        async with net.client("rpc", timeout=5) as client:
            for url in urls:
                try:
                    out.append((await client.get(url)).text)
                except httpx.ConnectError as exc:
                    out.append(str(exc))
        return out

    return asyncio.run(go())


def test_with_no_name_resolving_requests_fail_without_a_lookup(
    egress: net.Egress, lookups: list[str], server: int
) -> None:
    p = server
    got = _get(f"http://a.invalid:{p}/", f"http://b.invalid:{p}/", f"http://up.test:{p}/")
    assert got[2] == "ok" and "Name or service not known" in got[0]  # two names: not down
    got = _get(*(f"http://{h}.invalid:{p}/" for h in "abc"), f"http://d.invalid:{p}/")
    assert got[3] == NO_NAMES and lookups.count("d.invalid") == 0  # failed at once
    assert _get(f"http://up.test:{p}/") == [NO_NAMES]  # any name: the network is down
    assert lookups.count("up.test") == 1
    assert _get(f"http://127.0.0.1:{p}/") == ["ok"]  # an address needs no lookup, and
    assert _get(f"http://up.test:{p}/") == ["ok"]  # reaching it shows names may resolve
    assert lookups.count("up.test") == 2


def test_through_a_proxy_names_are_the_proxys_to_resolve(
    egress: net.Egress, lookups: list[str], server: int
) -> None:
    for host in "abcd":
        egress.names.failed(f"{host}.invalid")
    egress.policy = NetPolicy(proxy=f"http://127.0.0.1:{server}")
    # the request goes to the proxy (the local server answers it), never failed by the memory
    assert _get(f"http://d.invalid:{server}/") == ["ok"]
