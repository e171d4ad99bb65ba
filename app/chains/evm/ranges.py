"""Block-ranged JSON-RPC queries (``eth_getLogs``, ``trace_filter``) with spans that adapt.

Nodes limit these queries in two ways: by block range ("block range is too wide", QuickNode's
"limited to a 10,000 range", publicnode's "exceed maximum block range: 50000", reth's trace
filter cap) and by result count ("query returned more than 10000 results", Alchemy's "Log
response size exceeded ... this block range should work: [0x…, 0x…]", Infura's -32005). Either
way the answer is the same: split the range, using the node's suggestion when it gives one.
A range limit is a hard ceiling for the endpoint; a result-count limit only shrinks the span
until the next successes grow it again. What worked is kept per endpoint URL for the session
(:class:`RangeMemory`), so the next window, scan or chain starts from it.

A node without the method ("method not found", -32601) is remembered as such, and the caller
falls back (for traces: to an explorer, or to no native history). A filter with too many
wallets in one topic list ("exceed max addresses or topics per search position", geth's 1,000)
splits the wallet list instead.

Every range query of a round goes out in JSON-RPC batch arrays, several concurrently, through
the chain's :class:`~app.chains.http.JsonRpcTransport` (retries, rotation, chain-id check).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.chains.evm.replies import batch_items, classify, reason_of
from app.chains.http import JsonRpcTransport, RateLimited, ReplyError
from app.domain.text import clean_text

Outcome = Literal["range", "wallets", "missing"]

# The first span asked of an endpoint: wide, because a refusal costs one round trip per
# endpoint and session (its limit is then known) while a span too narrow costs requests on every
# scan until it has grown. Public providers cap at 10k-50k blocks and say so.
START_SPAN = 50_000
MAX_SPAN = 1 << 22  # ~4M blocks: a whole chain's history of a few wallets in a few requests
GROW = 4  # after a window without a refusal, the span grows this many times

_URL = re.compile(r"\w+://\S*")
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
_DECIMAL_PAIR = re.compile(r"range:?\s+(\d+)\s*-\s*(\d+)")
_NUMBER = re.compile(r"(\d[\d,_]*)(\s*k\b)?", re.IGNORECASE)
_RANGE_WORDS = ("range", "too wide", "block span", "blocks span")
_RESULT_WORDS = (
    "more than", "too many results", "max results", "maximum results", "response size",
    "response is too big", "result set", "limit exceeded", "exceeds the limit",
    "query timeout", "timed out", "timeout exceeded", "too large", "too big", "exceed",
)  # fmt: skip
_WALLET_WORDS = ("topics per", "addresses or topics", "too many topics", "too many addresses")
_RATE_WORDS = ("rate limit", "too many requests", "rate exceeded", "requests per", "capacity")
_MISSING_WORDS = (
    "method not found", "not supported", "does not exist", "unsupported method",
    "not available", "is not enabled", "unknown method", "method not allowed",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Refusal:
    """A ranged query the node refused for its size (or its wallet count, or not at all)."""

    outcome: Outcome
    reason: str
    suggested: int | None = None  # a span the node said would work
    hard: bool = False  # a block-range limit, not a result count


def refusal_of(error: object) -> Refusal | None:
    """What an error object of a ranged query means, or None: the node's own trouble (retried
    and rotated by the transport) or a rate limit."""
    code = error.get("code") if isinstance(error, dict) else None
    text = str(error.get("message", "") if isinstance(error, dict) else error)
    data = error.get("data") if isinstance(error, dict) else None
    lower = f"{text} {data if isinstance(data, str) else ''}".lower()
    said = clean_text(_URL.sub("", text), 120).strip(" .:")
    reason = f"the RPC node said: {said}" if said else "the RPC node refused the query"
    if code == -32601 or any(w in lower for w in _MISSING_WORDS):
        return Refusal("missing", reason)
    if any(w in lower for w in _WALLET_WORDS):
        return Refusal("wallets", reason)
    if code == 429 or any(w in lower for w in _RATE_WORDS):
        return None
    if _about_size(lower):
        return Refusal("range", reason, _suggested_span(lower), _is_hard(lower))
    return None


def _about_size(lower: str) -> bool:
    return any(w in lower for w in _RANGE_WORDS) or any(w in lower for w in _RESULT_WORDS)


def _is_hard(lower: str) -> bool:
    return any(w in lower for w in _RANGE_WORDS) and "result" not in lower


def _suggested_span(lower: str) -> int | None:
    """A span the node names: Alchemy/Infura's "[0xA, 0xB]", or "N block range" /
    "maximum block range: N" / "up to a 2K block range" (a result count is not a span)."""
    m = _SUGGESTED.search(lower)
    if m:
        lo, hi = int(m[1], 16), int(m[2], 16)
        return hi - lo + 1 if hi >= lo else None
    if "range" not in lower and "blocks" not in lower:
        return None
    m = _DECIMAL_PAIR.search(lower)
    if m and int(m[2]) >= int(m[1]):
        return int(m[2]) - int(m[1]) + 1
    spans = []
    for m in _NUMBER.finditer(lower):
        tail = lower[m.end() : m.end() + 16]
        head = lower[max(0, m.start() - 48) : m.start()]
        if "result" in tail or "log" in tail:
            continue
        if "block" in tail or "range" in tail or "range" in head or "block" in head:
            value = int(m[1].replace(",", "").replace("_", ""))
            spans.append(value * 1000 if m[2] else value)
    return min(spans) if spans and min(spans) > 0 else None


@dataclass
class RangeMemory:
    """Per endpoint URL and method: the span that works, a hard ceiling learned from a range
    limit, methods the node lacks, and the most wallets one topic list may hold."""

    spans: dict[tuple[str, str], int] = field(default_factory=dict)
    ceilings: dict[tuple[str, str], int] = field(default_factory=dict)
    missing: dict[str, set[str]] = field(default_factory=dict)
    wallets: dict[str, int] = field(default_factory=dict)

    def span(self, url: str, method: str) -> int:
        return self.spans.get((url, method), START_SPAN)

    def shrink(self, url: str, method: str, tried: int, refusal: Refusal) -> int:
        new = refusal.suggested if refusal.suggested and refusal.suggested < tried else tried // 2
        new = max(1, new)
        self.spans[(url, method)] = min(self.span(url, method), new)
        if refusal.hard:
            self.ceilings[(url, method)] = min(self.ceilings.get((url, method), tried - 1), new)
        return new

    def grow(self, url: str, method: str) -> None:
        key = (url, method)
        cap = min(self.ceilings.get(key, MAX_SPAN), MAX_SPAN)
        self.spans[key] = min(cap, self.span(url, method) * GROW)

    def lacks(self, url: str, method: str) -> bool:
        return method in self.missing.get(url, set())

    def note_missing(self, url: str, method: str) -> None:
        self.missing.setdefault(url, set()).add(method)


@dataclass(frozen=True, slots=True)
class Query:
    """One ranged query: ``params(lo, hi, wallets)`` builds the JSON-RPC params."""

    method: str
    key: str  # what the answers are filed under (e.g. "out", "in")
    lo: int
    hi: int
    wallets: tuple[str, ...]

    @property
    def blocks(self) -> int:
        return self.hi - self.lo + 1


class MethodMissing(Exception):
    """The node does not offer the method (remembered for the endpoint)."""


ParamsOf = Callable[[Query], list[Any]]
CheckItem = Callable[[Query, Any], Any]


@dataclass
class RangedFetcher:
    """Runs ranged queries to completion: splits refused ones, learns spans, batches items."""

    transport: JsonRpcTransport
    memory: RangeMemory
    sem: asyncio.Semaphore
    items_per_request: int = 16
    concurrency: int = 8
    refused: bool = False  # a refusal happened in the current window
    requests: int = 0

    @property
    def url(self) -> str:
        """The preferred URL: what a refusal teaches is filed under it (as the balance reader
        does with chunk sizes)."""
        return self.transport.urls[0] if self.transport.urls else ""

    def plan(self, method: str, key: str, lo: int, hi: int, wallets: Sequence[str]) -> list[Query]:
        """``[lo, hi]`` cut at the span that works, every wallet group in each piece."""
        span = self.memory.span(self.url, method)
        most = self.memory.wallets.get(self.url) or len(wallets) or 1
        groups = [tuple(wallets[i : i + most]) for i in range(0, len(wallets), most)]
        out: list[Query] = []
        for start in range(lo, hi + 1, span):
            end = min(hi, start + span - 1)
            out.extend(Query(method, key, start, end, g) for g in groups)
        return out

    async def run(
        self, queries: Sequence[Query], params: ParamsOf, check: CheckItem
    ) -> list[tuple[Query, Any]]:
        """Every query answered (split as the node demands); answers as ``check`` made them."""
        done: list[tuple[Query, Any]] = []
        pending = list(queries)
        while pending:
            chunks = spread(pending, self.items_per_request, self.concurrency)
            rounds = await _gather([self._send(c, params, check) for c in chunks])
            pending = []
            for answers in rounds:
                for query, answer in answers:
                    if isinstance(answer, Refusal):
                        pending.extend(self._split(query, answer))
                    else:
                        done.append((query, answer))
        return done

    def _split(self, query: Query, refusal: Refusal) -> list[Query]:
        self.refused = True
        if refusal.outcome == "missing":
            self.memory.note_missing(self.url, query.method)
            raise MethodMissing(query.method)
        if refusal.outcome == "wallets" and len(query.wallets) > 1:
            half = len(query.wallets) // 2
            self.memory.wallets[self.url] = min(self.memory.wallets.get(self.url, half), half)
            return [
                Query(query.method, query.key, query.lo, query.hi, query.wallets[:half]),
                Query(query.method, query.key, query.lo, query.hi, query.wallets[half:]),
            ]
        if query.blocks <= 1:
            raise ReplyError(f"the RPC node refused a query of a single block ({refusal.reason})")
        span = self.memory.shrink(self.url, query.method, query.blocks, refusal)
        span = min(span, query.blocks - 1)
        return [
            Query(query.method, query.key, s, min(query.hi, s + span - 1), query.wallets)
            for s in range(query.lo, query.hi + 1, span)
        ]

    async def _send(
        self, chunk: list[Query], params: ParamsOf, check: CheckItem
    ) -> list[tuple[Query, Any]]:
        payload = [
            {"jsonrpc": "2.0", "id": n, "method": q.method, "params": params(q)}
            for n, q in enumerate(chunk)
        ]

        def checked(reply: Any) -> list[tuple[Query, Any]]:
            items = batch_items(reply, len(chunk))
            out = []
            for query, item in zip(chunk, items, strict=True):
                error = item.get("error")
                if error is not None:
                    refusal = refusal_of(error)
                    if refusal is None:
                        if classify(error) == "rate":
                            raise RateLimited(reason_of(error))
                        raise ReplyError(reason_of(error))
                    out.append((query, refusal))
                else:
                    out.append((query, check(query, item.get("result"))))
            return out

        async with self.sem:
            self.requests += 1
            got: list[tuple[Query, Any]] = await self.transport.post(payload, check=checked)
        return got


def spread(items: Sequence[Any], most: int, concurrency: int) -> list[list[Any]]:
    """Batches of at most ``most`` items, but at least as many batches as may run at once (up
    to one item each): a few slow queries run side by side instead of one after another."""
    if not items:
        return []
    count = max(-(-len(items) // most), min(len(items), concurrency))
    size, extra = divmod(len(items), count)
    out, at = [], 0
    for n in range(count):
        take = size + (1 if n < extra else 0)
        out.append(list(items[at : at + take]))
        at += take
    return out


async def _gather(coros: Sequence[Any]) -> list[Any]:
    """Concurrently; the first failure cancels the rest and is raised as itself."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(c) for c in coros]
    except ExceptionGroup as group:
        raise group.exceptions[0] from None
    return [t.result() for t in tasks]


gather = _gather
