"""Uniswap v3 maths against values the real contracts compute (v3-core's TickMath test
expectations, the v3-sdk's zkSync pool-address vector, mainnet pools) and the wrap-around of
fee growth counters. The integration test (tests/integration/defi/test_amm_positions.py) also
checks every amount and fee against the contracts deployed on anvil."""

from __future__ import annotations

import pytest

from app.domain import uniswap_math as um


def test_sqrt_ratio_at_tick_matches_tickmath() -> None:
    # v3-core test/TickMath.spec.ts expectations.
    assert um.sqrt_ratio_at_tick(um.MIN_TICK) == 4295128739 == um.MIN_SQRT_RATIO
    assert um.sqrt_ratio_at_tick(um.MIN_TICK + 1) == 4295343490
    assert (
        um.sqrt_ratio_at_tick(um.MAX_TICK - 1) == 1461373636630004318706518188784493106690254656249
    )
    assert um.sqrt_ratio_at_tick(um.MAX_TICK) == um.MAX_SQRT_RATIO
    assert um.sqrt_ratio_at_tick(0) == 2**96


def test_sqrt_ratio_refuses_ticks_outside_the_range() -> None:
    for bad in (um.MIN_TICK - 1, um.MAX_TICK + 1):
        with pytest.raises(ValueError):
            um.sqrt_ratio_at_tick(bad)


def test_amounts_follow_the_side_of_the_current_tick() -> None:
    lower, upper, liquidity = -600, 600, 10**20
    price = um.sqrt_ratio_at_tick(0)
    a0, a1 = um.amounts_for_liquidity(price, 0, lower, upper, liquidity)
    assert a0 > 0 and a1 > 0
    below = um.amounts_for_liquidity(um.sqrt_ratio_at_tick(-700), -700, lower, upper, liquidity)
    above = um.amounts_for_liquidity(um.sqrt_ratio_at_tick(700), 700, lower, upper, liquidity)
    assert below[1] == 0 and below[0] > a0  # all token0 under the range
    assert above[0] == 0 and above[1] > a1  # all token1 over it
    # At the upper tick the position is out of range (the pool counts tick < upper as in).
    assert not um.in_range(upper, lower, upper) and um.in_range(lower, lower, upper)
    assert um.amounts_for_liquidity(price, 0, lower, upper, 0) == (0, 0)


def test_rounding_is_down_like_a_burn() -> None:
    # One unit of liquidity over a tiny range gives nothing back, never a rounded-up unit.
    assert um.amounts_for_liquidity(2**96, 0, -1, 1, 1) == (0, 0)


def test_fee_growth_wraps_like_uint256() -> None:
    m = um.U256
    # Outside values larger than the global counter (they were set before it wrapped).
    inside = um.fee_growth_inside(0, -60, 60, 5, m - 10, m - 20)
    assert inside == (5 - (m - 10) - (m - 20)) % m == 35
    # Accrued since the last update across a wrap of the inside counter.
    assert um.owed_since(3, m - 2**128, 7) == ((3 - (m - 2**128)) % m) * 7 // 2**128 == 7
    # The uint128 downcast truncates, as FullMath.mulDiv's result is cast on chain.
    assert um.owed_since(m - 1, 0, 2**128) == (m - 1) % 2**128


def test_uncollected_fees_add_owed_to_accrued() -> None:
    lower, upper = um.TickOutside(10, 20), um.TickOutside(30, 40)
    args = dict(
        tick=0, tick_lower=-60, tick_upper=60, fee_growth_global0_x128=1000 * 2**128,
        fee_growth_global1_x128=2000 * 2**128, lower=lower, upper=upper,
        inside_last0_x128=0, inside_last1_x128=0, tokens_owed0=5, tokens_owed1=6,
    )  # fmt: skip
    f0, f1 = um.uncollected_fees(liquidity=1, **args)  # type: ignore[arg-type]
    assert f0 == 5 + (1000 * 2**128 - 40) // 2**128 and f1 == 6 + (2000 * 2**128 - 60) // 2**128
    assert um.uncollected_fees(liquidity=0, **args) == (5, 6)  # type: ignore[arg-type]


def test_pool_addresses_of_real_deployments() -> None:
    # Mainnet USDC/WETH 0.05 % pool of the canonical factory.
    assert (
        um.pool_address(
            "0x1F98431c8aD98523631AE4a59f267346ea31F984",
            "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
            500,
        )
        == "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640".lower()
    )
    # zkSync Era: the v3-sdk's own vector (USDC.e/WETH 0.3 %).
    assert (
        um.pool_address(
            "0x8FdA5a7a8dCA67BBcDd10F02Fa0649A937215422",
            "0x3355df6D4c9C3035724Fd0e3914dE96A5a83aaf4",
            "0x5AEa5775959fBC2557Cc8789bC1bf90A239D9a91",
            3000,
            bytes.fromhex("010013f177ea1fcbc4520f9a3ca7cd2d1d77959e05aa66484027cb38e712aeed"),
            zksync=True,
        )
        == "0xff577f0E828a878743Ecc5E2632cbf65ceCf17cF".lower()
    )


def test_pool_address_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        um.pool_address("0x1234", "0x" + "11" * 20, "0x" + "22" * 20, 500)
    with pytest.raises(ValueError):
        um.pool_address("0x" + "33" * 20, "0x" + "11" * 20, "0x" + "22" * 20, 2**24)
