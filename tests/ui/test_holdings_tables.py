"""Readable tables: compact amounts with exact tooltips and copies, columns sized once and
kept, names not cut while there is room, equal row heights; unpriced holdings counted and
filterable; manual prices marked; unreadable tokens shown and counted; "Set price source…"."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.domain.balances import SourceState
from app.domain.snapshot import HoldingFailure, Snapshot, SnapshotHolding, SourceStatus
from app.ui.holdings_page import HoldingsPage
from app.ui.models.holdings_data import Column, GroupBy, build_portfolio, filter_rows
from app.ui.models.holdings_export import csv_text
from app.ui.models.holdings_format import amount_text
from app.ui.models.holdings_model import ROW_ROLE
from tests.ui.holdings_sample import CHAIN_NAMES, OTHER, WALLET_NAMES, T, latest

ANVIL = "eip155:31337"
NAMES = {**CHAIN_NAMES, ANVIL: "Local Anvil A"}
HUGE = 2**256 - 1  # 78 digits
HUGE_TOKEN = f"{ANVIL}/erc20:0x3333333333333333333333333333333333333333"
WEI_TOKEN = f"{ANVIL}/erc20:0x4444444444444444444444444444444444444444"
LUSD = f"{ANVIL}/erc20:0x5555555555555555555555555555555555555555"
BROKEN = f"{ANVIL}/erc20:0x6666666666666666666666666666666666666666"


def raw_holding(
    asset: str, symbol: str, raw: int, decimals: int = 0, **more: object
) -> SnapshotHolding:
    return SnapshotHolding(f"{ANVIL}:{OTHER}", asset, symbol, decimals, raw, None, None,
                           SourceState.OK, T, **more)  # type: ignore[arg-type]  # fmt: skip


def custom_snapshot(failures: int = 1) -> Snapshot:
    """The sample portfolio plus a custom network nobody prices: a 78-digit balance, one wei
    of a token, a zero native balance, a manually priced token and unreadable tokens."""
    base = latest()
    extra = (
        raw_holding(HUGE_TOKEN, "HUGE", HUGE),
        raw_holding(WEI_TOKEN, "WEI", 1, 18),
        raw_holding(f"{ANVIL}/slip44:60", "ETH", 0, 18),
        SnapshotHolding(
            f"{ANVIL}:{OTHER}",
            LUSD,
            "LUSD",
            6,
            5_000_000,
            Decimal("0.98"),
            Decimal("4.9"),
            SourceState.OK,
            T,
            manual_price=True,
        ),
    )
    broken = (
        *(
            HoldingFailure(f"{ANVIL}:{OTHER}", BROKEN[:-1] + str(i),
                           "the token contract reverted", "BRK" if i == 0 else "")
            for i in range(failures)
        ),
        # a known spam token that reverts: shown only with spam, never in the banner
        HoldingFailure(f"{ANVIL}:{OTHER}", BROKEN[:-1] + "f", "the token contract reverted",
                       "FREE-AIRDROP", True),
    )  # fmt: skip
    sources = (*base.sources, SourceStatus(ANVIL, SourceState.OK, None, T, broken))
    return replace(base, holdings=base.holdings + extra, sources=sources)


def page_at(
    qtbot: QtBot, width: int, height: int, snapshot: Snapshot | None = None
) -> HoldingsPage:
    page = HoldingsPage()
    qtbot.addWidget(page)
    page.resize(width, height)
    page.show()
    qtbot.waitExposed(page)
    page.show_snapshot(snapshot or custom_snapshot(), NAMES, WALLET_NAMES, now=T + 60)
    return page


def row_of(page: HoldingsPage, symbol: str) -> int:
    model = page.model
    for r in range(model.rowCount()):
        if model.index(r, 0).data(ROW_ROLE).holding.symbol == symbol:
            return r
    raise AssertionError(f"{symbol} not shown")


# --- numbers -------------------------------------------------------------------------------


def test_amounts_are_readable_compact_and_never_in_exponent_notation() -> None:
    assert amount_text(Decimal("1e-18")) == "<0.00000001"
    assert amount_text(Decimal("-1e-18")) == ">−0.00000001"
    assert amount_text(Decimal("1e-18"), 18) == "0.000000000000000001"
    assert amount_text(Decimal("0.00000015")) == "0.00000015"
    assert amount_text(Decimal("0.000123456")) == "0.0001235"
    assert amount_text(Decimal("12345678.123456")) == "12,345,678.12"
    assert amount_text(Decimal("1234567890")) == "1.23 B"
    assert amount_text(Decimal("-42500000000000")) == "−42.5 T"
    assert amount_text(Decimal(HUGE)) == "1.16 × 10⁷⁷"
    for value in ("1e-18", "1e-30", "5e40", str(HUGE)):
        assert "E" not in amount_text(Decimal(value)).upper()


def test_one_wei_and_a_78_digit_balance_show_short_with_exact_tooltip_and_copy(
    qtbot: QtBot,
) -> None:
    page = page_at(qtbot, 1366, 768)
    page.hide_small.setChecked(False)
    model = page.model
    huge, wei = row_of(page, "HUGE"), row_of(page, "WEI")
    assert model.index(huge, Column.AMOUNT).data() == "1.16 × 10⁷⁷"
    assert model.index(huge, Column.AMOUNT).data(Qt.ItemDataRole.ToolTipRole) == f"{HUGE} HUGE"
    assert model.index(wei, Column.AMOUNT).data() == "<0.00000001"
    tip = model.index(wei, Column.AMOUNT).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "0.000000000000000001 WEI"
    selection = page.view.selectionModel()
    for r in (huge, wei):
        selection.select(model.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)  # fmt: skip
    page.copy_selection()
    copied = QGuiApplication.clipboard().text()
    assert f"\t{HUGE}\t" in copied and "\t0.000000000000000001\t" in copied
    exported = {r["asset"]: r for r in csv.DictReader(io.StringIO(csv_text(
        model.visible_rows(), "USD")))}  # fmt: skip
    assert exported["HUGE"]["amount"] == str(HUGE)
    assert exported["WEI"]["amount"] == "0.000000000000000001"


def test_hide_small_drops_zero_rows_but_keeps_unpriced_holdings() -> None:
    portfolio = build_portfolio(custom_snapshot(), NAMES, WALLET_NAMES)
    shown = {(r.chain_name, r.holding.symbol) for r in filter_rows(portfolio.rows, hide_small=True)}
    assert ("Local Anvil A", "ETH") not in shown  # zero amount, no price: nothing to see
    assert {("Local Anvil A", "HUGE"), ("Local Anvil A", "WEI")} <= shown  # unknown, not small
    assert ("Local Anvil A", "BRK") in shown  # could not be read: never "small"
    assert ("Ethereum", "DUST") not in shown
    everything = {
        (r.chain_name, r.holding.symbol) for r in filter_rows(portfolio.rows, hide_small=False)
    }
    assert ("Local Anvil A", "ETH") in everything
    assert portfolio.unpriced_count == 2  # HUGE and WEI; not the zero ETH, spam or BRK
    only = filter_rows(portfolio.rows, hide_small=True, only_unpriced=True)
    assert sorted(r.holding.symbol for r in only) == ["HUGE", "WEI"]


# --- unpriced, manual, unreadable ------------------------------------------------------------


def test_unpriced_link_counts_filters_and_comes_back(qtbot: QtBot) -> None:
    page = page_at(qtbot, 1366, 768)
    link = page.unpriced_button
    assert link.text() == "2 holdings have no price and are left out of the total"
    assert link.isVisible() and link.accessibleName() == link.text()
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    assert sorted(r.holding.symbol for r in page.model.visible_rows()) == ["HUGE", "WEI"]
    assert link.text().startswith("Showing only holdings without a price")
    assert "only those without a price" in page.count_label.text()
    # A refresh keeps the filter while there is something to show, drops it when not.
    page.show_snapshot(custom_snapshot(), NAMES, WALLET_NAMES, now=T + 60)
    assert len(page.model.visible_rows()) == 2
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, now=T + 60)
    assert not page.model.only_unpriced and link.isHidden()
    assert len(page.model.visible_rows()) > 2


def test_manual_price_is_marked_in_the_table_and_the_exports(qtbot: QtBot) -> None:
    page = page_at(qtbot, 1366, 768)
    model = page.model
    lusd = row_of(page, "LUSD")
    price = model.index(lusd, Column.PRICE)
    assert price.data() == "0.98"
    assert price.data(Qt.ItemDataRole.DecorationRole) is not None  # the manual mark
    assert "a manual price you set" in price.data(Qt.ItemDataRole.ToolTipRole)
    assert "manual" in model.index(lusd, Column.VALUE).data(Qt.ItemDataRole.ToolTipRole)
    eth = row_of(page, "USDC")
    assert model.index(eth, Column.PRICE).data(Qt.ItemDataRole.DecorationRole) is None
    rows = {
        r["asset"]: r for r in csv.DictReader(io.StringIO(csv_text(model.visible_rows(), "USD")))
    }
    assert rows["LUSD"]["price_manual"] == "yes" and rows["ARB"]["price_manual"] == "no"
    page.set_group_by(GroupBy.ASSET)  # a group of one asset at one price carries the mark
    labels = [g.label for g in model.groups()]
    price_cell = model.index(labels.index("LUSD"), Column.PRICE)
    assert price_cell.data(Qt.ItemDataRole.DecorationRole) is not None
    assert "manual price" in price_cell.data(Qt.ItemDataRole.ToolTipRole)
    arb_cell = model.index(labels.index("ARB"), Column.PRICE)
    assert arb_cell.data(Qt.ItemDataRole.DecorationRole) is None


def test_unreadable_tokens_are_rows_with_an_icon_and_counted_in_the_banner(qtbot: QtBot) -> None:
    page = page_at(qtbot, 1366, 768, custom_snapshot(failures=2))
    banner = page.summary.stale_warning
    assert (
        "✖ 2 tokens could not be read (BRK on Local Anvil A: the token contract reverted;" in banner
    )
    assert "0x6666…6661 on Local Anvil A" in banner  # no symbol known: a short address
    model = page.model
    brk = row_of(page, "BRK")
    assert model.index(brk, Column.ASSET).data(Qt.ItemDataRole.DecorationRole) is not None
    assert "the token contract reverted" in model.index(brk, Column.ASSET).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert page.total_label.text() == "8,574.90 USD"  # the sample's 8,570 + 4.90 LUSD, no BRK
    page.filter.setText("brk")
    assert [r.holding.symbol for r in model.visible_rows()] == ["BRK"]
    page.filter.setText("")
    assert "FREE-AIRDROP" not in banner
    assert "FREE-AIRDROP" not in {r.holding.symbol for r in model.visible_rows()}
    page.show_spam.setChecked(True)
    airdrop = row_of(page, "FREE-AIRDROP")
    assert model.index(airdrop, Column.ASSET).data(Qt.ItemDataRole.DecorationRole) is not None


# --- columns and rows --------------------------------------------------------------------------


def _edges(page: HoldingsPage) -> dict[Column, tuple[int, int]]:
    header = page.view.horizontalHeader() if page.view is page.table else page.tree.header()
    return {c: (header.sectionPosition(c), header.sectionSize(c)) for c in Column}


@pytest.mark.parametrize("size", [(1000, 640), (1366, 768), (1920, 1080)])
def test_columns_fit_the_window_and_keep_their_widths(qtbot: QtBot, size: tuple[int, int]) -> None:
    page = page_at(qtbot, *size)
    page.hide_small.setChecked(False)
    view, header = page.table, page.table.horizontalHeader()
    viewport = view.viewport().width()
    edges = _edges(page)
    share_start = edges[Column.SHARE][0]
    metrics = view.fontMetrics()
    assert share_start + metrics.horizontalAdvance("100.0 %") <= viewport  # nothing off-screen
    for column in (Column.AMOUNT, Column.PRICE, Column.VALUE, Column.CHANGE):
        title = str(page.model.headerData(column, Qt.Orientation.Horizontal)).rstrip()
        assert header.fontMetrics().horizontalAdvance(title) + 16 <= header.sectionSize(column)
    huge = page.model.index(row_of(page, "HUGE"), Column.AMOUNT).data()
    assert metrics.horizontalAdvance(huge) < header.sectionSize(Column.AMOUNT)
    if size[0] >= 1366:  # room enough: chain names whole
        assert metrics.horizontalAdvance("Local Anvil A") + 8 <= header.sectionSize(Column.CHAIN)
    page.show_snapshot(custom_snapshot(failures=3), NAMES, WALLET_NAMES, now=T + 120)
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, now=T + 180)
    assert _edges(page) == edges  # refreshes never move a column


def test_a_wider_window_gives_cut_names_their_room_and_hand_widths_stay(qtbot: QtBot) -> None:
    long_name = "Local Anvil A (the test node on this very machine)"
    page = HoldingsPage()
    qtbot.addWidget(page)
    page.resize(640, 500)
    page.show()
    qtbot.waitExposed(page)
    page.show_snapshot(custom_snapshot(), {**NAMES, ANVIL: long_name}, WALLET_NAMES, now=T)
    header = page.table.horizontalHeader()
    metrics = page.table.fontMetrics()
    need = metrics.horizontalAdvance(long_name) + 8
    assert header.sectionSize(Column.CHAIN) < need  # too narrow: the chain gave way last
    header.resizeSection(Column.WALLET, 97)  # by hand
    page.resize(1920, 1000)
    qtbot.waitUntil(lambda: header.sectionSize(Column.CHAIN) >= need)
    assert header.sectionSize(Column.WALLET) == 97


def test_grouped_rows_are_as_tall_as_flat_rows(qtbot: QtBot) -> None:
    page = page_at(qtbot, 1366, 768)
    flat = page.table.rowHeight(0)
    page.set_group_by(GroupBy.CHAIN)
    tree, model = page.tree, page.model
    group = model.group_index(0)
    assert tree.rowHeight(group) == flat
    assert tree.rowHeight(model.index(0, 0, group)) == flat


# --- "Set price source…" -------------------------------------------------------------------


class FakeQuotes:
    """The price sources as the service sees them: known coins, or unreachable."""

    def __init__(self, known: dict[str, Decimal], reachable: bool = True) -> None:
        self.known, self.reachable, self.asked = known, reachable, []

    async def __call__(self, price_id: str, currency: str) -> tuple[Decimal | None, list[str]]:
        self.asked.append(price_id)
        if not self.reachable:
            return None, ["defillama: could not be reached"]
        return self.known.get(price_id), []


@pytest.fixture
def saved() -> Iterator[dict[str, str]]:
    yield {}


def _service(quotes: FakeQuotes, saved: dict[str, str]) -> object:
    from app.services.price_ids import PriceIdService

    return PriceIdService(
        quotes,
        lambda thing, pid: saved.__setitem__(thing.asset_id, pid),
        lambda chain, pid: saved.__setitem__(chain, pid),
    )


def _open_for(page: HoldingsPage, symbol: str):  # type: ignore[no-untyped-def]
    page.view.selectRow(row_of(page, symbol))
    page.views.menu_opening.emit()
    assert page.act_price_source.isEnabled()
    dialog = page.ask_price_source()
    assert dialog is not None
    return dialog


def test_set_price_source_checks_the_id_then_saves_and_asks_for_a_refresh(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, saved: dict[str, str]
) -> None:
    page = page_at(qtbot, 1366, 768)
    quotes = FakeQuotes({"coingecko:usd-coin": Decimal("1")})
    page.price_ids = _service(quotes, saved)  # type: ignore[assignment]
    dialog = _open_for(page, "WEI")
    dialog.edit.setText("USD Coin")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "is not a CoinGecko coin id" in dialog.status.text())
    assert not saved and quotes.asked == []
    dialog.edit.setText("no-such-coin")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "No price source knows coingecko:no-such-coin" in dialog.status.text())
    assert not saved
    dialog.edit.setText("https://www.coingecko.com/en/coins/usd-coin")
    with qtbot.waitSignal(page.refresh_wanted, timeout=5000):
        dialog.save_button.click()
    assert saved == {WEI_TOKEN: "coingecko:usd-coin"}
    assert "WEI on Local Anvil A is priced as coingecko:usd-coin" in page.notice.text()


def test_set_price_source_of_a_native_coin_while_the_sources_are_down(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, saved: dict[str, str]
) -> None:
    page = page_at(qtbot, 1366, 768)
    page.hide_small.setChecked(False)
    page.price_ids = _service(FakeQuotes({}, reachable=False), saved)  # type: ignore[assignment]
    page.filter.setText("local anvil a")
    model = page.model
    native = next(r for r in range(model.rowCount())
                  if model.index(r, 0).data(ROW_ROLE).holding.asset_id.endswith("slip44:60"))  # fmt: skip
    page.view.selectRow(native)
    dialog = page.ask_price_source()
    assert (
        dialog is not None
        and "the native coin of Local Anvil A" in dialog.findChildren(type(dialog.status))[0].text()
    )
    dialog.edit.setText("ethereum")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.save_button.text() == "Save anyway")
    assert "could not be reached" in dialog.status.text() and not saved
    dialog.save_button.click()
    qtbot.waitUntil(lambda: saved == {ANVIL: "coingecko:ethereum"})


def test_set_price_source_is_off_without_a_database_or_for_unreadable_rows(qtbot: QtBot) -> None:
    page = page_at(qtbot, 1366, 768)
    page.view.selectRow(row_of(page, "WEI"))
    page.views.menu_opening.emit()
    assert not page.act_price_source.isEnabled()  # no price id service yet
    page.price_ids = _service(FakeQuotes({}), {})  # type: ignore[assignment]
    page.view.clearSelection()
    page.view.selectRow(row_of(page, "BRK"))
    page.views.menu_opening.emit()
    assert not page.act_price_source.isEnabled() and page.ask_price_source() is None


def test_price_ids_saved_through_the_app_reach_the_token_store_and_the_network(
    tmp_path: Path,
) -> None:
    from app.bootstrap import bootstrap
    from app.config import Paths
    from app.services.price_ids import PricedThing
    from app.storage.token_store import TokenStore

    ctx = bootstrap(Paths.resolve(tmp_path))
    try:
        ctx.networks.add(31337, "Local Anvil A", "ETH", ["http://127.0.0.1:8545"])
        service = ctx.price_ids
        token = PricedThing(LUSD, "LUSD", "LUSD", 6)
        assert asyncio.run(service.save(token, "usd-coin")) == "coingecko:usd-coin"
        from app.domain.ids import AssetId

        assert TokenStore(ctx.engine).price_id(AssetId.parse(LUSD)) == "coingecko:usd-coin"
        native = PricedThing(f"{ANVIL}/slip44:60", "ETH", "ETH", 18)
        asyncio.run(service.save(native, "coingecko:ethereum"))
        assert ctx.networks.get(ANVIL).price_ids["coingecko_native"] == "ethereum"
        asyncio.run(service.save(PricedThing("eip155:1/slip44:60", "ETH", "ETH", 18), "weth"))
        assert ctx.networks.get("eip155:1").price_ids["coingecko_native"] == "weth"
        assert ctx.networks.get("eip155:1").price_ids["coingecko"] == "ethereum"  # kept
        ctx.networks.set_price_id("eip155:1", None)
        assert ctx.networks.get("eip155:1").price_ids["coingecko_native"] == "ethereum"
    finally:
        ctx.close()


# --- Settings → Networks: the native coin's price id --------------------------------------------

NETWORK_ID = 31_778


@pytest.fixture(scope="module")
def anvil_node() -> Iterator[object]:
    from tests.integration.evm.anvil import running

    yield from running(NETWORK_ID, multicall=False)


def test_network_editor_takes_a_price_id_for_the_native_coin(
    qtbot: QtBot, tmp_path: Path, anvil_node: object, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    from app.config import Settings
    from tests.ui.test_settings_networks import MemorySecrets, fill_custom, make, registry_at, tab

    settings, secrets = Settings.load(tmp_path / "settings.toml"), MemorySecrets()
    t = tab(make(qtbot, settings, secrets))
    url = anvil_node.url  # type: ignore[attr-defined]
    fill_custom(t, NETWORK_ID, url, price_id="Not An Id")
    t.add_network_button.click()
    error = t.field_errors["price_id"]
    assert not error.isHidden() and "is not a CoinGecko coin id" in error.text()
    assert f"eip155:{NETWORK_ID}" not in {
        str(s.chain_id) for s in registry_at(settings, secrets).all()
    }
    t.fields["price_id"].setText("coingecko:ethereum")
    t.add_network_button.click()
    qtbot.waitUntil(lambda: "Added" in t.custom_feedback.text(), timeout=10_000)
    assert error.isHidden()
    spec = registry_at(settings, secrets).get(f"eip155:{NETWORK_ID}")
    assert spec.price_ids == {"coingecko_native": "ethereum"}


@pytest.mark.parametrize("group_by", list(GroupBy))
def test_model_with_unreadable_unpriced_and_manual_rows_passes_the_model_tester(
    qtmodeltester,
    group_by: GroupBy,  # type: ignore[no-untyped-def]
) -> None:
    from app.ui.models.holdings_model import HoldingsModel

    model = HoldingsModel()
    model.set_snapshot(custom_snapshot(failures=2), NAMES, WALLET_NAMES)
    model.set_group_by(group_by)
    qtmodeltester.check(model)
    model.set_filter(only_unpriced=True)
    qtmodeltester.check(model)


def test_closing_the_price_source_dialog_mid_check_saves_nothing(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, saved: dict[str, str]
) -> None:
    page = page_at(qtbot, 1366, 768)
    gate = asyncio.Event()

    class SlowQuotes(FakeQuotes):
        async def __call__(self, price_id: str, currency: str) -> tuple[Decimal | None, list[str]]:
            self.asked.append(price_id)
            await gate.wait()
            return Decimal(1), []

    quotes = SlowQuotes({})
    page.price_ids = _service(quotes, saved)  # type: ignore[assignment]
    dialog = _open_for(page, "WEI")
    dialog.edit.setText("usd-coin")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: quotes.asked == ["coingecko:usd-coin"])
    assert not dialog.save_button.isEnabled()  # busy while the sources are asked
    dialog.reject()
    gate.set()
    qtbot.waitUntil(lambda: not page.tasks.busy)  # the cancelled check has ended
    assert saved == {}
