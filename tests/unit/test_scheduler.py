"""RefreshScheduler with a fake clock and a fake sleep: every step is deterministic.

The fake sleep only returns when the test advances the fake clock past its deadline; ``settle``
lets the loop run until it is blocked again (a bounded number of loop turns, no wall time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.domain.balances import SourceState
from app.domain.errors import ChainfolioError
from app.domain.outcome import RefreshStatus
from app.domain.snapshot import Snapshot, SourceStatus
from app.services.refresh import RefreshResult
from app.services.scheduler import (
    RefreshOutcome,
    RefreshScheduler,
    ScheduleState,
    backoff_delay,
    describe,
)

MIN = 60.0
START = 1_700_000_000.0


class FakeTime:
    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        entry = (self.now + seconds, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await entry[1]
        finally:
            self._waiters.remove(entry)

    async def advance(self, seconds: float) -> None:
        """Move time forward in small steps, letting the scheduler react at each."""
        end = self.now + seconds
        while True:
            await settle()
            due = [d for d, f in self._waiters if not f.done() and d <= end]
            if not due:
                break
            self.now = max(self.now, min(due))
            for d, f in self._waiters:
                if d <= self.now and not f.done():
                    f.set_result(None)
        self.now = end
        await settle()


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


def snap(*states: SourceState) -> Snapshot:
    sources = tuple(
        SourceStatus(f"eip155:{i}", s, None if s is SourceState.OK else "node down", 0)
        for i, s in enumerate(states, 1)
    )
    return Snapshot(0, "USD", (), sources)


def result(status: RefreshStatus, summary: str, *states: SourceState) -> RefreshResult:
    stored = status is not RefreshStatus.EMPTY
    return RefreshResult(status, summary, 0, "USD", snapshot=snap(*states), stored=stored)


# A partial refresh still counts as a success; nothing read at all is a failure.
OK = result(RefreshStatus.PARTIAL, "Refreshed, but 1 chain…", SourceState.OK, SourceState.FAILED)
ALL_FAILED = result(
    RefreshStatus.FAILED, "Nothing could be read. node down.", SourceState.STALE, SourceState.FAILED
)


class Script:
    """A fake refresh: each call takes the next result (a RefreshResult or an exception)."""

    def __init__(self, *results: RefreshResult | Exception) -> None:
        self.results = list(results)
        self.calls: list[float] = []
        self.gate: asyncio.Event | None = None

    def make(self, t: FakeTime) -> Callable[[], Awaitable[RefreshResult]]:
        async def refresh() -> RefreshResult:
            self.calls.append(t.now)
            if self.gate is not None:
                await self.gate.wait()
            result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
            if isinstance(result, Exception):
                raise result
            return result

        return refresh


def make(
    t: FakeTime, script: Script, interval: list[int] | None = None, auto: list[bool] | None = None,
    **kwargs: object,
) -> RefreshScheduler:  # fmt: skip
    minutes = interval if interval is not None else [15]
    on = auto if auto is not None else [True]
    return RefreshScheduler(
        script.make(t), lambda: minutes[0], lambda: on[0], clock=t.clock, sleep=t.sleep,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_backoff_sequence_and_cap() -> None:
    delays = [backoff_delay(n, 15 * MIN) / MIN for n in range(1, 11)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]
    # A short interval caps at 8 intervals; a very long one at two hours.
    assert [backoff_delay(n, 1 * MIN) / MIN for n in (1, 3, 4, 5, 30)] == [1, 4, 8, 8, 8]
    assert backoff_delay(40, 1440 * MIN) == 2 * 3600
    assert backoff_delay(10**6, 15 * MIN) == 2 * 3600  # no overflow on a long outage


def test_what_counts_as_a_failed_refresh() -> None:
    assert OK.failure is None
    assert result(RefreshStatus.EMPTY, "No wallets").failure is None  # nothing to read
    assert ALL_FAILED.failure == "Nothing could be read. node down."


def test_runs_at_start_then_every_interval() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        sched = make(t, script)
        sched.start()
        await settle()
        assert script.calls == [START]
        assert sched.state.next_run_at == START + 15 * MIN
        await t.advance(15 * MIN - 1)
        assert len(script.calls) == 1
        await t.advance(1)
        assert script.calls == [START, START + 15 * MIN]
        # The loop never sleeps more than a minute at once (suspend/resume safe).
        assert max(t.sleeps) == 60
        await sched.aclose()

    asyncio.run(main())


def test_backoff_after_failures_then_reset_on_success() -> None:
    async def main() -> None:
        t = FakeTime()
        boom = ChainfolioError("the price service is down")
        script = Script(boom, ALL_FAILED, boom, OK, boom)
        sched = make(t, script)
        outcomes: list[RefreshOutcome] = []
        sched.subscribe(on_outcome=outcomes.append)
        sched.start()
        await settle()
        assert [o.failures for o in outcomes] == [1]
        assert outcomes[0].error == "the price service is down"
        assert sched.state.next_run_at == START + 1 * MIN
        await t.advance(1 * MIN)
        assert [o.failures for o in outcomes] == [1, 2]
        assert sched.state.next_run_at == t.now + 2 * MIN
        assert sched.state.last_error == "Nothing could be read. node down."
        await t.advance(2 * MIN)
        assert sched.state.failures == 3 and sched.state.next_run_at == t.now + 4 * MIN
        await t.advance(4 * MIN)  # success: back to the normal interval
        assert outcomes[-1].ok and sched.state.failures == 0
        assert sched.state.next_run_at == t.now + 15 * MIN
        await t.advance(15 * MIN)  # a new streak starts from one
        assert sched.state.failures == 1 and sched.state.next_run_at == t.now + 1 * MIN
        offsets = [(c - START) / MIN for c in script.calls]
        assert offsets == [0, 1, 3, 7, 22]
        await sched.aclose()

    asyncio.run(main())


def test_backoff_reaches_its_cap() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(RuntimeError("bug"))
        sched = make(t, script, interval=[1])
        sched.start()
        await settle()
        for expected in (1, 2, 4, 8, 8, 8):
            assert sched.state.next_run_at == t.now + expected * MIN
            await t.advance(expected * MIN)
        assert sched.state.failures == 7
        assert (sched.state.last_error or "").startswith("something went wrong")
        await sched.aclose()

    asyncio.run(main())


def test_pause_and_resume() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        sched = make(t, script)
        states: list[ScheduleState] = []
        sched.subscribe(on_state=states.append)
        sched.start()
        await settle()
        sched.pause()
        assert states[-1].paused and states[-1].next_run_at is None
        await t.advance(60 * MIN)
        assert len(script.calls) == 1  # nothing while paused
        sched.resume()  # the refresh that fell due while paused runs at once
        await settle()
        assert len(script.calls) == 2 and script.calls[-1] == START + 60 * MIN
        assert sched.state.next_run_at == t.now + 15 * MIN and not sched.state.paused
        await sched.aclose()

    asyncio.run(main())


def test_refresh_now_resets_the_timer_and_joins() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        sched = make(t, script)
        sched.start()
        await settle()
        await t.advance(10 * MIN)
        script.gate = asyncio.Event()
        first = asyncio.ensure_future(sched.refresh_now())
        second = asyncio.ensure_future(sched.refresh_now())  # joins, not a second refresh
        await settle()
        assert sched.state.running and sched.state.next_run_at is None
        assert describe(sched.state, t.now) == "Refreshing…"
        script.gate.set()
        a, b = await asyncio.gather(first, second)
        assert a is b and a.ok
        await settle()
        assert len(script.calls) == 2
        assert sched.state.next_run_at == START + 25 * MIN  # 15 min after the manual refresh
        await t.advance(14 * MIN)
        assert len(script.calls) == 2
        await t.advance(1 * MIN)
        assert len(script.calls) == 3
        await sched.aclose()

    asyncio.run(main())


def test_refresh_now_works_while_paused_or_off() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(ChainfolioError("offline"))
        sched = make(t, script, auto=[False])
        sched.start()
        await settle()
        assert script.calls == [] and sched.state.next_run_at is None
        outcome = await sched.refresh_now()
        assert not outcome.ok and outcome.failures == 1
        assert describe(sched.state, t.now) == "Automatic refresh off"
        await sched.aclose()

    asyncio.run(main())


def test_interval_and_auto_changes_are_picked_up() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        interval, auto = [15], [True]
        sched = make(t, script, interval=interval, auto=auto)
        sched.start()
        await settle()
        await t.advance(5 * MIN)
        interval[0] = 60
        sched.reschedule()
        assert sched.state.next_run_at == START + 60 * MIN
        await t.advance(50 * MIN)
        assert len(script.calls) == 1
        interval[0] = 30  # already overdue: runs at once
        sched.reschedule()
        await settle()
        assert script.calls == [START, START + 55 * MIN]
        auto[0] = False
        sched.reschedule()
        await t.advance(5 * 60 * MIN)
        assert len(script.calls) == 2
        await sched.aclose()

    asyncio.run(main())


def test_no_work_skips_without_failing_and_first_delay() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        wallets: list[str] = []
        sched = make(t, script, has_work=lambda: bool(wallets), first_delay=30.0)
        sched.start()
        await t.advance(30)
        assert script.calls == [] and sched.state.failures == 0
        assert sched.state.next_run_at == START + 30 + 15 * MIN
        wallets.append("0x")
        await t.advance(15 * MIN)
        assert script.calls == [START + 30 + 15 * MIN]
        await sched.aclose()

    asyncio.run(main())


def test_status_line() -> None:
    base = ScheduleState(auto=True, paused=False, running=False, next_run_at=START, failures=0)
    assert describe(base, START - 12 * MIN) == "Next refresh in 12 min"
    assert describe(base, START - 11.5 * MIN) == "Next refresh in 12 min"  # rounded up
    assert describe(base, START - 20) == "Next refresh in less than a minute"
    assert describe(base, START - 90 * MIN) == "Next refresh in 1 h 30 min"
    retry = ScheduleState(True, False, False, START, 2)
    assert describe(retry, START - 4 * MIN) == "Retrying in 4 min after 2 failures"
    assert describe(ScheduleState(True, True, False, None, 0), START) == "Auto-refresh paused"


def test_aclose_cancels_a_running_refresh() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        script.gate = asyncio.Event()  # never set: the refresh hangs
        sched = make(t, script)
        loop_task = sched.start()
        await settle()
        assert sched.running
        await sched.aclose()
        assert loop_task.cancelled() and not sched.running

    asyncio.run(main())
