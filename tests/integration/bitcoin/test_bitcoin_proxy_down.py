"""A proxy that does not answer: a Bitcoin read says so in the sentence the README promises
("The proxy at … does not answer; nothing was sent."), not "the server cannot be reached", and
nothing reaches the server (Esplora over HTTP, Electrum over a raw stream)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from tests.support.bitcoin_fakes import DEMO_ZPUB, ElectrumFake, EsploraFake, demo_chain
from tests.support.net import free_port

pytestmark = pytest.mark.integration


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def bitcoin_reason(out: str) -> str:
    doc = json.loads(out)
    (chain,) = [c for c in doc["chains"] if c["chain"].startswith("bip122:")]
    assert chain["status"] == "failed"
    return str(chain["reason"])


@pytest.fixture
def electrum() -> Iterator[ElectrumFake]:
    loop = asyncio.new_event_loop()
    fake = ElectrumFake(demo_chain())
    loop.run_until_complete(fake.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_esplora_through_a_dead_proxy(data_dir: Path) -> None:
    fake = EsploraFake(demo_chain())
    with fake.running() as url:
        assert run(data_dir, "wallets", "add", DEMO_ZPUB)[0] == 0
        assert run(data_dir, "networks", "set-rpc", "Bitcoin", url)[0] == 0
        dead = f"127.0.0.1:{free_port()}"
        assert run(data_dir, "config", "set", "net.proxy", f"socks5h://{dead}")[0] == 0
        code, out = run(data_dir, "refresh", "--once", "--no-prices", "--json")
    assert code == 1
    assert f"The proxy at {dead} does not answer; nothing was sent." in bitcoin_reason(out)
    assert fake.paths == []


def test_electrum_through_a_dead_proxy(data_dir: Path, electrum: ElectrumFake) -> None:
    assert run(data_dir, "wallets", "add", DEMO_ZPUB)[0] == 0
    assert run(data_dir, "config", "set", "bitcoin.electrum_server", electrum.url)[0] == 0
    dead = f"127.0.0.1:{free_port()}"
    assert run(data_dir, "config", "set", "net.proxy", f"socks5h://{dead}")[0] == 0
    code, out = run(data_dir, "refresh", "--once", "--no-prices", "--json")
    assert code == 1
    assert f"The proxy at {dead} does not answer; nothing was sent." in bitcoin_reason(out)
    assert electrum.calls == 0
