"""Daily closes (Stooq) and daily exchange rates (ECB via Frankfurter) against local servers
speaking their formats, stored in a real SQLite database: bad answers first, then a year on
first sight, incremental updates, keys, and sources that are down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine

from app.prices.fx_history import FrankfurterSource
from app.prices.market_history import MarketHistory, MarketReport
from app.prices.stooq import StooqSource
from app.storage.price_store import SqlMarketStore
from tests.integration.prices.conftest import MemorySecrets
from tests.integration.prices.fakes import serve
from tests.integration.prices.market_fakes import FakeFrankfurter, FakeStooq
from tests.support.net import free_port

pytestmark = pytest.mark.integration

TODAY = date(2026, 6, 15)  # a Monday
NOW = int(datetime(2026, 6, 15, 18, 0, tzinfo=UTC).timestamp())
AAPL = "stock:XNAS:AAPL"
T = TypeVar("T")


def ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def days_back(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def run_market(
    engine: Engine,
    stooq: FakeStooq,
    fx: FakeFrankfurter,
    go: Callable[[MarketHistory], Awaitable[T]],
    secrets: MemorySecrets | None = None,
    clock: Callable[[], float] = lambda: NOW,
) -> T:
    async def main() -> T:
        async with serve(stooq) as surl, serve(fx) as furl, httpx.AsyncClient(timeout=2) as http:  # type: ignore[arg-type]
            market = MarketHistory(
                StooqSource(http, surl, secrets, per_minute=6000),
                FrankfurterSource(http, furl),
                SqlMarketStore(engine),
                clock=clock,
            )
            return await go(market)

    return asyncio.run(main())


def closes(engine: Engine, asset: str = AAPL) -> tuple[str | None, list[tuple[int, Decimal]]]:
    return SqlMarketStore(engine).closes(asset)


# ---- bad answers: refused in plain words, nothing stored ---------------------------------------
@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("html", "web page instead of prices"),
        ("empty", "empty answer"),
        ("limit", "daily limit"),
        (
            "raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,abc,10\n",
            "'abc' is not a positive",
        ),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,-5,10\n", "'-5' is not a positive"),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,0,10\n", "not believable"),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-16,1,1,1,5,10\n", "in the future"),
        (
            "raw:Date,Open,High,Low,Close,Volume\n2026-06-11,1,1,1,5,10\n2026-06-12,1,1,1,500,10\n",
            "jump from 5 on 2026-06-11 to 500",
        ),
        (
            "raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,5,10\n2026-06-12,1,1,1,5,10\n",
            "appears twice",
        ),
        ("raw:Date,Open,High,Low,Close,Volume\n12/06/2026,1,1,1,5,10\n", "is not a date"),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,5\n", "columns do not match"),
        ("raw:Symbol,Price\naapl.us,5\n", "not a table of daily prices"),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,1e5,10\n", "not a positive"),
        ("raw:Date,Open,High,Low,Close,Volume\n2026-06-12,1,1,1,NaN,10\n", "not a positive"),
    ],
)
def test_bad_stooq_answers_are_refused_and_nothing_is_stored(
    engine: Engine, script: str, says: str
) -> None:
    stooq = FakeStooq(closes={"aapl.us": [(days_back(3), "190.5")]}, script=[script])
    report = run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}))
    assert report.stored == {}
    assert len(report.errors) == 1 and says in report.errors[0], report.errors
    assert "Traceback" not in report.errors[0] and "Error" not in report.errors[0]
    assert closes(engine) == (None, [])
    status, message, _ = SqlMarketStore(engine).status(AAPL)
    assert status == "failed" and says in message


def test_an_unknown_symbol_is_said_and_not_asked_again_for_a_week(engine: Engine) -> None:
    stooq = FakeStooq()
    report = run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}))
    assert report.errors == [f"{AAPL}: Stooq has no prices for aapl.us: check the symbol."]
    again = run_market(
        engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}),
        clock=lambda: NOW + 3 * 86400,
    )  # fmt: skip
    assert again.up_to_date == [AAPL] and len(stooq.log) == 1


def test_an_isin_without_a_symbol_cannot_be_priced_and_says_what_to_do(engine: Engine) -> None:
    stooq = FakeStooq()
    isin = "stock:US0378331005"
    report = run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({isin: None}))
    why = report.not_priceable[isin]
    assert "ISIN" in why and "prices symbol stock:US0378331005 stooq:" in why
    assert stooq.log == []  # nothing asked
    SqlMarketStore(engine).set_symbol(isin, "stooq:aapl.us", NOW)
    stooq.closes = {"aapl.us": [(days_back(3), "190.5")]}
    report = run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({isin: None}))
    assert report.stored == {isin: 1}
    assert closes(engine, isin) == ("USD", [(ts(TODAY - timedelta(days=3)), Decimal("190.5"))])


# ---- a year on first sight, then only new days -------------------------------------------------
def test_a_year_on_first_sight_then_only_new_days_exact_decimal(engine: Engine) -> None:
    year = [(days_back(n), f"{100 + n}.0625") for n in range(400, 0, -1)]
    stooq = FakeStooq(closes={"aapl.us": year, "vod.uk": [(days_back(2), "7250.5")]})
    report = run_market(
        engine, stooq, FakeFrankfurter(),
        lambda m: m.update_assets({AAPL: None, "stock:XLON:VOD": None}),
    )  # fmt: skip
    assert report.stored == {AAPL: 365, "stock:XLON:VOD": 1}
    first = next(e.query for e in stooq.log if e.query["s"] == "aapl.us")
    assert (first["s"], first["i"], first["d1"], first["d2"]) == (
        "aapl.us", "d", (TODAY - timedelta(days=365)).strftime("%Y%m%d"), "20260615",
    )  # fmt: skip
    currency, points = closes(engine)
    assert currency == "USD" and len(points) == 365
    assert points[-1] == (ts(TODAY - timedelta(days=1)), Decimal("101.0625"))
    # London quotes in pence: stored in pounds, exactly
    assert closes(engine, "stock:XLON:VOD") == (
        "GBP", [(ts(TODAY - timedelta(days=2)), Decimal("72.505"))]
    )  # fmt: skip

    # Within six hours nothing is asked again; after, only the days after the newest close.
    stooq.closes["aapl.us"].append((TODAY.isoformat(), "99.5"))
    run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}),
               clock=lambda: NOW + 3600)  # fmt: skip
    assert len(stooq.log) == 2
    later = NOW + 7 * 3600
    report = run_market(
        engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}),
        clock=lambda: later,
    )  # fmt: skip
    assert report.stored == {AAPL: 2}  # the newest stored day is asked again, with today
    assert stooq.log[-1].query["d1"] == (TODAY - timedelta(days=1)).strftime("%Y%m%d")
    # An older first transaction: the days before the stored span are fetched once.
    report = run_market(
        engine, stooq, FakeFrankfurter(),
        lambda m: m.update_assets({AAPL: ts(TODAY - timedelta(days=380))}, force=True),
        clock=lambda: later,
    )  # fmt: skip
    assert report.stored == {AAPL: 16}
    assert len(closes(engine)[1]) == 381


def test_metals_are_priced_in_dollars_per_troy_ounce(engine: Engine) -> None:
    stooq = FakeStooq(closes={"xauusd": [(days_back(1), "2331.47")]}, metal_style=True)
    report = run_market(
        engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({"commodity:XAU": None})
    )
    assert report.stored == {"commodity:XAU": 1}
    assert closes(engine, "commodity:XAU")[1][0][1] == Decimal("2331.47")


def test_the_key_is_sent_when_saved_and_its_absence_is_explained(engine: Engine) -> None:
    stooq = FakeStooq(closes={"aapl.us": [(days_back(1), "190")]}, required_key="k-123456789")
    report = run_market(engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}))
    assert "chainfolio keys set stooq" in report.errors[0] and report.stored == {}
    secrets = MemorySecrets({"stooq": "k-123456789"})
    report = run_market(
        engine, stooq, FakeFrankfurter(), lambda m: m.update_assets({AAPL: None}), secrets
    )
    assert report.stored == {AAPL: 1} and stooq.log[-1].query["apikey"] == "k-123456789"


def test_sources_down_keep_the_stored_history_and_say_so(engine: Engine) -> None:
    stooq = FakeStooq(closes={"aapl.us": [(days_back(1), "190")]})
    fx = FakeFrankfurter(rates={days_back(1): {"EUR": "0.9"}})
    run_market(engine, stooq, fx, lambda m: m.update({AAPL: None}, {"EUR": None}, "EUR"))
    before = closes(engine), SqlMarketStore(engine).usd_rate_days("EUR")
    assert before[0][1] and before[1]

    async def go() -> MarketReport:
        dead = f"http://127.0.0.1:{free_port()}"
        async with httpx.AsyncClient(timeout=1) as http:
            market = MarketHistory(
                StooqSource(http, dead, per_minute=6000),
                FrankfurterSource(http, dead),
                SqlMarketStore(engine),
                clock=lambda: NOW + 86400,
            )
            return await market.update({AAPL: None}, {"EUR": None}, "EUR", force=True)

    report = asyncio.run(go())
    assert report.stored == {}
    assert any("Stooq could not be reached; stored prices are used." in e for e in report.errors)
    assert any("could not be reached" in e or "connection" in e for e in report.errors[1:])
    assert (closes(engine), SqlMarketStore(engine).usd_rate_days("EUR")) == before


# ---- daily exchange rates ------------------------------------------------------------------------
def test_fx_history_a_year_at_a_time_stored_per_day_exactly(engine: Engine) -> None:
    rates = {days_back(n): {"EUR": f"0.9{n:03d}", "GBP": "0.78"} for n in range(1, 500, 3)}
    fx = FakeFrankfurter(rates=rates)
    since = ts(TODAY - timedelta(days=450))
    report = run_market(
        engine, FakeStooq(), fx,
        lambda m: m.update_fx({"EUR": since, "GBP": since, "XCD": None}),
    )  # fmt: skip
    spans = [e.path for e in fx.log]
    assert len(spans) == 2  # 451 days: a year, then the rest
    assert all(e.query["base"] == "USD" and e.query["symbols"] == "EUR,GBP" for e in fx.log)
    assert "ECB publishes no daily rate for XCD" in report.not_priceable["fx:XCD"]
    eur = SqlMarketStore(engine).usd_rate_days("EUR")
    assert eur[-1] == (ts(TODAY - timedelta(days=1)), Decimal("0.9001"))
    assert len(eur) == len([n for n in range(1, 451, 3)])
    # Again within six hours: nothing asked.
    run_market(engine, FakeStooq(), fx, lambda m: m.update_fx({"EUR": None}))
    assert len(fx.log) == 2


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("html", "not JSON"),
        ('raw:{"amount": 1.0, "base": "EUR", "rates": {}}', "against another currency"),
        (
            'raw:{"amount": 1.0, "base": "USD", "rates": {"2026-06-12": {"EUR": "abc"}}}',
            "not a positive number",
        ),
        (
            'raw:{"amount": 1.0, "base": "USD", "rates": {"2026-06-12": {"EUR": -0.9}}}',
            "not a positive number",
        ),
        (
            'raw:{"amount": 1.0, "base": "USD", "rates": {"2026-06-12": {"EUR": 0}}}',
            "not a positive number",
        ),
        (
            'raw:{"amount": 1.0, "base": "USD", "rates": {"2026-06-20": {"EUR": 0.9}}}',
            "in the future",
        ),
        (
            'raw:{"amount": 1.0, "base": "USD", "rates": {"2026-06-11": {"EUR": 0.9}, '
            '"2026-06-12": {"EUR": 90}}}',
            "jump",
        ),
        ('raw:{"amount": 1.0, "base": "USD", "rates": []}', "not a table of rates"),
    ],
)
def test_bad_fx_answers_are_refused_and_nothing_is_stored(
    engine: Engine, script: str, says: str
) -> None:
    fx = FakeFrankfurter(rates={days_back(1): {"EUR": "0.9"}}, script=[script])
    report = run_market(engine, FakeStooq(), fx, lambda m: m.update_fx({"EUR": None}))
    assert report.stored == {} and len(report.errors) == 1
    assert says in report.errors[0], report.errors
    assert "nothing stored" in report.errors[0] or "stored rates are used" in report.errors[0]
    assert SqlMarketStore(engine).usd_rate_days("EUR") == []


def test_new_days_must_continue_the_stored_history_believably(engine: Engine) -> None:
    """A later answer in pence instead of pounds (100x) is refused against what is stored."""
    stooq = FakeStooq(closes={"aapl.us": [(days_back(3), "190.5"), (days_back(2), "191")]})
    fx = FakeFrankfurter(rates={days_back(3): {"EUR": "0.9"}})
    run_market(engine, stooq, fx, lambda m: m.update({AAPL: None}, {"EUR": None}, "EUR"))
    stored = closes(engine), SqlMarketStore(engine).usd_rate_days("EUR")
    # The answers hold only the new day (a source that dropped the older rows): checked
    # against the newest stored point, not only within the answer.
    stooq.closes["aapl.us"] = [(days_back(1), "19100")]
    fx.rates = {days_back(1): {"EUR": "90"}}
    report = run_market(
        engine, stooq, fx, lambda m: m.update({AAPL: None}, {"EUR": None}, "EUR", force=True)
    )
    assert report.stored == {}
    assert any(
        "jump from the stored 191 on" in e and "19100" in e and "refused" in e
        for e in report.errors
    ), report.errors
    assert any("EUR rates jump from the stored 0.9" in e for e in report.errors), report.errors
    assert (closes(engine), SqlMarketStore(engine).usd_rate_days("EUR")) == stored
