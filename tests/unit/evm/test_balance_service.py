"""BalanceService: chains read concurrently, a slow or broken chain fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.domain.balances import ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.model import Wallet
from app.services.balances import BalanceService


def spec(n: int, enabled: bool = True) -> ChainSpec:
    return ChainSpec(ChainId.evm(n), f"Chain {n}", ChainFamily.EVM, "ETH", "Ether", 18, 60,
                     ("http://127.0.0.1:1",), enabled=enabled)  # fmt: skip


class FakeReader:
    def __init__(self, s: ChainSpec, behaviour: str, closed: list[int]) -> None:
        self._spec, self._b, self._closed = s, behaviour, closed

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        if self._b == "hang":
            await asyncio.Event().wait()
        if self._b == "boom":
            raise RuntimeError("decoder exploded")
        return ChainReadResult(self._spec.chain_id, SourceState.OK)

    def partial_result(self) -> ChainReadResult | None:
        return None  # nothing is finished early: a hung chain fails as a whole

    async def aclose(self) -> None:
        self._closed.append(int(self._spec.chain_id.reference))


def test_each_chain_fails_alone() -> None:
    closed: list[int] = []
    behaviours = {1: "ok", 2: "hang", 3: "boom"}
    service = BalanceService(
        lambda s: FakeReader(s, behaviours[int(s.chain_id.reference)], closed), 0.2
    )
    results = asyncio.run(service.refresh([spec(1), spec(2), spec(3), spec(4, enabled=False)], []))
    assert [r.state for r in results] == [SourceState.OK, SourceState.FAILED, SourceState.FAILED]
    assert results[1].error == "Chain 2 did not answer within 0.2 s."
    assert results[2].error == "Reading Chain 3 failed: decoder exploded"
    assert sorted(closed) == [1, 2, 3]
