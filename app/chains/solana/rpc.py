"""JSON-RPC batch client for Solana endpoints.

solana-py 0.40 dropped batch requests, so a refresh sends its calls itself as JSON-RPC batch
arrays through the shared JSON-RPC transport (app.chains.http: keep-alive pool, retries, URL rotation,
circuit breaker). A client-side limiter keeps within the public endpoint
limits (100 requests / 10 s per IP, 40 per method); a 429 or -32005 reply backs off and retries.
A batch reply is decoded once, by msgspec, into its items with each ``result`` left as raw JSON
text; the reader then decodes each result with the typed parser of its method. Error items are
screened here before any solders parser sees them (solders 0.29 panics on a -32005 error without
``data``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from app.chains.http import JsonRpcTransport, RpcTransportError

RATE_LIMITED_CODE = -32005
# Batches in flight at once. A 200-wallet refresh is 9 batches of 100 calls: 16 sends a round in
# one wave (8 needed two round trips for the ninth batch), still well under the public endpoint's
# 40 concurrent connections per IP; the rate limiter, not this, paces a public endpoint.
DEFAULT_CONCURRENCY = 16


class RpcError(Exception):
    """A whole batch could not be answered (transport, rate limit after retries, bad reply)."""


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: list[Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    """One call's reply: the JSON text of its ``result`` when it succeeded, else an error text.

    ``batch_failed`` marks a call whose whole batch went unanswered after every retry (endpoint
    down, rate limit that never ends), as opposed to an error reply for this one call."""

    result: msgspec.Raw | None
    error: str | None
    batch_failed: bool = False


class _Item(msgspec.Struct):
    """One item of a JSON-RPC reply, its ``result`` and ``error`` still undecoded."""

    id: int | str | None = None
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_REPLY: msgspec.json.Decoder[list[_Item] | _Item] = msgspec.json.Decoder(list[_Item] | _Item)


def _decode_reply(body: bytes) -> list[_Item] | _Item:
    """Raises ValueError (msgspec.DecodeError is one) for a body that is not a JSON-RPC reply."""
    return _REPLY.decode(body)


def _error_of(item: _Item) -> tuple[int | None, str] | None:
    """(code, message) of an error item; None when the item carries no error."""
    if item.error is msgspec.UNSET:
        return None
    try:
        err = msgspec.json.decode(item.error)
    except msgspec.DecodeError:  # well-formed, but a number no Python type holds (1e400)
        return None, "unreadable error"
    if err is None:
        return None
    if isinstance(err, dict):
        code = err.get("code")
        return (code if type(code) is int else None), str(err.get("message"))[:200]
    return None, str(err)[:200]


class RateLimiter:
    """Sliding-window limiter: at most ``total`` calls and ``per_method`` calls of one method
    within ``window`` seconds. Batch items count as calls, as public endpoints count them."""

    def __init__(
        self,
        total: int,
        per_method: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.total = total
        self.per_method = per_method
        self.window = window
        self._all: deque[float] = deque()
        self._by_method: dict[str, deque[float]] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, methods: Sequence[str]) -> None:
        async with self._lock:
            while True:
                wait = self._wait_time(methods, self._clock())
                if wait <= 0:
                    break
                await self._sleep(wait)
            now = self._clock()
            for m in methods:
                self._all.append(now)
                self._by_method.setdefault(m, deque()).append(now)

    def _wait_time(self, methods: Sequence[str], now: float) -> float:
        horizon = now - self.window
        for q in (self._all, *self._by_method.values()):
            while q and q[0] <= horizon:
                q.popleft()
        wait = 0.0
        if len(self._all) + len(methods) > self.total and self._all:
            over = len(self._all) + len(methods) - self.total
            idx = min(over, len(self._all)) - 1
            wait = max(wait, self._all[idx] + self.window - now)
        counts: dict[str, int] = {}
        for m in methods:
            counts[m] = counts.get(m, 0) + 1
        for m, n in counts.items():
            mq = self._by_method.get(m)
            if mq and len(mq) + n > self.per_method:
                over = len(mq) + n - self.per_method
                idx = min(over, len(mq)) - 1
                wait = max(wait, mq[idx] + self.window - now)
        return wait


class BatchClient:
    """Sends calls as batch arrays of at most ``batch_size`` items to the first URL that works."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        batch_size: int = 100,
        limiter: RateLimiter | None = None,
        timeout: float = 20.0,
        retries: int = 4,
        backoff: float = 0.5,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if not urls:
            raise ValueError("no RPC URL configured for Solana")
        self.urls = list(urls)
        # A batch never carries more calls of one method than the endpoint allows per window.
        cap = min(limiter.per_method, limiter.total) if limiter is not None else batch_size
        self.batch_size = max(1, min(batch_size, cap))
        self.limiter = limiter
        self.retries = retries
        self.backoff = backoff
        self._sem = asyncio.Semaphore(concurrency)
        # Transport-level faults (timeouts, HTTP 429/5xx, non-JSON, dead endpoints) are retried
        # with rotation and a circuit breaker by the shared transport; -32005 items are retried
        # here, per item.
        self._transport = JsonRpcTransport(
            urls=list(urls),
            timeout=timeout,
            retries=retries,
            backoff_base=backoff,
            max_connections=concurrency,
        )
        self._next_id = 0

    @property
    def http_requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._transport.requests

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def call_all(self, calls: Sequence[Call]) -> list[CallResult]:
        """Every call's result, in order. Raises RpcError if any batch went unanswered."""
        results = [CallResult(None, "not sent")] * len(calls)

        def keep(offset: int, part: list[CallResult]) -> None:
            results[offset : offset + len(part)] = part

        await self.call_each(calls, keep)
        failed = next((r for r in results if r.batch_failed), None)
        if failed is not None:
            raise RpcError(failed.error or "no reply")
        return results

    async def call_each(
        self, calls: Sequence[Call], on_chunk: Callable[[int, list[CallResult]], None]
    ) -> None:
        """Sends the batches concurrently and hands each batch's results to ``on_chunk(offset,
        results)`` as soon as that batch is answered, so the caller parses one reply while the
        others are still on the wire. A batch that stays unanswered after every retry comes back
        as results with ``batch_failed`` set; the caller decides what that costs."""
        size = self.batch_size
        chunks = [(i, calls[i : i + size]) for i in range(0, len(calls), size)]

        async def one(offset: int, chunk: Sequence[Call]) -> tuple[int, list[CallResult]]:
            try:
                return offset, await self._send_chunk(chunk)
            except RpcError as exc:
                return offset, [CallResult(None, str(exc), batch_failed=True)] * len(chunk)

        tasks = [asyncio.ensure_future(one(o, c)) for o, c in chunks]
        try:
            for done in asyncio.as_completed(tasks):
                offset, part = await done
                on_chunk(offset, part)
        finally:
            for t in tasks:
                t.cancel()

    async def _send_chunk(self, calls: Sequence[Call]) -> list[CallResult]:
        ids = []
        body = []
        for c in calls:
            self._next_id += 1
            ids.append(self._next_id)
            body.append(
                {"jsonrpc": "2.0", "id": self._next_id, "method": c.method, "params": c.params}
            )
        pending = dict(zip(ids, range(len(calls)), strict=True))
        results: list[CallResult | None] = [None] * len(calls)
        last_error = "no reply"
        for attempt in range(self.retries + 1):
            todo = [b for b in body if b["id"] in pending]
            if not todo:
                break
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                reply = await self._post(todo)
            except RpcError as exc:
                last_error = str(exc)
                continue
            for item in reply:
                if not isinstance(item.id, int) or item.id not in pending:
                    continue
                err = _error_of(item)
                if err is not None and err[0] == RATE_LIMITED_CODE:
                    last_error = "rate limited by the RPC endpoint"
                    continue
                idx = pending.pop(item.id)
                if err is not None:
                    results[idx] = CallResult(None, f"RPC error: {err[1]}")
                elif item.result is msgspec.UNSET:
                    results[idx] = CallResult(None, "malformed RPC reply")
                else:
                    results[idx] = CallResult(item.result, None)
        if all(r is None for r in results):
            raise RpcError(last_error)
        return [r if r is not None else CallResult(None, last_error) for r in results]

    async def _post(self, body: list[dict[str, Any]]) -> list[_Item]:
        if self.limiter is not None:
            await self.limiter.acquire([b["method"] for b in body])
        async with self._sem:
            try:
                data = await self._transport.post(body, _decode_reply)
            except RpcTransportError as exc:
                raise RpcError(str(exc)) from exc
        if isinstance(data, _Item):
            err = _error_of(data)
            if err is not None and err[0] == RATE_LIMITED_CODE:
                raise RpcError("rate limited by the RPC endpoint")
            data = [data]
        return list(data)
