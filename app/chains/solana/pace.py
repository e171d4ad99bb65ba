"""How fast each Solana endpoint may be called: published limits for the public endpoints,
learned limits for every other URL.

The public endpoints (api.mainnet-beta / devnet / testnet.solana.com) publish their limits:
100 requests per 10 s per IP, 40 per method (batch items count as requests). Those are applied
from the first call, by a sliding-window limiter per public URL. Any other URL (the user's own
node, a provider) starts without a client-side limit; an HTTP 429 or a -32005 reply makes the
shared JSON-RPC transport space that URL's requests out (``app.chains.endpoints.Pace``: start
fast, back off on refusal, speed up again slowly). Both are kept per URL in a ``PaceBook``, which
lives as long as the reader context that holds it (the process's session), never in a
module-level global.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.chains.endpoints import EndpointMemory

PUBLIC_HOSTS = frozenset(
    {"api.mainnet-beta.solana.com", "api.devnet.solana.com", "api.testnet.solana.com"}
)


@dataclass(frozen=True, slots=True)
class Limits:
    total: int  # calls per window
    per_method: int  # calls of one method per window
    window: float  # seconds


PUBLIC_LIMITS = Limits(100, 40, 10.0)


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


def is_public(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in PUBLIC_HOSTS


class PaceBook:
    """Every endpoint's pace for one session: the published limiter of each public URL, and the
    shared transport's per-URL memory (learned pace, chunk sizes a node accepted).
    ``public`` overrides the published limits of the public endpoints."""

    def __init__(
        self,
        public: Limits = PUBLIC_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.public = public
        self.endpoints = EndpointMemory()
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[str, RateLimiter] = {}

    def limiter(self, url: str) -> RateLimiter | None:
        """The published limits' limiter of a public endpoint; None for any other URL."""
        if not is_public(url):
            return None
        found = self._limiters.get(url)
        if found is None:
            p = self.public
            found = RateLimiter(
                p.total, p.per_method, p.window, clock=self._clock, sleep=self._sleep
            )
            self._limiters[url] = found
        return found

    def batch_cap(self, url: str) -> int | None:
        """Most calls one request to ``url`` may carry, or None for no limit: a public
        endpoint's per-window limit, or a size the node was seen to accept after refusing more."""
        caps = [self.endpoints.learned_calls(url)]
        limiter = self.limiter(url)
        if limiter is not None:
            caps.append(min(limiter.total, limiter.per_method))
        known = [c for c in caps if c is not None]
        return max(1, min(known)) if known else None

    def learned(self, url: str) -> bool:
        """Whether ``url`` has refused calls for going too fast and is paced since."""
        return self.endpoints.pace(url).interval > 0
