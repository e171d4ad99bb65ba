"""HTTP clients share one TLS context per process (building one costs ~20 ms)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.chains.http import JsonRpcTransport
from app.config import Paths, Settings
from app.prices.factory import build_price_service
from app.storage.database import open_database
from app.tls import tls_context


def _context_of(client: object) -> object:
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


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
