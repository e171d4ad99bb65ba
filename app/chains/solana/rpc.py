"""JSON-RPC batch client for Solana endpoints.

solana-py 0.40 dropped batch requests, so a refresh sends its calls itself as JSON-RPC batch
arrays through the shared JSON-RPC transport (app.chains.http: keep-alive pool, retries, URL rotation,
circuit breaker). Each endpoint is paced on its own (:mod:`app.chains.solana.pace`): the public
endpoints within their published limits, any other URL as fast as it answers until it refuses;
a 429 or -32005 reply backs off, retries, and teaches that endpoint's pace (the transport's
per-URL memory, kept for the session).
A batch reply is decoded once, by msgspec, into its items with each ``result`` left as raw JSON
text; the reader then decodes each result with the typed parser of its method. Error items are
screened here before any solders parser sees them (solders 0.29 panics on a -32005 error without
``data``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from app.chains.http import JsonRpcTransport, RateLimited, RpcTransportError
from app.chains.solana.pace import PaceBook, RateLimiter

__all__ = ["BatchClient", "Call", "CallResult", "PaceBook", "RateLimiter", "RpcError"]

RATE_LIMITED_CODE = -32005
# Batches in flight at once. A 200-wallet refresh is 9 batches of 100 calls: 16 sends a round in
# one wave (8 needed two round trips for the ninth batch), still well under the public endpoint's
# 40 concurrent connections per IP; the endpoint's pace, not this, paces a public endpoint.
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


class BatchClient:
    """Sends calls as batch arrays of at most ``batch_size`` items to the first URL that works."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        batch_size: int = 100,
        pace: PaceBook | None = None,
        timeout: float = 20.0,
        retries: int = 4,
        backoff: float = 0.5,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if not urls:
            raise ValueError("no RPC URL configured for Solana")
        self.urls = list(urls)
        self._batch_size = max(1, batch_size)
        self.pace = pace if pace is not None else PaceBook()
        self.retries = retries
        self.backoff = backoff
        self._sem = asyncio.Semaphore(concurrency)
        # Transport-level faults (timeouts, HTTP 429/5xx, non-JSON, dead endpoints) are retried
        # with rotation and a circuit breaker by the shared transport, which asks the pace of
        # each endpoint before sending to it; -32005 items are retried here, per item.
        self._transport = JsonRpcTransport(
            urls=list(urls),
            timeout=timeout,
            retries=retries,
            backoff_base=backoff,
            max_connections=concurrency,
            memory=self.pace.endpoints,
        )
        self._next_id = 0

    @property
    def batch_size(self) -> int:
        """Calls per request: never more than the first endpoint allows per window (a public
        endpoint's published limit), nor more than it was seen to accept."""
        cap = self.pace.batch_cap(self.urls[0])
        return self._batch_size if cap is None else max(1, min(self._batch_size, cap))

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
            size = self.batch_size  # smaller if the endpoint was seen to refuse this many
            for start in range(0, len(todo), size):
                try:
                    reply = await self._post(todo[start : start + size])
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
        """The reply's items. A reply that refuses any call for the endpoint's rate is retried
        whole by the transport, which slows that URL down."""
        url = self.urls[0]
        limiter = self.pace.limiter(url)  # the first URL answers unless it is down
        if limiter is not None:
            await limiter.acquire([b["method"] for b in body])
        async with self._sem:
            try:
                data = await self._transport.post(body, _decode_reply, _refuse_rate_limited)
            except RpcTransportError as exc:
                raise RpcError(str(exc)) from exc
        return [data] if isinstance(data, _Item) else list(data)


def _refuse_rate_limited(reply: list[_Item] | _Item) -> list[_Item] | _Item:
    """Raises RateLimited for a reply refusing any of its calls with -32005."""
    items = reply if isinstance(reply, list) else [reply]
    for item in items:
        err = _error_of(item) if item.error is not msgspec.UNSET else None
        if err is not None and err[0] == RATE_LIMITED_CODE:
            raise RateLimited("rate limited by the RPC endpoint")
    return reply
