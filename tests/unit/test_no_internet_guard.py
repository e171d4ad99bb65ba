from __future__ import annotations

import asyncio
import socket

import httpx
import pytest


def test_guard_refuses_public_addresses() -> None:
    with pytest.raises(ConnectionRefusedError, match="may not reach the network"):
        socket.create_connection(("203.0.113.7", 443), timeout=1)


def test_guard_covers_async_clients() -> None:
    async def fetch() -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get("http://203.0.113.7/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(fetch())
