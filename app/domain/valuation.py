"""Pure valuation rules: which prices are believable, and what a holding is worth.

Prices arrive from the network as JSON numbers; they become Decimal here (through ``str`` so a
float's binary noise is not carried over) and anything non-finite, negative or absurd is refused,
because one bad quote would otherwise dominate the portfolio total.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation, localcontext

from app.domain.ids import AssetId

MAX_PRICE = Decimal("1e15")


class PriceSourceName(enum.StrEnum):
    COINGECKO = "coingecko"
    DEFILLAMA = "defillama"
    MANUAL = "manual"


def parse_price(value: object) -> Decimal | None:
    """A believable price as Decimal, or None (non-finite, negative, > 1e15, not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        return None
    return price


@dataclass(frozen=True, slots=True)
class Quote:
    """One price of one asset in one currency, with where and when it came from."""

    asset_id: str
    currency: str
    price: Decimal
    source: str
    fetched_at: int  # epoch seconds


@contextmanager
def exact_arithmetic() -> Iterator[None]:
    """Additions and multiplications inside are exact (no rounding to 28 digits).

    Decimal's default context keeps 28 significant digits; an 18-decimal token amount times a
    price, or a sum of such values, already needs more.
    """
    with localcontext(Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)):
        yield


def holding_value(amount: Decimal, price: Decimal) -> Decimal:
    """Exact product; rounding is a display concern."""
    with exact_arithmetic():
        return amount * price


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    with exact_arithmetic():
        return sum(values, Decimal(0))


def quantize_money(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def price_effect(qty_before: Decimal, price_before: Decimal, price_after: Decimal) -> Decimal:
    """Change of value caused by price moves alone (quantity held constant at the start)."""
    with exact_arithmetic():
        return qty_before * (price_after - price_before)


def quantity_effect(qty_before: Decimal, qty_after: Decimal, price_after: Decimal) -> Decimal:
    """Change of value caused by quantity changes alone, valued at the new price.

    ``price_effect + quantity_effect`` equals the total change in value exactly.
    """
    with exact_arithmetic():
        return (qty_after - qty_before) * price_after


@dataclass(frozen=True, slots=True)
class PricedAsset:
    """An asset to price: its CAIP-19 id and the token list's price id, if any."""

    asset_id: AssetId
    price_id: str | None = None


@dataclass(frozen=True, slots=True)
class PriceAnswer:
    """What one source answered: USD prices by CAIP-19 id string, and how it went."""

    source: str
    prices: dict[str, Decimal] = field(default_factory=dict)
    requests: int = 0
    error: str | None = None
    rejected: tuple[str, ...] = ()  # asset ids whose quoted price was refused as absurd
