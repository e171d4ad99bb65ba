"""Morpho Blue and Sky decoders against hand-made replies: hostile answers the real contracts
never give."""

from __future__ import annotations

from eth_abi.abi import encode

from app.defi.morpho import MorphoBlue, accrued, market_id, to_assets_down, to_assets_up
from app.defi.ports import Outcome, Reply, Step
from app.defi.sky import SavingsVault, SkySavings, ray_factor_to_apy
from app.defi.tokens import TokenBook
from app.domain.balances import AssetInfo
from app.domain.ids import AccountId, AssetId, ChainId

CHAIN = ChainId.evm(1)
W = AccountId(CHAIN, "0x1111111111111111111111111111111111111111")
MORPHO = "0x" + "bb" * 20
ID = "0x" + "12" * 32
USDC = AssetInfo(AssetId(CHAIN, "erc20", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), "USDC",
                 "USD Coin", 6)  # fmt: skip


def ok(types: list[str], values: list[object]) -> Reply:
    return (True, encode(types, values))


def test_market_ids_are_checked() -> None:
    assert market_id(ID) == bytes.fromhex("12" * 32)
    for bad in ("0x12", "12" * 32, "0x" + "zz" * 32, "0x" + "12" * 33):
        try:
            market_id(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_an_unknown_market_and_a_garbage_position() -> None:
    m = MorphoBlue(MORPHO, [ID], TokenBook(CHAIN, [USDC]))
    step = m.start([W])
    assert isinstance(step, Step) and len(step.calls) == 4  # params, market, position, clock
    zero = ok(["address", "address", "address", "address", "uint256"], ["0x" + "00" * 20] * 4 + [0])
    out = step.then([zero, ok(["uint128"] * 6, [0] * 6), (True, b"\x01"), (False, b"")])
    assert isinstance(out, Outcome) and len(out.failures) == 1
    assert "Morpho Blue market 0x12121212" in out.failures[0].reason


def test_interest_accrual_matches_morphos_rounding_and_refuses_garbage() -> None:
    totals = (1_000_000, 1_000_000 * 10**6, 500_000, 500_000 * 10**6, 1_000, 10**17)
    rate = 1_585_489_599  # 5 % a year, per second
    later = accrued(totals, rate, 1_000 + 86_400)
    first = rate * 86_400
    taylor = (
        first
        + first * first // (2 * 10**18)
        + (first * first // (2 * 10**18)) * first // (3 * 10**18)
    )
    interest = 500_000 * taylor // 10**18
    assert later[2] == 500_000 + interest and later[0] == 1_000_000 + interest
    assert later[1] > totals[1] and later[4] == 1_000 + 86_400  # fee shares minted
    assert accrued(totals, rate, 1_000) == totals  # no time passed
    assert accrued(totals, 2**255, 1_000 + 86_400) == totals  # a hostile IRM
    assert to_assets_down(10**6, 0, 0) == 1 and to_assets_up(1, 0, 0) == 1  # virtual shares


def test_sky_rates_below_zero_or_absurd_are_left_out() -> None:
    assert ray_factor_to_apy(10**27 - 1) is None  # a shrinking vault is not a rate
    assert ray_factor_to_apy(2 * 10**27) is None  # 100 % a second
    converted = ray_factor_to_apy(10**27)
    assert converted is not None and converted[0] == 0
    vault = SavingsVault("0x" + "5d" * 20, USDC, "0x" + "5d" * 20)
    sky = SkySavings([vault])
    step = sky.start([W])
    assert isinstance(step, Step)
    out = step.then(
        [(True, (10**18).to_bytes(32, "big")), (True, (2 * 10**27).to_bytes(32, "big"))]
    )
    assert isinstance(out, Step)  # the shares still get converted; the absurd rate is dropped
    final = out.then([(True, b"\x00" * 31 + b"\x07")])
    assert isinstance(final, Outcome) and final.rates == []
    assert vault.key() == "sky:0x5d5d5d5D5D5D5d5d5d5d5D5d5D5D5d5D5D5d5d5D:supplied"  # EIP-55
    assert [(b.raw, b.position) for b in final.balances] == [(7, vault.key())]
