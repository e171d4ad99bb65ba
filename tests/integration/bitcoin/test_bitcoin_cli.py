"""The headless path a person scripts: ``wallets add zpub…``, point Bitcoin at their own server
(``networks set-rpc Bitcoin URL`` for Esplora, ``config set bitcoin.electrum_server`` for
Electrum), ``refresh --once --no-prices --json``; and the server down."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from tests.support.bitcoin_fakes import DEMO_ZPUB, ElectrumFake, EsploraFake, demo_chain

BITCOIN = "bip122:000000000019d6689c085ae165831e93"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def btc_holdings(out: str) -> list[str]:
    doc = json.loads(out)
    text = json.dumps(doc)
    assert BITCOIN in text
    return [h for h in ("0.00989", "0.07989") if h in text]


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


def test_cli_electrum(data_dir: Path, electrum: ElectrumFake) -> None:
    assert run(data_dir, "-v", "wallets", "add", DEMO_ZPUB)[0] == 0
    assert run(data_dir, "config", "set", "bitcoin.electrum_server", electrum.url)[0] == 0
    assert run(data_dir, "config", "set", "bitcoin.gap_limit", "5")[0] == 0
    code, out = run(data_dir, "-v", "refresh", "--once", "--no-prices", "--json")
    assert code == 0, out
    assert btc_holdings(out) == ["0.00989"]
    # the next refresh starts from the cached used addresses, gap limit raised: r30 found
    assert run(data_dir, "config", "set", "bitcoin.gap_limit", "25")[0] == 0
    code, out = run(data_dir, "refresh", "--once", "--no-prices", "--json")
    assert code == 0 and btc_holdings(out) == ["0.07989"]
    assert not any("pub" in p for p in electrum.seen)
    logs = [f for f in data_dir.rglob("*.log*") if f.is_file()]
    assert logs and not any(DEMO_ZPUB.encode() in f.read_bytes() for f in logs)


def test_cli_esplora_and_server_down(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(data_dir, "wallets", "add", DEMO_ZPUB)[0] == 0
    fake = EsploraFake(demo_chain())
    with fake.running() as url:
        assert run(data_dir, "networks", "set-rpc", "Bitcoin", url)[0] == 0
        code, out = run(data_dir, "refresh", "--once", "--no-prices", "--json")
        assert code == 0, out
        assert btc_holdings(out) == ["0.00989"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    assert run(data_dir, "config", "set", "bitcoin.electrum_server", dead)[0] == 0
    code, out = run(data_dir, "refresh", "--once", "--no-prices", "--json")
    captured = capsys.readouterr()
    text = out + captured.err
    assert "cannot be reached" in text
    assert DEMO_ZPUB not in text
