"""A JSON-RPC-over-HTTP transport shared by chain readers.

Why its own client: public RPC endpoints rate-limit and fail often; one keep-alive connection
pool, retries with backoff and jitter (honouring Retry-After), rotation through the URL list and
a circuit breaker per endpoint let one flaky provider cost seconds, not the whole refresh.
The payload is opaque JSON (one request or a batch array), so any JSON-RPC chain can use it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from app.domain.errors import ChainfolioError
from app.tls import tls_context

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RpcTransportError(ChainfolioError):
    """No endpoint of a chain gave a usable reply."""


class Pacer(Protocol):
    """Paces requests per endpoint: awaited before each send, told when an endpoint refuses
    one for its rate (HTTP 429)."""

    async def wait(self, url: str, payload: Any) -> None: ...

    def refused(self, url: str) -> None: ...


@dataclass
class _Breaker:
    """Opens after ``threshold`` consecutive failures; lets one request through after cooldown."""

    threshold: int = 3
    cooldown: float = 30.0
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> bool:
        return self.opened_at is None or now - self.opened_at >= self.cooldown

    def ok(self) -> None:
        self.failures, self.opened_at = 0, None

    def fail(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now


@dataclass
class JsonRpcTransport:
    """Posts JSON to a list of URLs in fallback order; counts the HTTP requests it made."""

    urls: Sequence[str]
    timeout: float = 10.0
    retries: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    max_connections: int = 16
    requests: int = 0
    pacer: Pacer | None = None
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _breakers: dict[str, _Breaker] = field(default_factory=dict, repr=False)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(
                max_connections=self.max_connections, max_keepalive_connections=self.max_connections
            )
            self._client = httpx.AsyncClient(
                timeout=self.timeout, limits=limits, verify=tls_context()
            )
        return self._client

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.backoff_cap)
            except ValueError:
                pass
        base = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return float(base / 2 + random.uniform(0, base / 2))

    async def post(
        self,
        payload: Any,
        decode: Callable[[bytes], Any] | None = None,
        *,
        answered_by: list[str] | None = None,
    ) -> Any:
        """Send ``payload``; return the parsed JSON reply of the first endpoint that answers.
        ``decode`` (body bytes to reply, raising ValueError when the body is not a reply) replaces
        the plain JSON parse; a reply it refuses is retried like one that is not JSON.

        ``answered_by``, when given, receives the URL that answered.

        Raises RpcTransportError with a human reason (never a URL: it may hold a key).
        """
        if not self.urls:
            raise RpcTransportError("This network has no RPC URL configured.")
        last = "no endpoint answered"
        for attempt in range(self.retries + 1):
            now = time.monotonic()
            candidates = [u for u in self.urls if self._breaker(u).allows(now)]
            if not candidates:
                candidates = list(self.urls)
            retry_after: str | None = None
            for idx, url in enumerate(candidates):
                try:
                    if self.pacer is not None:
                        await self.pacer.wait(url, payload)
                    self.requests += 1
                    resp = await self._http().post(url, json=payload)
                except httpx.TimeoutException:
                    last = "the RPC endpoint timed out"
                except httpx.HTTPError as exc:
                    last = f"the RPC endpoint could not be reached ({type(exc).__name__})"
                else:
                    if resp.status_code in RETRY_STATUS:
                        if resp.status_code == 429 and self.pacer is not None:
                            self.pacer.refused(url)
                        last = f"the RPC endpoint answered HTTP {resp.status_code}"
                        retry_after = resp.headers.get("retry-after") or retry_after
                    elif resp.status_code >= 400:
                        last = f"the RPC endpoint refused the request (HTTP {resp.status_code})"
                    else:
                        try:
                            data = decode(resp.content) if decode else resp.json()
                        except ValueError:
                            last = "the RPC endpoint sent a reply that is not JSON"
                        else:
                            self._breaker(url).ok()
                            if answered_by is not None:
                                answered_by.append(url)
                            return data
                self._breaker(url).fail(time.monotonic())
                del idx
            if attempt < self.retries:
                await asyncio.sleep(self._delay(attempt, retry_after))
        raise RpcTransportError(f"Could not read the network: {last}.")

    def _breaker(self, url: str) -> _Breaker:
        return self._breakers.setdefault(url, _Breaker())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
