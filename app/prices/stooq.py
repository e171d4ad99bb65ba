"""Stooq daily closes for the ledger's stocks, ETFs and metals (CSV over HTTPS).

``GET {base}/q/d/l/?s=aapl.us&i=d&d1=YYYYMMDD&d2=YYYYMMDD[&apikey=KEY]`` answers
``Date,Open,High,Low,Close,Volume`` then one line per trading day (``2024-01-02,187.15,188.44,
183.89,185.64,82488674``; metals and currency pairs have no Volume column), or ``No data`` for a
symbol it does not know. Why Stooq and not Yahoo Finance (yfinance): Yahoo has no public API;
yfinance scrapes it against Yahoo's terms and breaks whenever Yahoo changes its cookies. Stooq
serves a plain, documented CSV download of 30+ years of daily closes for US, UK, German,
Japanese, Hong Kong, Hungarian and Polish listings and for gold, silver, platinum and palladium.
Since 2026 it asks automated clients for a free key (obtained on its site); the key is kept in
the OS keyring (``chainfolio keys set stooq``) and sent as ``apikey`` (redacted from every log
line). Without a key, or over the daily limit, Stooq answers with a web page: that is said in
plain words and nothing is stored.

Closes are parsed as exact Decimal text, never floats. A whole answer is refused when any line
is not believable (not a number, zero or negative, dated in the future, a date twice, a jump
of more than :data:`MAX_JUMP` times from one trading day to the next): a wrong close stored once
would value a holding wrongly for good.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from app.domain.assets import ISO_4217, METALS, AssetClass, AssetError, parse_asset
from app.domain.errors import ChainfolioError
from app.domain.ports import SecretStore
from app.domain.secret_text import refuse_secret
from app.domain.text import clean_text
from app.domain.valuation import check_price
from app.logging_setup import register_secret
from app.prices.http import MAX_RETRY_AFTER, Pacer

log = logging.getLogger(__name__)

DAY = 86_400
MAX_JUMP = 50  # a split is adjusted for; 100x is the classic pence/pounds mix-up
KEY_NAME = "stooq"
PREFIX = "stooq:"

# Exchange code of a ledger id (ISO 10383 MIC or a common short code) -> Stooq suffix, the
# currency its closes are in, and what to divide them by (London quotes in pence).
_US = ("us", "USD", 1)
_UK = ("uk", "GBP", 100)
_DE = ("de", "EUR", 1)
_JP = ("jp", "JPY", 1)
_HK = ("hk", "HKD", 1)
_HU = ("hu", "HUF", 1)
_PL = ("", "PLN", 1)
EXCHANGES: dict[str, tuple[str, str, int]] = {
    **dict.fromkeys(
        ("XNAS", "XNGS", "XNMS", "XNCM", "XNYS", "ARCX", "XASE", "BATS", "NASDAQ", "NYSE",
         "NYSEARCA", "AMEX", "US"),
        _US,
    ),
    **dict.fromkeys(("XLON", "LSE", "LON", "UK"), _UK),
    **dict.fromkeys(("XETR", "XETRA", "XFRA", "FRA", "FWB", "ETR", "DE"), _DE),
    **dict.fromkeys(("XTKS", "XJPX", "TSE", "TYO", "JP"), _JP),
    **dict.fromkeys(("XHKG", "HKEX", "HKG", "HK"), _HK),
    **dict.fromkeys(("XBUD", "BUX", "HU"), _HU),
    **dict.fromkeys(("XWAR", "WSE", "GPW", "PL"), _PL),
}  # fmt: skip
_SUFFIXES: dict[str, tuple[str, int]] = {s: (c, d) for s, c, d in EXCHANGES.values() if s}
_SYMBOL = re.compile(r"^[a-z0-9^][a-z0-9._^-]{0,30}$")
_CLOSE = re.compile(r"^[0-9]{1,16}(?:\.[0-9]{1,30})?$")


class NotPriceable(ChainfolioError):
    """An asset this source cannot price, with the reason and what to do, in plain words."""


class StooqDataError(ChainfolioError):
    """An answer that is not believable daily closes; nothing of it is stored."""


class StooqUnknownSymbol(StooqDataError):
    """Stooq has no such symbol ("No data")."""


class StooqUnavailable(ChainfolioError):
    """No usable answer (network, server error, limit, a web page instead of prices)."""


@dataclass(frozen=True, slots=True)
class StooqSymbol:
    symbol: str  # as Stooq spells it: "aapl.us", "xauusd", "pkn"
    currency: str  # currency of the closes once divided
    divisor: int = 1  # 100: closes are in pence

    @property
    def price_id(self) -> str:
        return PREFIX + self.symbol


def parse_price_id(text: str) -> StooqSymbol:
    """``stooq:aapl.us`` (or ``aapl.us``): the symbol as Stooq spells it; its currency follows
    from the suffix. Refused in plain words otherwise."""
    refuse_secret(text, "price id")
    raw = text.strip()
    sym = raw[len(PREFIX) :] if raw.lower().startswith(PREFIX) else raw
    sym = sym.strip().lower()
    if not _SYMBOL.match(sym):
        raise NotPriceable(
            f"{clean_text(raw, 40)!r} is not a Stooq symbol: write it as Stooq does, for example "
            "stooq:aapl.us, stooq:vod.uk, stooq:sap.de or stooq:xauusd."
        )
    if "." in sym:
        suffix = sym.rsplit(".", 1)[1]
        if suffix not in _SUFFIXES:
            raise NotPriceable(
                f"Chainfolio does not know the currency of Stooq's .{clean_text(suffix, 8)} "
                f"listings; it knows .{', .'.join(sorted(_SUFFIXES))} and Warsaw (no suffix)."
            )
        currency, divisor = _SUFFIXES[suffix]
        return StooqSymbol(sym, currency, divisor)
    pair = sym.upper()
    if len(pair) == 6 and pair[:3] in (ISO_4217 | METALS.keys()) and pair[3:] in ISO_4217:
        return StooqSymbol(sym, pair[3:])  # a metal or currency pair: in its second code
    return StooqSymbol(sym, "PLN")  # Warsaw listings have no suffix


def symbol_for(asset_id: str, price_id: str | None = None) -> StooqSymbol:
    """The Stooq symbol of a ledger asset: the person's price id first, else derived from
    ``EXCHANGE:TICKER`` or the metal code. NotPriceable says why not and what to do."""
    if price_id:
        return parse_price_id(price_id)
    try:
        asset = parse_asset(asset_id)
    except AssetError as exc:
        raise NotPriceable(str(exc)) from None
    if asset.asset_class is AssetClass.COMMODITY:
        return StooqSymbol(f"{asset.code.lower()}usd", "USD")
    if asset.asset_class not in (AssetClass.STOCK, AssetClass.ETF):
        raise NotPriceable(
            f"{asset.id}: only stocks, ETFs and metals have daily closes from Stooq "
            "(fiat uses exchange rates; crypto uses the crypto price sources)."
        )
    if ":" not in asset.code:
        raise NotPriceable(
            f"{asset.id} is named by its ISIN, and Stooq finds listings by ticker only: give its "
            f"ticker with `chainfolio prices symbol {asset.id} stooq:TICKER.SUFFIX` (for "
            "example stooq:aapl.us), or name the asset by exchange and ticker "
            f"({asset.asset_class.value}:XNAS:AAPL)."
        )
    exchange, ticker = asset.code.split(":", 1)
    if exchange not in EXCHANGES:
        raise NotPriceable(
            f"{asset.id}: Chainfolio does not know which Stooq market {exchange} is; give its "
            f"symbol with `chainfolio prices symbol {asset.id} stooq:TICKER.SUFFIX`."
        )
    suffix, currency, divisor = EXCHANGES[exchange]
    sym = ticker.lower().replace(".", "-")
    return StooqSymbol(f"{sym}.{suffix}" if suffix else sym, currency, divisor)


def parse_daily_csv(text: str, sym: StooqSymbol, now: int) -> list[tuple[int, Decimal]]:
    """(day start, close in ``sym.currency``) oldest first; StooqDataError (plain words) when
    the answer is not a believable table of daily closes. No rows: an empty list (no trading
    day in the range asked for)."""
    body = text.lstrip("\ufeff").strip()
    name = sym.symbol
    if not body:
        raise StooqDataError(f"Stooq sent an empty answer for {name}.")
    head = body[:300].lower()
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise StooqUnavailable(
            "Stooq answered with a web page instead of prices: it may ask for a key (get a free "
            "one on stooq.com and save it with `chainfolio keys set stooq`) or be checking for "
            "robots. Nothing was stored."
        )
    if "exceeded the daily hits limit" in head:
        raise StooqUnavailable(
            "Stooq's daily limit of downloads is used up; stored prices are used until tomorrow."
        )
    lines = body.splitlines()
    if lines[0].strip().lower() in ("no data", "brak danych"):
        raise StooqUnknownSymbol(f"Stooq has no prices for {name}: check the symbol.")
    header = [h.strip().lower() for h in lines[0].split(",")]
    if "date" not in header or "close" not in header:
        raise StooqDataError(f"Stooq's answer for {name} is not a table of daily prices.")
    i_date, i_close = header.index("date"), header.index("close")
    today = now - now % DAY
    divisor = Decimal(sym.divisor)
    out: dict[int, Decimal] = {}
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(header):
            raise StooqDataError(f"Stooq's answer for {name}, line {n}: the columns do not match.")
        try:
            day = date.fromisoformat(cells[i_date])
        except ValueError:
            raise StooqDataError(
                f"Stooq's answer for {name}, line {n}: {clean_text(cells[i_date], 20)!r} is not "
                "a date."
            ) from None
        ts = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        if ts > today:
            raise StooqDataError(
                f"Stooq's answer for {name}, line {n}: it is dated {day}, in the future."
            )
        if ts in out:
            raise StooqDataError(f"Stooq's answer for {name}, line {n}: {day} appears twice.")
        raw = cells[i_close]
        if not _CLOSE.match(raw):
            raise StooqDataError(
                f"Stooq's answer for {name}, line {n}: the close {clean_text(raw, 20)!r} is not "
                "a positive number."
            )
        close = Decimal(raw) / divisor if sym.divisor != 1 else Decimal(raw)
        price, why = check_price(close)
        if price is None or price <= 0:
            raise StooqDataError(
                f"Stooq's answer for {name}, line {n}: a close of {raw} is not believable "
                f"({why or 'zero'})."
            )
        out[ts] = price
    points = sorted(out.items())
    for (d1, p1), (d2, p2) in itertools.pairwise(points):
        if p2 > p1 * MAX_JUMP or p1 > p2 * MAX_JUMP:
            raise StooqDataError(
                f"Stooq's closes for {name} jump from {p1} on {_iso(d1)} to {p2} on {_iso(d2)} "
                f"(more than {MAX_JUMP} times in one step): the answer was refused."
            )
    return points


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


class StooqSource:
    """Daily closes, one symbol per request, paced (Stooq blocks clients that hurry)."""

    name = "stooq"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        secrets: SecretStore | None = None,
        per_minute: int = 20,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._pacer = Pacer(per_minute)
        self._key: str | None = None
        if secrets is not None:
            try:
                self._key = secrets.get(KEY_NAME)
            except ChainfolioError as exc:
                log.warning("Stooq key unavailable, continuing without it: %s", exc)
        if self._key:
            register_secret(self._key)

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    async def daily(
        self, sym: StooqSymbol, start: date, end: date, now: int
    ) -> list[tuple[int, Decimal]]:
        params = {"s": sym.symbol, "i": "d", "d1": _ymd(start), "d2": _ymd(end)}
        if self._key:
            params["apikey"] = self._key
        text = await self._get(params)
        return parse_daily_csv(text, sym, now)

    async def _get(self, params: dict[str, str], attempts: int = 3) -> str:
        problem = "no answer"
        for attempt in range(attempts):
            await self._pacer.wait()
            try:
                response = await self._client.get(f"{self._base}/q/d/l/", params=params)
            except httpx.TimeoutException:
                problem = "did not answer in time"
                continue
            except httpx.HTTPError as exc:
                log.info("Stooq request failed: %s", type(exc).__name__)
                problem = "could not be reached"
                continue
            if response.status_code == 429:
                problem = "asked to slow down"
                if attempt + 1 < attempts:
                    await asyncio.sleep(_retry_after(response))
                continue
            if response.status_code >= 500:
                problem = f"had a server error ({response.status_code})"
                continue
            if response.status_code in (401, 403):
                raise StooqUnavailable(
                    "Stooq refused the request: save a valid Stooq key with "
                    "`chainfolio keys set stooq`."
                )
            if response.status_code >= 400:
                raise StooqUnavailable(f"Stooq refused the request ({response.status_code}).")
            return response.text
        raise StooqUnavailable(f"Stooq {problem}; stored prices are used.")


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0
