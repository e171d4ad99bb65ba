"""Uniswap v3 / v2 sources against hand-made hostile or broken replies (the real contracts on
anvil cover the good paths: tests/integration/defi/test_amm_positions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eth_abi.abi import encode

from app.defi.pendle import Pendle, implied_apy
from app.defi.ports import Outcome, Reply, Step
from app.defi.registry import abi_checksum
from app.defi.tokens import TokenBook
from app.defi.uniswap_v2 import UniswapV2, V2Deployment, pair_address
from app.defi.uniswap_v3 import UniswapV3, V3Deployment, decode_slot0
from app.domain import uniswap_math as um
from app.domain.balances import AssetInfo
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.rates import RateSide

CHAIN = ChainId.evm(1)
W = AccountId(CHAIN, "0x1111111111111111111111111111111111111111")
NPM = "0xC36442b4a4522E871399CD717aBDD847Ab11FE88"
FACTORY = "0x1F98431c8aD98523631AE4a59f267346ea31F984"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
REVERT: Reply = (False, b"")


def book() -> TokenBook:
    return TokenBook(CHAIN, [AssetInfo(AssetId(CHAIN, "erc20", USDC), "USDC", "USD Coin", 6),
                             AssetInfo(AssetId(CHAIN, "erc20", WETH), "WETH", "WETH", 18)])  # fmt: skip


def word(n: int) -> Reply:
    return (True, n.to_bytes(32, "big"))


def finish(step: Step | Outcome, *rounds: Sequence[Reply]) -> Outcome:
    for replies in rounds:
        assert isinstance(step, Step) and len(step.calls) == len(replies)
        step = step.then(replies)
    assert isinstance(step, Outcome)
    return step


def position(lower: int = -600, upper: int = 600, liquidity: int = 10**18) -> Reply:
    return (True, encode(
        ["uint96", "address", "address", "address", "uint24", "int24", "int24", "uint128",
         "uint256", "uint256", "uint128", "uint128"],
        [0, "0x" + "00" * 20, USDC, WETH, 500, lower, upper, liquidity, 0, 0, 7, 9],
    ))  # fmt: skip


def v3(max_positions: int = 2) -> UniswapV3:
    return UniswapV3([V3Deployment(NPM, FACTORY, max_positions=max_positions)], book())


def first_round(count: int, ids: list[int], max_positions: int = 2) -> list[Reply]:
    out = [word(count)] + [word(i) for i in ids]
    return out + [REVERT] * (1 + max_positions - len(out))


GOOD_TICK: Reply = (
    True,
    bytes(64) + (5).to_bytes(32, "big") + (6).to_bytes(32, "big") + bytes(128),
)


def pool_round(slot0: Reply, ticks: Reply = GOOD_TICK) -> list[Reply]:
    return [slot0, word(10 * 2**128), word(20 * 2**128), ticks, ticks]


SLOT0_AT_0: Reply = (True, encode(["uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool"],
                                  [2**96, 0, 0, 1, 1, 0, True]))  # fmt: skip


def test_v3_good_position_and_pool_address() -> None:
    out = finish(v3().start([W]), first_round(1, [42]), [position()], pool_round(SLOT0_AT_0))
    assert out.failures == []
    keys = {(b.asset.symbol, b.position) for b in out.balances}
    assert keys == {("USDC", "uniswap-v3:42:liquidity"), ("WETH", "uniswap-v3:42:liquidity"),
                    ("USDC", "uniswap-v3:42:fees"), ("WETH", "uniswap-v3:42:fees")}  # fmt: skip
    step = v3().start([W])
    step2 = step.then(first_round(1, [42]))
    assert isinstance(step2, Step)
    step3 = step2.then([position()])
    assert isinstance(step3, Step)
    pool = um.pool_address(FACTORY, USDC, WETH, 500)  # the canonical USDC/WETH 0.05 % pool
    assert {c.target.lower() for c in step3.calls} == {pool}


def test_v3_broken_answers_are_failures_never_amounts() -> None:
    # The position manager reverts: one failure, no positions.
    out = finish(v3().start([W]), [REVERT] * 3)
    assert len(out.failures) == 1 and not out.balances
    # A hostile position: lower tick above the upper one.
    out = finish(v3().start([W]), first_round(1, [42]), [position(600, -600)])
    assert len(out.failures) == 1 and not out.balances
    # Garbage in place of a position.
    out = finish(v3().start([W]), first_round(1, [42]), [(True, b"\x01\x02")])
    assert len(out.failures) == 1 and not out.balances
    # The pool's slot0 is garbage: no amounts, a failure naming the position.
    out = finish(v3().start([W]), first_round(1, [42]), [position()],
                 pool_round((True, b"\x00" * 31)))  # fmt: skip
    assert not out.balances and "#42" in out.failures[0].reason
    # The ticks revert: amounts still, fees unknown (said so).
    out = finish(v3().start([W]), first_round(1, [42]), [position()],
                 pool_round(SLOT0_AT_0, REVERT))  # fmt: skip
    assert {b.position for b in out.balances} == {"uniswap-v3:42:liquidity"}
    assert "fees are unknown" in out.failures[0].reason


def test_v3_slot0_out_of_bounds_is_refused() -> None:
    assert decode_slot0(encode(["uint160", "int24"], [1, 0])) is None  # below MIN_SQRT_RATIO
    assert decode_slot0(encode(["uint256", "int256"], [2**96, 2**30])) is None  # not an int24
    assert decode_slot0(encode(["uint160", "int24"], [2**96, -5])) == (2**96, -5)


def test_v3_closed_positions_hold_nothing() -> None:
    closed = (True, encode(
        ["uint96", "address", "address", "address", "uint24", "int24", "int24", "uint128",
         "uint256", "uint256", "uint128", "uint128"],
        [0, "0x" + "00" * 20, USDC, WETH, 500, -600, 600, 0, 0, 0, 0, 0],
    ))  # fmt: skip
    out = finish(v3().start([W]), first_round(1, [42]), [closed])
    assert out.balances == [] and out.failures == []


PAIR = pair_address("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f", USDC, WETH,
                    bytes.fromhex("96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"))  # fmt: skip


def v2() -> UniswapV2:
    return UniswapV2([V2Deployment("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f", (USDC, WETH))],
                     book())  # fmt: skip


def addr(a: str) -> Reply:
    return (True, encode(["address"], [a]))


def test_v2_derived_pair_address_is_the_real_one() -> None:
    assert PAIR == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"  # mainnet USDC/WETH


def test_v2_hostile_or_missing_pairs() -> None:
    reserves = (True, encode(["uint112", "uint112", "uint32"], [1000, 2000, 0]))
    # Nothing deployed at the address: skipped without a word.
    out = finish(v2().start([W]), [(True, b""), (True, b""), (True, b""), (True, b""), (True, b"")])
    assert out.balances == [] and out.failures == []
    # A wallet "holding" more than the supply: garbage, refused.
    out = finish(v2().start([W]), [addr(USDC), addr(WETH), reserves, word(100), word(101)])
    assert out.balances == [] and len(out.failures) == 1
    # A contract at the derived address naming other tokens: not the factory's pair.
    out = finish(v2().start([W]), [addr(WETH), addr(USDC), reserves, word(100), word(10)])
    assert out.balances == [] and len(out.failures) == 1
    # A good share: reserve x balance / supply, rounded down.
    out = finish(v2().start([W]), [addr(USDC), addr(WETH), reserves, word(300), word(100)])
    assert sorted((b.asset.symbol, b.raw) for b in out.balances) == [("USDC", 333), ("WETH", 666)]


# -- Pendle ---------------------------------------------------------------------------------
MARKET, SY, PT, YT = ("0x" + c * 40 for c in ("a", "b", "c", "d"))


def pendle_round1(
    ln: int = 10**17, rates: tuple[Reply, ...] | None = None, lp: int = 0
) -> list[Reply]:
    tokens = (True, encode(["address"] * 3, [SY, PT, YT]))
    storage = (True, encode(["int128", "int128", "uint96", "uint16", "uint16", "uint16"],
                            [10**21, 10**21, ln, 0, 1, 1]))  # fmt: skip
    return [tokens, storage, *(rates or (word(95 * 10**16), word(5 * 10**16), word(2 * 10**18))),
            word(lp)]  # fmt: skip


def pendle_round2(pt: int, yt: int) -> list[Reply]:
    return [(True, encode(["uint8", "address", "uint8"], [0, USDC, 6])), word(pt), word(yt)]


def pendle() -> Pendle:
    return Pendle([MARKET], book())


def test_pendle_values_and_fixed_rate() -> None:
    out = finish(pendle().start([W]), pendle_round1(lp=10), pendle_round2(100, 40))
    m = abi_checksum(MARKET)
    assert {b.position: b.raw for b in out.balances} == {
        f"pendle:{m}:principal": 95, f"pendle:{m}:yield": 2, f"pendle:{m}:liquidity": 20,
    }  # fmt: skip
    (rate,) = out.rates
    assert rate.side is RateSide.FIXED and rate.apy == implied_apy(10**17)
    assert {PT.lower(), YT.lower(), MARKET.lower()} <= out.covered


def test_pendle_broken_answers() -> None:
    # readTokens reverts: the market is a failure for every wallet, nothing valued.
    out = finish(pendle().start([W]), [REVERT] * 6)
    assert len(out.failures) == 1 and not out.balances
    # The oracle reverts: balances are known but not their value: a failure, no guess.
    out = finish(pendle().start([W]), pendle_round1(rates=(REVERT,) * 3), pendle_round2(100, 0))
    assert not out.balances and "oracle gave no rate" in out.failures[0].reason
    # A garbage PT balance.
    out = finish(pendle().start([W]), pendle_round1(),
                 [pendle_round2(1, 0)[0], (True, b"\x01"), word(0)])  # fmt: skip
    assert not out.balances and len(out.failures) == 1
    # Nothing held: no rate reported either.
    out = finish(pendle().start([W]), pendle_round1(), pendle_round2(0, 0))
    assert out.balances == [] and out.failures == [] and out.rates == []


def test_pendle_refuses_a_bad_duration() -> None:
    import pytest

    with pytest.raises(ValueError):
        Pendle([MARKET], book(), duration=-1)


def test_a_users_pendle_entry_needs_only_its_markets(tmp_path: Path) -> None:
    from app.defi.pendle import PY_LP_ORACLE
    from app.defi.registry import build_sources, load_config

    user = tmp_path / "defi.toml"
    user.write_text(f'[[pendle]]\nchain = "eip155:1"\nmarkets = ["{MARKET}"]\n')
    native = AssetInfo(AssetId.native(CHAIN, 60), "ETH", "Ether", 18)
    (source,) = [
        s for s in build_sources(CHAIN, load_config(user), [], native) if isinstance(s, Pendle)
    ]
    calls = source.start([W]).calls
    assert {c.target for c in calls} == {abi_checksum(MARKET), PY_LP_ORACLE}
    assert source.covers() == {MARKET.lower()}


def test_v3_hand_encoded_index_calls_equal_eth_abi() -> None:
    from app.defi.abi import call_data

    calls = v3(max_positions=3).start([W]).calls
    assert [c.data for c in calls[1:]] == [
        call_data("tokenOfOwnerByIndex(address,uint256)", W.address, i) for i in range(3)
    ]
