"""Yield of interest-bearing positions: the rate a protocol quotes now, and the yield a position
actually earned between its own snapshots.

**The rate shape every protocol reports** (Aave, Compound, Morpho, Spark here; Pendle's implied
APY from ``app.defi.pendle`` plugs in the same way): a protocol's ``Outcome.rates`` holds one
:class:`PositionRate` per (asset, position key) it has a rate for, whatever the number of wallets
holding it. A rate applies to every holding whose ``asset_id`` and ``position`` are equal to the
rate's, so the key must be exactly the position key the protocol puts on its balances (e.g.
``"aave-v3:supplied"`` with the reserve's CAIP-19 id, ``"compound-v3:<comet>:borrowed"`` with the
base token's id, a Pendle PT's ``"pendle:<market>:<kind>"`` with the PT's id). ``apy`` is a
fraction (``Decimal("0.0345")`` is 3.45 % a year) with compounding included; for a borrow it is
what the debt costs (positive), never negated. ``apr`` is the simple annual rate the protocol
quotes, when it quotes one. Pendle's implied APY is already an APY: give it as ``apy`` with
``apr=None``.

The conversions are exact Decimal arithmetic in a 60-digit context: a rate is stored as text and
compared with a threshold the person typed, so no float ever touches it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

SECONDS_PER_YEAR = 365 * 24 * 3600  # Aave, Compound and Morpho all use a 365-day year
RAY = 10**27
WAD = 10**18
_CTX = Context(prec=60)
# A yield that is larger than this (100x a year) is not interest: a deposit or withdrawal.
MAX_PLAUSIBLE_APY = Decimal(100)
MIN_REALISED_SECONDS = 24 * 3600  # a realised yield needs at least a day of history
# A quoted APR above this (10,000 % a year) is a broken or hostile contract, not a market: the
# rate is left out rather than shown (and (1 + r)^31536000 of a huge r would overflow anyway).
MAX_APR = Decimal(100)


class RateSide(enum.StrEnum):
    SUPPLY = "supply"  # earned by a supply / deposit / LP position
    BORROW = "borrow"  # paid on a debt
    FIXED = "fixed"  # a fixed yield locked in at purchase (Pendle PT's implied APY)


@dataclass(frozen=True, slots=True)
class PositionRate:
    """The protocol's current rate for one (asset, position key); see the module docstring."""

    chain: str  # CAIP-2
    asset_id: str  # CAIP-19 of the asset the position is valued in
    position: str  # the position key the protocol gives the balances (app.domain.positions)
    side: RateSide
    apy: Decimal  # fraction, compounding included
    apr: Decimal | None = None  # the simple annual rate, when the protocol quotes one
    protocol: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.asset_id, self.position)


def per_second_to_apy(rate_per_second: Decimal) -> Decimal:
    """(1 + r)^seconds_per_year - 1: a rate applied every second (Aave's and Comet's indexes)."""
    with localcontext(_CTX):
        return (1 + rate_per_second) ** SECONDS_PER_YEAR - 1


def ray_apr_to_apy(rate_ray: int) -> tuple[Decimal, Decimal] | None:
    """Aave's ``currentLiquidityRate`` / ``currentVariableBorrowRate`` (an APR in ray, 1e27) as
    (apy, apr), compounded per second as Aave's own interface shows it; None when implausible."""
    with localcontext(_CTX):
        apr = Decimal(rate_ray) / RAY
        if not 0 <= apr <= MAX_APR:
            return None
        return per_second_to_apy(apr / SECONDS_PER_YEAR), apr


def wad_per_second_to_apy(rate_wad: int) -> tuple[Decimal, Decimal] | None:
    """Comet's ``getSupplyRate`` / ``getBorrowRate`` (per second, 1e18) as (apy, apr); None
    when implausible."""
    with localcontext(_CTX):
        per_second = Decimal(rate_wad) / WAD
        apr = per_second * SECONDS_PER_YEAR
        if not 0 <= apr <= MAX_APR:
            return None
        return per_second_to_apy(per_second), apr


def continuous_apy(rate_wad_per_second: int) -> tuple[Decimal, Decimal] | None:
    """Morpho Blue compounds continuously (its ``wTaylorCompounded``): e^(r·year) - 1; None
    when implausible."""
    with localcontext(_CTX):
        apr = Decimal(rate_wad_per_second) * SECONDS_PER_YEAR / WAD
        if not 0 <= apr <= MAX_APR:
            return None
        return apr.exp() - 1, apr


def morpho_supply_apy(
    borrow_apy: Decimal, supply_assets: int, borrow_assets: int, fee_wad: int
) -> Decimal:
    """A Morpho Blue market's supply APY as Morpho's own SDK states it: the borrowers' APY x
    utilisation x (1 - fee); zero for an empty market."""
    if supply_assets <= 0:
        return Decimal(0)
    with localcontext(_CTX):
        utilization = Decimal(borrow_assets) / Decimal(supply_assets)
        return borrow_apy * utilization * (1 - Decimal(fee_wad) / WAD)


def rates_by_key(rates: Iterable[PositionRate]) -> dict[tuple[str, str], PositionRate]:
    return {r.key: r for r in rates}


@dataclass(frozen=True, slots=True)
class WeightedYield:
    """The portfolio's yield: value-weighted APY of the positions that have a rate."""

    apy: Decimal | None  # earned minus paid, over the value of the positions with a rate
    earning_value: Decimal  # value of supplied positions with a rate
    owing_value: Decimal  # value (positive) of debts with a rate
    yearly: Decimal  # earned minus paid over a year at today's rates, in the currency


def weighted_yield(
    holdings: Iterable[tuple[str, str, Decimal | None]],
    rates: Mapping[tuple[str, str], PositionRate],
) -> WeightedYield:
    """``holdings`` are (asset_id, position, value) with debts negative. The APY is the yearly
    income (supplies x their APY minus debts x theirs) over the net value of those positions;
    None when there is none, or when the net is not positive (a yield on nothing means nothing)."""
    with localcontext(_CTX):
        earning = owing = yearly = Decimal(0)
        for asset_id, position, value in holdings:
            rate = rates.get((asset_id, position))
            if rate is None or value is None:
                continue
            if value < 0:
                owing += -value
                yearly -= -value * rate.apy
            else:
                earning += value
                yearly += value * rate.apy
        net = earning - owing
        apy = yearly / net if net > 0 else None
        return WeightedYield(apy, earning, owing, yearly)


def realised_apy(points: Sequence[tuple[int, int]]) -> Decimal | None:
    """The yield a position actually earned, from its own raw amounts at its snapshots
    ``[(epoch seconds, raw), ...]`` in time order.

    A jump that interest cannot explain (a drop of a supply, or growth faster than
    :data:`MAX_PLAUSIBLE_APY`) is a deposit or withdrawal: only the run of snapshots after the
    last such jump counts. None when that run spans less than a day or starts at zero."""
    run: list[tuple[int, int]] = []
    with localcontext(_CTX):
        for t, raw in points:
            if run:
                t0, r0 = run[-1]
                if t <= t0:
                    continue
                if r0 <= 0 or raw < r0 or _too_fast(r0, raw, t - t0):
                    run = []
            run.append((t, raw))
        if len(run) < 2 or run[0][1] <= 0:
            return None
        (t0, r0), (t1, r1) = run[0], run[-1]
        if t1 - t0 < MIN_REALISED_SECONDS:
            return None
        return _annualised(r0, r1, t1 - t0)


def _too_fast(start: int, end: int, seconds: int) -> bool:
    """Growth beyond :data:`MAX_PLAUSIBLE_APY` a year (compared in logs: no overflow)."""
    log_growth = (Decimal(end) / Decimal(start)).ln() * SECONDS_PER_YEAR / seconds
    return log_growth > (1 + MAX_PLAUSIBLE_APY).ln()


def _annualised(start: int, end: int, seconds: int) -> Decimal:
    """(end/start)^(year/seconds) - 1, through exp/ln so a fractional power stays exact to 60
    digits."""
    growth = Decimal(end) / Decimal(start)
    if growth == 1:
        return Decimal(0)
    return (growth.ln() * SECONDS_PER_YEAR / seconds).exp() - 1


def percent(fraction: Decimal | None, places: int = 2) -> str:
    """``0.03456`` -> ``"3.46 %"`` (plain text for the window), ``None`` -> ``""``."""
    if fraction is None:
        return ""
    return f"{(fraction * 100).quantize(Decimal(1).scaleb(-places))} %"
