"""On-chain movements into ledger entries: own transfers, swaps, spam, gas, unknown prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.cost_basis import BasisScope, CostBasisMethod, compute_pnl
from app.domain.ledger import TxKind
from app.domain.onchain import Fee, Movement, MovementKind
from app.domain.onchain_ledger import (
    AssetFacts,
    account_name_for,
    chain_prefix,
    plan_import,
)

CHAIN = "eip155:1"
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
DAI = "eip155:1/erc20:0x6b175474e89094c44da98b954eedeac495271d0f"
SPAM = "eip155:1/erc20:0x1111111111111111111111111111111111111111"
NEW = "eip155:1/erc20:0x2222222222222222222222222222222222222222"  # listed, never priced
ODD = "eip155:1/erc20:0x4444444444444444444444444444444444444444"  # not listed, never priced
A = "0xAaAaaAAaAaaAAaAaaAaaaAAaAaAaAaaaAAAaAAaa"
B = "0xBbBBbbBBbbBbBBBbbBbbbbBbbBbBBbbBbbBbBbBb"
OUT = "0x9999999999999999999999999999999999999999"
ACCOUNTS = {A: "Wallet A", B: "Wallet B"}
T0 = 1_700_000_000
NOW = T0 + 10 * 86_400

FACTS = {
    ETH: AssetFacts(18, native=True),
    USDC: AssetFacts(6),
    DAI: AssetFacts(18),
    SPAM: AssetFacts(18, spam=True),
    NEW: AssetFacts(18),
    ODD: AssetFacts(18, listed=False),
}
PRICES = {ETH: Decimal(2000), USDC: Decimal(1), DAI: Decimal("1.001")}


def price(asset: str, _ts: int) -> Decimal | None:
    return PRICES.get(asset)


def no_price(_asset: str, _ts: int) -> Decimal | None:
    return None


def mv(tx: str, wallet: str, asset: str, delta: int, *, ts: int = T0, index: int = 0,
       kind: MovementKind = MovementKind.TOKEN) -> Movement:  # fmt: skip
    return Movement(CHAIN, tx, 100, ts, wallet, asset, delta, kind, OUT, index)


def plan(movements: list[Movement], fees: list[Fee] = (), prices=price):  # type: ignore[assignment,no-untyped-def]
    return plan_import(movements, fees, ACCOUNTS, FACTS.get, prices, NOW)


def test_own_wallet_transfer_is_one_transfer_without_gain() -> None:
    result = plan([mv("0x01", A, USDC, -5_000_000), mv("0x01", B, USDC, 5_000_000, index=1)])
    (t,) = result.transactions
    assert (t.kind, t.account, t.to_account, t.amount) == (
        TxKind.TRANSFER, "Wallet A", "Wallet B", Decimal(5)
    )  # fmt: skip
    assert t.fingerprint is not None and t.fingerprint.startswith(chain_prefix(CHAIN) + "0x01:")


def test_own_transfer_of_part_pairs_the_smaller_amount() -> None:
    # A sends 10 USDC: 4 reach B, 6 go to someone else
    result = plan([mv("0x02", A, USDC, -10_000_000), mv("0x02", B, USDC, 4_000_000, index=1)])
    kinds = sorted((t.kind.value, t.amount) for t in result.transactions)
    assert kinds == [("transfer", Decimal(4)), ("withdrawal", Decimal(6))]


def test_swap_is_a_sale_and_a_purchase_at_the_value_received() -> None:
    # 1 ETH out, 2,010 USDC in: the swap is worth 2,010 USD (what came in)
    result = plan([mv("0x03", A, ETH, -10**18, kind=MovementKind.NATIVE),
                   mv("0x03", A, USDC, 2_010_000_000, index=1)])  # fmt: skip
    by_kind = {t.kind: t for t in result.transactions}
    assert set(by_kind) == {TxKind.SELL, TxKind.BUY}
    assert by_kind[TxKind.SELL].price == Decimal(2010)  # proceeds = what was received
    assert by_kind[TxKind.BUY].price == Decimal(1)
    assert by_kind[TxKind.SELL].price_currency == "USD"


def test_swap_into_an_unpriced_token_values_it_by_what_was_sent() -> None:
    result = plan([mv("0x04", A, USDC, -300_000_000), mv("0x04", A, NEW, 3 * 10**18, index=1)])
    by_kind = {t.kind: t for t in result.transactions}
    assert by_kind[TxKind.BUY].price == Decimal(100)  # 300 USD for 3 tokens
    assert by_kind[TxKind.SELL].price == Decimal(1)


def test_swap_without_any_price_invents_none() -> None:
    result = plan(
        [mv("0x05", A, DAI, -(10**18)), mv("0x05", A, NEW, 10**18, index=1)], prices=no_price
    )
    kinds = {t.kind: t for t in result.transactions}
    assert set(kinds) == {TxKind.WITHDRAWAL, TxKind.DEPOSIT}
    assert kinds[TxKind.DEPOSIT].price is None  # basis unknown, not zero
    assert result.unpriced == 2
    pnl = compute_pnl(
        list(result.transactions), method=CostBasisMethod.FIFO, scope=BasisScope.ACCOUNT,
        currency="USD", to_report=lambda _c: Decimal(1),
    )  # fmt: skip
    (held,) = [h for h in pnl.holdings if h.asset == NEW]
    assert held.unknown_basis_quantity == Decimal(1) and held.cost_basis == 0


def test_incoming_spam_and_unpriced_dust_are_kept_out_unless_the_wallet_sent_the_tx() -> None:
    airdrops = [mv("0x06", A, SPAM, 10**21), mv("0x07", A, ODD, 10**18)]
    assert plan(airdrops).transactions == ()
    assert plan(airdrops).spam == 2
    # a token the wallet swapped into is kept even without a price of its own
    chosen = plan([mv("0x08", A, USDC, -1_000_000), mv("0x08", A, ODD, 10**18, index=1)])
    assert {t.asset for t in chosen.transactions} == {USDC, ODD}
    # a listed token without a price (the price source was down) is a real deposit
    (kept,) = plan([mv("0x10", A, NEW, 10**18)]).transactions
    assert (kept.kind, kept.price) == (TxKind.DEPOSIT, None)
    # a priced, listed token received is a deposit at that price
    (deposit,) = plan([mv("0x09", A, DAI, 2 * 10**18)]).transactions
    assert (deposit.kind, deposit.price) == (TxKind.DEPOSIT, Decimal("1.001"))


def test_a_poisoning_transfer_of_spam_from_the_wallet_is_kept_out() -> None:
    # a spam contract logs a "transfer" from A that A never sent (A paid no fee)
    result = plan([mv("0x11", A, SPAM, -1), mv("0x11", A, DAI, 10**18, index=1)])
    assert [t.kind for t in result.transactions] == [TxKind.DEPOSIT]  # no swap is made up
    assert result.spam == 1
    # spam the wallet itself sent (it paid the fee) is recorded as it happened
    fee = Fee(CHAIN, "0x12", 100, T0, A, ETH, 1)
    sent = plan([mv("0x12", A, SPAM, -(10**18))], [fee])
    assert {t.kind for t in sent.transactions} == {TxKind.WITHDRAWAL, TxKind.FEE}


def test_plain_incoming_without_price_has_unknown_basis_when_sent_by_the_wallet() -> None:
    fee = Fee(CHAIN, "0x0a", 100, T0, A, ETH, 21_000 * 10**9)
    result = plan([mv("0x0a", A, NEW, 10**18)], [fee])
    deposit = next(t for t in result.transactions if t.kind is TxKind.DEPOSIT)
    assert deposit.price is None and "basis unknown" in deposit.note


def test_gas_is_a_fee_of_the_native_coin() -> None:
    fee = Fee(CHAIN, "0x0b", 100, T0, A, ETH, 21_000 * 30 * 10**9)
    result = plan([mv("0x0b", A, USDC, -1_000_000)], [fee])
    (gas,) = [t for t in result.transactions if t.kind is TxKind.FEE]
    assert (gas.asset, gas.amount, gas.account) == (ETH, Decimal("0.00063"), "Wallet A")


def test_router_in_and_out_of_the_same_token_nets_to_nothing() -> None:
    result = plan([mv("0x0c", A, USDC, -5, index=0), mv("0x0c", A, USDC, 5, index=1)])
    assert result.transactions == ()


def test_unknown_decimals_are_left_out_and_counted() -> None:
    unknown = "eip155:1/erc20:0x3333333333333333333333333333333333333333"
    result = plan([mv("0x0d", A, unknown, -10)])
    assert result.transactions == () and result.unknown == 1


def test_other_wallets_movements_are_ignored_and_a_reimport_is_identical() -> None:
    moves = [mv("0x0e", OUT, USDC, 5), mv("0x0e", A, USDC, -5_000_000, index=1)]
    first, second = plan(moves), plan(list(reversed(moves)))
    assert first.transactions == second.transactions
    assert [t.kind for t in first.transactions] == [TxKind.WITHDRAWAL]


def test_future_or_oversized_entries_are_refused_not_raised() -> None:
    result = plan([mv("0x0f", A, DAI, 10**60)])  # 1e42 DAI: more than the ledger can hold
    assert result.transactions == () and result.refused


@pytest.mark.parametrize(
    ("label", "address", "taken", "expected"),
    [
        ("Main", A, set(), "Wallet Main (0xAaAa…AAaa)"),
        ("", A, set(), "Wallet 0xAaAa…AAaa"),
        ("Main", A, {"Wallet Main (0xAaAa…AAaa)"}, "Wallet Main (0xAaAa…AAaa) 2"),
        ("a\u202eb", A, set(), "Wallet ab (0xAaAa…AAaa)"),
    ],
)
def test_account_names_are_clear_and_unique(
    label: str, address: str, taken: set[str], expected: str
) -> None:
    assert account_name_for(label, address, taken) == expected


def test_coins_moved_to_own_stake_accounts_are_no_disposal() -> None:
    sol = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp/slip44:501"
    moved = Movement("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "sig", 1, T0, A, sol, -(10**9),
                     MovementKind.STAKE)  # fmt: skip
    result = plan_import([moved], [], ACCOUNTS, {sol: AssetFacts(9, native=True)}.get, price, NOW)
    assert result.transactions == ()
