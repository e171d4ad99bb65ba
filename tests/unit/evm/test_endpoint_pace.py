"""An endpoint's pace: fast until it refuses, spaced out after, faster again slowly."""

from __future__ import annotations

import asyncio
import itertools

from app.chains.endpoints import PACE_CAP, PACE_FLOOR, PACE_RECOVERY, EndpointMemory, Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _starts(pace: Pace, clock: Clock, n: int) -> list[float]:
    async def go() -> list[float]:
        out = []
        for _ in range(n):
            await pace.wait(clock, clock.sleep)
            out.append(clock.now)
        return out

    return asyncio.run(go())


def test_a_url_starts_fast() -> None:
    clock = Clock()
    assert _starts(Pace(), clock, 5) == [100.0] * 5 and clock.slept == []


def test_each_refusal_doubles_the_spacing_up_to_the_cap() -> None:
    pace = Pace()
    pace.refused()
    assert pace.interval == PACE_FLOOR
    pace.refused()
    assert pace.interval == 2 * PACE_FLOOR
    for _ in range(20):
        pace.refused()
    assert pace.interval == PACE_CAP
    clock = Clock()
    starts = _starts(pace, clock, 3)
    assert [b - a for a, b in itertools.pairwise(starts)] == [PACE_CAP, PACE_CAP]


def test_answers_in_a_row_speed_a_paced_url_up_again() -> None:
    pace = Pace()
    pace.refused()
    pace.refused()
    for _ in range(PACE_RECOVERY - 1):
        pace.answered()
    assert pace.interval == 2 * PACE_FLOOR
    pace.answered()
    assert pace.interval == PACE_FLOOR
    for _ in range(PACE_RECOVERY):
        pace.answered()
    assert pace.interval == 0.0  # back to as fast as it answers


def test_paces_are_per_url_and_per_memory() -> None:
    memory = EndpointMemory()
    memory.pace("http://a").refused()
    assert memory.pace("http://a").interval > 0
    assert memory.pace("http://b").interval == 0
    assert EndpointMemory().pace("http://a").interval == 0
