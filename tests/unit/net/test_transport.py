"""The transport refuses before connecting and never goes round a dead proxy."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from app import net
from app.net.policy import NetPolicy
from app.net.transport import HostRefused, ProxyDown
from tests.support.net import free_port


@pytest.fixture
def egress() -> object:
    e = net.Egress(recorder=net.Recorder(None, lambda: []))
    previous = net.install(e)
    yield e
    net.install(previous)


def test_own_nodes_only_refuses_before_any_connection(egress: net.Egress) -> None:
    with socket.socket() as listener:  # a server that would notice a connection
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        egress.policy = NetPolicy(own_nodes_only=True, own_hosts=frozenset({"node.lan"}))

        async def go() -> None:
            async with net.client("prices", timeout=2) as client:
                await client.get(f"http://127.0.0.1:{port}/x")

        with pytest.raises(HostRefused, match=f"127.0.0.1:{port} is not one of your own"):
            asyncio.run(go())
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert egress.recorder is not None
    (contact,) = egress.recorder.flush()
    assert contact.refused and contact.host == f"127.0.0.1:{port}"


def test_dead_proxy_is_one_sentence_and_no_direct_attempt(egress: net.Egress) -> None:
    dead = free_port()
    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen()
        target.setblocking(False)
        egress.policy = NetPolicy(proxy=f"socks5h://127.0.0.1:{dead}")

        async def go() -> None:
            async with net.client("rpc", timeout=2) as client:
                await client.post(f"http://127.0.0.1:{target.getsockname()[1]}/", json={})

        with pytest.raises(ProxyDown) as caught:
            asyncio.run(go())
        assert str(caught.value) == (
            f"The proxy at 127.0.0.1:{dead} does not answer; nothing was sent."
        )
        with pytest.raises(BlockingIOError):
            target.accept()  # nothing came directly
    assert egress.recorder is not None and egress.recorder.flush() == []
    assert isinstance(caught.value, httpx.HTTPError)  # callers' existing handlers catch it


def test_only_tls_pools_load_the_ca_store() -> None:
    """A plain-HTTP request (a node on the LAN) never builds the TLS context; an https one,
    or one through an HTTPS proxy, uses the verifying context, in a pool of its own."""
    import ssl

    from app.net.transport import EgressTransport
    from app.tls import tls_context

    made: list[int] = []

    def verify() -> ssl.SSLContext:
        made.append(1)
        return tls_context()

    transport = EgressTransport(
        net.Egress(), "rpc", limits=httpx.Limits(max_connections=2), verify=verify
    )
    plain = transport._pool(NetPolicy(), "node.lan:8545", secure=False)
    assert made == [] and transport._pool(NetPolicy(), "node.lan:8545", secure=False) is plain
    secure = transport._pool(NetPolicy(), "node.lan:8545", secure=True)
    assert made == [1] and secure is not plain
    through = transport._pool(NetPolicy(proxy="https://proxy.lan:3128"), "node.lan", False)
    assert made == [1, 1] and through not in (plain, secure)
    checking = secure._pool._ssl_context  # the verifying context, not an unchecked one
    assert checking is not None and checking.verify_mode is ssl.CERT_REQUIRED
