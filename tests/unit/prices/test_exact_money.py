"""One exact Decimal context for money: products, sums, effects and their text never round."""

from __future__ import annotations

from decimal import Decimal, getcontext
from fractions import Fraction

import pytest

from app.domain.balances import SourceState, to_decimal_amount
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.domain.valuation import (
    decimal_text,
    exact_mul,
    exact_sub,
    exact_sum,
    holding_value,
    money_context,
    optional_text,
    raw_unit_price,
    raw_value,
)
from app.services.day_change import day_change
from app.services.prices import HoldingValue, Valuation
from app.ui.models.holdings_data import GroupBy, build_portfolio, group_rows

MAX_RAW = 2**256 - 1
PRICE_30 = Decimal("12345.6789012345678901234567890")  # 30 significant digits
WALLET = "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TOKEN = "eip155:1/erc20:0x0000000000000000000000000000000000000001"


def exact(d: Decimal) -> Fraction:
    return Fraction(d)


def test_uint256_max_with_18_decimals_times_a_30_digit_price_is_exact() -> None:
    amount = to_decimal_amount(MAX_RAW, 18)
    value = holding_value(amount, PRICE_30)
    assert exact(value) == Fraction(MAX_RAW, 10**18) * exact(PRICE_30)
    assert exact_mul(amount, PRICE_30) == value
    text = decimal_text(value)
    assert "E" not in text and "e" not in text
    assert len(text.replace(".", "").lstrip("0")) > 80  # every digit is kept
    assert getcontext().prec == 28  # the caller's context is untouched


def test_sums_and_differences_are_exact_where_28_digits_would_round() -> None:
    a = Decimal("36550291726980.7707989576870118854734")
    b = Decimal("0.0000000000000000000000000000000000001")
    minus_a = a.copy_negate()  # unary minus would round to 28 digits
    assert exact(exact_sum([a, b, minus_a])) == exact(b)
    assert exact(exact_sub(a, a)) == 0
    assert exact(exact_sub(exact_sum([a, b]), a)) == exact(b)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+3"), "1000"),
        (Decimal("6.2128E+61"), "62128" + "0" * 57),
        (Decimal("1E-30"), "0." + "0" * 29 + "1"),
        (Decimal("-2.50"), "-2.50"),
        (Decimal(0), "0"),
    ],
)
def test_money_text_is_never_in_e_notation(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text
    assert optional_text(value) == text
    assert optional_text(None) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+1000"), "1" + "0" * 1000),  # the largest magnitude still written out
        (Decimal("1E-1000"), "0." + "0" * 999 + "1"),
        (Decimal("1E+1001"), "1E+1001"),  # beyond: the short form, never a million digits
        (Decimal("1E-1001"), "1E-1001"),
        (Decimal("-9.99E+999999"), "-9.99E+999999"),
        (Decimal("0E-5000"), "0E-5000"),
        (Decimal("0E+5000"), "0E+5000"),
        (Decimal("Infinity"), "Infinity"),
    ],
)
def test_money_text_beyond_any_bounded_price_stays_short(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text


def test_money_text_with_many_digits_keeps_every_digit() -> None:
    # 1,500 fractional digits, magnitude 1: written out (the digits are the number's own)
    value = Decimal("1." + "7" * 1500)
    assert decimal_text(value) == "1." + "7" * 1500


def test_money_context_is_exact_for_products_and_restores_the_default() -> None:
    with money_context():
        product = Decimal(MAX_RAW) * Decimal(MAX_RAW)
    assert product == Decimal(MAX_RAW**2)
    assert getcontext().prec == 28


def holding(raw: int, price: Decimal, wallet: str = WALLET, asset: str = TOKEN) -> SnapshotHolding:
    value = holding_value(to_decimal_amount(raw, 18), price)
    return SnapshotHolding(
        wallet, asset, "TKN", 18, raw, price, value, SourceState.OK, 1, position=""
    )


def test_valuation_json_is_exact_and_plain() -> None:
    amount = to_decimal_amount(MAX_RAW, 18)
    value = holding_value(amount, PRICE_30)
    h = HoldingValue(WALLET, TOKEN, "TKN", amount, Decimal("1E+3"), value, "defillama", 0, False)
    doc = Valuation("USD", (h,), exact_sum([value, Decimal("1E+3")])).to_json()
    row = doc["holdings"][0]  # type: ignore[index]
    assert row["price"] == "1000"
    assert Fraction(Decimal(row["value"])) == Fraction(MAX_RAW, 10**18) * exact(PRICE_30)
    assert "E" not in row["value"] and "E" not in str(doc["total"])
    assert Fraction(Decimal(str(doc["total"]))) == exact(value) + 1000


def test_portfolio_group_sums_and_24h_change_are_exact() -> None:
    price_a = Decimal("36550291726980.7707989576870118854734")
    rows_now = (
        holding(10**18, price_a),
        holding(10**18, Decimal("0.0000000000000000000000000000001"), asset=TOKEN[:-1] + "2"),
    )
    rows_then = (holding(10**18, Decimal("1")),)
    now = Snapshot(2 * 86400, "USD", rows_now, ())
    then = Snapshot(86400, "USD", rows_then, ())
    portfolio = build_portfolio(now, {}, {}, then)
    (group,) = group_rows(portfolio.rows, GroupBy.WALLET, portfolio.total)
    expected = exact(price_a) + Fraction(1, 10**31)
    assert group.value is not None and exact(group.value) == expected
    assert exact(portfolio.total) == expected
    change = day_change(now, then)
    assert change is not None and exact(change.amount) == expected - 1
    assert portfolio.change is not None and exact(portfolio.change) == expected - 1
    assert group.change is not None and exact(group.change) == exact(price_a) - 1


def test_a_raw_amount_at_its_unit_price_is_the_holding_value_digit_for_digit() -> None:
    import random

    rng = random.Random(11)
    raws = [0, 1, -5, MAX_RAW, -MAX_RAW, 10**77, 123456789]
    raws += [rng.randrange(-(10**40), 10**40) for _ in range(300)]
    prices = [PRICE_30, Decimal(0), Decimal("1E+5"), Decimal("-2.50"), Decimal("0.000000001234")]
    prices += [Decimal(rng.randrange(1, 10**30)).scaleb(-rng.randrange(0, 40)) for _ in range(30)]
    for raw in raws:
        for decimals in (0, 6, 8, 18, 30, rng.randrange(0, 77)):
            for price in prices:
                expected = holding_value(to_decimal_amount(raw, decimals), price)
                got = raw_value(raw, raw_unit_price(price, decimals))
                assert str(got) == str(expected), (raw, decimals, price)
    assert getcontext().prec == 28  # the caller's context is untouched


def test_snapshot_sums_are_kept_with_the_snapshot_and_never_carried_to_other_holdings() -> None:
    from dataclasses import replace

    def held(value: str, state: SourceState = SourceState.OK) -> SnapshotHolding:
        return SnapshotHolding(
            "eip155:1:0xA", f"eip155:1/erc20:0x{value}", "T", 0, 1, Decimal(1), Decimal(value),
            state, 0,
        )  # fmt: skip

    first = Snapshot(0, "USD", (held("1.5"), held("2", SourceState.STALE)), ())
    assert (first.total, first.stale_total) == (Decimal("3.5"), Decimal(2))
    assert first.total is first.total  # worked out once
    other = replace(first, holdings=(held("7"),))
    assert (other.total, other.stale_total) == (Decimal(7), Decimal(0))
    same = Snapshot(0, "USD", first.holdings, ())
    assert same == first and "_sums" not in repr(first)  # the kept sums are not compared
    stored = first.stored_as(7)
    assert stored.id == 7 and stored.total is first.total  # the same holdings: not summed again
