"""The holdings model and its Qt-free rows: model contract, 24 h change math, debts, groups,
sorting by exact numbers, filters and spam."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, Qt

from app.ui.models.holdings_data import (
    Column,
    Group,
    GroupBy,
    HoldingRow,
    build_portfolio,
    filter_rows,
    protocol_label,
)
from app.ui.models.holdings_format import amount_text, exact, format_number, format_percent
from app.ui.models.holdings_model import ROW_ROLE, SORT_ROLE, HoldingsModel
from app.ui.theme import colours
from tests.ui.holdings_sample import (
    CHAIN_NAMES,
    DAY,
    LEDGER,
    OTHER,
    WALLET_NAMES,
    T,
    baseline,
    latest,
)

pytestmark = pytest.mark.usefixtures("qapp")  # icons and fonts need a QGuiApplication


def model(
    group_by: GroupBy = GroupBy.NONE, hide_small: bool = True, show_spam: bool = False
) -> HoldingsModel:
    m = HoldingsModel()
    m.set_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, baseline())
    m.set_filter(hide_small=hide_small, show_spam=show_spam)
    m.set_group_by(group_by)
    return m


def row_by(
    m: HoldingsModel, symbol: str, position: str = "", chain: str = "eip155:1"
) -> HoldingRow:
    (row,) = [
        r
        for r in m.portfolio.rows
        if r.holding.symbol == symbol
        and r.holding.position == position
        and r.holding.chain == chain
    ]
    return row


def row_index(m: HoldingsModel, row: HoldingRow, column: Column) -> QModelIndex:
    for r in range(m.rowCount()):
        if m.index(r, 0).data(ROW_ROLE) is row:
            return m.index(r, column)
    raise AssertionError("row not shown")


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_every_grouping_passes_the_model_tester(qtmodeltester, group_by: GroupBy) -> None:  # type: ignore[no-untyped-def]
    m = model(group_by, hide_small=False, show_spam=True)
    qtmodeltester.check(m)
    m.sort(Column.AMOUNT, Qt.SortOrder.AscendingOrder)
    m.set_filter(text="eth")
    qtmodeltester.check(m)
    m.set_snapshot(None, {}, {})
    qtmodeltester.check(m)
    assert m.rowCount() == 0


def test_24h_change_is_exact_per_holding_key() -> None:
    m = model()
    eth = row_by(m, "ETH")
    assert eth.change == Decimal("200")  # 2 ETH: 3800 -> 4000
    assert eth.change_pct == Decimal(200) / Decimal(3800) * 100
    base_eth = row_by(m, "ETH", chain="eip155:8453")
    assert base_eth.change == Decimal(100) and base_eth.holding.value == Decimal(2000)
    supplied = row_by(m, "USDC", "aave-v3:supplied")
    assert supplied.change == 0 and supplied.change_pct == 0
    assert row_index(m, eth, Column.CHANGE).data() == "+200.00  (+5.3 %)"
    assert row_index(m, eth, Column.CHANGE).data(Qt.ItemDataRole.ForegroundRole) == colours().gain
    assert row_index(m, supplied, Column.CHANGE).data() == "0.00  (0.0 %)"
    # Same asset, another position key: the Lido position is new; its asset's price moved.
    staked = row_by(m, "ETH", "lido:staked")
    assert staked.is_new and staked.change is None
    assert staked.price_change_pct == Decimal(100) / Decimal(1900) * 100
    assert row_index(m, staked, Column.CHANGE).data() == "new · price +5.3 %"
    # ARB moved wallets: new in this wallet, price 0.50 -> 0.60.
    arb = row_by(m, "ARB", chain="eip155:42161")
    assert arb.is_new and arb.price_change_pct == Decimal(20)
    assert "0.5" not in row_index(m, arb, Column.CHANGE).data()
    assert row_index(m, arb, Column.CHANGE).data() == "new · price +20.0 %"
    # The header figure: net total now minus net total then (spam never counts).
    p = m.portfolio
    assert p.total == Decimal("8570.0001") and p.change == Decimal("2220.0001")
    assert p.change_pct == Decimal("2220.0001") / Decimal(6350) * 100
    assert p.baseline_at == T - DAY


def test_no_baseline_or_an_unusable_one_gives_no_change() -> None:
    m = HoldingsModel()
    m.set_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES)
    eth = row_by(m, "ETH")
    assert eth.change is None and not eth.is_new
    assert row_index(m, eth, Column.CHANGE).data() == "—"
    assert "No snapshot from 24 h ago" in m.headerData(
        Column.CHANGE, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    for unusable in (baseline(T - 3 * DAY), baseline(currency="EUR")):
        p = build_portfolio(latest(), CHAIN_NAMES, WALLET_NAMES, unusable)
        assert p.change is None and all(r.change is None and not r.is_new for r in p.rows)


def test_debt_is_negative_everywhere_and_coloured() -> None:
    m = model()
    debt = row_by(m, "USDC", "aave-v3:borrowed")
    assert debt.is_debt and debt.amount == Decimal(-500) and debt.holding.value == Decimal(-500)
    assert debt.change == Decimal(-100) and debt.change_pct == Decimal(-25)  # owes 100 more
    assert row_index(m, debt, Column.VALUE).data() == "−500.00"
    assert row_index(m, debt, Column.AMOUNT).data() == "−500"
    assert row_index(m, debt, Column.POSITION).data() == "Aave v3 · Borrowed"
    assert row_index(m, debt, Column.VALUE).data(Qt.ItemDataRole.ForegroundRole) == colours().loss
    assert row_index(m, debt, Column.CHANGE).data(Qt.ItemDataRole.ForegroundRole) == colours().loss
    assert row_index(m, debt, Column.SHARE).data() == "−5.8 %"  # of the net total
    assert m.portfolio.debt == Decimal(-500)
    eth = row_by(m, "ETH")
    assert row_index(m, eth, Column.VALUE).data(Qt.ItemDataRole.ForegroundRole) is None


def group(m: HoldingsModel, label: str) -> Group:
    (g,) = [g for g in m.groups() if g.label == label]
    return g


def test_grouping_by_each_key_sums_what_counts() -> None:
    m = model(GroupBy.PROTOCOL)
    assert [g.label for g in m.groups()] == ["Wallet", "Lido", "Aave v3"]  # by value, largest
    aave = group(m, "Aave v3")
    assert aave.value == Decimal(500) and aave.change == Decimal(-100)
    assert aave.change_pct == Decimal(-100) / Decimal(600) * 100
    assert m.index(2, Column.ASSET).data() == "Aave v3  (2)"
    assert m.index(2, Column.VALUE).data() == "500.00"
    assert m.index(2, Column.ASSET).data(Qt.ItemDataRole.FontRole).bold()
    lido = group(m, "Lido")
    assert lido.change is None  # only a new position inside
    assert m.rowCount(m.index(0, 0)) == 3 and m.rowCount(m.index(0, 1)) == 0
    assert m.index(0, Column.POSITION, m.index(2, 0)).data() == "Supplied"  # group names Aave

    m.set_group_by(GroupBy.ASSET)
    eth = group(m, "ETH")
    assert eth.amount == Decimal("4.005") and eth.price == Decimal(2000)  # every chain, staked too
    assert eth.value == Decimal(8010)
    usdc = group(m, "USDC")
    assert usdc.amount == Decimal(500) and usdc.value == Decimal(500)  # supplied minus borrowed

    m.set_group_by(GroupBy.CHAIN)
    assert {g.label: g.value for g in m.groups()} == {
        "Ethereum": Decimal(6510), "Base": Decimal(2000), "Arbitrum One": Decimal("60.0"),
    }  # fmt: skip
    assert group(m, "Base").stale == 1
    assert m.index(1, Column.ASSET).data(Qt.ItemDataRole.DecorationRole) is not None

    m.set_group_by(GroupBy.WALLET)
    assert {g.label for g in m.groups()} == {"Ledger", "0xfB69…d359"}
    assert group(m, "Ledger").share == Decimal(4500) / Decimal("8570.0001") * 100


def test_spam_is_shown_on_request_and_never_counted() -> None:
    m = model(GroupBy.ASSET)
    assert all("SCAM" not in g.label for g in m.groups())
    m.set_filter(show_spam=True)
    scam = next(g for g in m.groups() if "SCAM" in g.label)
    assert scam.spam == 1 and scam.value is None and scam.share is None
    m.set_group_by(GroupBy.PROTOCOL)
    assert group(m, "Wallet").value == Decimal(6060)  # 4000 + 2000 + 60; the 5,000 spam is out
    m.set_group_by(GroupBy.NONE)
    spam = row_by(m, '=HYPERLINK("x")\tSCAM')
    index = row_index(m, spam, Column.ASSET)
    assert index.data(Qt.ItemDataRole.DecorationRole) is not None
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    assert "spam" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert row_index(m, spam, Column.SHARE).data() == "—" and spam.change is None
    assert m.portfolio.total == Decimal("8570.0001") and m.portfolio.spam_count == 1


def test_filters_hide_small_and_match_text() -> None:
    rows = model().portfolio.rows
    assert len(filter_rows(rows)) == 6  # no dust, no spam
    assert len(filter_rows(rows, hide_small=False)) == 7
    assert len(filter_rows(rows, hide_small=False, show_spam=True)) == 8
    assert {r.holding.position for r in filter_rows(rows, "AAVE")} == {
        "aave-v3:supplied", "aave-v3:borrowed",
    }  # fmt: skip
    assert {r.wallet_name for r in filter_rows(rows, "ledger")} == {"Ledger"}
    assert {r.chain_name for r in filter_rows(rows, " base ")} == {"Base"}
    assert filter_rows(rows, OTHER[:10].lower()) == filter_rows(rows, "0xfb69")
    assert filter_rows(rows, "nothing like this") == []


def test_sorting_uses_exact_numbers_not_text() -> None:
    m = model()
    m.sort(Column.VALUE, Qt.SortOrder.AscendingOrder)
    values = [m.index(r, Column.VALUE).data(ROW_ROLE).holding.value for r in range(m.rowCount())]
    assert values == sorted(values)
    assert values[0] == Decimal(-500)
    m.sort(Column.AMOUNT, Qt.SortOrder.DescendingOrder)
    amounts = [m.index(r, 0).data(ROW_ROLE).amount for r in range(m.rowCount())]
    assert amounts == [Decimal(1000), Decimal(100), Decimal(2), Decimal("1.005"), 1, -500]
    assert m.index(0, Column.AMOUNT).data(SORT_ROLE) == 1000.0
    m.sort(Column.ASSET, Qt.SortOrder.AscendingOrder)
    assert m.index(0, Column.ASSET).data() == "ARB"
    # Unpriced or unchanged rows go last in either direction.
    m.sort(Column.CHANGE, Qt.SortOrder.AscendingOrder)
    changes = [m.index(r, 0).data(ROW_ROLE).change for r in range(m.rowCount())]
    assert changes[:4] == [Decimal(-100), 0, 100, 200] and changes[4:] == [None, None]


def test_sorting_keeps_persistent_indexes() -> None:
    m = model(GroupBy.PROTOCOL)
    aave_row = m.index(2, 0).data(ROW_ROLE).rows[0]
    kept = [m.index(2, 0)]
    from PySide6.QtCore import QPersistentModelIndex

    persistent = QPersistentModelIndex(m.index(0, Column.VALUE, kept[0]))
    m.sort(Column.VALUE, Qt.SortOrder.AscendingOrder)
    assert persistent.isValid() and m.node(persistent) is aave_row
    assert persistent.column() == Column.VALUE


def test_hostile_symbols_stay_plain_text() -> None:
    m = model(show_spam=True)
    spam = row_by(m, '=HYPERLINK("x")\tSCAM')
    assert row_index(m, spam, Column.ASSET).data() == '=HYPERLINK("x")\tSCAM'


def test_header_names_the_currency() -> None:
    m = model()
    h = Qt.Orientation.Horizontal
    assert m.headerData(Column.VALUE, h).rstrip() == "Value (USD)"  # sorted: room for the arrow
    assert m.headerData(Column.CHANGE, h) == "24 h change (USD)"
    assert m.headerData(Column.AMOUNT, h) == "Amount"
    assert LEDGER[:6] not in [m.index(r, Column.WALLET).data() for r in range(m.rowCount())]


def test_number_texts() -> None:
    assert exact(Decimal("1E+3")) == "1000"
    assert exact(Decimal("1.50E-7")) == "0.00000015"
    assert exact(Decimal("-2.000")) == "-2"
    assert exact(None) == ""
    assert format_number(Decimal("1234.5")) == "1,234.50"
    assert format_number(Decimal("-0.000123456")) == "−0.0001235"
    assert format_number(Decimal("0.62")) == "0.62"
    assert format_number(Decimal("0.9999")) == "0.9999"
    assert format_number(Decimal(5), plus=True) == "+5.00"
    assert format_percent(Decimal("-0.04")) == "0.0 %"
    assert format_percent(Decimal("12.345")) == "+12.3 %"
    assert amount_text(Decimal("-1234.5")) == "−1,234.5"
    assert protocol_label("aave-v3") == "Aave v3"
    assert protocol_label("morpho-blue") == "Morpho Blue"
    assert protocol_label("uniswap-v4") == "Uniswap v4"
    assert protocol_label("") == "Wallet"


def test_a_failed_holding_gets_the_failed_icon_and_reason() -> None:

    from app.domain.balances import SourceState
    from app.domain.snapshot import Snapshot, SourceStatus

    snap = latest()
    failed = snap.holdings[0]._replace(state=SourceState.FAILED)
    sources = (SourceStatus("eip155:1", SourceState.FAILED, "execution reverted", T),)
    m = HoldingsModel()
    m.set_snapshot(Snapshot(T, "USD", (failed,), sources), CHAIN_NAMES, WALLET_NAMES)
    index = m.index(0, Column.ASSET)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(
        "Failed: Ethereum could not be read (execution reverted)."
    )
