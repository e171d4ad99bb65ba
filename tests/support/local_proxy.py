"""The plumbing of a local HTTP proxy in front of a node: its own loop in a thread, an aiohttp
server on a free 127.0.0.1 port (ready when the constructor returns), one keep-alive session to
the node, and a clean stop. Subclasses decide what each request gets in ``_handle``."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
from aiohttp import web

from tests.support.net import free_port


class LocalProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")

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

    async def _forward(self, body: bytes) -> tuple[int, bytes]:
        """Send ``body`` to the node; its status and reply."""
        async with self._session.post(
            self.upstream, data=body, headers={"content-type": "application/json"}
        ) as up:
            return up.status, await up.read()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def _before_stop(self) -> None:
        """Runs on the proxy's loop first thing in :meth:`stop`."""

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._before_stop()
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
