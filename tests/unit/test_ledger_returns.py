"""TWR and IRR against cases computed by hand (each docstring shows the arithmetic)."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from app.domain.ledger import Transaction, TxKind, validate
from app.domain.returns import compute_returns

X = "eip155:1/slip44:60"  # a crypto asset: its prices come from the "price source" below
START = 19_000  # a day number (2022-01-08)
DAY = 86400


def tx(kind: TxKind, amount: str, price: str | None, day: int, account: str = "A",
       to: str | None = None) -> Transaction:  # fmt: skip
    return validate(
        Transaction(
            account=account,
            kind=kind,
            ts=(START + day) * DAY + 3600,
            asset=X,
            amount=D(amount),
            price=None if price is None else D(price),
            price_currency=None if price is None else "USD",
            to_account=to,
            id=day,
        ),
        (START + 5000) * DAY,
    )


def run(txs: list[Transaction], prices: dict[int, float], days: int, account: str | None = None):  # type: ignore[no-untyped-def]
    return compute_returns(
        txs,
        start_day=START,
        end_day=START + days,
        prices={X: [(START + d, p) for d, p in sorted(prices.items())]},
        to_report=lambda _code: 1.0,
        account=account,
    )


def test_twr_and_irr_differ_when_money_comes_in_before_a_loss() -> None:
    """Day 0 buy 1000 units @ 1 (1000 in). Day 364 the price is 1.1: +10 %. Day 365 buy 1000
    more @ 1.1 (1100 in). Day 730 the price is 0.99: -10 % on 2200.
    TWR = 1.1 * 0.9 - 1 = -1 % (annualised over 731 days: 0.99^(365/731) - 1).
    IRR: -1000 - 1100 v + 1980 v^2 = 0 with v = 1/(1+r) over whole years:
    v = (1100 + sqrt(1100^2 + 4*1980*1000)) / 3960 -> r = -3.920550703 %: more money was in
    during the loss, so the money-weighted return is worse."""
    txs = [tx(TxKind.BUY, "1000", "1", 0), tx(TxKind.BUY, "1000", "1.1", 365)]
    f = run(txs, {0: 1.0, 364: 1.1, 365: 1.1, 730: 0.99}, 730)
    assert f.twr == pytest.approx(-0.01, abs=1e-9)
    assert f.twr_annualised == pytest.approx(0.99 ** (365 / 731) - 1, abs=1e-9)
    v = (1100 + math.sqrt(1100**2 + 4 * 1980 * 1000)) / 3960
    assert f.irr == pytest.approx(1 / v - 1, abs=1e-9)  # -0.03920550703
    assert f.irr == pytest.approx(-0.03920550703, abs=1e-10)
    assert (f.start_value, f.end_value, f.inflows, f.outflows) == (0, 1980, 2100, 0)


def test_deposit_and_withdrawal_mid_period() -> None:
    """Day 0 deposit 10 units worth 100 each (1000 in, at the market price: the deposit has
    none). Day 100 the price is 150 and 5 units are withdrawn (750 out at the end of the day).
    Day 200 the price is 120: 5 units worth 600.
    TWR: day 100 (750 + 750) / 1000 = 1.5; day 200 600 / 750 = 0.8; 1.5 * 0.8 - 1 = +20 %.
    IRR solves -1000 + 750 (1+r)^(-100/365) + 600 (1+r)^(-200/365) = 0: r = 116.4456429 %
    (bisection to 1e-15 by hand-written code, see the test)."""
    txs = [tx(TxKind.DEPOSIT, "10", None, 0), tx(TxKind.WITHDRAWAL, "5", None, 100)]
    f = run(txs, {0: 100.0, 100: 150.0, 200: 120.0}, 200)
    assert f.twr == pytest.approx(0.2, abs=1e-9)
    assert f.twr_annualised is None  # under a year: not annualised
    assert f.irr == pytest.approx(1.164456429, abs=1e-8)
    assert (f.inflows, f.outflows, f.end_value) == (1000, 750, 600)


def test_a_period_with_zero_value_divides_by_nothing() -> None:
    """Buy 100 @ 1 on day 0, sell all @ 1.2 on day 10 (+20 %), hold nothing days 11-19 (no
    capital: no return, no division), buy 100 @ 1 on day 20, worth 1.1 on day 30 (+10 %).
    TWR = 1.2 * 1.1 - 1 = 32 %. IRR of -100 (d0), +120 (d10), -100 (d20), +110 (d30) is about
    +20,558.77 % a year (short periods annualise steeply)."""
    txs = [
        tx(TxKind.BUY, "100", "1", 0),
        tx(TxKind.SELL, "100", "1.2", 10),
        tx(TxKind.BUY, "100", "1", 20),
    ]
    f = run(txs, {30: 1.1}, 30)
    assert f.twr == pytest.approx(0.32, abs=1e-9)
    assert f.irr == pytest.approx(205.5877240, rel=1e-8)
    empty = compute_returns(
        [], start_day=START, end_day=START + 30, prices={}, to_report=lambda _c: 1.0
    )
    assert (empty.twr, empty.irr, empty.end_value) == (0, None, 0)


def test_transfer_is_a_flow_of_each_account_but_not_of_the_total() -> None:
    """A buys 10 @ 100 on day 0; day 50 (price 120) A sends 4 to B; day 100 price 150.
    Total: TWR 150/100 - 1 = 50 %, no flow at the transfer. B: 480 in on day 50, worth 600 at
    the end: TWR 25 %. A: 1000 in, 480 out on day 50, 6 units worth 900: TWR also 50 %."""
    txs = [
        tx(TxKind.BUY, "10", "100", 0),
        tx(TxKind.TRANSFER, "4", None, 50, to="B"),
    ]
    prices = {0: 100.0, 50: 120.0, 100: 150.0}
    total = run(txs, prices, 100)
    b = run(txs, prices, 100, account="B")
    a = run(txs, prices, 100, account="A")
    assert total.twr == pytest.approx(0.5) and total.outflows == 0
    assert b.twr == pytest.approx(0.25) and (b.inflows, b.end_value) == (480, 600)
    assert a.twr == pytest.approx(0.5) and a.outflows == 480


def test_range_starting_after_the_first_transaction_uses_the_value_before_it() -> None:
    """Bought day 0 @ 100; the range starts on day 10 when the price was 110 (the day before
    is the starting value, 1100), ends day 20 at 121: TWR 10 %, IRR over 11 days from 1100 to
    1210: 1.1^(365/11) - 1."""
    txs = [tx(TxKind.BUY, "10", "100", 0)]
    f = compute_returns(
        txs,
        start_day=START + 10,
        end_day=START + 20,
        prices={X: [(START + 9, 110.0), (START + 20, 121.0)]},
        to_report=lambda _c: 1.0,
    )
    assert f.start_value == 1100 and f.end_value == 1210 and f.inflows == 0
    assert f.twr == pytest.approx(0.1)
    assert f.irr == pytest.approx(1.1 ** (365 / 11) - 1, rel=1e-8)


def test_an_asset_deposited_without_price_is_valued_at_its_first_mark_not_zero() -> None:
    """Deposit 1 unit with no price and no market price; sell 0.5 @ 100 on day 30 (the first
    mark). Valued at zero until day 30 the ledger would show 100 % of phantom gain; valued at
    its first mark from the start: 100 in on day 0, 50 out + 50 held on day 30: TWR 0."""
    txs = [
        validate(
            Transaction("A", TxKind.DEPOSIT, START * DAY + 60, "stock:XNAS:AAPL", D(1)),
            (START + 5000) * DAY,
        ),
        validate(
            Transaction(
                "A", TxKind.SELL, (START + 30) * DAY, "stock:XNAS:AAPL", D("0.5"), D(100), "USD"
            ),
            (START + 5000) * DAY,
        ),
    ]
    f = compute_returns(
        txs, start_day=START, end_day=START + 40, prices={}, to_report=lambda _c: 1.0
    )
    assert (f.inflows, f.outflows, f.end_value) == (100, 50, 50)
    assert f.twr == pytest.approx(0.0) and f.unpriced == ()
    assert f.irr == pytest.approx(0.0, abs=1e-9)


def test_daily_series_for_a_chart() -> None:
    """The series the Performance tab draws: one point per day, the last one equal to the
    figures (value 1980, cumulative TWR -1 %)."""
    txs = [tx(TxKind.BUY, "1000", "1", 0), tx(TxKind.BUY, "1000", "1.1", 365)]
    f = compute_returns(
        txs,
        start_day=START,
        end_day=START + 730,
        prices={X: [(START, 1.0), (START + 364, 1.1), (START + 730, 0.99)]},
        to_report=lambda _c: 1.0,
        with_series=True,
    )
    assert len(f.series) == 731 and f.series[0].day == START and f.series[0].inflow == 1000
    assert f.series[-1].value == pytest.approx(1980) and f.series[-1].twr == pytest.approx(-0.01)
    assert f.series[364].twr == pytest.approx(0.1)
