"""Daily exchange-rate history: the European Central Bank's reference rates via Frankfurter.

``GET {base}/2020-01-01..2020-12-31?base=USD&symbols=EUR,GBP`` (Frankfurter's v1 API, open
source, no key) answers ``{"amount": 1.0, "base": "USD", "start_date": "2020-01-02",
"end_date": "2020-12-31", "rates": {"2020-01-02": {"EUR": 0.89342, "GBP": 0.75862}, ...}}``: one
entry per ECB working day (none on weekends and TARGET holidays), rates as units of each
currency per US dollar, since 1999-01-04. Long ranges are asked a year at a time (a long range
may be thinned to weekly points). Rates are parsed as exact Decimal, never floats, and a whole
answer is refused when anything in it is not believable (HTML, not JSON, another base, a
non-numeric, zero or negative rate, a date in the future); nothing of it is stored then.

The ECB publishes about 30 currencies (:data:`ECB_CURRENCIES`); others have no daily history
from this source, and the live rates stored at each refresh are their only history.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from app.domain.errors import ChainfolioError
from app.domain.outcome import plain_reason
from app.domain.valuation import check_price
from app.prices.http import FetchError, get_json

log = logging.getLogger(__name__)

DAY = 86_400
FIRST_DAY = date(1999, 1, 4)
CHUNK_DAYS = 365
ECB_CURRENCIES = frozenset((
    "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "IDR",
    "ILS", "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK",
    "SGD", "THB", "TRY", "USD", "ZAR",
))  # fmt: skip
MAX_JUMP = 10  # a reference rate moving 10x from one working day to the next is a data error


class FxHistoryError(ChainfolioError):
    """No usable answer; the message is a plain sentence and nothing was stored."""


class FrankfurterSource:
    name = "ecb"

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base = base_url.rstrip("/")

    async def usd_rates(
        self, codes: Iterable[str], start: date, end: date, now: int
    ) -> dict[str, list[tuple[int, Decimal]]]:
        """code -> (day start, units per US dollar) for every ECB working day in [start, end],
        asked a year at a time. FxHistoryError when any part fails (then nothing is returned:
        the caller stores nothing and retries later)."""
        wanted = sorted({c.upper() for c in codes} & ECB_CURRENCIES - {"USD"})
        out: dict[str, dict[int, Decimal]] = {c: {} for c in wanted}
        if not wanted:
            return {}
        start = max(start, FIRST_DAY)
        while start <= end:
            stop = min(end, start + timedelta(days=CHUNK_DAYS - 1))
            body = await self._get(start, stop, wanted)
            for code, points in _parse(body, wanted, now).items():
                out[code].update(points)
            start = stop + timedelta(days=1)
        result = {c: sorted(p.items()) for c, p in out.items()}
        for code, series in result.items():
            for (d1, r1), (d2, r2) in itertools.pairwise(series):
                if r2 > r1 * MAX_JUMP or r1 > r2 * MAX_JUMP:
                    raise FxHistoryError(
                        f"The exchange-rate history (ECB, via Frankfurter) sent {code} rates "
                        f"that jump from {r1} to {r2} per US dollar between {_iso(d1)} and "
                        f"{_iso(d2)}; nothing stored."
                    )
        return result

    async def _get(self, start: date, end: date, codes: list[str]) -> object:
        url = f"{self._base}/{start.isoformat()}..{end.isoformat()}"
        try:
            body, _ = await get_json(
                self._client, url, params={"base": "USD", "symbols": ",".join(codes)}
            )
        except FetchError as exc:
            raise FxHistoryError(
                f"The exchange-rate history (ECB, via Frankfurter) {plain_reason(str(exc))}; "
                "stored rates are used."
            ) from None
        return body


def _parse(body: object, codes: list[str], now: int) -> dict[str, dict[int, Decimal]]:
    refused = "The exchange-rate history (ECB, via Frankfurter) sent"
    if not isinstance(body, dict) or not isinstance(body.get("rates"), dict):
        raise FxHistoryError(f"{refused} something that is not a table of rates; nothing stored.")
    if str(body.get("base", "")).upper() != "USD":
        raise FxHistoryError(f"{refused} rates against another currency; nothing stored.")
    today = now - now % DAY
    out: dict[str, dict[int, Decimal]] = {c: {} for c in codes}
    for text, rates in body["rates"].items():
        try:
            day = date.fromisoformat(str(text))
        except ValueError:
            raise FxHistoryError(f"{refused} a date that is not a date; nothing stored.") from None
        ts = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        if ts > today:
            raise FxHistoryError(f"{refused} a rate dated {day}, in the future; nothing stored.")
        if not isinstance(rates, dict):
            raise FxHistoryError(f"{refused} a day without rates ({day}); nothing stored.")
        for code, raw in rates.items():
            code = str(code).upper()
            if code not in out:
                continue
            number = isinstance(raw, (int, Decimal)) and not isinstance(raw, bool)
            rate, why = check_price(raw) if number else (None, None)
            if rate is None or rate <= 0:
                raise FxHistoryError(
                    f"{refused} a {code} rate for {day} that is not a positive number "
                    f"({why or 'not a number'}); nothing stored."
                )
            out[code][ts] = rate
    return out


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()
