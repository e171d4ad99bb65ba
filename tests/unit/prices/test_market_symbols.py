"""Ledger asset ids to Stooq symbols, the strict daily CSV parser, and day rates (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.domain.errors import SecretInputError
from app.domain.fx_days import DAY, from_mapping
from app.prices.stooq import (
    NotPriceable,
    StooqDataError,
    StooqSymbol,
    StooqUnavailable,
    StooqUnknownSymbol,
    parse_daily_csv,
    parse_price_id,
    symbol_for,
)

NOW = int(datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp())
AAPL = StooqSymbol("aapl.us", "USD")


@pytest.mark.parametrize(
    ("asset", "symbol", "currency", "divisor"),
    [
        ("stock:XNAS:AAPL", "aapl.us", "USD", 1),
        ("etf:ARCX:SPY", "spy.us", "USD", 1),
        ("stock:NYSE:BRK.B", "brk-b.us", "USD", 1),
        ("etf:XETR:EUNL", "eunl.de", "EUR", 1),
        ("stock:XLON:VOD", "vod.uk", "GBP", 100),
        ("stock:XTKS:7203", "7203.jp", "JPY", 1),
        ("stock:XHKG:0700", "0700.hk", "HKD", 1),
        ("stock:XWAR:PKN", "pkn", "PLN", 1),
        ("commodity:XAU", "xauusd", "USD", 1),
        ("commodity:xag", "xagusd", "USD", 1),
    ],
)
def test_asset_ids_map_to_stooq_symbols(
    asset: str, symbol: str, currency: str, divisor: int
) -> None:
    assert symbol_for(asset) == StooqSymbol(symbol, currency, divisor)


def test_what_cannot_be_priced_is_said_plainly() -> None:
    with pytest.raises(NotPriceable, match=r"named by its ISIN.*ticker only.*prices symbol"):
        symbol_for("stock:US0378331005")
    with pytest.raises(NotPriceable, match="does not know which Stooq market XPAR is"):
        symbol_for("stock:XPAR:AIR")
    with pytest.raises(NotPriceable, match="only stocks, ETFs and metals"):
        symbol_for("fiat:EUR")
    with pytest.raises(NotPriceable, match="only stocks, ETFs and metals"):
        symbol_for("bond:US912828U816")
    # the person's symbol wins, even for an ISIN
    assert symbol_for("stock:US0378331005", "stooq:aapl.us") == AAPL


def test_price_ids() -> None:
    assert parse_price_id("stooq:AAPL.US") == AAPL
    assert parse_price_id("sap.de") == StooqSymbol("sap.de", "EUR")
    assert parse_price_id("stooq:xagusd") == StooqSymbol("xagusd", "USD")
    assert parse_price_id("stooq:eurpln") == StooqSymbol("eurpln", "PLN")
    assert parse_price_id("stooq:cdr") == StooqSymbol("cdr", "PLN")
    assert parse_price_id("stooq:aapl.us").price_id == "stooq:aapl.us"
    for bad in ("stooq:", "stooq:a b", "stooq:<script>", "x" * 40):
        with pytest.raises(NotPriceable, match="not a Stooq symbol"):
            parse_price_id(bad)
    with pytest.raises(NotPriceable, match=r"currency of Stooq.s \.fr listings"):
        parse_price_id("stooq:air.fr")
    with pytest.raises(SecretInputError):  # a pasted secret is refused, never echoed
        parse_price_id("0x" + "ab" * 32)


HEAD = "Date,Open,High,Low,Close,Volume\r\n"


def test_csv_closes_are_exact_decimals() -> None:
    text = HEAD + "2026-06-11,1,1,1,185.6400,10\r\n2026-06-12,1,1,1,185.640000000000000000001,1\r\n"
    assert parse_daily_csv(text, AAPL, NOW) == [
        (int(datetime(2026, 6, 11, tzinfo=UTC).timestamp()), Decimal("185.6400")),
        (int(datetime(2026, 6, 12, tzinfo=UTC).timestamp()), Decimal("185.640000000000000000001")),
    ]
    assert parse_daily_csv(HEAD, AAPL, NOW) == []  # no trading day in the range: nothing
    pence = StooqSymbol("vod.uk", "GBP", 100)
    assert parse_daily_csv(HEAD + "2026-06-12,1,1,1,7250.5,1\n", pence, NOW)[0][1] == Decimal(
        "72.505"
    )
    metals = "Date,Open,High,Low,Close\n2026-06-12,1,1,1,2331.47\n"
    assert parse_daily_csv(metals, StooqSymbol("xauusd", "USD"), NOW)[0][1] == Decimal("2331.47")


@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("", StooqDataError, "empty answer"),
        ("  \n ", StooqDataError, "empty answer"),
        ("<html><body>captcha</body></html>", StooqUnavailable, "web page"),
        ("No data", StooqUnknownSymbol, "no prices for aapl.us"),
        ("Exceeded the daily hits limit", StooqUnavailable, "daily limit"),
        (HEAD + "2026-06-12,1,1,1,1e3,1", StooqDataError, "not a positive number"),
        (HEAD + "2026-06-12,1,1,1,inf,1", StooqDataError, "not a positive number"),
        (HEAD + "2026-06-12,1,1,1,,1", StooqDataError, "not a positive number"),
        (HEAD + "2026-06-12,1,1,1,-1,1", StooqDataError, "not a positive number"),
        (HEAD + "2026-06-12,1,1,1,0.000,1", StooqDataError, "not believable"),
        (HEAD + "2026-06-12,1,1,1,9999999999999999,1", StooqDataError, "not believable"),
        (HEAD + "2026-06-16,1,1,1,5,1", StooqDataError, "in the future"),
        (HEAD + "2026-02-30,1,1,1,5,1", StooqDataError, "not a date"),
        (HEAD + "2026-06-10,1,1,1,1,1\n2026-06-11,1,1,1,51,1", StooqDataError, "jump"),
        (HEAD + "2026-06-10,1,1,1,51,1\n2026-06-11,1,1,1,1,1", StooqDataError, "jump"),
    ],
)
def test_bad_csv_is_refused_in_plain_words(text: str, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=says):
        parse_daily_csv(text, AAPL, NOW)


def test_a_jump_just_within_bounds_is_kept() -> None:
    text = HEAD + "2026-06-10,1,1,1,1,1\n2026-06-11,1,1,1,50,1"
    assert [p for _, p in parse_daily_csv(text, AAPL, NOW)] == [1, 50]


def test_day_rates_nearest_earlier_gaps_and_missing() -> None:
    rates = from_mapping({"EUR": [(10 * DAY, Decimal("0.8")), (20 * DAY, Decimal("0.9"))]})
    assert rates.factor("EUR", "USD", 10 * DAY + 5) == Decimal("1.25")
    assert rates.factor("USD", "EUR", 12 * DAY) == Decimal("0.8")  # weekend: Friday's
    assert rates.long_gaps == {}
    assert rates.factor("EUR", "USD", 16 * DAY) == Decimal("1.25")  # 6 days: said
    assert rates.factor("EUR", "USD", 9 * DAY) is None  # before every rate: never guessed
    assert rates.factor("GBP", "USD", 30 * DAY) is None
    assert rates.factor("EUR", "EUR", 0) == 1
    notes = rates.notes()
    assert "the longest gap is 6 days, up to 1970-01-17" in notes[0]
    assert "No EUR exchange rate is stored for 1970-01-10 or any day before" in notes[1]
    assert "No GBP exchange rate" in notes[2]
