"""What a session learns about each RPC URL: the chain it serves, its pace, its chunk size.

Readers live for one refresh; this memory lives as long as the reader context that builds them
(one window or one CLI run), so a URL's chain id is asked once per session, a URL that refused
requests for going too fast stays paced, and a chunk size a node rejected is not sent again.
It is an object handed to each transport, never a module-level global: two sessions (or two
tests) never see each other's lessons. Light on purpose: no HTTP library is imported here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# A URL that refused a request for going too fast waits at least this long between requests;
# each further refusal doubles the wait, up to the cap.
PACE_FLOOR = 0.05
PACE_CAP = 4.0
# Answers in a row after which a paced URL is allowed twice the rate again.
PACE_RECOVERY = 20


@dataclass
class Pace:
    """Start fast; space requests out on refusal (429 / -32005); speed up again slowly.

    ``interval`` is the least time between two request starts to this URL (0: only the
    connection pool limits it)."""

    interval: float = 0.0
    answered_in_a_row: int = 0
    _next_at: float = 0.0

    async def wait(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Reserve the next start slot (concurrent callers queue one interval apart)."""
        if not self.interval:
            return
        now = clock()
        at = max(now, self._next_at)
        self._next_at = at + self.interval
        if at > now:
            await sleep(at - now)

    def refused(self) -> None:
        self.interval = min(PACE_CAP, max(PACE_FLOOR, self.interval * 2))
        self.answered_in_a_row = 0

    def answered(self) -> None:
        if not self.interval:
            return
        self.answered_in_a_row += 1
        if self.answered_in_a_row >= PACE_RECOVERY:
            self.answered_in_a_row = 0
            half = self.interval / 2
            self.interval = half if half >= PACE_FLOOR else 0.0


@dataclass
class EndpointMemory:
    """Per-URL lessons of one session (see the module docstring)."""

    served: dict[str, int] = field(default_factory=dict)  # URL -> chain id it answered
    paces: dict[str, Pace] = field(default_factory=dict)
    chunk_calls: dict[str, int] = field(default_factory=dict)

    def pace(self, url: str) -> Pace:
        return self.paces.setdefault(url, Pace())

    def learned_calls(self, url: str) -> int | None:
        """Most calls per chunk known to work on this URL, if a rejection taught one."""
        return self.chunk_calls.get(url)

    def remember_calls(self, url: str, calls: int) -> None:
        """Keep the smaller of the known limit and ``calls`` (a size a split made work)."""
        calls = max(1, calls)
        old = self.chunk_calls.get(url)
        self.chunk_calls[url] = calls if old is None else min(old, calls)
