"""A local faulty/slow HTTP proxy in front of anvil: injects latency, 429s, timeouts, bad JSON."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

import aiohttp
from aiohttp import web

from tests.support.net import free_port


class FaultyProxy:
    """Each queued fault is used by one request: "429", "500", "slow", "garbage"; then forwards."""

    def __init__(self, upstream: str, latency: float = 0.0, slow_seconds: float = 2.0) -> None:
        self.upstream = upstream
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.faults: deque[str] = deque()
        self.requests = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=512).start()

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
        async with self._session.post(
            self.upstream, data=body, headers={"content-type": "application/json"}
        ) as up:
            return web.Response(
                status=up.status, body=await up.read(), content_type="application/json"
            )

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
