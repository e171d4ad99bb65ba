"""An exchange account's trades, deposits and withdrawals through ccxt's unified methods
(``fetch_my_trades``, ``fetch_deposits``, ``fetch_withdrawals``), incremental and paged.

:meth:`HistoryClient.pages` yields :class:`HistoryPage` s, each for one *stream* (``deposit``,
``withdrawal``, ``trade``, or per market/coin where the exchange asks per market/coin) with the
cursor the stream has been read through once that page is stored. The service stores a page
and its cursor in one transaction: an import stopped anywhere resumes at the last stored page.
Where an exchange lists newest first, a stream's cursor moves only after its last page (the
pages before are stored; ids make a re-read add nothing). A pending deposit or withdrawal holds
its stream's cursor at its time, so it is read again until it completes.

What each exchange needs (ccxt 4.5):

- **Binance**: deposits and withdrawals in 90-day windows from the cursor (the API's limit);
  trades are asked per market (``myTrades`` needs a symbol), paged by trade id (``fromId``).
  Markets: the spot list (``/api/v3/exchangeInfo``). The markets asked are bounded to those
  whose base and quote coins are both coins the account holds now (spot balance) or held
  (deposited, withdrawn or traded before, per the stored history): a coin bought and sold again
  entirely without ever being held at an import is not found (Binance has no list of the
  markets an account traded).
- **Kraken**: markets (``AssetPairs`` + ``Assets``) to split pairs; trades paged by offset
  (newest first); deposits and withdrawals from the status lists (recent ones, with their
  transaction hashes) and from ``Ledgers`` (complete, paged by offset, without hashes; the
  same reference id, so each is stored once, with its hash where a status list had it).
- **Coinbase**: trades from the v3 fills (cursor-paged, newest first); deposits and withdrawals
  per coin account from the v2 transactions (oldest first, paged after the last id).
- **OKX**: ``fills-history`` (spot) and deposit/withdrawal history, newest first, paged backward.
- **Bybit**: spot executions in 7-day windows and deposits/withdrawals in 30-day windows (the
  API's limits), cursor-paged; the spot markets to split symbols.
- **Bitstamp**: ``user_transactions`` (trades and deposits; oldest first from the last id),
  ``withdrawal-requests`` for withdrawals (Bitstamp keeps about 1.5 years of them); markets
  (``trading-pairs-info``) to name the pairs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.exchange_history import (
    EARLIEST_MS,
    ExchangeRecord,
    RecordKind,
    is_pending,
    trade_record,
    transfer_record,
)
from app.domain.exchanges import FIAT_CODES, Credentials, ExchangeError, coin_code
from app.exchanges.ccxt_client import ExchangeClient

DAY_MS = 86_400_000
# Where a first import starts: the exchange's first day of business (no account is older).
LAUNCH_MS: dict[str, int] = {
    "binance": 1_499_990_400_000,  # 2017-07-14
    "bybit": 1_522_540_800_000,  # 2018-04-01
    "okx": 1_388_534_400_000,
    "kraken": 1_378_857_600_000,
    "coinbase": 1_338_508_800_000,
    "bitstamp": 1_314_835_200_000,
}
WINDOW_MS: dict[tuple[str, str], int] = {
    ("binance", "deposit"): 90 * DAY_MS,
    ("binance", "withdrawal"): 90 * DAY_MS,
    ("bybit", "deposit"): 30 * DAY_MS,
    ("bybit", "withdrawal"): 30 * DAY_MS,
    ("bybit", "trade"): 7 * DAY_MS,
}
MAX_PAGES = 10_000
# How far back an API keeps a stream at all (Bybit: executions of the last two years).
RETENTION_MS: dict[tuple[str, str], int] = {("bybit", "trade"): 730 * DAY_MS}
# A time cursor is read again from this much earlier: a record the exchange stamps with a time
# before it shows it (a deposit credited after review) is not missed; ids make repeats free.
OVERLAP_MS = 3_600_000
# Quote coins asked on Binance for every held base even when not held themselves (cash that
# came in through card or bank purchases is not in the crypto deposit history).
QUOTES = FIAT_CODES | {
    "USDT",
    "USDC",
    "FDUSD",
    "BTC",
    "ETH",
    "BNB",
}  # a guard against a server that pages forever


@dataclass(frozen=True, slots=True)
class HistoryPage:
    stream: str
    records: tuple[ExchangeRecord, ...] = ()
    cursor: str | None = None  # None: the stream's cursor stays where it was
    skipped: tuple[str, ...] = ()  # records refused, with the reason


class HistoryClient(ExchangeClient):
    """One account's history reader. ``start_ms`` is where a first import starts (default:
    the exchange's launch); ``limit`` the page size asked for (default: the API's maximum)."""

    def __init__(
        self,
        exchange: str,
        credentials: Credentials,
        *,
        api_url: str | None = None,
        timeout: float = 20.0,
        rate_limit_ms: int | None = None,
        start_ms: int | None = None,
        limit: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            exchange, credentials, api_url=api_url, timeout=timeout, rate_limit_ms=rate_limit_ms
        )
        self._start = start_ms if start_ms is not None else LAUNCH_MS.get(exchange, EARLIEST_MS)
        self._limit = limit
        self._clock = clock
        self._markets_loaded = False

    def _since(self, cursors: Mapping[str, str], stream: str) -> int:
        cursor = cursors.get(stream)
        return max(int(cursor) - OVERLAP_MS, self._start) if cursor else self._start

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _lim(self, api_max: int) -> int:
        return min(self._limit, api_max) if self._limit else api_max

    async def _markets(self, *, currencies: bool = False) -> None:
        if self._markets_loaded:
            return
        if currencies:
            await self._call(lambda c: c.load_markets(True))
        else:
            markets = await self._call(lambda c: c.fetch_markets())
            await self._call(_set_markets(markets))
        self._markets_loaded = True

    async def pages(
        self, cursors: Mapping[str, str], held: Iterable[str] = ()
    ) -> AsyncIterator[HistoryPage]:
        """Every stream from its cursor on. ``held``: coin codes the account held before (from
        the stored history), which bound the markets asked where the exchange asks per market."""
        ex = self.exchange
        if ex == "binance":
            self._client_options({"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False})
            async for page in self._windows("deposit", cursors, "fetch_deposits", 1000):
                yield page
            async for page in self._windows("withdrawal", cursors, "fetch_withdrawals", 1000):
                yield page
            async for page in self._binance_trades(cursors, set(held)):
                yield page
        elif ex == "kraken":
            await self._markets(currencies=True)
            for kind, method in (
                ("deposit", "fetch_deposits"),
                ("withdrawal", "fetch_withdrawals"),
            ):
                yield await self._since_once(kind, cursors, method)
            for kind in ("deposit", "withdrawal"):  # the ledger: complete, but without hashes
                async for page in self._backward(
                    f"ledger-{kind}", cursors, 50, {"type": kind}, _offset_pager,
                    method="fetch_ledger", kind=kind, convert=_ledger_transfer,
                ):  # fmt: skip
                    yield page
            async for page in self._backward("trade", cursors, 50, {}, _offset_pager):
                yield page
        elif ex == "coinbase":
            async for page in self._backward("trade", cursors, 250, {}, _cursor_pager("cursor")):
                yield page
            async for page in self._coinbase_transfers(cursors):
                yield page
        elif ex == "okx":
            spot = {"instType": "SPOT"}
            async for page in self._backward("trade", cursors, 100, spot, _okx_fill_pager):
                yield page
            for kind in ("deposit", "withdrawal"):
                async for page in self._backward(kind, cursors, 100, {}, _okx_time_pager):
                    yield page
        elif ex == "bybit":
            self._client_options({"fetchMarkets": {"types": ["spot"]}})
            await self._markets()
            async for page in self._windows("deposit", cursors, "fetch_deposits", 50):
                yield page
            async for page in self._windows("withdrawal", cursors, "fetch_withdrawals", 50):
                yield page
            async for page in self._windows(
                "trade", cursors, "fetch_my_trades", 100, {"type": "spot"}
            ):
                yield page
        elif ex == "bitstamp":
            await self._markets()
            async for page in self._bitstamp_transactions(cursors):
                yield page
            yield await self._since_once("withdrawal", cursors, "fetch_withdrawals")

    def _client_options(self, options: dict[str, Any]) -> None:
        self._pending_options = options

    def _build(self) -> Any:
        client = super()._build()
        client.options.update(getattr(self, "_pending_options", {}))
        return client

    # ---- reading one reply ---------------------------------------------------------------------
    def _records(
        self, raw: Iterable[Any], kind: str, id_prefix: str = ""
    ) -> tuple[list[ExchangeRecord], list[str], int | None]:
        """Records, reasons for refused ones, and the time of the earliest pending one."""
        now = self._now()
        records: list[ExchangeRecord] = []
        skipped: list[str] = []
        pending: int | None = None
        for item in raw:
            if kind == "trade":
                got: ExchangeRecord | str | None = trade_record(item, now, id_prefix)
            else:
                got = transfer_record(item, RecordKind(kind), now)
                if got is None and is_pending(item):
                    ts = item.get("timestamp")
                    if isinstance(ts, int):
                        pending = ts if pending is None else min(pending, ts)
            if isinstance(got, ExchangeRecord):
                records.append(got)
            elif isinstance(got, str):
                skipped.append(got)
        return records, skipped, pending

    # ---- strategies -----------------------------------------------------------------------------
    async def _windows(
        self,
        stream: str,
        cursors: Mapping[str, str],
        method: str,
        api_max: int,
        params: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[HistoryPage]:
        """Windows of the API's longest span from the cursor to now; within one, pages by
        offset (Binance) or cursor (Bybit). The cursor moves to each window's end."""
        kind = "trade" if stream == "trade" else stream
        span = WINDOW_MS[(self.exchange, stream)]
        start = self._since(cursors, stream)
        now = self._now()
        if (self.exchange, stream) in RETENTION_MS:  # older ones are gone: no need to ask
            start = max(start, now - RETENTION_MS[(self.exchange, stream)])
        limit = self._lim(api_max)
        while start < now:
            end = min(start + span, now)
            extra: dict[str, Any] = dict(params or {})
            pending: int | None = None
            for _ in range(MAX_PAGES):
                query = {**extra}
                if self.exchange == "bybit":
                    query["endTime"] = end
                raw = await self._call(_method(method, start, limit, query))
                records, skipped, held = self._records(raw, kind)
                if held is not None:
                    pending = held if pending is None else min(pending, held)
                last = len(raw) < limit
                nxt = None if last else self._next_window_page(raw, extra)
                if nxt is None:
                    cursor = str(end if pending is None else min(end, pending))
                    yield HistoryPage(stream, tuple(records), cursor, tuple(skipped))
                    break
                yield HistoryPage(stream, tuple(records), None, tuple(skipped))
                extra = nxt
            if pending is not None:
                return  # hold here until the pending one completes
            start = end

    def _next_window_page(self, raw: list[Any], extra: dict[str, Any]) -> dict[str, Any] | None:
        if self.exchange == "binance":
            return {**extra, "offset": int(extra.get("offset", 0)) + len(raw)}
        token = _info_value(raw, "nextPageCursor")
        return {**extra, "cursor": token} if token else None

    async def _since_once(
        self, stream: str, cursors: Mapping[str, str], method: str
    ) -> HistoryPage:
        """One request from the cursor's time (Kraken status lists, Bitstamp withdrawal
        requests); the cursor moves to the newest completed record."""
        since = self._since(cursors, stream)
        raw = await self._call(_method(method, since, None, {}))
        records, skipped, pending = self._records(raw, stream)
        newest = max((r.ts for r in records), default=since)
        cursor = newest if pending is None else min(newest, pending)
        return HistoryPage(stream, tuple(records), str(max(cursor, since)), tuple(skipped))

    async def _backward(
        self,
        stream: str,
        cursors: Mapping[str, str],
        api_max: int,
        params: Mapping[str, Any],
        pager: Callable[[list[Any], dict[str, Any]], dict[str, Any] | None],
        *,
        method: str | None = None,
        kind: str | None = None,
        convert: Callable[[Any], Any] | None = None,
    ) -> AsyncIterator[HistoryPage]:
        """Newest-first lists from the cursor's time, paged backward; the cursor moves to the
        newest record seen once every page is read."""
        since = self._since(cursors, stream)
        limit = self._lim(api_max)
        method = method or ("fetch_my_trades" if stream == "trade" else f"fetch_{stream}s")
        kind = kind or stream
        extra: dict[str, Any] = dict(params)
        newest = since
        pending: int | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            raw = await self._call(_method(method, since, limit, extra))
            items = [convert(r) for r in raw] if convert is not None else raw
            records, skipped, held = self._records(items, kind)
            if held is not None:
                pending = held if pending is None else min(pending, held)
            fresh = [r for r in records if r.id not in seen]
            seen.update(r.id for r in records)
            newest = max([newest, *(r.ts for r in records)])
            nxt = pager(raw, extra) if len(raw) >= limit and (fresh or not records) else None
            if nxt is None or not raw:
                cursor = newest if pending is None else min(newest, pending)
                yield HistoryPage(stream, tuple(records), str(cursor), tuple(skipped))
                return
            yield HistoryPage(stream, tuple(records), None, tuple(skipped))
            extra = nxt

    async def _binance_trades(
        self, cursors: Mapping[str, str], held: set[str]
    ) -> AsyncIterator[HistoryPage]:
        await self._markets()
        balance = await self._call(lambda c: c.fetch_balance())
        totals = balance.get("total") if isinstance(balance, dict) else None
        coins = set(held)
        if isinstance(totals, dict):
            coins |= {c for c in (coin_code(k) for k in totals) if c}
        traded = {k.split(":", 1)[1] for k in cursors if k.startswith("trade:")}
        markets = await self._call(_markets_of)
        symbols = sorted(
            s
            for s, m in markets.items()
            if isinstance(m, dict) and m.get("spot")
            and ((m.get("base") in coins and m.get("quote") in coins | QUOTES) or s in traded)
        )  # fmt: skip
        limit = self._lim(1000)
        for symbol in symbols:
            stream = f"trade:{symbol}"
            from_id = int(cursors.get(stream) or 0)
            market_id = str(markets[symbol].get("id") or symbol)
            for _ in range(MAX_PAGES):
                params = {"fromId": from_id}
                raw = await self._call(
                    lambda c, s=symbol, p=params: c.fetch_my_trades(s, None, limit, p)  # type: ignore[misc]
                )
                records, skipped, _ = self._records(raw, "trade", f"{market_id}-")
                ids = [int(t["id"]) for t in raw if str(t.get("id", "")).isdigit()]
                next_id = max([from_id - 1, *ids]) + 1
                done = len(raw) < limit or next_id <= from_id
                yield HistoryPage(stream, tuple(records), str(next_id), tuple(skipped))
                from_id = next_id
                if done:
                    break

    async def _coinbase_transfers(self, cursors: Mapping[str, str]) -> AsyncIterator[HistoryPage]:
        accounts = await self._call(lambda c: c.fetch_accounts())
        limit = self._lim(100)
        for acct in accounts if isinstance(accounts, list) else []:
            ident, code = acct.get("id"), coin_code(acct.get("code"))
            if not isinstance(ident, str) or code is None:
                continue
            stream = f"transfers:{code}"
            after = cursors.get(stream)
            for _ in range(MAX_PAGES):
                params: dict[str, Any] = {"account_id": ident, "order": "asc"}
                if after:
                    params["starting_after"] = after
                raw = await self._call(
                    lambda c, cd=code, p=params: c.fetch_deposits_withdrawals(cd, None, limit, p)  # type: ignore[misc]
                )
                records: list[ExchangeRecord] = []
                skipped: list[str] = []
                pending = False
                for kind in ("deposit", "withdrawal"):
                    got, why, held = self._records([t for t in raw if t.get("type") == kind], kind)
                    records += got
                    skipped += why
                    pending = pending or held is not None
                # the cursor is the last id read before anything still pending
                last = None
                for t in raw:
                    if t.get("status") == "pending":
                        break
                    last = t.get("id") if isinstance(t.get("id"), str) else last
                if last:
                    after = last
                yield HistoryPage(stream, tuple(records), after, tuple(skipped))
                if len(raw) < limit or pending or not last:
                    break

    async def _bitstamp_transactions(
        self, cursors: Mapping[str, str]
    ) -> AsyncIterator[HistoryPage]:
        """``user_transactions`` holds trades (type 2), deposits (0) and withdrawals (1) in one
        list, oldest first from an id: read once, parsed by ccxt's own parsers (withdrawals
        come from ``withdrawal-requests``, which name the transaction hash)."""
        limit = self._lim(1000)
        stream = "transactions"
        since_id = int(cursors.get(stream) or 0)
        for _ in range(MAX_PAGES):
            params = {"since_id": since_id, "sort": "asc", "limit": limit}
            raw = await self._call(
                lambda c, p=params: c.private_post_user_transactions(p)  # type: ignore[misc]
            )
            if not isinstance(raw, list):
                raise ExchangeError("Bitstamp sent an answer Chainfolio does not understand.")
            rows = [t for t in raw if isinstance(t, dict)]
            trade_rows = [t for t in rows if str(t.get("type")) == "2"]
            deposit_rows = [t for t in rows if str(t.get("type")) == "0"]
            trades = await self._call(_parse("parse_trades", trade_rows))
            deposits = await self._call(_parse("parse_transactions", deposit_rows))
            records, skipped, _ = self._records(trades, "trade")
            more, why, _ = self._records(
                [{**d, "status": d.get("status") or "ok"} for d in deposits], "deposit"
            )
            ids = [int(str(t["id"])) for t in rows if str(t.get("id", "")).isdigit()]
            next_id = max([since_id - 1, *ids]) + 1
            done = len(raw) < limit or next_id <= since_id
            yield HistoryPage(stream, tuple(records + more), str(next_id), tuple(skipped + why))
            since_id = next_id
            if done:
                break


def _parse(method: str, rows: list[Any]) -> Callable[[Any], Any]:
    async def run(client: Any) -> Any:
        return getattr(client, method)(rows)

    return run


def _bitstamp_id(t: Any) -> int | None:
    info = t.get("info") if isinstance(t, dict) else None
    ident = info.get("id") if isinstance(info, dict) else None
    return int(str(ident)) if str(ident).isdigit() else None


async def _markets_of(client: Any) -> dict[str, Any]:
    return dict(client.markets or {})


def _set_markets(markets: Any) -> Callable[[Any], Any]:
    async def run(client: Any) -> None:
        client.set_markets(markets)

    return run


def _method(
    name: str, since: int | None, limit: int | None, params: Mapping[str, Any]
) -> Callable[[Any], Any]:
    def call(client: Any) -> Any:
        return getattr(client, name)(None, since, limit, dict(params))

    return call


def _ledger_transfer(entry: Any) -> Any:
    """A ccxt ledger entry of a deposit or withdrawal (Kraken) as a transaction structure; its
    id is the reference id, as in the deposit and withdrawal status lists."""
    if not isinstance(entry, dict):
        return entry
    return {
        "id": entry.get("referenceId") or entry.get("id"),
        "status": entry.get("status"),
        "currency": entry.get("currency"),
        "timestamp": entry.get("timestamp"),
        "amount": entry.get("amount"),
        "fee": entry.get("fee"),
        "txid": None,
    }


def _info_value(raw: list[Any], key: str) -> str | None:
    for item in raw:
        info = item.get("info") if isinstance(item, dict) else None
        value = info.get(key) if isinstance(info, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _offset_pager(raw: list[Any], extra: dict[str, Any]) -> dict[str, Any] | None:
    return {**extra, "ofs": int(extra.get("ofs", 0)) + len(raw)}


def _cursor_pager(key: str) -> Callable[[list[Any], dict[str, Any]], dict[str, Any] | None]:
    def pager(raw: list[Any], extra: dict[str, Any]) -> dict[str, Any] | None:
        token = _info_value(raw, key)
        return {**extra, "cursor": token} if token else None

    return pager


def _okx_fill_pager(raw: list[Any], extra: dict[str, Any]) -> dict[str, Any] | None:
    bills = [str(t["info"].get("billId")) for t in raw if isinstance(t.get("info"), dict)]
    bills = [b for b in bills if b.isdigit()]
    return {**extra, "after": min(bills, key=int)} if bills else None


def _okx_time_pager(raw: list[Any], extra: dict[str, Any]) -> dict[str, Any] | None:
    times = [t.get("timestamp") for t in raw if isinstance(t.get("timestamp"), int)]
    return {**extra, "after": min(times) + 1} if times else None
