"""The liquidation-risk model against closed-form cases, and sigma from known price series."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from statistics import NormalDist

import pytest

from app.domain.positions import LendingAccount
from app.domain.risk import (
    DAY,
    AccountRisk,
    BasketLeg,
    RiskStatus,
    assess,
    estimate_sigma,
    liquidation_probability,
    ratio_series,
)

NOW = 1_750_000_000 - 1_750_000_000 % DAY


def test_zero_volatility_never_liquidates_a_healthy_account() -> None:
    assert liquidation_probability(Decimal("1.0001"), 0.0, 7) == 0.0
    assert liquidation_probability(Decimal("3"), 0.0, 1) == 0.0


def test_huge_volatility_makes_liquidation_almost_certain() -> None:
    assert liquidation_probability(Decimal("1.5"), 50.0, 7) > 0.99
    assert liquidation_probability(Decimal("1.5"), 50.0, 7) <= 1.0


def test_health_factor_at_or_below_one_is_probability_one() -> None:
    assert liquidation_probability(Decimal("0.97"), 0.0, 1) == 1.0
    assert liquidation_probability(Decimal("1"), 0.03, 1) == 1.0


def test_hand_computed_first_passage_probability() -> None:
    # ln(HF0) = 0.1 and sigma * sqrt(T) = 0.05 * sqrt(4) = 0.1: P = 2 * Phi(-1).
    two_phi_minus_one = 2 * 0.15865525393145707  # Phi(-1) from the normal table
    p = liquidation_probability(math.exp(0.1), 0.05, 4)
    assert p == pytest.approx(two_phi_minus_one, rel=1e-9)
    # z = 1.959964: the two-sided 5 % point.
    assert liquidation_probability(math.exp(1.959964 * 0.03), 0.03, 1) == pytest.approx(
        0.05, abs=1e-6
    )


def test_agrees_with_the_normal_cdf_and_stays_positive_in_the_far_tail() -> None:
    for hf, sigma, days in ((1.2, 0.04, 1), (1.05, 0.03, 7), (1.5, 0.05, 7)):
        z = math.log(hf) / (sigma * math.sqrt(days))
        expected = 2 * NormalDist().cdf(-z)
        assert liquidation_probability(hf, sigma, days) == pytest.approx(expected, rel=1e-9)
    # z = 11.75: NormalDist().cdf cancels to 0.0 there; the chance is tiny, not nil.
    assert NormalDist().cdf(-math.log(1.6) / 0.04) == 0.0
    far = liquidation_probability(1.6, 0.04, 1)
    assert 0 < far < 1e-20
    assert far < liquidation_probability(1.6, 0.04, 7)


def test_longer_horizon_and_lower_health_factor_mean_more_risk() -> None:
    assert liquidation_probability(1.2, 0.04, 7) > liquidation_probability(1.2, 0.04, 1)
    assert liquidation_probability(1.1, 0.04, 1) > liquidation_probability(1.2, 0.04, 1)


def _series(log_returns: list[float], start: float = 2000.0, step: int = 1) -> dict[int, Decimal]:
    prices = {NOW - len(log_returns) * step * DAY: Decimal(start)}
    level = start
    for i, r in enumerate(log_returns, 1):
        level *= math.exp(r)
        prices[NOW - (len(log_returns) - i) * step * DAY] = Decimal(repr(level))
    return prices


def test_sigma_of_a_synthetic_series_with_known_volatility() -> None:
    rng = random.Random(7)
    returns = [rng.gauss(0, 0.03) for _ in range(3000)]
    series = ratio_series([BasketLeg("eth", 1.0, _series(returns))], [BasketLeg("usd", 1.0, None)])
    sigma, n = estimate_sigma(series)
    assert n == 3000
    assert sigma == pytest.approx(0.03, rel=0.05)


def test_sigma_is_exact_for_alternating_moves_and_gaps_are_scaled() -> None:
    daily = _series([0.02, -0.02] * 20)
    assert estimate_sigma(sorted((d, float(p)) for d, p in daily.items()))[0] == pytest.approx(0.02)
    # Every other day missing: 2-day moves of 0.02 * sqrt(2) are one day's 0.02 of volatility.
    two_day = _series([0.02 * math.sqrt(2), -0.02 * math.sqrt(2)] * 10, step=2)
    sigma, n = estimate_sigma(sorted((d, float(p)) for d, p in two_day.items()))
    assert (sigma, n) == (pytest.approx(0.02), 20)


def test_ratio_of_identical_collateral_and_debt_has_no_volatility() -> None:
    prices = _series([0.05, -0.03, 0.04, -0.06] * 10)
    series = ratio_series([BasketLeg("a", 1.0, prices)], [BasketLeg("b", 1.0, prices)])
    assert estimate_sigma(series)[0] == pytest.approx(0.0, abs=1e-12)


def test_basket_weights_dilute_a_volatile_asset() -> None:
    rng = random.Random(3)
    volatile = _series([rng.gauss(0, 0.05) for _ in range(400)])
    flat = {d: Decimal(1) for d in volatile}
    alone = estimate_sigma(ratio_series([BasketLeg("v", 1.0, volatile)], [BasketLeg("u", 1, None)]))
    mixed = estimate_sigma(
        ratio_series(
            [BasketLeg("v", 0.1, volatile), BasketLeg("s", 0.9, flat)], [BasketLeg("u", 1, None)]
        )
    )
    # Near today's weights the basket moves about a tenth as much as the volatile asset.
    assert mixed[0] < alone[0] * 0.25
    assert mixed[0] > alone[0] * 0.02


def test_ratio_uses_only_days_every_asset_has() -> None:
    a = {NOW - 2 * DAY: Decimal(10), NOW - DAY: Decimal(11), NOW: Decimal(12)}
    b = {NOW - DAY + 3600: Decimal(2), NOW: Decimal(3)}  # timestamps within a day count as that day
    series = ratio_series([BasketLeg("a", 1.0, a)], [BasketLeg("b", 1.0, b)])
    assert series == [(NOW - DAY, pytest.approx(11 / 12 / (2 / 3))), (NOW, pytest.approx(1.0))]


def account(hf: str | None, debt: str = "1000") -> LendingAccount:
    return LendingAccount(
        "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "aave-v3", "eip155:1", "",
        Decimal("2000"), Decimal(debt), Decimal("0.825"), None if hf is None else Decimal(hf),
        ("eip155:1/slip44:60",), ("eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",),
    )  # fmt: skip


def _assess(hf: str | None, prices: dict[int, Decimal], **kw: int) -> AccountRisk:
    params = {"now": NOW, "window_days": 60, "min_observations": 20, "max_age_days": 30} | kw
    return assess(
        account(hf), [BasketLeg("eth", 1.0, prices)], [BasketLeg("usdc", 1.0, None)], **params
    )


def test_assess_reports_the_inputs_it_used() -> None:
    risk = _assess("1.3", _series([0.03, -0.03] * 60))
    assert risk.status is RiskStatus.OK
    inputs = risk.inputs
    assert inputs.window_days == 60 and inputs.observations == 60
    assert inputs.sigma_daily == pytest.approx(0.03)
    assert inputs.last_day == NOW and inputs.first_day == NOW - 60 * DAY
    assert inputs.assumed_stable == ("usdc",)
    assert risk.p_24h == pytest.approx(liquidation_probability(1.3, 0.03, 1))
    assert risk.p_7d == pytest.approx(liquidation_probability(1.3, 0.03, 7))


def test_too_little_or_too_old_history_is_unknown_never_a_guess() -> None:
    short = _assess("1.3", _series([0.03, -0.03] * 5))
    assert short.status is RiskStatus.UNKNOWN and short.p_24h is None
    assert "only 10 daily price moves" in short.reason
    old = _assess("1.3", _series([0.03, -0.03] * 30), now=NOW + 45 * DAY)
    assert old.status is RiskStatus.UNKNOWN and "ends 45 days ago" in old.reason


def test_below_one_is_certain_and_no_debt_is_not_at_risk() -> None:
    assert _assess("0.98", {}).p_24h == 1.0
    assert _assess(None, {}).status is RiskStatus.NO_DEBT
