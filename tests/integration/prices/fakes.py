"""Local CoinGecko and DefiLlama servers (aiohttp on 127.0.0.1) speaking the public formats.

Formats, from the public API documentation:
- CoinGecko ``GET /api/v3/simple/price?ids=a,b&vs_currencies=usd`` -> ``{"a": {"usd": 1.0}}``
- CoinGecko ``GET /api/v3/simple/token_price/{platform}?contract_addresses=0x..&vs_currencies=usd``
  -> ``{"0x..lowercase": {"usd": 1.0}}``
- CoinGecko ``GET /api/v3/exchange_rates`` -> ``{"rates": {"usd": {"name": "US Dollar",
  "unit": "$", "value": 67000.0, "type": "fiat"}, ...}}`` (values per 1 BTC)
- DefiLlama ``GET /prices/current/{coins}`` -> ``{"coins": {"ethereum:0x..": {"decimals": 6,
  "symbol": "USDC", "price": 0.999, "timestamp": 1700000000, "confidence": 0.99}}}``
Unknown ids are simply absent from the answer (partial answers), as the real APIs do.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web


class Raw(str):
    """A JSON number written verbatim (``1e-999999999999999999``), as a careless upstream might."""


def _dumps(body: Any) -> str:
    def mark(value: Any) -> Any:
        if isinstance(value, Raw):
            return f"@@raw:{value}@@"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    return re.sub(r'"@@raw:([^@"]*)@@"', r"\1", json.dumps(mark(body)))


@dataclass
class Logged:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when the request arrived


@dataclass
class FakeApi:
    """Shared behaviour: a request log and a script of failures served before normal answers."""

    prices: dict[str, Any] = field(default_factory=dict)  # id/key -> JSON value (may be NaN)
    script: list[str] = field(default_factory=list)  # "429", "500", "hang"
    required_header: tuple[str, str] | None = None
    log: list[Logged] = field(default_factory=list)
    url: str = ""
    delay: float = 0.0  # seconds before each answer: a public API's round trip

    async def _gate(self, request: web.Request) -> web.Response | None:
        self.log.append(Logged(request.path, dict(request.query), dict(request.headers)))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.required_header:
            name, value = self.required_header
            if request.headers.get(name) != value:
                return web.json_response({"error": "invalid api key"}, status=401)
        if self.script:
            step = self.script.pop(0)
            if step == "429":
                return web.json_response(
                    {"status": {"error_code": 429}}, status=429, headers={"Retry-After": "0"}
                )
            if step == "500":
                return web.Response(status=503, text="upstream unavailable")
            if step == "hang":
                await asyncio.sleep(30)
        return None

    @staticmethod
    def reply(body: Any) -> web.Response:
        # json.dumps writes NaN as the bare token NaN, as a misbehaving upstream might.
        return web.Response(text=_dumps(body), content_type="application/json")


class FakeCoinGecko(FakeApi):
    fx: ClassVar[dict[str, float]] = {"usd": 67000.0, "eur": 61640.0, "chf": 59630.0, "btc": 1.0}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v3/simple/price", self.simple_price)
        app.router.add_get("/api/v3/simple/token_price/{platform}", self.token_price)
        app.router.add_get("/api/v3/exchange_rates", self.exchange_rates)
        app.router.add_get("/api/v3/coins/{coin}/market_chart/range", self.market_chart)
        return app

    async def market_chart(self, request: web.Request) -> web.Response:
        """``coins/{id}/market_chart/range?vs_currency=usd&from=&to=`` (seconds in, ms out)."""
        if (gate := await self._gate(request)) is not None:
            return gate
        coin = request.match_info["coin"]
        if coin not in self.prices:
            return web.json_response({"error": "coin not found"}, status=404)
        start, end = int(request.query["from"]), int(request.query["to"])
        points = [[ts * 1000, self.prices[coin]] for ts in range(start + 60, end, 86400)]
        return self.reply({"prices": points, "market_caps": [], "total_volumes": []})

    async def simple_price(self, request: web.Request) -> web.Response:
        if (gate := await self._gate(request)) is not None:
            return gate
        ids = request.query.get("ids", "").split(",")
        return self.reply({i: {"usd": self.prices[i]} for i in ids if i in self.prices})

    async def token_price(self, request: web.Request) -> web.Response:
        if (gate := await self._gate(request)) is not None:
            return gate
        platform = request.match_info["platform"]
        body = {}
        for address in request.query.get("contract_addresses", "").split(","):
            key = f"{platform}:{address.lower()}"
            if key in self.prices:
                body[address.lower()] = {"usd": self.prices[key]}
        return self.reply(body)

    async def exchange_rates(self, request: web.Request) -> web.Response:
        if (gate := await self._gate(request)) is not None:
            return gate
        rates = {
            code: {"name": code, "unit": code, "value": value, "type": "fiat"}
            for code, value in self.fx.items()
        }
        return self.reply({"rates": rates})


class FakeDefiLlama(FakeApi):
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/prices/current/{coins}", self.current)
        app.router.add_get("/chart/{coins}", self.chart)
        return app

    async def chart(self, request: web.Request) -> web.Response:
        """``/chart/{coins}?start=&span=&period=1d``: daily points at the price in ``prices``."""
        if (gate := await self._gate(request)) is not None:
            return gate
        start = int(request.query["start"])
        span = int(request.query.get("span", "0"))
        coins = {}
        for key in request.match_info["coins"].split(","):
            if key in self.prices:
                points = [
                    {"timestamp": start + day * 86400 + 120, "price": self.prices[key]}
                    for day in range(span)
                ]
                coins[key] = {"symbol": "TKN", "confidence": 0.99, "decimals": 18, "prices": points}
        return self.reply({"coins": coins})

    async def current(self, request: web.Request) -> web.Response:
        if (gate := await self._gate(request)) is not None:
            return gate
        coins = {}
        for key in request.match_info["coins"].split(","):
            if key in self.prices:
                coins[key] = {
                    "decimals": 18,
                    "symbol": "TKN",
                    "price": self.prices[key],
                    "timestamp": 1700000000,
                    "confidence": 0.99,
                }
        return self.reply({"coins": coins})


@asynccontextmanager
async def serve(api: FakeCoinGecko | FakeDefiLlama, prefix: str = "") -> AsyncIterator[str]:
    """Run ``api`` on a free 127.0.0.1 port; yields its base URL (ready when yielded)."""
    runner = web.AppRunner(api.app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    api.url = f"http://{host}:{port}{prefix}"
    try:
        yield api.url
    finally:
        await runner.cleanup()


@contextmanager
def serve_in_thread(api: FakeCoinGecko | FakeDefiLlama, prefix: str = "") -> Iterator[str]:
    """Like ``serve`` but on its own loop in a thread, for code that runs ``asyncio.run``."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with serve(api, prefix):
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise TimeoutError("fake price server did not start")
    try:
        yield api.url
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
