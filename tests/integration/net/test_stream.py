"""Raw TCP streams (the Electrum protocol) through the one way out: SOCKS5 with the host name
and the host's credentials, a dead proxy as one sentence, own-nodes-only before connecting."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from app import net
from app.net.policy import NetPolicy
from app.net.stream import StreamRefused, open_connection
from tests.integration.net.conftest import Socks
from tests.support.net import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def echo() -> Iterator[int]:
    """A line echo server on 127.0.0.1 (its own thread); yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb") as f:
                for line in f:
                    f.write(b"echo " + line)
                    f.flush()

    threading.Thread(target=serve, daemon=True).start()
    yield port
    server.close()


@pytest.fixture
def egress() -> Iterator[net.Egress]:
    e = net.Egress(
        recorder=net.Recorder(None, lambda: ["bc1qexampleaddressxxxxxxxxxxxxxxxxxxxxxx"])
    )
    previous = net.install(e)
    yield e
    net.install(previous)


async def talk(host: str, port: int) -> bytes:
    reader, writer = await open_connection("bitcoin", host, port)
    writer.write(b'{"params": ["bc1qexampleaddressxxxxxxxxxxxxxxxxxxxxxx"]}\n')
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return line


def test_stream_through_socks_by_name_with_its_own_credentials(
    socks: Socks, echo: int, egress: net.Egress
) -> None:
    egress.policy = NetPolicy(proxy=socks.url)
    line = asyncio.run(talk("node.privacy.test", echo))  # only the proxy can resolve it
    assert line.startswith(b"echo {")
    (entry,) = socks.entries()
    assert (entry["host"], entry["port"], entry["atyp"]) == ("node.privacy.test", echo, 3)
    assert entry["user"] == ":".join(egress.credentials(f"node.privacy.test:{echo}"))
    assert egress.recorder is not None
    (contact,) = egress.recorder.flush()
    assert contact.host == f"node.privacy.test:{echo}" and contact.purpose == "bitcoin"
    assert contact.addresses == ("bc1qexampleaddressxxxxxxxxxxxxxxxxxxxxxx",)


def test_dead_proxy_and_own_nodes_only(echo: int, egress: net.Egress) -> None:
    dead = free_port()
    egress.policy = NetPolicy(proxy=f"socks5h://127.0.0.1:{dead}")
    with pytest.raises(StreamRefused) as caught:
        asyncio.run(talk("127.0.0.1", echo))
    assert caught.value.strerror == (
        f"The proxy at 127.0.0.1:{dead} does not answer; nothing was sent."
    )
    egress.policy = NetPolicy(own_nodes_only=True, own_hosts=frozenset({"electrum.lan:50001"}))
    with pytest.raises(StreamRefused, match="is not one of your own servers"):
        asyncio.run(talk("127.0.0.1", echo))
    assert egress.recorder is not None
    (refused,) = egress.recorder.flush()
    assert refused.refused and refused.host == f"127.0.0.1:{echo}"
