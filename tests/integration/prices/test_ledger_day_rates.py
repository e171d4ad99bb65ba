"""P&L, returns and timelines use the exchange rate of each day, not today's, over a real
SQLite database holding the stored daily rates and closes.

The rates below make today's rate (1 EUR = 1 USD) differ from the past days' (1 EUR = 1.25 USD
in March): a result computed with today's rate would be visibly different.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from app.domain.ledger import Transaction, TxKind
from app.services.ledger import LedgerConfig, LedgerService
from app.services.ledger_fx import DAY_RATES_NOTE
from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore
from app.storage.price_store import SqlMarketStore, SqlPriceStore

pytestmark = pytest.mark.integration

SAP = "stock:XETR:SAP"


def ts(d: date, hour: int = 0) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=UTC).timestamp())


MON = date(2026, 3, 2)  # ECB: 0.8 EUR per USD (1 EUR = 1.25 USD)
SAT = date(2026, 3, 7)  # no rate of its own: Monday's, five days back (a gap worth saying)
FRI = date(2026, 6, 12)  # ECB: 0.9 EUR per USD; SAP closed at 110 EUR
NOW = ts(date(2026, 6, 15), 18)  # today: 1 EUR per USD (the live rate)


def service(engine: Engine, currency: str = "USD") -> LedgerService:
    market = SqlMarketStore(engine)
    market.save_daily(
        "fx:EUR", "USD", [(ts(MON), Decimal("0.8")), (ts(FRI), Decimal("0.9"))], "ecb"
    )
    market.save_daily(SAP, "EUR", [(ts(FRI), Decimal("110"))], "stooq")
    SqlPriceStore(engine).save_rates({"EUR": Decimal("1")}, "coingecko", NOW)
    return LedgerService(
        SqlLedgerStore(engine),
        SqlLedgerMarket(engine),
        lambda: LedgerConfig(currency=currency),
        lambda: NOW,
    )


def test_cost_basis_uses_the_rate_of_the_purchase_day_not_todays(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Broker")
    buy = TxKind.BUY
    svc.add(Transaction("Broker", buy, ts(MON, 10), SAP, Decimal(1), Decimal(100), "EUR"))
    svc.add(Transaction("Broker", buy, ts(SAT, 10), SAP, Decimal(1), Decimal(50), "EUR"))
    report = svc.pnl()
    (sap,) = report.holdings
    # 100 EUR at 1.25 + 50 EUR at Monday's 1.25 (Saturday has no rate): never today's 1.0
    assert sap.cost_basis == Decimal("187.5")
    # valued at Friday's close at Friday's rate: 2 x 110 / 0.9
    assert sap.price_source == "market" and sap.price_ts == ts(FRI)
    assert sap.market_value is not None
    assert abs(sap.market_value - Decimal(220) / Decimal("0.9")) < Decimal("1e-20")
    assert DAY_RATES_NOTE in report.notes
    assert any("longest gap is 5 days, up to 2026-03-07" in n for n in report.notes)
    assert not any("today's exchange rate" in n for n in report.notes)
    # In the stock's own currency nothing is converted: 150 EUR paid, 220 EUR worth.
    eur = svc.pnl(currency="EUR")
    assert (eur.holdings[0].cost_basis, eur.holdings[0].market_value) == (150, 220)


def test_a_day_before_every_stored_rate_uses_todays_and_says_so(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Broker")
    early = date(2026, 2, 2)
    svc.add(Transaction("Broker", TxKind.BUY, ts(early), SAP, Decimal(1), Decimal(20), "EUR"))
    report = svc.pnl()
    assert report.holdings[0].cost_basis == Decimal(20)  # today's 1.0: the only rate there is
    assert any(
        "No EUR exchange rate of their own day is stored for amounts dated 2026-02-02" in n
        and "today's exchange rate" in n
        and "chainfolio fx history EUR" in n
        for n in report.notes
    ), report.notes


def test_returns_value_foreign_cash_at_each_days_rate(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Bank")
    svc.add(Transaction("Bank", TxKind.DEPOSIT, ts(MON, 9), "fiat:EUR", Decimal(100)))
    r = svc.returns(account="Bank", start=MON, end=date(2026, 6, 15))
    # 100 EUR put in at 125 USD, worth 100 USD today: -20 % in dollars (0 % at today's rate)
    assert r.figures.inflows == 125.0
    assert r.figures.end_value == 100.0
    assert r.figures.twr == pytest.approx(-0.2)
    assert DAY_RATES_NOTE in r.notes
    # In euros, nothing moved.
    eur = svc.returns(account="Bank", start=MON, end=date(2026, 6, 15), currency="EUR")
    assert eur.figures.twr == 0.0


def test_returns_value_stocks_at_each_days_close_and_rate(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Broker")
    svc.add(Transaction("Broker", TxKind.BUY, ts(MON, 10), SAP, Decimal(1), Decimal(100), "EUR"))
    r = svc.returns(start=MON, end=FRI)
    assert r.figures.inflows == 125.0
    assert r.figures.end_value == pytest.approx(110 / 0.9)
    assert r.figures.twr == pytest.approx((110 / 0.9) / 125 - 1)


def test_the_ledger_says_what_market_data_it_needs(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Broker")
    svc.add(Transaction("Broker", TxKind.BUY, ts(MON, 10), SAP, Decimal(1), Decimal(100), "EUR"))
    svc.add(Transaction("Broker", TxKind.DEPOSIT, ts(SAT), "fiat:GBP", Decimal(5)))
    assets, currencies = svc.market_needs()
    assert assets == {SAP: ts(MON, 10)}
    assert currencies == {"EUR": ts(MON, 10), "GBP": ts(SAT)}


def test_without_any_rate_history_todays_rate_is_used_and_said(engine: Engine) -> None:
    svc = service(engine)
    svc.add_account("Broker")
    svc.add(Transaction("Broker", TxKind.BUY, ts(MON, 10), SAP, Decimal(1), Decimal(100), "EUR"))
    with engine.begin() as con:
        con.exec_driver_sql("DELETE FROM price_history WHERE asset_id = 'fx:EUR'")
    report = svc.pnl()
    assert report.holdings[0].cost_basis == Decimal(100)  # today's rate, and said
    assert any("today's exchange rate" in n for n in report.notes)


def test_price_history_in_another_currency_uses_each_days_rate(engine: Engine) -> None:
    import asyncio

    from app.services.prices import PriceService
    from app.storage.price_store import SqlBackfillStore

    service(engine)  # rates: Monday 0.8, Friday 0.9, today 1.0 EUR per USD
    history = SqlBackfillStore(engine)
    eth = "eip155:1/slip44:60"
    early = date(2026, 2, 2)
    history.save_history(eth, [(ts(early), Decimal(1000)), (ts(SAT), Decimal(2000))], "test")
    svc = PriceService(SqlPriceStore(engine), [], clock=lambda: NOW, history=history)
    eur = asyncio.run(svc.history(eth, "EUR"))
    # before every stored rate: today's (the only one there is); Saturday: Monday's 0.8
    assert eur == [(ts(early), Decimal(1000)), (ts(SAT), Decimal(1600))]


def test_the_timeline_converts_with_the_stored_ecb_rates_of_each_day(engine: Engine) -> None:
    from app.domain.history import StoredTotal, in_currency
    from app.storage.price_store import SqlBackfillStore

    service(engine)  # ECB: Monday 0.8, Friday 0.9; live today 1.0 (EUR per USD)
    points = [
        StoredTotal(ts(date(2026, 2, 2), 12), "USD", Decimal(100)),  # before every rate
        StoredTotal(ts(MON, 12), "USD", Decimal(100)),
        StoredTotal(ts(SAT, 12), "USD", Decimal(100)),  # Monday's rate, five days back
        StoredTotal(NOW, "USD", Decimal(100)),
    ]
    shown, notes = in_currency(points, "EUR", SqlBackfillStore(engine).usd_rate_days)
    assert [(s.total, s.currency) for s in shown] == [
        (Decimal(100), "USD"),
        (Decimal(80), "EUR"),
        (Decimal(80), "EUR"),
        (Decimal(100), "EUR"),
    ]
    assert shown[2].rate_day == ts(MON)
    assert "nearest earlier day's rate was used" in notes[0]
    assert "no exchange rate is stored for those dates (2026-02-02) or before" in notes[1]
