"""Cost basis and P&L against cases computed by hand (the arithmetic is in each docstring)."""

from __future__ import annotations

from decimal import Context, localcontext
from decimal import Decimal as D

import pytest

from app.domain.cost_basis import (
    BasisScope,
    CostBasisMethod,
    Mark,
    PnlReport,
    compute_pnl,
)
from app.domain.ledger import (
    IncomeKind,
    LedgerError,
    Transaction,
    TxKind,
    validate,
)

AAPL = "stock:XNAS:AAPL"
BTC = "bip122:000000000019d6689c085ae165831e93/slip44:0"
ETH = "eip155:1/slip44:60"
DAY = 86400
NOW = 2_000_000_000


def tx(kind: TxKind, asset: str, amount: str, price: str | None = None, *, day: int,
       account: str = "A", fee: str = "0", fee_currency: str | None = None,
       currency: str = "USD", to: str | None = None,
       income: IncomeKind | None = None) -> Transaction:  # fmt: skip
    return validate(
        Transaction(
            account=account,
            kind=kind,
            ts=1_700_000_000 + day * DAY,
            asset=asset,
            amount=D(amount),
            price=None if price is None else D(price),
            price_currency=None if price is None else currency,
            fee=D(fee),
            fee_currency=fee_currency,
            to_account=to,
            income_kind=income,
            id=day,
        ),
        NOW,
    )


def pnl(txs: list[Transaction], method: str = "fifo", scope: str = "account",
        market: dict[str, Mark] | None = None,
        rates: dict[str, D] | None = None) -> PnlReport:  # fmt: skip
    return compute_pnl(
        txs,
        method=CostBasisMethod(method),
        scope=BasisScope(scope),
        currency="USD",
        to_report=lambda code: (rates or {}).get(code, D(1)),
        market=market,
    )


LOTS = [
    tx(TxKind.BUY, AAPL, "10", "100", day=1, fee="5", fee_currency="USD"),
    tx(TxKind.BUY, AAPL, "10", "120", day=2),
    tx(TxKind.BUY, AAPL, "5", "150", day=3, fee="2.5", fee_currency="USD"),
    tx(TxKind.SELL, AAPL, "15", "130", day=4, fee="3", fee_currency="USD"),
    tx(TxKind.SELL, AAPL, "7", "140", day=5),
]


def test_fifo_partial_sells_across_several_lots_with_fees() -> None:
    """Lots: A 10 for 10*100+5 = 1005; B 10 for 1200; C 5 for 5*150+2.5 = 752.5.
    Sell 15 @ 130, fee 3: proceeds 1950-3 = 1947; basis A 1005 + half of B 600 = 1605;
    realised 342. Sell 7 @ 140: proceeds 980; basis rest of B 600 + 2/5 of C 301 = 901;
    realised 79. Total realised 421. Left: 3 of C, basis 451.5, marked at the last price 140:
    value 420, unrealised -31.5."""
    h = pnl(LOTS).holdings[0]
    assert h.realised == D("421")
    assert h.quantity == 3 and h.cost_basis == D("451.5")
    assert (h.price, h.price_source) == (D(140), "transaction")
    assert h.market_value == 420 and h.unrealised == D("-31.5")


def test_average_cost_differs_from_fifo_but_not_in_total() -> None:
    """Average: 25 units for 2957.5 = 118.3 each. Sell 15: basis 1774.5, realised 172.5.
    Sell 7: basis 828.1, realised 151.9. Realised 324.4 (FIFO: 421). Left 3 at 354.9, value 420,
    unrealised 65.1 (FIFO: -31.5). The total is the same either way: proceeds 1947 + 980 plus
    value 420 minus costs 2957.5 = 389.5."""
    fifo, avg = pnl(LOTS).holdings[0], pnl(LOTS, "average").holdings[0]
    assert avg.realised == D("324.4") and avg.cost_basis == D("354.9")
    assert avg.unrealised == D("65.1")
    assert fifo.realised != avg.realised
    assert fifo.total == avg.total == D("389.5")


def test_transfer_between_own_accounts_carries_basis_without_gain() -> None:
    """Buy 2 BTC @ 10000 + 20 USD fee on A: basis 20020. Transfer 1.5 to B (5 USD fee: an
    expense of A): B gets basis 15015, A keeps 0.5 at 5005; no gain or loss. B sells 1.5 @ 12000:
    realised 18000 - 15015 = 2985 on B. Pooled, the same single lot gives the same figures."""
    txs = [
        tx(TxKind.BUY, BTC, "2", "10000", day=1, fee="20", fee_currency="USD"),
        tx(TxKind.TRANSFER, BTC, "1.5", day=2, to="B", fee="5", fee_currency="USD"),
        tx(TxKind.SELL, BTC, "1.5", "12000", day=3, account="B"),
    ]
    for scope in ("account", "pooled"):
        report = pnl(txs, scope=scope)
        a, b = report.holdings
        assert (a.account, a.quantity, a.cost_basis, a.realised, a.fees) == (
            "A",
            D("0.5"),
            D(5005),
            0,
            5,
        )
        assert (b.account, b.quantity, b.realised) == ("B", 0, D(2985))
        assert report.total.realised == 2985 and report.total.fees == 5
        assert report.accounts["B"].realised == 2985


def test_sale_with_unknown_basis_is_counted_apart_never_as_zero_basis() -> None:
    """Deposit 1 ETH with no price (unknown basis), buy 1 @ 2000, sell 1.5 @ 3000 (FIFO): the
    sale takes the unknown unit and half the bought one. Proceeds 4500 split by quantity: 1500
    for the known half (basis 1000) -> realised 500; 3000 for the unknown unit -> gain unknown
    (a zero basis would have claimed 3500). Left 0.5 at basis 1000, worth 1500: unrealised 500."""
    txs = [
        tx(TxKind.DEPOSIT, ETH, "1", day=1),
        tx(TxKind.BUY, ETH, "1", "2000", day=2),
        tx(TxKind.SELL, ETH, "1.5", "3000", day=3),
    ]
    report = pnl(txs)
    h = report.holdings[0]
    assert h.realised == 500
    assert h.realised_unknown_quantity == 1 and h.realised_unknown_proceeds == 3000
    assert h.unrealised == 500 and h.cost_basis == 1000
    assert report.total.realised == 500 and report.total.realised_unknown_proceeds == 3000
    assert report.total.realised_unknown_quantity_holdings == 1


def test_unknown_basis_units_still_held_and_average_cost() -> None:
    """Average cost with 1 unknown + 1 known (2000): selling 1 @ 3000 takes half of each bucket:
    0.5 known (basis 1000, proceeds 1500 -> realised 500) and 0.5 unknown (proceeds 1500)."""
    txs = [
        tx(TxKind.DEPOSIT, ETH, "1", day=1),
        tx(TxKind.BUY, ETH, "1", "2000", day=2),
        tx(TxKind.SELL, ETH, "1", "3000", day=3),
    ]
    h = pnl(txs, "average").holdings[0]
    assert h.realised == 500 and h.realised_unknown_quantity == D("0.5")
    assert h.unknown_basis_quantity == D("0.5") and h.cost_basis == 1000


def test_selling_more_than_recorded_counts_the_rest_as_unknown_basis() -> None:
    """Stored state after a buy was removed: 1 bought @ 100, 2 sold @ 150: 1 unit has basis 100
    (realised 50), the other is unknown (proceeds 150)."""
    txs = [tx(TxKind.BUY, AAPL, "1", "100", day=1), tx(TxKind.SELL, AAPL, "2", "150", day=2)]
    h = pnl(txs).holdings[0]
    assert (h.realised, h.realised_unknown_quantity, h.realised_unknown_proceeds) == (50, 1, 150)


def test_fee_paid_in_the_asset_stays_in_the_basis() -> None:
    """Buy 1 BTC @ 10000 with 0.001 BTC fee: 0.999 held for 10000. Sell 0.5 @ 12000 with a
    0.0005 BTC fee: 0.5005 leaves, basis 10000*0.5005/0.999 = 5010.01001…, proceeds 6000."""
    txs = [
        tx(TxKind.BUY, BTC, "1", "10000", day=1, fee="0.001", fee_currency=BTC),
        tx(TxKind.SELL, BTC, "0.5", "12000", day=2, fee="0.0005", fee_currency=BTC),
    ]
    h = pnl(txs).holdings[0]
    assert h.quantity == D("0.4985")
    with localcontext(Context(prec=80)):
        basis_sold = D(10000) * D("0.5005") / D("0.999")
        assert abs(h.realised - (6000 - basis_sold)) < D("1e-40")
        assert h.cost_basis + (6000 - h.realised) == 10000  # the basis is conserved


def test_income_fee_entries_and_market_price_newer_than_the_last_transaction() -> None:
    """Staking 0.1 ETH valued 2000: income 200, basis 200. A fee entry of 0.02 ETH: a realised
    loss of its basis, 40. The market says 2500 (newer than the transaction): 0.08 ETH worth 200,
    unrealised 200 - 160 = 40. Total 200 income - 40 + 40 = 200."""
    txs = [
        tx(TxKind.INCOME, ETH, "0.1", "2000", day=1, income=IncomeKind.STAKING),
        tx(TxKind.FEE, ETH, "0.02", day=2),
    ]
    market = {ETH: Mark(D(2500), 1_700_000_000 + 10 * DAY, "market")}
    h = pnl(txs, market=market).holdings[0]
    assert (h.income, h.realised, h.price_source) == (200, -40, "market")
    assert h.unrealised == 40 and h.total == 200
    stale = {ETH: Mark(D(2500), 1_000, "market")}  # older than the transactions: not used
    assert pnl(txs, market=stale).holdings[0].price == 2000


def test_prices_in_other_currencies_are_converted() -> None:
    """Buy 10 @ 100 EUR, sell 10 @ 110 EUR, 1 EUR = 1.1 USD: realised 10*10*1.1 = 110 USD."""
    txs = [
        tx(TxKind.BUY, AAPL, "10", "100", day=1, currency="EUR"),
        tx(TxKind.SELL, AAPL, "10", "110", day=2, currency="EUR"),
    ]
    assert pnl(txs, rates={"EUR": D("1.1")}).total.realised == D(110)


def test_holding_without_any_price_has_unknown_unrealised() -> None:
    report = pnl([tx(TxKind.DEPOSIT, BTC, "1", day=1)])
    h = report.holdings[0]
    assert h.unrealised is None and h.market_value is None and h.unknown_basis_quantity == 1
    assert report.total.unrealised == 0 and report.total.unrealised_unknown_holdings == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": D("-1")}, "negative"),
        ({"amount": D(0)}, "more than zero"),
        ({"ts": NOW + 3600}, "future"),
        ({"price": None, "price_currency": None}, "needs a price"),
        ({"price_currency": "XYZ"}, "ISO 4217"),
        ({"fee": D(1), "fee_currency": None}, "fee needs its currency"),
        ({"fee": D(1), "fee_currency": ETH}, "fiat currency"),
        ({"kind": TxKind.TRANSFER}, "account it goes to"),
        ({"asset": "stock:US0378331006"}, "check digit"),
        ({"to_account": "B"}, "only a transfer"),
    ],
)
def test_validation_refuses_bad_entries(changes: dict[str, object], message: str) -> None:
    from dataclasses import replace

    good = Transaction("A", TxKind.BUY, 1_700_000_000, AAPL, D(1), D(100), "USD")
    validate(good, NOW)
    with pytest.raises(LedgerError, match=message):
        validate(replace(good, **changes), NOW)  # type: ignore[arg-type]


def test_units_of_unknown_cost_have_a_value_but_no_unrealised_figure() -> None:
    """Deposit 1 BTC without a price, sell 0.3 @ 60000: 0.7 left, worth 42000 at that price,
    but what it gained is unknown: unrealised is None, not 42000 (a zero basis)."""
    txs = [tx(TxKind.DEPOSIT, BTC, "1", day=1), tx(TxKind.SELL, BTC, "0.3", "60000", day=2)]
    report = pnl(txs)
    h = report.holdings[0]
    assert h.market_value == 42000 and h.unrealised is None
    assert (h.realised, h.realised_unknown_proceeds) == (0, 18000)
    assert report.total.unrealised == 0 and report.total.unrealised_unknown_holdings == 1


def test_pooled_basis_spans_accounts() -> None:
    """A buys 1 @ 100 (day 1), B buys 1 @ 200 (day 2), B sells 1 @ 300 (day 3).
    Per account: B's sale uses B's lot: realised 100; A keeps basis 100, unrealised 200.
    Pooled FIFO: the pool's oldest lot (A's, 100) is sold: realised 200 on B; A holds the pool's
    remaining unit at 200: unrealised 100. The total is 300 either way."""
    txs = [
        tx(TxKind.BUY, AAPL, "1", "100", day=1, account="A"),
        tx(TxKind.BUY, AAPL, "1", "200", day=2, account="B"),
        tx(TxKind.SELL, AAPL, "1", "300", day=3, account="B"),
    ]
    own = {h.account: h for h in pnl(txs).holdings}
    pool = {h.account: h for h in pnl(txs, scope="pooled").holdings}
    assert (own["B"].realised, own["A"].cost_basis, own["A"].unrealised) == (100, 100, 200)
    assert (pool["B"].realised, pool["A"].cost_basis, pool["A"].unrealised) == (200, 200, 100)
    assert pnl(txs).total.total == pnl(txs, scope="pooled").total.total == 300
