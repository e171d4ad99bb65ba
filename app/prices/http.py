"""One polite HTTP GET for the price sources: pacing, Retry-After on 429, one retry on 5xx.

Secrets travel only in the headers given by the caller for that one host; URLs (which are
logged) never carry a key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import Any

import httpx

from app.net.transport import EgressRefused

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0


class Pacer:
    """Spaces requests to at most ``per_minute`` per minute (free-tier limits)."""

    def __init__(self, per_minute: int) -> None:
        self._interval = 60.0 / per_minute
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self._interval


class FetchError(Exception):
    """A request that failed after its retries; the message is for the person using the app."""


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    pacer: Pacer | None = None,
    attempts: int = 3,
) -> tuple[Any, int]:
    """GET ``url`` and decode JSON; returns (body, requests made). Raises FetchError."""
    made = 0
    problem = "no answer"
    for attempt in range(attempts):
        if pacer is not None:
            await pacer.wait()
        made += 1
        try:
            response = await client.get(url, params=params, headers=headers)
        except EgressRefused as exc:  # own-nodes-only, or the proxy is down: no retry
            raise _Failed(str(exc), made - 1) from None
        except httpx.TimeoutException:
            problem = "timed out"
            continue
        except httpx.HTTPError as exc:
            problem = f"connection failed ({type(exc).__name__})"
            continue
        if response.status_code == 429:
            problem = "rate limited (429)"
            if attempt + 1 < attempts:
                await asyncio.sleep(_retry_after(response))
            continue
        if response.status_code >= 500:
            problem = f"server error {response.status_code}"
            continue
        if response.status_code >= 400:
            raise _Failed(f"refused the request ({response.status_code})", made)
        try:
            return decode_json(response.content), made
        except ValueError:
            raise _Failed("answered with something that is not JSON", made) from None
    raise _Failed(problem, made)


def decode_json(content: bytes) -> Any:
    """JSON with every non-integer number as an exact Decimal, never a float: a float reads
    ``1e-999999999999999999`` as 0.0 and ``1e999999`` as inf, and drops digits past the 17th.
    NaN and Infinity stay texts, which no price check takes for a number."""
    return json.loads(content, parse_float=Decimal, parse_constant=str)


class _Failed(FetchError):
    def __init__(self, message: str, requests: int) -> None:
        super().__init__(message)
        self.requests = requests


def requests_of(exc: FetchError) -> int:
    return exc.requests if isinstance(exc, _Failed) else 0


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
