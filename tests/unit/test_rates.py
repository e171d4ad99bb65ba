"""APR -> APY conversions, the portfolio's weighted yield and the realised yield from a
position's own snapshots (app.domain.rates)."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import pytest

from app.domain.rates import (
    SECONDS_PER_YEAR,
    PositionRate,
    RateSide,
    continuous_apy,
    morpho_supply_apy,
    percent,
    ray_apr_to_apy,
    realised_apy,
    wad_per_second_to_apy,
    weighted_yield,
)

DAY = 86400


def test_aave_ray_apr_compounds_per_second() -> None:
    converted = ray_apr_to_apy(5 * 10**25)  # 5 % APR
    assert converted is not None
    apy, apr = converted
    assert apr == Decimal("0.05")
    assert math.isclose(float(apy), math.expm1(SECONDS_PER_YEAR * math.log1p(0.05 / SECONDS_PER_YEAR)),
                        rel_tol=1e-12)  # fmt: skip
    with localcontext() as ctx:
        ctx.prec = 60
        assert apy == (1 + Decimal("0.05") / SECONDS_PER_YEAR) ** SECONDS_PER_YEAR - 1  # exact
    assert ray_apr_to_apy(0) == (Decimal(0), Decimal(0))


def test_comet_and_morpho_rates() -> None:
    comet = wad_per_second_to_apy(1_585_489_599)  # Comet's 5 % a year, per second
    assert comet is not None and abs(comet[1] - Decimal("0.05")) < Decimal("1e-9")
    morpho = continuous_apy(1_585_489_599)
    assert morpho is not None
    assert math.isclose(float(morpho[0]), math.expm1(0.05), rel_tol=1e-9)
    assert morpho_supply_apy(Decimal("0.1"), 1000, 800, 10**17) == Decimal("0.072")
    assert morpho_supply_apy(Decimal("0.1"), 0, 0, 0) == 0


@pytest.mark.parametrize("hostile", [2**256 - 1, 10**40, 2**128])
def test_hostile_rates_are_refused_not_overflowed(hostile: int) -> None:
    assert ray_apr_to_apy(hostile) is None
    assert wad_per_second_to_apy(hostile) is None
    assert continuous_apy(hostile) is None


def test_weighted_yield_is_income_over_net_value() -> None:
    usdc, weth = "eip155:1/erc20:0xA", "eip155:1/erc20:0xB"
    rates = {
        (usdc, "aave-v3:supplied"): PositionRate("eip155:1", usdc, "aave-v3:supplied",
                                                 RateSide.SUPPLY, Decimal("0.05")),
        (weth, "aave-v3:borrowed"): PositionRate("eip155:1", weth, "aave-v3:borrowed",
                                                 RateSide.BORROW, Decimal("0.02")),
    }  # fmt: skip
    y = weighted_yield(
        [(usdc, "aave-v3:supplied", Decimal(10_000)), (weth, "aave-v3:borrowed", Decimal(-3000)),
         (usdc, "", Decimal(500)), (weth, "aave-v3:supplied", None)],  # no rate / no value
        rates,
    )  # fmt: skip
    assert y.yearly == Decimal(500) - Decimal(60)
    with localcontext() as ctx:
        ctx.prec = 60
        assert y.apy == Decimal(440) / Decimal(7000)
    assert (y.earning_value, y.owing_value) == (Decimal(10_000), Decimal(3000))
    assert weighted_yield([], rates).apy is None
    # Debt larger than the earning positions: a yield on a negative net means nothing.
    assert weighted_yield([(weth, "aave-v3:borrowed", Decimal(-1))], rates).apy is None


def test_realised_yield_from_snapshots_skips_deposits() -> None:
    base = 1_000_000 * 10**6
    grow = [(i * DAY, base + base * i // 10_000) for i in range(31)]  # 0.01 % a day
    apy = realised_apy(grow)
    assert apy is not None
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (Decimal(base + base * 30 // 10_000) / base) ** (Decimal(365) / 30) - 1
    assert abs(apy - expected) < Decimal("1e-40")
    # A deposit doubles the amount on day 31: only the run after it counts.
    after = [(31 * DAY, 2 * base), (32 * DAY, 2 * base + 2 * base // 10_000),
             (33 * DAY, 2 * base + 4 * base // 10_000)]  # fmt: skip
    both = realised_apy(grow + after)
    assert both is not None
    assert abs(both - realised_apy(after)) == 0  # type: ignore[operator]
    # A withdrawal (a drop) also starts a new run; too short a run has no yield.
    assert realised_apy([*grow, (31 * DAY + 10, base)]) is None
    assert realised_apy([(0, 100), (3600, 101)]) is None  # under a day
    assert realised_apy([(0, 0), (DAY * 2, 100)]) is None
    assert realised_apy([]) is None


def test_percent_text() -> None:
    assert percent(Decimal("0.034567")) == "3.46 %"
    assert percent(None) == ""
