"""Local Stooq and Frankfurter servers (aiohttp on 127.0.0.1) speaking their public formats.

- Stooq ``GET /q/d/l/?s=aapl.us&i=d&d1=YYYYMMDD&d2=YYYYMMDD[&apikey=..]`` ->
  ``Date,Open,High,Low,Close,Volume`` then ``2024-01-02,187.15,188.44,183.885,185.64,82488674``
  per trading day (oldest first); ``No data`` for an unknown symbol; without a key where one is
  required, an HTML page with HTTP 200 (what non-browser clients get since 2026).
- Frankfurter v1 ``GET /2020-01-01..2020-12-31?base=USD&symbols=EUR,GBP`` ->
  ``{"amount": 1.0, "base": "USD", "start_date": "..", "end_date": "..",
  "rates": {"2020-01-02": {"EUR": 0.89342, "GBP": 0.75862}, ..}}``.
Numbers are written verbatim from the test's text, as the servers send them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web

from tests.integration.prices.fakes import Logged

HTML_PAGE = "<!DOCTYPE html><html><head><title>stooq</title></head><body>verify</body></html>"


@dataclass
class FakeStooq:
    closes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # sym -> (day, close)
    script: list[str] = field(default_factory=list)  # html | empty | limit | 500 | hang | raw:..
    required_key: str | None = None
    metal_style: bool = False  # metals and pairs have no Volume column
    log: list[Logged] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/q/d/l/", self.download)
        return app

    async def download(self, request: web.Request) -> web.Response:
        self.log.append(Logged(request.path, dict(request.query), dict(request.headers)))
        if self.required_key and request.query.get("apikey") != self.required_key:
            return web.Response(text=HTML_PAGE, content_type="text/html")
        if self.script:
            step = self.script.pop(0)
            if step == "html":
                return web.Response(text=HTML_PAGE, content_type="text/html")
            if step == "empty":
                return web.Response(text="", content_type="text/csv")
            if step == "limit":
                return web.Response(text="Exceeded the daily hits limit", content_type="text/csv")
            if step == "500":
                return web.Response(status=503, text="upstream unavailable")
            if step == "hang":
                await asyncio.sleep(30)
            if step.startswith("raw:"):
                return web.Response(text=step[4:], content_type="text/csv")
        sym = request.query.get("s", "")
        if sym not in self.closes:
            return web.Response(text="No data", content_type="text/csv")
        d1 = _ymd(request.query.get("d1", "19000101"))
        d2 = _ymd(request.query.get("d2", "29991231"))
        rows = [(d, c) for d, c in self.closes[sym] if d1 <= date.fromisoformat(d) <= d2]
        if self.metal_style:
            lines = ["Date,Open,High,Low,Close"] + [f"{d},{c},{c},{c},{c}" for d, c in rows]
        else:
            lines = ["Date,Open,High,Low,Close,Volume"] + [
                f"{d},{c},{c},{c},{c},1000" for d, c in rows
            ]
        return web.Response(text="\r\n".join(lines) + "\r\n", content_type="text/csv")


def _ymd(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


@dataclass
class FakeFrankfurter:
    rates: dict[str, dict[str, str]] = field(default_factory=dict)  # day -> code -> rate text
    script: list[str] = field(default_factory=list)  # html | 500 | raw:<body>
    log: list[Logged] = field(default_factory=list)
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{span}", self.series)
        return app

    async def series(self, request: web.Request) -> web.Response:
        self.log.append(Logged(request.path, dict(request.query), dict(request.headers)))
        if self.script:
            step = self.script.pop(0)
            if step == "html":
                return web.Response(text="<html><body>Bad gateway</body></html>", status=200)
            if step == "500":
                return web.Response(status=503, text="upstream unavailable")
            if step.startswith("raw:"):
                return web.Response(text=step[4:], content_type="application/json")
        start_text, _, end_text = request.match_info["span"].partition("..")
        start = date.fromisoformat(start_text)
        end = date.fromisoformat(end_text) if end_text else date(2999, 1, 1)
        wanted = request.query.get("symbols", "").split(",")
        base = request.query.get("base", "EUR")
        days = sorted(d for d in self.rates if start <= date.fromisoformat(d) <= end)
        body: dict[str, Any] = {
            "amount": 1.0,
            "base": base,
            "start_date": days[0] if days else start_text,
            "end_date": days[-1] if days else end_text,
            "rates": {d: {c: v for c, v in self.rates[d].items() if c in wanted} for d in days},
        }
        return web.Response(text=_json(body), content_type="application/json")


def _json(body: dict[str, Any]) -> str:
    """JSON with each rate written verbatim (``0.89342``, ``-1``, ``"abc"``) from its text."""

    def value(v: str) -> str:
        try:
            float(v)
        except ValueError:
            return f'"{v}"'
        return v

    rates = ", ".join(
        f'"{d}": {{' + ", ".join(f'"{c}": {value(v)}' for c, v in codes.items()) + "}"
        for d, codes in body["rates"].items()
    )
    return (
        f'{{"amount": 1.0, "base": "{body["base"]}", "start_date": "{body["start_date"]}", '
        f'"end_date": "{body["end_date"]}", "rates": {{{rates}}}}}'
    )
