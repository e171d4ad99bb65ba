"""DeFi positions: how protocol holdings and lending accounts are represented.

A protocol position is an ordinary :class:`~app.domain.balances.Balance` whose ``position`` key
is not empty. The key is ``"<protocol>:<kind>"`` or ``"<protocol>:<market>:<kind>"``, for example
``"aave-v3:supplied"``, ``"aave-v3:borrowed"``, ``"compound-v3:<comet address>:collateral"``,
``"lido:staked"`` or ``"eigenlayer:restaked"``. The asset is the underlying token the position is
valued in. Liabilities (borrowed) have a negative raw amount, so a debt is negative in every total
without special cases. A plain wallet balance has ``position == ""``.

A lending account (:class:`LendingAccount`) is the protocol's own view of a wallet's account in
one market: collateral, debt and health factor, as the protocol reports them. It feeds the
liquidation-risk estimate and the health-factor alerts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class PositionKind(enum.StrEnum):
    SUPPLIED = "supplied"
    BORROWED = "borrowed"
    COLLATERAL = "collateral"
    STAKED = "staked"
    RESTAKED = "restaked"
    REWARDS = "rewards"
    LIQUIDITY = "liquidity"  # a DEX liquidity position's share of the pool (earning fees)
    OUT_OF_RANGE = "out-of-range"  # a Uniswap v3 position whose range excludes the price now
    FEES = "fees"  # a DEX position's uncollected trading fees
    PRINCIPAL = "principal"  # a Pendle principal token (PT): redeems 1:1 for the asset at expiry
    YIELD = "yield"  # a Pendle yield token (YT): the asset's yield until expiry
    WITHDRAWING = "withdrawing"  # queued for withdrawal (EigenLayer): still the holder's


def position_key(protocol: str, kind: PositionKind, market: str = "") -> str:
    return f"{protocol}:{market}:{kind.value}" if market else f"{protocol}:{kind.value}"


def position_protocol(key: str) -> str:
    """``"aave-v3:supplied"`` -> ``"aave-v3"``; a plain balance (``""``) -> ``""``."""
    return key.split(":", 1)[0] if key else ""


def position_kind(key: str) -> PositionKind | None:
    if not key:
        return None
    try:
        return PositionKind(key.rsplit(":", 1)[-1])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class LendingAccount:
    """A wallet's account in one lending market, in the protocol's own units.

    ``collateral`` and ``debt`` are in the protocol's base currency (USD for Aave v3's oracle,
    the base token's value for Compound v3), exact. ``liquidation_threshold`` is a fraction
    (0.825, not 8250 bps). ``health_factor`` is None when there is no debt (infinitely safe).
    ``collateral_assets`` / ``debt_assets`` are CAIP-19 ids, for the risk model's price history.
    """

    wallet: str  # CAIP-10
    protocol: str  # e.g. "aave-v3"
    chain: str  # CAIP-2
    market: str  # pool / comet address, "" when the protocol has one market per chain
    collateral: Decimal
    debt: Decimal
    liquidation_threshold: Decimal
    health_factor: Decimal | None
    collateral_assets: tuple[str, ...] = ()
    debt_assets: tuple[str, ...] = ()
