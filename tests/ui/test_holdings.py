"""Portfolio page: summary header, toggles, group-by views, status icons, copy, CSV export,
the off-thread show, and Refresh now through the main window with a fake service."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableView, QTreeView
from pytestqt.qtbot import QtBot

from app.bootstrap import AppContext
from app.domain.snapshot import Snapshot
from app.services.refresh import RefreshProgress, RefreshResult
from app.ui.holdings_page import HoldingsPage
from app.ui.main_window import MainWindow
from app.ui.models.holdings_data import Column, Group, GroupBy, HoldingRow
from app.ui.models.holdings_model import ROW_ROLE
from app.ui.tasks import TaskRunner
from tests.support.fakes import stored
from tests.ui.holdings_sample import CHAIN_NAMES, DAY, WALLET_NAMES, T, baseline, latest


def page_with_data(qtbot: QtBot, **kwargs: object) -> HoldingsPage:
    page = HoldingsPage(**kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, now=T + 300, baseline=baseline())
    return page


def shown_symbols(page: HoldingsPage) -> list[str]:
    return [r.holding.symbol for r in page.model.visible_rows()]


def test_summary_header(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    assert page.total_label.text() == "8,570.00 USD"
    assert page.change_label.text() == "▲ +2,220.00 USD  (+35.0 %)"
    assert page.summary.change_caption.text() == "24 h change"
    assert page.debt_label.text() == "of which debt −500.00 USD" and not page.debt_label.isHidden()
    assert "5 min ago" in page.updated_label.text()
    warning = page.summary.stale_warning
    assert "Not read in the last refresh: Base: node timed out." in warning
    assert "2,000.00 USD of the total" in warning and "read 2 h ago" in warning
    assert "no earlier data exists: OP Mainnet: HTTP 429 Too Many Requests" in warning

    older = baseline(T - 40 * 3600)
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, now=T, baseline=older)
    assert page.summary.change_caption.text().startswith("Change since ")
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES)  # the old three-argument call
    assert page.change_label.text() == "—" and page.total_label.text() == "8,570.00 USD"
    page.show_snapshot(None, CHAIN_NAMES, {})
    assert page.total_label.text() == "—" and page.summary.stale_banner.isHidden()
    assert page.model.rowCount() == 0 and not page.export_button.isEnabled()


def test_toggles_and_filter(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    assert page.view is page.table and isinstance(page.view, QTableView)
    assert shown_symbols(page) == ["ETH", "ETH", "ETH", "USDC", "ARB", "USDC"]  # by value
    page.hide_small.setChecked(False)
    assert "DUST" in shown_symbols(page)
    page.show_spam.setChecked(True)
    assert len(shown_symbols(page)) == 8
    assert page.total_label.text() == "8,570.00 USD"  # spam never counts, shown or not
    page.filter.setText("aave")
    assert shown_symbols(page) == ["USDC", "USDC"]
    page.filter.setText("ledger")
    assert {r.wallet_name for r in page.model.visible_rows()} == {"Ledger"}
    page.filter.clear()
    page.show_spam.setChecked(False)
    assert len(shown_symbols(page)) == 7


def test_group_by_switches_to_a_tree_and_remembers_expansion(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    for title, key in (("Asset", GroupBy.ASSET), ("Chain", GroupBy.CHAIN),
                       ("Wallet", GroupBy.WALLET), ("Protocol", GroupBy.PROTOCOL)):  # fmt: skip
        page.group_box.setCurrentText(title)
        assert page.model.group_by == key and page.view is page.tree
        assert isinstance(page.view, QTreeView) and page.table.model() is None
        assert all(
            page.tree.isExpanded(page.model.group_index(g)) for g in range(len(page.model.groups()))
        )
    labels = [g.label for g in page.model.groups()]
    assert labels == ["Wallet", "Lido", "Aave v3"]
    page.tree.collapse(page.model.group_index(0))  # "Wallet"
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, baseline=baseline())
    assert not page.tree.isExpanded(page.model.group_index(0))
    assert page.tree.isExpanded(page.model.group_index(2))
    page.set_group_by(GroupBy.NONE)
    assert page.group_box.currentText() == "None" and page.view is page.table
    assert page.tree.model() is None


def test_header_click_sorts_by_numbers(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    page.table.sortByColumn(Column.AMOUNT, Qt.SortOrder.AscendingOrder)
    amounts = [r.amount for r in page.model.visible_rows()]
    assert amounts == sorted(amounts) and amounts[0] == Decimal(-500)
    page.set_group_by(GroupBy.CHAIN)  # the tree takes the same order
    header = page.tree.header()
    assert header.sortIndicatorSection() == Column.AMOUNT
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    ethereum = next(g for g in page.model.groups() if g.label == "Ethereum")
    assert [r.amount for r in ethereum.rows] == [-500, Decimal("1.005"), 2, 1000]


def stale_row_index(page: HoldingsPage, column: Column):  # type: ignore[no-untyped-def]
    model = page.model
    for r in range(model.rowCount()):
        row = model.index(r, 0).data(ROW_ROLE)
        if row.holding.chain == "eip155:8453":
            return model.index(r, column)
    raise AssertionError("no stale row")


def test_stale_rows_have_an_icon_and_say_since_when_and_why(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    index = stale_row_index(page, Column.ASSET)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "Stale since" in tip and "Base could not be read" in tip and "node timed out" in tip
    assert stale_row_index(page, Column.VALUE).data(Qt.ItemDataRole.FontRole).italic()
    ok = page.model.index(0, Column.ASSET)
    assert ok.data(Qt.ItemDataRole.DecorationRole) is None
    assert ok.data(Qt.ItemDataRole.ToolTipRole) == "eip155:1/slip44:60"


def select(page: HoldingsPage, predicate: Callable[[HoldingRow], bool]) -> None:
    selection = page.view.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in range(page.model.rowCount()):
        if predicate(page.model.index(r, 0).data(ROW_ROLE)):
            selection.select(page.model.index(r, 0), flags)


def test_copy_selected_rows_as_exact_tab_separated_text(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    page.show_spam.setChecked(True)
    select(page, lambda r: r.holding.position == "aave-v3:borrowed" or r.holding.is_spam)
    select(page, lambda r: r.holding.symbol == "ETH" and r.holding.position == "")
    page.view.setFocus()
    page.act_copy.trigger()
    text = QGuiApplication.clipboard().text()
    lines = text.splitlines()
    assert lines[0].split("\t")[:5] == ["Asset", "Chain", "Wallet", "Position", "Amount"]
    assert lines[1:] == [
        '=HYPERLINK("x") SCAM\tEthereum\tLedger\t\t1000\t5\t5000\t\t\t\t',
        "ETH\tEthereum\tLedger\t\t2\t2000\t4000\t200\t5.26\t46.67\t",
        "ETH\tBase\t0xfB69…d359\t\t1\t2000\t2000\t100\t5.26\t23.34\t",
        "USDC\tEthereum\tLedger\tAave v3 · Borrowed\t-500\t1\t-500\t-100\t-25.00\t-5.83\t",
    ]  # the last column is the note (manual price, no price, could not be read)
    assert "Copied 4 holdings" in page.notice.text()


def test_copy_of_a_group_copies_its_rows(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    page.set_group_by(GroupBy.PROTOCOL)
    page.tree.selectionModel().select(
        page.model.group_index(2),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert isinstance(page.model.node(page.model.group_index(2)), Group)
    text = page.copy_selection()
    assert [line.split("\t")[3] for line in text.splitlines()[1:]] == [
        "Aave v3 · Supplied", "Aave v3 · Borrowed",
    ]  # fmt: skip


def test_selection_survives_a_refresh(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    select(page, lambda r: r.holding.symbol == "ARB")
    page.show_snapshot(latest(), CHAIN_NAMES, WALLET_NAMES, baseline=baseline())
    assert [r.holding.symbol for r in page.selected_rows()] == ["ARB"]
    page.filter.setText("arb")
    assert [r.holding.symbol for r in page.selected_rows()] == ["ARB"]


def test_export_csv_writes_what_is_shown_exactly_and_formula_safe(
    qtbot: QtBot, tmp_path: Path
) -> None:
    asked: list[str] = []
    target = tmp_path / "holdings.csv"

    def chooser(parent: object, suggested: str, done: Callable[[str], None]) -> None:
        asked.append(suggested)
        done(str(target))

    page = page_with_data(qtbot, save_chooser=chooser)
    page.show_spam.setChecked(True)
    page.filter.setText("ethereum")
    page.export_button.click()
    assert asked and asked[0].endswith(".csv") and "chainfolio-holdings-" in asked[0]
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["asset"] for r in rows] == [
        "'=HYPERLINK(\"x\")\tSCAM", "ETH", "ETH", "USDC", "USDC",
    ]  # fmt: skip
    by_position = {r["position"]: r for r in rows}
    debt = by_position["aave-v3:borrowed"]
    assert debt["amount"] == "-500" and debt["value"] == "-500" and debt["change_24h"] == "-100"
    assert debt["change_24h_pct"] == "-25.00" and debt["chain_id"] == "eip155:1"
    staked = by_position["lido:staked"]
    assert staked["amount"] == "1.005" and staked["value"] == "2010" and staked["change_24h"] == ""
    assert staked["status"] == "ok" and staked["currency"] == "USD" and staked["spam"] == "no"
    assert rows[0]["spam"] == "yes"
    assert "Exported 5 holdings" in page.notice.text()

    page.export_csv(str(tmp_path))  # a folder: cannot be written
    assert "Could not export" in page.notice.text()


def test_show_snapshot_async_prepares_off_thread_and_latest_wins(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    page = HoldingsPage()
    qtbot.addWidget(page)
    calls: list[int] = []

    def slow_baseline() -> Snapshot:
        calls.append(1)
        return baseline()

    first = asyncio.ensure_future(
        page.show_snapshot_async(latest(), CHAIN_NAMES, WALLET_NAMES, baseline=slow_baseline)
    )
    second = asyncio.ensure_future(
        page.show_snapshot_async(latest(), CHAIN_NAMES, WALLET_NAMES, baseline=baseline(), now=T)
    )
    qtbot.waitUntil(lambda: first.done() and second.done(), timeout=5000)
    assert first.result() is False and second.result() is True
    assert calls == [1]
    assert page.total_label.text() == "8,570.00 USD" and page.model.portfolio.change is not None
    assert page.model.portfolio.baseline_at == T - DAY


class FakeRefresher:
    def __init__(self) -> None:
        self.listeners: list = []  # type: ignore[type-arg]
        self.running = False
        self.calls = 0

    def subscribe(self, listener) -> None:  # type: ignore[no-untyped-def]
        self.listeners.append(listener)

    async def refresh(self) -> RefreshResult:
        self.calls += 1
        self.running = True
        for event in (
            RefreshProgress("started", total=2),
            RefreshProgress("chain", done=1, total=2),
        ):
            for listener in self.listeners:
                listener(event)
            await asyncio.sleep(0)
        for listener in self.listeners:
            listener(RefreshProgress("done", done=2, total=2))
        self.running = False
        return stored(latest())


def test_refresh_now_updates_the_portfolio(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.show()
    window.attach(context)
    assert not window.act_refresh.isEnabled()  # nothing to refresh with yet
    fake = FakeRefresher()
    window.set_refresher(fake, CHAIN_NAMES)  # type: ignore[arg-type]
    window.show_snapshot(None)
    assert window.act_refresh.isEnabled() and window.act_refresh.shortcut().toString() == "Ctrl+R"
    assert window.tabs.tabText(0) == "Portfolio"
    window.act_refresh.trigger()
    qtbot.waitUntil(lambda: window.holdings_page.model.rowCount() == 6, timeout=5000)
    assert fake.calls == 1
    assert window.holdings_page.total_label.text() == "8,570.00 USD"
    assert window.progress.isHidden()


def test_ctrl_c_in_the_view_copies_and_the_footer_counts(qtbot: QtBot) -> None:
    page = page_with_data(qtbot)
    page.show()
    qtbot.waitExposed(page)
    assert page.count_label.text() == "6 of 8 holdings shown · 1 small and 1 spam hidden"
    page.filter.setText("arb")
    assert page.count_label.text().startswith("1 of 8 holdings shown")
    page.view.selectAll()
    page.view.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(page.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text().splitlines()[1].startswith("ARB\tArbitrum One\t")
