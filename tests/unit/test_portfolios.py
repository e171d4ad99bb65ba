"""The maths of portfolios, worked out by hand: accounts taken as one set, the wallet–ledger
comparison (unexplained change), the wallets' cash flows and their time-weighted return."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.domain.cost_basis import PnlTotals
from app.domain.errors import SecretInputError
from app.domain.ledger import IncomeKind, Transaction, TxKind
from app.domain.portfolios import (
    MAX_NAME_LENGTH,
    MERGED_ACCOUNT,
    Flow,
    Observed,
    ValuePoint,
    ledger_quantities,
    merged_accounts,
    portfolio_name,
    same_wallet,
    sum_totals,
    unexplained_changes,
    wallet_flows,
    wallet_twr,
)
from app.domain.text import InvalidTextError

D = Decimal
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
BASE_ETH = "eip155:8453/slip44:60"
W = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
SEED = "abandon " * 11 + "about"


# ---- names ---------------------------------------------------------------------------------
def test_a_seed_phrase_or_a_key_is_refused_as_a_name_and_never_repeated() -> None:
    with pytest.raises(SecretInputError) as err:
        portfolio_name(SEED)
    assert "abandon" not in str(err.value) and "portfolio name" in str(err.value)
    with pytest.raises(SecretInputError):
        portfolio_name("0x" + "ab" * 32)


def test_names_are_plain_not_empty_and_capped() -> None:
    assert portfolio_name("  Long\u202e term\n") == "Long term"
    with pytest.raises(InvalidTextError):
        portfolio_name("   ")
    with pytest.raises(InvalidTextError):
        portfolio_name("x" * (MAX_NAME_LENGTH + 1))
    assert portfolio_name("x" * MAX_NAME_LENGTH) == "x" * MAX_NAME_LENGTH


def test_evm_wallets_compare_in_any_case_others_exactly() -> None:
    assert same_wallet(W, W.lower())
    sol = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
    assert same_wallet(sol, sol) and not same_wallet(sol, sol.lower())


# ---- accounts as one set -------------------------------------------------------------------
def _tx(account: str, kind: TxKind, amount: str, ts: int = 1_700_000_000, **kw: Any) -> Transaction:
    return Transaction(account, kind, ts, ETH, D(amount), **kw)


def test_transfers_inside_the_set_move_nothing_and_across_its_edge_are_flows() -> None:
    txs = [
        _tx("A", TxKind.BUY, "2", price=D(1000), price_currency="USD"),
        _tx("A", TxKind.TRANSFER, "1", to_account="B"),  # inside: dropped
        _tx("A", TxKind.TRANSFER, "0.5", to_account="B", fee=D("0.01"), fee_currency=ETH),
        _tx("B", TxKind.TRANSFER, "0.2", to_account="C", fee=D(3), fee_currency="USD"),
        _tx("C", TxKind.BUY, "9", price=D(1), price_currency="USD"),  # not a member
    ]
    out = merged_accounts(txs, {"A", "B"})
    assert [(t.kind, t.account, t.to_account, t.amount, t.fee) for t in out] == [
        (TxKind.BUY, MERGED_ACCOUNT, None, D(2), D(0)),
        (TxKind.FEE, MERGED_ACCOUNT, None, D("0.01"), D(0)),  # the fee in ETH left the set
        (TxKind.TRANSFER, MERGED_ACCOUNT, "C", D("0.2"), D(3)),  # out of the set
    ]
    held = ledger_quantities(out, {MERGED_ACCOUNT}, 2_000_000_000)
    assert held == {ETH: D("1.79")}  # 2 - 0.01 - 0.2, exactly
    assert ledger_quantities(txs, {"A", "B"}, 2_000_000_000) == {ETH: D("1.79")}


def test_a_fiat_fee_on_an_internal_transfer_stays_as_money_spent() -> None:
    txs = [_tx("A", TxKind.TRANSFER, "1", to_account="B", fee=D(2), fee_currency="USD")]
    (fee,) = merged_accounts(txs, {"A", "B"})
    assert fee.kind is TxKind.FEE and fee.amount == 0 and fee.fee == 2


def test_ledger_quantities_stop_at_the_snapshot_time() -> None:
    txs = [_tx("A", TxKind.DEPOSIT, "1", ts=100), _tx("A", TxKind.DEPOSIT, "2", ts=200)]
    assert ledger_quantities(txs, {"A"}, 150) == {ETH: D(1)}
    assert ledger_quantities(txs, {"A"}, 200) == {ETH: D(3)}
    assert ledger_quantities(txs, {"B"}, 200) == {}


def test_sum_totals_adds_every_figure() -> None:
    a = PnlTotals(D(10), D(15), D(5), 1, D(2), 0, D(0), D(1), D("0.5"))
    b = PnlTotals(D(20), D(18), D(-2), 0, D(-1), 1, D(7), D(0), D(1))
    t = sum_totals([a, b])
    assert (t.cost_basis, t.market_value, t.unrealised, t.realised, t.fees) == (
        D(30), D(33), D(3), D(1), D("1.5"),
    )  # fmt: skip
    assert t.unrealised_unknown_holdings == 1 and t.realised_unknown_quantity_holdings == 1
    assert t.total == D(3) + D(1) + D(1) - D("1.5")
    assert sum_totals([]).total == 0


# ---- unexplained change ----------------------------------------------------------------------
def _compare(ledger: dict[str, Decimal], observed: list[Observed], **kw: object) -> list:  # type: ignore[type-arg]
    return unexplained_changes(
        W, ["Hot"], ledger, observed, kw.get("chains", {"eip155:1"}),  # type: ignore[arg-type]
        kw.get("prices", {ETH: D(2000)}), 1_700_000_000, "USD",  # type: ignore[arg-type]
    )  # fmt: skip


def test_more_in_the_wallet_than_the_ledger_explains_is_a_positive_change() -> None:
    (c,) = _compare({ETH: D("1.5")}, [Observed(ETH, "ETH", D("2.25"))])
    assert c.difference == D("0.75") and c.value == D(1500)
    assert (c.ledger_quantity, c.observed_quantity) == (D("1.5"), D("2.25"))
    assert c.wallet == W and c.accounts == ("Hot",) and c.snapshot_time == 1_700_000_000


def test_less_in_the_wallet_than_the_ledger_says_is_a_negative_change() -> None:
    (c,) = _compare({ETH: D(3)}, [Observed(ETH, "ETH", D("2.999"))])
    assert c.difference == D("-0.001") and c.value == D(-2)


def test_matching_balances_give_no_change() -> None:
    assert _compare({ETH: D("1.000")}, [Observed(ETH, "ETH", D(1))]) == []


def test_what_is_not_observed_or_not_on_a_chain_is_never_claimed_as_a_change() -> None:
    changes = _compare(
        {ETH: D(1), BASE_ETH: D(5), "fiat:EUR": D(100), "stock:XNAS:AAPL": D(3)},
        [Observed(ETH, "ETH", D(1)), Observed(USDC, "SPAM", D(10**6), is_spam=True)],
    )
    assert changes == []  # Base was not read; cash and stocks are off-chain; spam never counts


def test_an_asset_the_ledger_never_recorded_is_unexplained_and_an_unpriced_one_has_no_value() -> (
    None
):
    (c,) = _compare({}, [Observed(USDC, "USDC", D(50))], prices={})
    assert c.difference == D(50) and c.ledger_quantity == 0 and c.value is None and c.price is None


def test_an_asset_the_wallet_no_longer_holds_is_a_negative_change() -> None:
    (c,) = _compare({ETH: D(2)}, [])
    assert c.observed_quantity == 0 and c.difference == D(-2) and c.symbol == "ETH"


# ---- wallet cash flows ---------------------------------------------------------------------
def test_wallet_flows_count_what_is_priced_and_count_the_rest_as_unknown() -> None:
    eur = {"USD": D(1), "EUR": D("1.1")}  # report in USD; 1 EUR = 1.1 USD
    txs = [
        _tx("Hot", TxKind.BUY, "2", ts=10, price=D(1000), price_currency="EUR", fee=D(5),
            fee_currency="USD"),
        _tx("Hot", TxKind.SELL, "1", ts=20, price=D(1500), price_currency="USD", fee=D(10),
            fee_currency="USD"),
        _tx("Hot", TxKind.DEPOSIT, "1", ts=30),  # no price: unknown worth
        _tx("Hot", TxKind.INCOME, "0.1", ts=40, price=D(1000), price_currency="USD",
            income_kind=IncomeKind.STAKING),  # return, not a flow
        _tx("Hot", TxKind.WITHDRAWAL, "0.5", ts=50, price=D(1200), price_currency="USD"),
        _tx("Cold", TxKind.BUY, "7", ts=60, price=D(1), price_currency="USD"),  # not linked
        _tx("Hot", TxKind.BUY, "1", ts=70, price=D(1), price_currency="JPY"),  # no rate
    ]  # fmt: skip
    flows, unknown = wallet_flows(txs, {"Hot"}, eur)
    assert flows == [Flow(10, D(2205)), Flow(20, D(-1490)), Flow(50, D(-600))]
    assert unknown == 2


# ---- wallet time-weighted return ----------------------------------------------------------
def _p(ts: int, value: str, **wallets: str) -> ValuePoint:
    values = {k: D(v) for k, v in wallets.items()} or {"w": D(value)}
    return ValuePoint(ts, D(value), frozenset(values), values)


def test_a_recorded_buy_between_snapshots_is_a_flow_not_a_gain() -> None:
    # 1000 -> 1100 is +10 %; then 500 is put in and 1600 becomes 1650: +3.125 %.
    # TWR = 1.1 * 1.03125 - 1 = 0.134375 (the plain value ratio 1650 / 1000 would say +65 %).
    points = [_p(100, "1000"), _p(200, "1100"), _p(300, "1650")]
    r = wallet_twr(points, [Flow(250, D(500))], 0)
    assert r.twr == D("0.134375")
    assert (r.inflows, r.outflows, r.flows_counted, r.periods) == (D(500), D(0), 1, 2)
    assert (r.start_value, r.end_value) == (D(1000), D(1650))


def test_a_sale_is_money_out_at_the_end_of_its_period() -> None:
    # 1000 -> 800 with 300 taken out: (800 + 300) / 1000 = +10 %.
    r = wallet_twr([_p(100, "1000"), _p(200, "800")], [Flow(150, D(-300))], 0)
    assert r.twr == D("0.1") and r.outflows == D(300)


def test_flows_before_the_first_snapshot_are_already_in_its_value() -> None:
    r = wallet_twr([_p(100, "1000"), _p(200, "1000")], [Flow(50, D(999))], 0)
    assert r.twr == 0 and r.flows_counted == 0


def test_a_wallet_added_to_the_app_brings_its_value_in_but_one_watched_all_along_does_not() -> None:
    points = [
        ValuePoint(100, D(1000), frozenset({"a"}), {"a": D(1000)}),
        ValuePoint(200, D(1500), frozenset({"a", "b"}), {"a": D(1000), "b": D(500)}),
    ]
    added = wallet_twr(points, [], 0, {"a": 0, "b": 150})
    assert added.twr == 0 and added.inflows == D(500)
    watched = wallet_twr(points, [], 0, {"a": 0, "b": 50})
    assert watched.twr == D("0.5") and watched.inflows == 0


def test_a_period_starting_from_nothing_has_no_return_and_one_snapshot_has_no_twr() -> None:
    r = wallet_twr([_p(100, "0"), _p(200, "100"), _p(300, "110")], [], 0)
    assert r.twr == D("0.1")
    single = wallet_twr([_p(100, "5")], [], 3)
    assert single.twr is None and single.periods == 0 and single.flows_unpriced == 3
    empty = wallet_twr([], [], 0)
    assert empty.twr is None and empty.start is None


def test_a_priced_deposit_between_snapshots_is_money_in_and_leaves_the_return_flat() -> None:
    # 1 ETH at 2000, then 1 ETH more deposited at 2000 (recorded with its price): 4000 after.
    deposit = _tx("Hot", TxKind.DEPOSIT, "1", ts=150, price=D(2000), price_currency="USD")
    flows, unknown = wallet_flows([deposit], {"Hot"}, {"USD": D(1)})
    assert flows == [Flow(150, D(2000))] and unknown == 0
    r = wallet_twr([_p(100, "2000"), _p(200, "4000")], flows, unknown)
    assert r.twr == 0 and r.inflows == D(2000)
    unrecorded = wallet_twr([_p(100, "2000"), _p(200, "4000")], [], 0)
    assert unrecorded.twr == 1  # without the record, the coin sent in looks like a 100 % gain
