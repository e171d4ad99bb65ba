"""Pure valuation rules: which prices are believable, and what a holding is worth.

Money is exact. Every money operation (a holding's value, group sums, totals, 24 h changes,
price and quantity effects) runs in :func:`money_context`, an unbounded Decimal context, through
the helpers here (:func:`exact_mul`, :func:`exact_sum`, :func:`exact_sub`); Decimal's default
context keeps only 28 significant digits, and an 18-decimal amount times a price already needs
more. Money leaves as text through :func:`decimal_text` (``format(x, "f")``: never E-notation).
Division is never exact (1/3): percentages and currency conversion use :func:`convert` or the
default context, never ``money_context``, which would try to compute endless digits.

Prices arrive from the network as JSON numbers or strings; they become Decimal here (through
``str`` so a float's binary noise is not carried over) and :func:`check_price` refuses anything
that is not a believable price, with a reason in plain words. One bad quote would otherwise
dominate the portfolio total, or (``1e-999999999999999999``) make every value and total that it
touches a million characters long.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)

from app.domain.ids import AssetId

USD = "USD"  # the currency prices are fetched, cached and kept in

# Bounds of a believable price of one unit of an asset (in US dollars, or the user's currency
# for a manual price). No asset trades above a quadrillion per unit; below 1e-30 per unit even
# 2**256-1 base units of an 18-decimal token are worth less than a millionth of a cent. Quotes
# from the APIs carry at most ~20 significant digits; 40 leaves room and keeps every value short.
MAX_PRICE = Decimal("1e15")
MIN_PRICE = Decimal("1e-30")  # the smallest non-zero price; zero itself is allowed (worthless)
MAX_PRICE_DIGITS = 40  # significant digits (trailing zeros do not count)
MAX_PRICE_TEXT = 80  # characters of the text a price is parsed from

CONVERSION_PREC = 50  # significant digits of a currency conversion (a division, never exact)

TOO_LARGE = "too large (above 1E+15 per unit)"

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


class PriceSourceName(enum.StrEnum):
    COINGECKO = "coingecko"
    DEFILLAMA = "defillama"
    MANUAL = "manual"


SOURCE_NAMES: dict[str, str] = {
    "coingecko": "CoinGecko",
    "defillama": "DefiLlama",
    "manual": "The manual price",
}


def source_name(source: str) -> str:
    """A price source as a person names it (``defillama`` -> ``DefiLlama``)."""
    return SOURCE_NAMES.get(source, source)


def check_price(value: object) -> tuple[Decimal | None, str | None]:
    """(price, None) for a believable price, else (None, the reason in plain words).

    Believable: a finite number, zero or from ``MIN_PRICE`` (1e-30) to ``MAX_PRICE`` (1e15),
    with at most ``MAX_PRICE_DIGITS`` (40) significant digits, written in at most
    ``MAX_PRICE_TEXT`` (80) characters. Nothing here expands the number's digits, so a text like
    ``1e-999999999999999999`` costs no more to refuse than ``1``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None, "not a number"
    if isinstance(value, int) and not -MAX_PRICE <= value <= MAX_PRICE:  # before str(): 10**5000
        return None, "negative" if value < 0 else TOO_LARGE
    if isinstance(value, str) and len(value) > MAX_PRICE_TEXT:
        return None, f"too long to be a price (over {MAX_PRICE_TEXT} characters)"
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, "not a number"
    if not price.is_finite():
        return None, "not a number"
    if price.is_zero():
        return Decimal(0), None
    if price < 0:
        return None, "negative"
    if price.adjusted() > MAX_PRICE.adjusted() or price > MAX_PRICE:
        return None, TOO_LARGE
    if price.adjusted() < MIN_PRICE.adjusted():
        return None, "too small to be real (below 1E-30 per unit)"
    significant = len(bytes(price.as_tuple().digits).rstrip(b"\0"))  # trailing zeros left out
    if significant > MAX_PRICE_DIGITS:
        return None, f"too many digits (over {MAX_PRICE_DIGITS} significant digits)"
    return price, None


def parse_price(value: object) -> Decimal | None:
    """A believable price as Decimal, or None (see :func:`check_price` for the bounds)."""
    return check_price(value)[0]


@dataclass(frozen=True, slots=True)
class RefusedPrice:
    """A quote a source sent that was not believable (see :func:`check_price`)."""

    asset_id: str
    source: str
    reason: str

    def describe(self, name: str | None = None, used: str | None = None) -> str:
        """One plain sentence: which source, which asset, why; and which source was used."""
        asset = f"{name} ({self.asset_id})" if name else self.asset_id
        text = (
            f"{source_name(self.source)} sent a price for {asset} that was refused: {self.reason}."
        )
        if used:
            text += f" The price from {source_name(used)} is used instead."
        else:
            text += " No other source priced it."
        return text


@dataclass(frozen=True, slots=True)
class Quote:
    """One price of one asset in one currency, with where and when it came from."""

    asset_id: str
    currency: str
    price: Decimal
    source: str
    fetched_at: int  # epoch seconds


@contextmanager
def money_context() -> Iterator[None]:
    """The one exact context for money: additions, subtractions and multiplications inside never
    round (no 28-digit limit, no exponent limit). Never divide inside it (1/3 has no end)."""
    with localcontext(_EXACT):
        yield


exact_arithmetic = money_context  # the older name, kept for callers not yet moved


def exact_mul(a: Decimal, b: Decimal) -> Decimal:
    """``a * b`` with every digit kept."""
    return _EXACT.multiply(a, b)


def exact_sub(a: Decimal, b: Decimal) -> Decimal:
    """``a - b`` with every digit kept."""
    return _EXACT.subtract(a, b)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The sum with every digit kept (``sum()`` in the default context rounds to 28 digits)."""
    total = Decimal(0)
    add = _EXACT.add
    for v in values:
        total = add(total, v)
    return total


def holding_value(amount: Decimal, price: Decimal) -> Decimal:
    """Exact product; rounding is a display concern."""
    return _EXACT.multiply(amount, price)


def raw_unit_price(price: Decimal, decimals: int) -> Decimal:
    """The price of one raw unit of a token with ``decimals`` (``price`` x 10**-decimals),
    exact. ``raw_value(raw, raw_unit_price(price, decimals))`` is digit for digit
    ``holding_value(to_decimal_amount(raw, decimals), price)``: worked out once per asset, it
    values each of 10,000s of holdings with one multiplication (0.2 against 0.76 us)."""
    return price.scaleb(-decimals, _EXACT)


def raw_value(raw: int, unit_price: Decimal) -> Decimal:
    """A raw amount's exact value at :func:`raw_unit_price`."""
    return _EXACT.multiply(raw, unit_price)


MAX_TEXT_EXPONENT = 1000  # far beyond any bounded price times any uint256 amount


def decimal_text(value: Decimal) -> str:
    """Money as text for JSON, CSV and storage: every digit, never E-notation (``1E+3`` ->
    ``1000``). A number no bounded price can produce (magnitude beyond 10**+-1000, e.g. one
    stored by an older version) keeps its short E form rather than expanding to a million
    digits.

    Called for every holding's value of a refresh, its snapshot and its JSON: the magnitude
    is ``adjusted()`` (0.03 us), not the exponent of ``as_tuple()``, which copies every digit
    into a tuple (0.5 us; 40,200 values: 20 ms of each)."""
    if -MAX_TEXT_EXPONENT <= value.adjusted() <= MAX_TEXT_EXPONENT:
        return format(value, "f")  # at most ~1,000 digits more than the number has
    return str(value)


def optional_text(value: Decimal | None) -> str | None:
    """:func:`decimal_text`, passing None through (an unpriced holding has no value)."""
    return None if value is None else decimal_text(value)


# Divisions are never exact: ``CONVERSION_PREC`` (50) significant digits, exponents unbounded.
DIVISION = Context(prec=CONVERSION_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def convert(amount: Decimal, from_per_usd: Decimal, to_per_usd: Decimal) -> Decimal:
    """``amount`` in one currency to another, through both currencies' units per US dollar.

    A division, so never exact: ``CONVERSION_PREC`` (50) significant digits."""
    with localcontext(DIVISION):
        return amount * to_per_usd / from_per_usd


def quantize_money(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places))


def price_effect(qty_before: Decimal, price_before: Decimal, price_after: Decimal) -> Decimal:
    """Change of value caused by price moves alone (quantity held constant at the start)."""
    return exact_mul(qty_before, exact_sub(price_after, price_before))


def quantity_effect(qty_before: Decimal, qty_after: Decimal, price_after: Decimal) -> Decimal:
    """Change of value caused by quantity changes alone, valued at the new price.

    ``price_effect + quantity_effect`` equals the total change in value exactly.
    """
    return exact_mul(exact_sub(qty_after, qty_before), price_after)


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
    rejected: tuple[RefusedPrice, ...] = ()  # quotes refused as not believable, with why
