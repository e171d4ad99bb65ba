"""RefreshScheduler: automatic refreshes on a timer, with backoff, pause and "refresh now".

Qt-free so it can be tested with a fake clock and a fake sleep. Times are wall-clock epoch
seconds (``next_run_at`` is shown to the person), and the loop never sleeps longer than
``max_sleep`` at once: after the computer wakes from suspend, a refresh that fell due runs
within that time instead of after the whole remaining monotonic sleep.

A refresh counts as failed when it raises, or when its result says nothing could be read
(:attr:`RefreshResult.failure`). Consecutive failures retry sooner than the interval at first,
then back off exponentially up to a cap; one success resets the streak. Every refresh, whether
the timer or the person started it, goes through :meth:`refresh_now`, so each one is counted
once and restarts the timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.domain.errors import ChainfolioError
from app.domain.outcome import plain_reason
from app.domain.snapshot import Snapshot
from app.services.refresh import RefreshResult

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 2 * 3600.0
BACKOFF_INTERVALS = 8  # the backoff never exceeds this many intervals (nor MAX_BACKOFF_SECONDS)


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What the window and the tray show about automatic refreshes."""

    auto: bool  # the refresh.auto setting
    paused: bool  # paused by the person for this session
    running: bool
    next_run_at: float | None  # None when paused, off, or running
    failures: int  # consecutive failed refreshes
    last_error: str | None = None
    last_success_at: float | None = None


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    snapshot: Snapshot | None  # the snapshot stored by this refresh, if any
    error: str | None  # why it failed, for the person; None on success
    failures: int  # the failure streak after this refresh
    result: RefreshResult | None = None  # None when the refresh raised

    @property
    def ok(self) -> bool:
        return self.error is None


def backoff_delay(
    failures: int,
    interval: float,
    base: float = RETRY_BASE_SECONDS,
    cap: float = MAX_BACKOFF_SECONDS,
) -> float:
    """Seconds until the next try after ``failures`` consecutive failures (>= 1).

    1, 2, 4, 8 … minutes, capped at ``BACKOFF_INTERVALS`` intervals and at ``cap``, but never
    below ``base``. With the default 15 min interval: 1, 2, 4, 8, 16, 32, 64, 120, 120 … min.
    """
    limit = max(base, min(interval * BACKOFF_INTERVALS, cap))
    exponent = min(failures - 1, 60)  # 2**60 minutes is far past any cap
    return float(min(base * 2**exponent, limit))


Refresh = Callable[[], Awaitable[RefreshResult]]
StateListener = Callable[[ScheduleState], None]
OutcomeListener = Callable[[RefreshOutcome], None]


class RefreshScheduler:
    def __init__(
        self,
        refresh: Refresh,
        interval_minutes: Callable[[], int],
        auto: Callable[[], bool],
        *,
        has_work: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        first_delay: float = 0.0,
        retry_base: float = RETRY_BASE_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        max_sleep: float = 60.0,
    ) -> None:
        self._refresh = refresh
        self._interval_minutes = interval_minutes
        self._auto = auto
        self._has_work = has_work
        self._clock = clock
        self._sleep = sleep
        self._retry_base = retry_base
        self._max_backoff = max_backoff
        self._max_sleep = max_sleep
        self._paused = False
        self._failures = 0
        self._last_error: str | None = None
        self._last_success: float | None = None
        # The timer counts from the anchor: the end of the last refresh (or the start).
        self._anchor = clock()
        self._first_delay: float | None = first_delay
        self._current: asyncio.Task[RefreshOutcome] | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._state_listeners: list[StateListener] = []
        self._outcome_listeners: list[OutcomeListener] = []

    # --- observing ----------------------------------------------------------------------
    def subscribe(
        self, on_state: StateListener | None = None, on_outcome: OutcomeListener | None = None
    ) -> None:
        if on_state is not None:
            self._state_listeners.append(on_state)
        if on_outcome is not None:
            self._outcome_listeners.append(on_outcome)

    @property
    def interval(self) -> float:
        return float(self._interval_minutes()) * 60.0

    @property
    def running(self) -> bool:
        return self._current is not None and not self._current.done()

    def delay(self) -> float:
        """How long after the anchor the next automatic refresh is due."""
        if self._first_delay is not None:
            return self._first_delay
        if self._failures:
            return backoff_delay(self._failures, self.interval, self._retry_base, self._max_backoff)
        return self.interval

    @property
    def next_run_at(self) -> float | None:
        if self._paused or not self._auto() or self.running:
            return None
        return self._anchor + self.delay()

    @property
    def state(self) -> ScheduleState:
        return ScheduleState(
            auto=bool(self._auto()),
            paused=self._paused,
            running=self.running,
            next_run_at=self.next_run_at,
            failures=self._failures,
            last_error=self._last_error,
            last_success_at=self._last_success,
        )

    def _publish_state(self) -> None:
        state = self.state
        for listener in list(self._state_listeners):
            try:
                listener(state)
            except Exception:
                log.exception("scheduler state listener failed")

    def _changed(self) -> None:
        self._wake.set()
        self._publish_state()

    # --- controlling --------------------------------------------------------------------
    def set_paused(self, paused: bool) -> None:
        if paused != self._paused:
            self._paused = paused
            log.info("automatic refresh %s", "paused" if paused else "resumed")
            self._changed()

    def pause(self) -> None:
        self.set_paused(True)

    def resume(self) -> None:
        """Resume; a refresh that fell due while paused runs at once."""
        self.set_paused(False)

    @property
    def paused(self) -> bool:
        return self._paused

    def reschedule(self) -> None:
        """The interval or refresh.auto changed: recompute the next run from the anchor."""
        self._changed()

    def refreshed_elsewhere(self) -> None:
        """Another desktop sharing the database stored a snapshot: count the interval from now,
        so the group refreshes once per interval instead of once per desktop per interval."""
        if self.running:
            return
        self._anchor = self._clock()
        self._first_delay = None
        self._last_success = self._anchor
        self._changed()

    async def refresh_now(self) -> RefreshOutcome:
        """Refresh now (or join the refresh already running); restarts the timer. Never raises
        for a failed refresh: the outcome says what happened."""
        if self._current is None or self._current.done():
            self._current = asyncio.ensure_future(self._run_refresh())
            # Once it is done: publish "not running" and the next run, wake the timer.
            self._current.add_done_callback(lambda _t: self._changed())
            self._changed()
        return await asyncio.shield(self._current)

    async def _run_refresh(self) -> RefreshOutcome:
        result: RefreshResult | None = None
        try:
            result = await self._refresh()
            error = result.failure
        except ChainfolioError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("refresh failed")
            error = f"something went wrong ({plain_reason(str(exc))}); see the log"
        snapshot = result.snapshot if result is not None and result.stored else None
        self._anchor = self._clock()
        self._first_delay = None
        if error is None:
            self._failures = 0
            self._last_success = self._anchor
        else:
            self._failures += 1
            log.info("refresh failed (%d in a row): %s", self._failures, error)
        self._last_error = error
        outcome = RefreshOutcome(snapshot, error, self._failures, result)
        for listener in list(self._outcome_listeners):
            try:
                listener(outcome)
            except Exception:
                log.exception("refresh outcome listener failed")
        return outcome

    # --- the loop -----------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.ensure_future(self._run())
        return self._loop_task

    async def aclose(self) -> None:
        """Stop the timer and any refresh it runs (part of the app's one shutdown path)."""
        tasks = [t for t in (self._loop_task, self._current) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        self._publish_state()
        while True:
            self._wake.clear()
            due = self.next_run_at  # None while paused, off or running
            if due is None:
                await self._wait(None)
                continue
            remaining = due - self._clock()
            if remaining > 0:
                await self._wait(min(remaining, self._max_sleep))
                continue
            if not self._has_work():
                # Nothing to read (no wallets yet): skip this turn without counting a failure.
                self._anchor = self._clock()
                self._first_delay = None
                self._publish_state()
                continue
            await self.refresh_now()

    async def _wait(self, seconds: float | None) -> None:
        """Sleep for ``seconds`` (forever when None), or until something changes."""
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(self._wake.wait())]
        if seconds is not None:
            waits.append(asyncio.ensure_future(self._sleep(seconds)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
            await asyncio.gather(*waits, return_exceptions=True)


def describe(state: ScheduleState, now: float) -> str:
    """One short line for the status bar: when the next automatic refresh happens, and why."""
    if state.running:
        return "Refreshing…"
    if not state.auto:
        return "Automatic refresh off"
    if state.paused:
        return "Auto-refresh paused"
    if state.next_run_at is None:
        return ""
    when = _in(state.next_run_at - now)
    if state.failures:
        s = "s" if state.failures != 1 else ""
        return f"Retrying {when} after {state.failures} failure{s}"
    return f"Next refresh {when}"


def _in(seconds: float) -> str:
    if seconds < 60:
        return "in less than a minute"
    minutes = int((seconds + 59) // 60)  # round up: "in 1 min" until it is due
    if minutes < 60:
        return f"in {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"in {hours} h {rest} min" if rest else f"in {hours} h"


__all__ = [
    "RefreshOutcome",
    "RefreshScheduler",
    "ScheduleState",
    "backoff_delay",
    "describe",
]
