"""The gap-limit walk over an in-memory backend: which addresses count, and how many rounds
(round trips) a wallet of 1,000 used addresses costs, with and without the address cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.chains.bitcoin.scan import Discovery, Probe, TxView, discover
from app.domain.bitcoin import CHANGE, RECEIVE, Derived, Deriver, parse_bitcoin
from tests.unit.bitcoin.test_derivation import ZPUB_84


class MemoryBackend:
    """Used addresses by (branch, index) with their balances; counts rounds and requests."""

    def __init__(self, used: dict[tuple[int, int], int]) -> None:
        self.used = used
        self.rounds = 0
        self.requests = 0
        self.where = "memory"

    async def probe(self, items: Sequence[Derived], balances: bool) -> list[Probe]:
        self.rounds += 1
        self.requests += len(items) * (2 if balances else 1)
        out = []
        for d in items:
            key = (d.branch, d.index)
            out.append(Probe(key in self.used, self.used.get(key, 0) if balances else None))
        return out

    async def balances(self, items: Sequence[Derived]) -> list[int]:
        self.rounds += 1
        self.requests += len(items)
        return [self.used[d.branch, d.index] for d in items]

    async def history(self, items: Sequence[Derived], from_height: int) -> list[TxView]:
        return []

    async def tip(self) -> int:
        return 0

    async def aclose(self) -> None:
        pass


def run(
    used: dict[tuple[int, int], int], gap: int, known: Sequence[tuple[int, int]] = ()
) -> tuple[Discovery, MemoryBackend]:
    backend = MemoryBackend(used)
    found = asyncio.run(discover(Deriver(parse_bitcoin(ZPUB_84)), backend, gap, known))
    return found, backend


@pytest.mark.parametrize(
    ("gap", "found"),
    [
        (2, {(0, 0)}),
        (3, {(0, 0), (0, 3)}),
        (4, {(0, 0), (0, 3)}),  # four unused in a row (r4..r7) end the chain
        (5, {(0, 0), (0, 3), (0, 8)}),
    ],
)
def test_a_used_address_counts_only_within_the_gap(gap: int, found: set[tuple[int, int]]) -> None:
    # r0, then a gap of 2 (r1, r2) to r3, then a gap of 4 (r4..r7) to r8
    used = {(RECEIVE, 0): 1, (RECEIVE, 3): 10, (RECEIVE, 8): 100}
    result, _ = run(used, gap)
    assert set(result.used) == found
    assert result.total == sum(used[k] for k in found)


def test_change_chain_is_walked_too() -> None:
    result, _ = run({(CHANGE, 0): 5, (CHANGE, 2): 7}, gap=20)
    assert set(result.used) == {(CHANGE, 0), (CHANGE, 2)} and result.total == 12


def test_a_thousand_used_addresses_take_a_handful_of_rounds() -> None:
    used = {(RECEIVE, i): 1 for i in range(700)} | {(CHANGE, i): 2 for i in range(300)}
    first, cold = run(used, gap=20)
    assert len(first.used) == 1000 and first.total == 1300
    assert cold.rounds <= 8 * 2 + 1  # both chains, windows growing, then one balance round
    assert cold.requests <= 2 * 1000 + 1000  # at most twice the used addresses are asked
    again, warm = run(used, gap=20, known=list(first.used))
    assert again.total == 1300
    assert warm.rounds <= 2 * 2  # the cache: every known used address in the first round
    assert warm.requests < cold.requests + 100


def test_a_single_address_is_asked_once() -> None:
    backend = MemoryBackend({(RECEIVE, 0): 42})
    deriver = Deriver(parse_bitcoin("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"))
    found = asyncio.run(discover(deriver, backend, 20))
    assert found.total == 42 and backend.rounds == 1
