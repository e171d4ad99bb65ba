"""The activity service: every enabled EVM chain asked at once; a dead or slow chain is "could
not check" in words, never an exception."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.services.activity import ActivityService

A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def spec(n: int, name: str, family: ChainFamily = ChainFamily.EVM) -> ChainSpec:
    return ChainSpec(ChainId.evm(n), name, family, "ETH", "Ether", 18, 60, ("http://x",))


class Probe:
    """Answers from a table; ``None`` raises like a dead node; ``"hang"`` never answers."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self.running = 0
        self.most = 0

    async def active(self, s: ChainSpec, addresses: Sequence[str]) -> set[str]:
        self.asked.append(s.name)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0)
            answer = self.answers[s.name]
            if answer == "hang":
                await asyncio.Event().wait()
            if answer is None:
                raise OSError("connection refused")
            assert isinstance(answer, set)
            return {a.lower() for a in answer}  # any case comes back: matched without case
        finally:
            self.running -= 1


def test_chains_with_a_nonce_or_balance_are_named_in_order() -> None:
    chains = [spec(1, "Ethereum"), spec(8453, "Base"), spec(10, "Optimism")]
    probe = Probe({"Ethereum": {A}, "Base": {A, B}, "Optimism": set()})
    found = asyncio.run(ActivityService(lambda: chains, probe).find([A, B, A]))
    assert found[A].active == ("Ethereum", "Base") and found[A].quiet == ("Optimism",)
    assert found[A].describe() == "Used on Ethereum, Base."
    assert found[B].describe() == "Used on Base."
    assert probe.most == 3  # asked concurrently, once per chain


def test_no_activity_is_said_with_the_count() -> None:
    chains = [spec(1, "Ethereum"), spec(10, "Optimism")]
    found = asyncio.run(
        ActivityService(lambda: chains, Probe({"Ethereum": set(), "Optimism": set()})).find([A])
    )
    assert found[A].describe() == "No activity found on the 2 networks checked."


def test_dead_and_slow_chains_are_could_not_check_in_words() -> None:
    chains = [spec(1, "Ethereum"), spec(8453, "Base"), spec(137, "Polygon")]
    probe = Probe({"Ethereum": {A}, "Base": None, "Polygon": "hang"})
    found = asyncio.run(ActivityService(lambda: chains, probe, timeout=0.2).find([A]))
    assert found[A].unchecked == ("Base", "Polygon")
    assert found[A].describe() == "Used on Ethereum; could not check Base, Polygon."


def test_offline_says_could_not_check() -> None:
    chains = [spec(1, "Ethereum"), spec(8453, "Base")]
    found = asyncio.run(
        ActivityService(lambda: chains, Probe({"Ethereum": None, "Base": None})).find([A])
    )
    text = found[A].describe()
    assert text == "Could not check where it is used: no network answered."
    assert "Error" not in text


def test_solana_and_disabled_chains_are_not_asked() -> None:
    off = ChainSpec(
        ChainId.evm(10), "Optimism", ChainFamily.EVM, "ETH", "Ether", 18, 60, (), enabled=False
    )
    sol = ChainSpec(
        ChainId("solana", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
        "Solana",
        ChainFamily.SOLANA,
        "SOL",
        "Sol",
        9,
        501,
        (),
    )
    probe = Probe({"Ethereum": set()})
    found = asyncio.run(ActivityService(lambda: [spec(1, "Ethereum"), off, sol], probe).find([A]))
    assert probe.asked == ["Ethereum"]
    assert found[A].describe() == "No activity found on the 1 network checked."
    none_on = asyncio.run(ActivityService(lambda: [off], probe).find([A]))
    assert none_on[A].describe() == "No EVM network is switched on to check."
    assert asyncio.run(ActivityService(lambda: [off], probe).find([])) == {}
