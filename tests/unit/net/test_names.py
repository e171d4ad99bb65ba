"""Failing fast when no name resolves: the memory of failed lookups, and the transport using it
(a fake resolver for the names, real HTTP to a real local server)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import httpx
import pytest

from app import net
from app.net.names import NO_NAMES, NameFailures, needs_lookup, unanswered_lookup
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


def test_a_lookup_failing_late_keeps_the_network_down() -> None:
    """A lookup begun before the network was taken to be down (a silent name server: 10 s a
    lookup) fails after the others: it keeps the memory, so the next URL fails at once."""
    now = [100.0]
    names = NameFailures(hosts=3, window=10.0, clock=lambda: now[0])
    for host in ("a.example", "b.example", "c.example"):
        names.failed(host)
    now[0] = 110.0  # the others failed 10 s ago; one begun before them fails now
    names.failed("d.example")
    assert names.down("e.example")
    now[0] = 119.0
    assert names.down("e.example")
    now[0] = 120.5  # 10 s with no lookup failing: look names up again
    assert not names.down("e.example")


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


def test_only_a_lookup_that_got_no_answer_counts() -> None:
    """Offline, getaddrinfo says "temporary failure"; a name server that times out may also
    say "no such name", but only after seconds. A quick "no such name" is an answer (a typo,
    a DNS filter): the network works."""

    def wrapped(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except OSError as inner:
                raise httpx.ConnectError(str(inner)) from inner
        except httpx.ConnectError as exc:
            return exc

    again = wrapped(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    no_such = wrapped(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert unanswered_lookup(again, 0.01)
    assert not unanswered_lookup(no_such, 0.02) and unanswered_lookup(no_such, 5.0)
    refused = wrapped(ConnectionRefusedError(111, "Connection refused"))
    assert not unanswered_lookup(refused, 5.0)
    assert not unanswered_lookup(httpx.ConnectError("no cause"), 5.0)


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
    """A resolver for the test's names: ``*.invalid`` gets no answer (as offline),
    ``*.blocked`` a quick "no such name" (as from a DNS filter), ``*.silent`` no answer for
    longer than the request may wait, ``up.test`` is this computer; every lookup is counted.
    Nothing is asked of a DNS server."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        asked.append(name)
        if name.endswith(".invalid"):  # no name server answers
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if name.endswith(".blocked"):  # one answers at once: no such name
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if name.endswith(".silent"):  # a name server that never answers: the caller gives up
            time.sleep(1.0)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real("127.0.0.1" if name == "up.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


@pytest.fixture
def egress() -> Iterator[net.Egress]:
    e = net.Egress()
    previous = net.install(e)
    yield e
    net.install(previous)


def _get(*urls: str, timeout: float = 5) -> list[str]:
    """Each URL in turn: "ok", or the error's text."""

    async def go() -> list[str]:
        out = []
        async with net.client("rpc", timeout=timeout) as client:
            for url in urls:
                try:
                    out.append((await client.get(url)).text)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    out.append(str(exc) or type(exc).__name__)
        return out

    return asyncio.run(go())


def test_with_no_name_resolving_requests_fail_without_a_lookup(
    egress: net.Egress, lookups: list[str], server: int
) -> None:
    p = server
    got = _get(f"http://a.invalid:{p}/", f"http://b.invalid:{p}/", f"http://up.test:{p}/")
    assert got[2] == "ok" and "Temporary failure" in got[0]  # two names: not down
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


def test_names_a_name_server_says_do_not_exist_never_fail_the_rest(
    egress: net.Egress, lookups: list[str], server: int
) -> None:
    """A DNS filter blocking hosts, or typos in custom URLs, answer at once: the network works
    and the next name is looked up as usual."""
    got = _get(*(f"http://{h}.blocked:{server}/" for h in "abcdef"), f"http://up.test:{server}/")
    assert all("Name or service not known" in g for g in got[:6]) and got[6] == "ok"
    assert lookups.count("up.test") == 1


def test_lookups_that_never_come_back_in_time_count_too(
    egress: net.Egress, lookups: list[str], server: int
) -> None:
    """A silent name server takes longer than a request waits: the request times out while
    connecting, and three of those mean the network is down just the same."""
    hosts = [f"http://{h}.silent:{server}/" for h in "abc"]
    assert _get(*hosts, timeout=0.2) == ["ConnectTimeout"] * 3
    assert _get(f"http://up.test:{server}/") == [NO_NAMES]


def test_the_refresh_loop_looks_up_many_names_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each lookup blocks a thread until it is answered: with asyncio's default six threads
    (two cores) a dozen silent lookups queued behind each other. The refresh's loop runs 20 at
    once: each lookup here returns only when all 20 are under way."""
    import threading

    together = threading.Barrier(20, timeout=10)

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        together.wait()  # a BrokenBarrierError when fewer than 20 run at once
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    async def lookups() -> list[BaseException]:
        loop = net.with_lookup_threads(asyncio.get_running_loop())  # as the refresh's loops
        asks = [loop.getaddrinfo(f"n{i}.invalid", 443) for i in range(20)]
        return list(await asyncio.gather(*asks, return_exceptions=True))  # type: ignore[arg-type]

    errors = asyncio.run(lookups())
    assert all(isinstance(e, socket.gaierror) and e.errno == socket.EAI_AGAIN for e in errors)
