"""The timeline's history reads: in worker threads, at most one of each kind at a time.

Why not one task per request, the newest cancelling the older (``TaskRunner`` keys): a read
already running in a worker thread cannot be stopped, only its result ignored. Clicking through
the range buttons while refreshes land started a "what changed" per click and per refresh, each
comparing two snapshots of up to 10,000s of holdings beside the others, and every one of them
held the interpreter lock the window needs to draw (``tests/benchmarks/ui_stall.py`` traced the
chart's re-render waiting behind them). Here a request made while a read of its kind runs waits
instead; a newer request replaces a waiting one, and when the running read ends, its result is
dropped if a newer request is waiting (it is out of date) and the newest one starts.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Request = tuple[Callable[[], Any], Callable[[Any], None]]


class LatestReads:
    """``on_failure`` gets every read that raised: it logs and says so (the page uses
    :func:`app.domain.errors.report`)."""

    def __init__(self, on_failure: Callable[[BaseException], None]) -> None:
        self._on_failure = on_failure
        self._running: dict[str, asyncio.Future[Any]] = {}
        self._waiting: dict[str, Request] = {}

    def run(self, key: str, work: Callable[[], T], on_success: Callable[[T], None]) -> None:
        """Run ``work`` in a worker thread, then ``on_success(result)`` on the loop's thread;
        if a read under ``key`` is running, after it (replacing any request waiting)."""
        if key in self._running:
            self._waiting[key] = (work, on_success)
            return
        self._waiting.pop(key, None)  # one kept from when no loop ran: this one is newer
        self._start(key, work, on_success)

    def _start(self, key: str, work: Callable[[], Any], on_success: Callable[[Any], None]) -> None:
        # Handed to the worker threads now, from the loop's own thread: a task wrapping
        # ``asyncio.to_thread`` took its first step later, and during quit that step could
        # come after the loop had stopped ("no running event loop", logged as a failed read).
        try:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(None, contextvars.copy_context().run, work)
        except RuntimeError:  # no loop, or its workers shut down: the app is quitting
            self._waiting[key] = (work, on_success)  # read when asked again
            return
        self._running[key] = future

        def done(f: asyncio.Future[Any]) -> None:
            if self._running.get(key) is f:
                del self._running[key]
            newer = self._waiting.pop(key, None)
            if newer is not None and not f.cancelled():
                self._start(key, *newer)  # this result is out of date
                return
            if f.cancelled():
                return
            exc = f.exception()
            if exc is None:
                on_success(f.result())
            else:
                self._on_failure(exc)

        future.add_done_callback(done)

    @property
    def busy(self) -> bool:
        return bool(self._running)
