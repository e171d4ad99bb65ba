"""A local faulty/slow HTTP proxy in front of anvil: injects latency, 429s, timeouts, bad JSON."""

from __future__ import annotations

import asyncio
from collections import deque

from aiohttp import web

from tests.support.local_proxy import LocalProxy


class FaultyProxy(LocalProxy):
    """Each queued fault is used by one request: "429", "500", "slow", "garbage"; then forwards."""

    def __init__(self, upstream: str, latency: float = 0.0, slow_seconds: float = 2.0) -> None:
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.faults: deque[str] = deque()
        super().__init__(upstream)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self.faults.popleft() if self.faults else None
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": "0"}, text="slow down")
        if fault == "500":
            return web.Response(status=500, text="oops")
        if fault == "garbage":
            return web.Response(status=200, text="{not json", content_type="application/json")
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        status, reply = await self._forward(body)
        return web.Response(status=status, body=reply, content_type="application/json")
