"""Prices outside sane bounds are refused with a reason a person can read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.valuation import (
    MAX_PRICE_DIGITS,
    RefusedPrice,
    check_price,
    parse_price,
)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1e-999999999999999999", "too small"),
        ("1e999999", "too large"),
        ("1e999999999999999999999", "not a number"),  # beyond any Decimal
        ("-1e-999999999999999999", "negative"),
        (float("nan"), "not a number"),
        ("NaN", "not a number"),
        ("sNaN", "not a number"),
        ("Infinity", "not a number"),
        (float("-inf"), "not a number"),
        (-0.5, "negative"),
        ("1e-31", "too small"),
        ("1.5e15", "too large"),
        (10**5000 + 0, "too large"),
        ("1." + "1" * MAX_PRICE_DIGITS, "too many digits"),
        ("0." + "0" * 200 + "1", "too long"),
        ("abc", "not a number"),
        (None, "not a number"),
        (True, "not a number"),
    ],
    ids=range(18),
)
def test_absurd_prices_are_refused_with_a_reason(raw: object, reason: str) -> None:
    """(ids are positions: pytest cannot print a 5,000-digit int)"""
    price, why = check_price(raw)
    assert price is None
    assert why is not None and reason in why
    assert parse_price(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1e-30", Decimal("1e-30")),
        ("1e15", Decimal("1e15")),
        (0, Decimal(0)),  # a source may call a dead token worthless
        ("1." + "1" * (MAX_PRICE_DIGITS - 1), Decimal("1." + "1" * (MAX_PRICE_DIGITS - 1))),
        ("2500.000000000000000000000000000000000000000000", Decimal(2500)),  # zeros are no digits
        (0.1, Decimal("0.1")),
    ],
)
def test_prices_within_bounds_are_kept_exactly(raw: object, expected: Decimal) -> None:
    assert check_price(raw) == (expected, None)


def test_refused_price_message_names_the_asset_and_source_in_plain_words() -> None:
    refused = RefusedPrice("eip155:1/erc20:0xabc", "defillama", "too small to be real")
    text = refused.describe("USDC")
    assert "DefiLlama" in text and "USDC" in text and "eip155:1/erc20:0xabc" in text
    assert "too small to be real" in text and "RefusedPrice" not in text
    assert "coingecko" not in refused.describe().lower()
