"""HTTP clients share one TLS context per process (building one costs ~20 ms) and pay no\nimport search per request."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.chains.http import JsonRpcTransport
from app.config import Paths, Settings
from app.prices.factory import build_price_service
from app.storage.database import open_database
from app.tls import tls_context
from tests.support.net import CannedHttpServer


def _context_of(client: object) -> object:
    """The TLS context every https connection pool of ``client`` gets (app.net's transport
    makes it with its ``_verify`` when it opens the first such pool)."""
    verify = client._transport._verify  # type: ignore[attr-defined]
    return verify if isinstance(verify, bool) else verify()


def test_chain_and_price_clients_share_one_tls_context(tmp_path: Path) -> None:
    first, second = JsonRpcTransport(["https://a.invalid"]), JsonRpcTransport(["https://b.invalid"])
    assert _context_of(first._http()) is _context_of(second._http()) is tls_context()
    engine = open_database(tmp_path / "db.sqlite3", tmp_path / "b")
    settings = Settings.load(Paths.resolve(tmp_path).settings_file)
    stack = build_price_service(engine, settings)
    assert _context_of(stack.client) is tls_context()
    asyncio.run(stack.aclose())
    asyncio.run(first.aclose())
    asyncio.run(second.aclose())
    engine.dispose()


class _Lookups:
    """A meta path finder that only records which modules the import system searched for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        self.names.append(name)


def test_a_request_searches_for_no_module() -> None:
    """httpcore imports sniffio on every request; without it installed, each request searched
    sys.path for it (~0.2 ms per request, ~9 ms of a 200-wallet Solana refresh)."""

    server = CannedHttpServer(b'{"jsonrpc":"2.0","id":1,"result":"0x1"}')
    transport = JsonRpcTransport([server.url])
    lookups = _Lookups()

    async def two_requests() -> None:
        await transport.post({"jsonrpc": "2.0", "id": 1, "method": "m", "params": []})
        sys.meta_path.insert(0, lookups)
        try:
            reply = await transport.post({"jsonrpc": "2.0", "id": 1, "method": "m", "params": []})
        finally:
            sys.meta_path.remove(lookups)
        assert reply["result"] == "0x1"
        await transport.aclose()

    with server:
        asyncio.run(two_requests())
    assert lookups.names == []
