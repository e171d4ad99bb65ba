"""PositionPass: sources advance in lockstep; one bad source never sinks the others."""

from __future__ import annotations

from collections.abc import Sequence

from app.defi.ports import Call, Outcome, Reply, Step
from app.defi.session import PositionPass
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId, ChainId

CHAIN = ChainId.evm(1)
W1 = AccountId(CHAIN, "0x1111111111111111111111111111111111111111")
W2 = AccountId(CHAIN, "0x2222222222222222222222222222222222222222")
TOKEN = AssetInfo(AssetId(CHAIN, "erc20", "0x" + "33" * 20), "TKN", "Token", 18)
TARGET = "0x" + "44" * 20


class TwoRounds:
    """Asks one call per wallet, then one more, then reports what round 2 said."""

    protocol = "two-rounds"

    def covers(self) -> frozenset[str]:
        return frozenset({"0xabc"})

    def start(self, wallets: Sequence[AccountId]) -> Step:
        def second(replies: Sequence[Reply]) -> Step:
            assert [r[1] for r in replies] == [b"a", b"b"]
            return Step([Call(TARGET, b"2")], lambda r2: self._done(wallets, r2))

        return Step([Call(TARGET, b"1") for _ in wallets], second)

    def _done(self, wallets: Sequence[AccountId], replies: Sequence[Reply]) -> Outcome:
        n = int.from_bytes(replies[0][1], "big")
        return Outcome(
            [Balance(w, TOKEN, n, "two:staked") for w in wallets]
            + [Balance(wallets[0], TOKEN, 1, "two:staked")],  # summed with the first
            covered={"0xdef"},
        )


class Broken:
    protocol = "broken"

    def covers(self) -> frozenset[str]:
        return frozenset()

    def start(self, wallets: Sequence[AccountId]) -> Step:
        return Step([Call(TARGET, b"x")], lambda replies: 1 / 0)  # type: ignore[arg-type,return-value]


class Endless:
    protocol = "endless"

    def covers(self) -> frozenset[str]:
        return frozenset()

    def start(self, wallets: Sequence[AccountId]) -> Step:
        step: Step = Step([Call(TARGET, b"again")], lambda replies: step)
        return step


def test_sources_share_rounds_and_a_broken_one_fails_alone() -> None:
    p = PositionPass([TwoRounds(), Broken()], [W1, W2])
    assert [c.data for c in p.calls()] == [b"1", b"1", b"x"]
    p.feed([(True, b"a"), (True, b"b"), (True, b"")])
    assert [c.data for c in p.calls()] == [b"2"]  # only the source that asked for more
    p.feed([(True, (7).to_bytes(32, "big"))])
    assert p.done and p.rounds == 2
    out = p.outcome()
    assert {(b.wallet, b.raw) for b in out.balances} == {(W1, 8), (W2, 7)}
    assert out.covered == {"0xdef"}
    assert {(f.wallet, str(f.asset)) for f in out.failures} == {
        (W1, "eip155:1/protocol:broken"),
        (W2, "eip155:1/protocol:broken"),
    }
    assert all("could not be read" in f.reason for f in out.failures)


def test_a_source_asking_forever_is_cut_off() -> None:
    p = PositionPass([Endless()], [W1], max_rounds=3)
    rounds = 0
    while not p.done:
        p.feed([(True, b"")] * len(p.calls()))
        rounds += 1
    assert rounds == 3
    (f,) = p.outcome().failures
    assert "more dependent rounds" in f.reason


def test_no_wallets_no_calls() -> None:
    p = PositionPass([TwoRounds()], [])
    assert p.done and p.calls() == []
