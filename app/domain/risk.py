"""Liquidation risk of a lending account: the chance its health factor falls below 1 soon.

The model, and why:

* **HF follows the price ratio.** With the amounts supplied and borrowed held fixed, a lending
  account's health factor is proportional to the ratio R of its collateral's value to its
  debt's value: ``HF_t = HF_0 * R_t / R_0``. Interest accrual and per-asset liquidation
  thresholds are left out: over a day or a week they move HF far less than prices do.
* **Baskets.** With several collateral (or debt) assets, each side is a value-weighted basket:
  ``C_t = sum_i w_i * p_i(t) / p_i(now)`` with ``w_i`` the asset's share of the side's current
  value, which is what fixed quantities imply. A stablecoin debt with no price history counts as
  a constant 1 USD, so the ratio is the collateral's price.
* **ln R is a Brownian motion without drift.** Its daily volatility sigma is estimated from the
  recent daily log-returns of R (a few months of daily prices), as the root mean square of the
  returns (a return over a gap of k days is divided by sqrt(k)). The drift is taken as zero:
  a drift estimated from a few months of crypto prices is mostly noise (its standard error is
  sigma / sqrt(days), larger than any plausible drift), and a recent rally extrapolated as drift
  would *lower* the estimate exactly when a reversal would hurt. Measuring the volatility about
  zero rather than about the sample mean also counts a recent trend as risk. Both choices err on
  the side of warning.
* **First passage.** HF < 1 happens when ln R falls by ``ln(HF_0)``. For a driftless Brownian
  motion the probability that it touches that level within T days is, by the reflection
  principle, ``P = 2 * Phi(-ln(HF_0) / (sigma * sqrt(T)))``. ``HF_0 <= 1`` gives 1 (already
  liquidatable); ``sigma == 0`` gives 0.

What the model does not see: jumps and fat tails beyond daily closes (it under-states crash
risk), intraday oracle moves, and interest pushing the debt up. It is a rough, honest gauge to
rank positions and trigger alerts, not a guarantee.

Floats are fine here: these are probabilities, not money.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.positions import LendingAccount

DAY = 86400
MODEL = "first passage of a driftless Brownian motion in ln(collateral/debt price ratio)"


def liquidation_probability(health_factor: Decimal | float, sigma: float, days: float) -> float:
    """P(HF falls below 1 within ``days``), with ``sigma`` the daily volatility of ln R."""
    hf = float(health_factor)
    if hf <= 1.0:
        return 1.0
    if sigma < 0 or days < 0:
        raise ValueError("volatility and horizon cannot be negative")
    if sigma == 0 or days == 0:
        return 0.0
    # 2 * Phi(-z) written as erfc(z / sqrt 2): exact in the far tail, where 1 + erf(-x)
    # (NormalDist.cdf) cancels to 0.0 and would call a small risk "none".
    z = math.log(hf) / (sigma * math.sqrt(days))
    return min(1.0, math.erfc(z / math.sqrt(2.0)))


@dataclass(frozen=True, slots=True)
class BasketLeg:
    """One asset of a side of the ratio: its weight and its daily prices (day start -> price).

    ``prices`` None means "constant" (a USD stablecoin without history, assumed at 1 USD).
    """

    asset_id: str
    weight: float
    prices: Mapping[int, Decimal] | None


def ratio_series(
    collateral: Sequence[BasketLeg], debt: Sequence[BasketLeg]
) -> list[tuple[int, float]]:
    """R_t = C_t / D_t on the days every non-constant leg has a price, oldest first.

    Each basket is normalised to today's (the last common day's) prices, so ``w_i`` are shares of
    current value. Prices that are not positive are not usable and leave the day out.
    """
    legs = [*collateral, *debt]
    dated = [leg.prices for leg in legs if leg.prices is not None]
    if not dated:
        return []
    days = set.intersection(
        *({d - d % DAY for d, p in prices.items() if p > 0} for prices in dated)
    )
    if not days:
        return []
    by_day = [
        None if leg.prices is None else {d - d % DAY: p for d, p in leg.prices.items() if p > 0}
        for leg in legs
    ]
    ordered = sorted(days)
    last = ordered[-1]

    def basket(offset: int, count: int, day: int) -> float:
        total = 0.0
        for leg, prices in zip(
            legs[offset : offset + count], by_day[offset : offset + count], strict=True
        ):
            total += leg.weight * (1.0 if prices is None else float(prices[day] / prices[last]))
        return total

    out: list[tuple[int, float]] = []
    for day in ordered:
        c = basket(0, len(collateral), day)
        d = basket(len(collateral), len(debt), day)
        if c > 0 and d > 0:
            out.append((day, c / d))
    return out


def estimate_sigma(series: Sequence[tuple[int, float]]) -> tuple[float, int]:
    """Daily volatility of ln R and the number of returns it rests on.

    Root mean square about zero (the zero-drift assumption); a return spanning k days is
    scaled by 1/sqrt(k) so gaps in the history do not inflate the estimate.
    """
    squares: list[float] = []
    for (t0, r0), (t1, r1) in itertools.pairwise(series):
        gap = (t1 - t0) / DAY
        if gap <= 0 or r0 <= 0 or r1 <= 0:
            continue
        squares.append(math.log(r1 / r0) ** 2 / gap)
    if not squares:
        return 0.0, 0
    return math.sqrt(math.fsum(squares) / len(squares)), len(squares)


class RiskStatus(enum.StrEnum):
    OK = "ok"  # probabilities computed
    NO_DEBT = "no_debt"  # nothing borrowed: cannot be liquidated
    UNKNOWN = "unknown"  # not enough data: ``reason`` says what is missing


@dataclass(frozen=True, slots=True)
class RiskInputs:
    """What a probability was computed from, for the tooltip and the JSON output."""

    health_factor: Decimal
    sigma_daily: float
    window_days: int
    observations: int
    first_day: int
    last_day: int
    collateral_weights: tuple[tuple[str, float], ...]
    debt_weights: tuple[tuple[str, float], ...]
    assumed_stable: tuple[str, ...] = ()
    model: str = MODEL

    def to_json(self) -> dict[str, object]:
        return {
            "health_factor": str(self.health_factor),
            "sigma_daily": self.sigma_daily,
            "window_days": self.window_days,
            "observations": self.observations,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "collateral_weights": dict(self.collateral_weights),
            "debt_weights": dict(self.debt_weights),
            "assumed_stable": list(self.assumed_stable),
            "model": self.model,
        }


@dataclass(frozen=True, slots=True)
class AccountRisk:
    account: LendingAccount
    status: RiskStatus
    p_24h: float | None = None
    p_7d: float | None = None
    inputs: RiskInputs | None = None
    reason: str | None = None
    # The account's sides in the snapshot's currency, from its position holdings (None when a
    # position is unpriced or the reader reported none); the protocol's own units are in account.
    collateral_value: Decimal | None = None
    debt_value: Decimal | None = None

    def to_json(self) -> dict[str, object]:
        a = self.account
        return {
            "wallet": a.wallet,
            "protocol": a.protocol,
            "chain": a.chain,
            "market": a.market,
            "health_factor": None if a.health_factor is None else str(a.health_factor),
            "status": self.status.value,
            "p_liquidation_24h": self.p_24h,
            "p_liquidation_7d": self.p_7d,
            "reason": self.reason,
            "inputs": None if self.inputs is None else self.inputs.to_json(),
        }


def assess(
    account: LendingAccount,
    collateral: Sequence[BasketLeg],
    debt: Sequence[BasketLeg],
    *,
    now: int,
    window_days: int,
    min_observations: int,
    max_age_days: int,
) -> AccountRisk:
    """Probabilities for one account, or UNKNOWN with the reason when the history is too thin.

    The window is the ``window_days`` before the newest day every asset has a price for; that
    day must be within ``max_age_days`` of ``now``, or the volatility would describe the past.
    """
    hf = account.health_factor
    if hf is None or account.debt <= 0:
        return AccountRisk(account, RiskStatus.NO_DEBT)
    series = ratio_series(collateral, debt)
    if series:
        start = series[-1][0] - window_days * DAY
        series = [(d, r) for d, r in series if d >= start]
    sigma, observations = estimate_sigma(series)
    inputs = RiskInputs(
        health_factor=hf,
        sigma_daily=sigma,
        window_days=window_days,
        observations=observations,
        first_day=series[0][0] if series else 0,
        last_day=series[-1][0] if series else 0,
        collateral_weights=tuple((leg.asset_id, leg.weight) for leg in collateral),
        debt_weights=tuple((leg.asset_id, leg.weight) for leg in debt),
        assumed_stable=tuple(leg.asset_id for leg in (*collateral, *debt) if leg.prices is None),
    )
    if hf <= 1:  # liquidatable now, whatever the history says
        return AccountRisk(account, RiskStatus.OK, 1.0, 1.0, inputs)
    names = ", ".join(leg.asset_id for leg in (*collateral, *debt) if leg.prices is not None)
    if observations < min_observations:
        return AccountRisk(
            account,
            RiskStatus.UNKNOWN,
            inputs=inputs,
            reason=f"only {observations} daily price moves in common for {names or 'no asset'}"
            f" in the last {window_days} days (needs {min_observations})",
        )
    if now - series[-1][0] > max_age_days * DAY:
        return AccountRisk(
            account,
            RiskStatus.UNKNOWN,
            inputs=inputs,
            reason=f"the price history of {names} ends {(now - series[-1][0]) // DAY} days ago",
        )
    return AccountRisk(
        account,
        RiskStatus.OK,
        p_24h=liquidation_probability(hf, sigma, 1),
        p_7d=liquidation_probability(hf, sigma, 7),
        inputs=inputs,
    )
