"""Wallets and the ledger together in the window: the Performance tab's "Unexplained change"
and the Transactions tab's "Link to wallet…", through the real window, the real AppContext
and a real SQLite file (PortfolioService runs in worker threads on the qasync loop).

Covered: rows for a linked wallet with a known difference (exact figures in the copy and the
tooltips, theme colours for + and −); the empty state when nothing is linked; the down case
with a link but no snapshot yet (said, nothing breaks); linking and unlinking through the
dialog with key events, after which the table follows; hostile token text stays plain.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from app.domain.balances import SourceState
from app.domain.ledger import Transaction, TxKind
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import Quote
from app.ui.models.ledger_models import EXACT_ROLE
from app.ui.models.unexplained_model import (
    AGREES,
    EMPTY,
    NO_SNAPSHOT,
    UnexplainedColumn,
)
from app.ui.theme import colours

D = Decimal
DAY = 86_400
NOW = int(time.time()) - 100
JAN = 1_704_067_200
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
W1 = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
W2 = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
TIMEOUT = 15_000


def _holding(wallet: str, asset: str, symbol: str, decimals: int, amount: str, price: str) -> Any:
    raw = int(D(amount).scaleb(decimals))
    return SnapshotHolding(
        f"eip155:1:{wallet}", asset, symbol, decimals, raw, D(price), D(amount) * D(price),
        SourceState.OK, NOW,
    )  # fmt: skip


def seed(ctx: Any, *, snapshot: bool = True, link: bool = True) -> None:
    """In a thread of its own (the test's Qt loop is running: ``asyncio.run`` needs another)"""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_seed, ctx, snapshot, link).result()


def _seed(ctx: Any, snapshot: bool, link: bool) -> None:
    """Two wallets; W1 holds 1.25 ETH and 300 USDC (symbol with markup); the ledger account
    "Hot" records 0.4 ETH bought and 500 USDC: +0.85 ETH and −200 USDC are unexplained."""
    from app.storage.price_store import SqlPriceStore
    from app.storage.snapshot_store import SqlSnapshotStore

    for address in (W1, W2):
        asyncio.run(ctx.wallets.add(address, "Main" if address == W1 else ""))
    with ctx.engine.begin() as con:
        con.execute(text("UPDATE wallets SET created_at = '2024-01-01T00:00:00+00:00'"))
    ctx.ledger.add_account("Hot", "other")
    ctx.ledger.add_account("Broker", "broker")
    ctx.ledger.add(Transaction("Hot", TxKind.BUY, JAN, ETH, D("0.4"), D(1000), "USD"))
    ctx.ledger.add(Transaction("Hot", TxKind.DEPOSIT, JAN, USDC, D(500)))
    if snapshot:
        holdings = (
            _holding(W1, ETH, "ETH", 18, "1.25", "2000"),
            _holding(W1, USDC, "<b>USDC</b>", 6, "300", "1"),
            _holding(W2, ETH, "ETH", 18, "3", "2000"),
        )
        status = (SourceStatus("eip155:1", SourceState.OK, None, NOW),)
        SqlSnapshotStore(ctx.engine).write(Snapshot(NOW, "USD", holdings, status))
        SqlPriceStore(ctx.engine).save(
            [Quote(ETH, "USD", D(2100), "test", NOW), Quote(USDC, "USD", D(1), "test", NOW)]
        )
    if link:
        ctx.portfolios.link("Hot", W1)


def open_window(qtbot: QtBot, context: Any) -> Any:
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    win = MainWindow(TaskRunner())
    qtbot.addWidget(win)
    win.attach(context)
    qtbot.waitUntil(lambda: win.performance_page is not None, timeout=TIMEOUT)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    return win


def show_performance(qtbot: QtBot, win: Any) -> Any:
    page = win.performance_page
    with qtbot.waitSignal(page.unexplained_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(page)
    return page


@pytest.fixture
def linked(qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any) -> Iterator[Any]:
    seed(context)
    win = open_window(qtbot, context)
    yield win
    win.hide()


def test_linked_wallet_differences_are_shown_with_exact_figures(
    qtbot: QtBot, linked: Any, context: Any
) -> None:
    page = show_performance(qtbot, linked)
    model = page.unexplained_model
    assert model.rowCount() == 2
    by_asset = {model.index(r, UnexplainedColumn.ASSET).data(): r for r in range(2)}
    assert set(by_asset) == {"ETH", "<b>USDC</b>"}  # token text shown as it is, plain
    eth, usdc = by_asset["ETH"], by_asset["<b>USDC</b>"]

    def cell(row: int, column: UnexplainedColumn, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(row, column).data(role)

    assert cell(eth, UnexplainedColumn.WALLET) == "Main"
    assert cell(eth, UnexplainedColumn.LEDGER) == "0.4"
    assert cell(eth, UnexplainedColumn.OBSERVED) == "1.25"
    assert cell(eth, UnexplainedColumn.DIFFERENCE) == "+0.85"
    assert cell(eth, UnexplainedColumn.VALUE) == "+1,785.00"  # 0.85 × 2100 today
    assert cell(eth, UnexplainedColumn.DIFFERENCE, EXACT_ROLE) == "0.85"
    assert D(cell(eth, UnexplainedColumn.VALUE, EXACT_ROLE)) == D("1785")
    assert cell(usdc, UnexplainedColumn.DIFFERENCE) == "\u2212200"
    assert D(cell(usdc, UnexplainedColumn.DIFFERENCE, EXACT_ROLE)) == D(-200)
    assert cell(eth, UnexplainedColumn.DIFFERENCE, Qt.ItemDataRole.ForegroundRole) == (
        colours().gain
    )
    assert cell(usdc, UnexplainedColumn.VALUE, Qt.ItemDataRole.ForegroundRole) == colours().loss
    tip = cell(usdc, UnexplainedColumn.ASSET, Qt.ItemDataRole.ToolTipRole)
    assert "&lt;b&gt;" not in tip and USDC in tip and W1 in tip and "Hot" in tip
    assert cell(eth, UnexplainedColumn.SNAPSHOT, EXACT_ROLE).startswith(
        time.strftime("%Y-%m-%d", time.gmtime(NOW))
    )
    caption = page.unexplained_notes.text()
    assert page.unexplained_notes.isVisible() and "Positive" in caption and "negative" in caption
    assert "airdrop" in page.unexplained_notes.toolTip()  # the full explanation
    assert page.unexplained_table.shown_placeholder() == ""

    page.unexplained_table.setFocus()
    page.unexplained_table.selectRow(eth)
    QTest.keyClick(page.unexplained_table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QApplication.clipboard().text().splitlines()
    assert copied[0].split("\t")[:3] == ["Wallet", "Asset", "Ledger quantity"]
    assert copied[1].split("\t")[:5] == [W1, ETH, "0.4", "1.25", "0.85"]

    # Recording the missing purchase on the Transactions side explains it: the row goes.
    context.ledger.add(Transaction("Hot", TxKind.BUY, JAN + DAY, ETH, D("0.85"), D(1000), "USD"))
    with qtbot.waitSignal(page.unexplained_loaded, timeout=TIMEOUT):
        linked.ledger_page.changed.emit()
    assert [cell(r, UnexplainedColumn.ASSET) for r in range(model.rowCount())] == ["<b>USDC</b>"]


def test_nothing_linked_says_how_to_link(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context, link=False)
    win = open_window(qtbot, context)
    page = show_performance(qtbot, win)
    assert page.unexplained_model.rowCount() == 0
    assert page.unexplained_table.shown_placeholder() == EMPTY
    assert "Link to wallet" in EMPTY and "chainfolio links add" in EMPTY
    assert not page.unexplained_notes.isVisible()
    assert page.copy_unexplained() == ""
    win.hide()


def test_a_link_but_no_snapshot_yet_says_so_and_nothing_breaks(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context, snapshot=False)
    win = open_window(qtbot, context)
    page = show_performance(qtbot, win)
    assert page.unexplained_model.rowCount() == 0
    assert page.unexplained_table.shown_placeholder() == NO_SNAPSHOT
    assert not page.unexplained_notes.isVisible()
    qtbot.waitUntil(lambda: page.pnl_model.rowCount() > 0, timeout=TIMEOUT)  # the rest works
    win.hide()


def test_link_and_unlink_through_the_dialog_with_keys(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context, link=False)
    win = open_window(qtbot, context)
    page = show_performance(qtbot, win)
    assert page.unexplained_table.shown_placeholder() == EMPTY
    ledger = win.ledger_page
    with qtbot.waitSignal(ledger.arranged, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(ledger)
    assert ledger.link_button is not None and not ledger.link_button.isEnabled()
    hot = next(
        i for i in range(ledger.accounts.count())
        if ledger.accounts.item(i).data(Qt.ItemDataRole.UserRole) == "Hot"
    )  # fmt: skip
    ledger.accounts.setCurrentRow(hot)
    assert ledger.link_button.isEnabled()
    QTest.keyClick(ledger, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: ledger.link_dialog is not None, timeout=TIMEOUT)
    dialog = ledger.link_dialog
    qtbot.waitExposed(dialog)
    assert dialog.wallet.currentData() is None  # "Not linked"
    dialog.wallet.setFocus()
    QTest.keyClick(dialog.wallet, Qt.Key.Key_Down)
    assert dialog.wallet.currentData() == W1 and "Main" in dialog.wallet.currentText()
    with qtbot.waitSignal(ledger.changed, timeout=TIMEOUT):
        QTest.keyClick(dialog.wallet, Qt.Key.Key_Return)
    assert [lk.account for lk in context.portfolios.links()] == ["Hot"]
    page = show_performance(qtbot, win)  # it compares again when shown
    assert page.unexplained_model.rowCount() == 2
    win.tabs.setCurrentWidget(ledger)  # its data did not change: nothing to read again
    qtbot.waitUntil(ledger.isVisible, timeout=TIMEOUT)

    # Unlink: choose "Not linked" again; the table goes back to its empty state.
    ledger.link_dialog = None
    ledger.link_wallet()
    qtbot.waitUntil(lambda: ledger.link_dialog is not None, timeout=TIMEOUT)
    dialog = ledger.link_dialog
    qtbot.waitExposed(dialog)
    assert dialog.wallet.currentData() == W1
    dialog.wallet.setFocus()
    QTest.keyClick(dialog.wallet, Qt.Key.Key_Up)
    with qtbot.waitSignal(ledger.changed, timeout=TIMEOUT):
        QTest.keyClick(dialog.wallet, Qt.Key.Key_Return)
    assert context.portfolios.links() == []
    page = show_performance(qtbot, win)
    assert page.unexplained_table.shown_placeholder() == EMPTY
    win.hide()


def test_a_wallet_that_agrees_with_its_ledger_says_so(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context)
    context.ledger.add(Transaction("Hot", TxKind.BUY, JAN + DAY, ETH, D("0.85"), D(1000), "USD"))
    context.ledger.add(Transaction("Hot", TxKind.WITHDRAWAL, JAN + DAY, USDC, D(200)))
    win = open_window(qtbot, context)
    page = show_performance(qtbot, win)
    assert page.unexplained_model.rowCount() == 0
    assert page.unexplained_table.shown_placeholder() == AGREES
    win.hide()


# ------------------------------------------------------------------ portfolios in the window

AAPL = "stock:XNAS:AAPL"


def seed_portfolio(ctx: Any, *, snapshot: bool = True) -> None:
    """On top of :func:`seed`: a day-earlier snapshot (W1 1 ETH at 1900 + 300 USDC; W2 3 ETH),
    a "Broker" buy, and the portfolio "Long term" = wallet W1 + account Broker. Latest totals:
    W1 2,800 (1.25 × 2000 + 300), W2 6,000, all 8,800."""

    def work() -> None:
        from app.storage.snapshot_store import SqlSnapshotStore

        if snapshot:
            earlier = NOW - DAY
            holdings = tuple(
                h._replace(as_of=earlier)
                for h in (
                    _holding(W1, ETH, "ETH", 18, "1", "1900"),
                    _holding(W1, USDC, "USDC", 6, "300", "1"),
                    _holding(W2, ETH, "ETH", 18, "3", "1900"),
                )
            )
            status = (SourceStatus("eip155:1", SourceState.OK, None, earlier),)
            SqlSnapshotStore(ctx.engine).write(Snapshot(earlier, "USD", holdings, status))
        ctx.ledger.add(Transaction("Broker", TxKind.BUY, JAN, AAPL, D(10), D(100), "USD"))
        ctx.portfolios.add("Long term")
        ctx.portfolios.include("Long term", wallet=W1)
        ctx.portfolios.include("Long term", account="Broker")

    with ThreadPoolExecutor(1) as pool:
        pool.submit(work).result()


def window_with_snapshot(qtbot: QtBot, context: Any) -> Any:
    win = open_window(qtbot, context)
    win.update_timeline()  # as the app does once its refresher is set
    win.show_snapshot(context.snapshots.latest())
    qtbot.waitUntil(lambda: win.portfolio_picker.isEnabled(), timeout=TIMEOUT)
    return win


def pick(qtbot: QtBot, win: Any, name: str) -> None:
    """Choose in the selector with the keyboard (type-ahead on the focused combo box)."""
    box = win.portfolio_picker.box
    box.setFocus()
    at = box.findData(name)
    key = Qt.Key.Key_Down if at > box.currentIndex() else Qt.Key.Key_Up
    while box.currentIndex() != at:
        QTest.keyClick(box, key)


def test_a_portfolio_scopes_net_worth_timeline_and_performance_and_all_restores(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context)
    seed_portfolio(context)
    win = window_with_snapshot(qtbot, context)
    picker, holdings = win.portfolio_picker, win.holdings_page
    assert [picker.box.itemText(i) for i in range(picker.box.count())] == [
        "All wallets and accounts", "Long term",
    ]  # fmt: skip
    qtbot.waitUntil(lambda: holdings.portfolio.total == D(8800), timeout=TIMEOUT)

    pick(qtbot, win, "Long term")
    qtbot.waitUntil(lambda: holdings.portfolio.total == D(2800), timeout=TIMEOUT)
    assert {r.wallet_address for r in holdings.portfolio.rows} == {W1}
    assert context.settings.get("ui.portfolio") == "Long term"

    timeline = win.timeline_page
    with qtbot.waitSignal(timeline.net_worth_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(timeline)
    nw = timeline.net_worth
    assert [nw.total_at(i) for i in range(len(nw))] == [D(2200), D(2800)]  # W1 only
    assert not timeline.breakdown_box.isEnabled()
    # "What changed" and the returns beside the range follow the portfolio too.
    qtbot.waitUntil(
        lambda: timeline.comparison is not None and timeline.comparison.change == D(600),
        timeout=TIMEOUT,
    )
    qtbot.waitUntil(lambda: timeline.returns_label.text().startswith("Accounts:"), timeout=TIMEOUT)

    page = win.performance_page
    with qtbot.waitSignal(page.pnl_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.view is not None, timeout=TIMEOUT)
    assert {r.account for r in page.pnl_model.rows() if not r.total} == {"Broker"}
    qtbot.waitUntil(lambda: page.returns_model.rowCount() > 0, timeout=TIMEOUT)
    names = [r.name for r in page.returns_model.rows()]
    assert names == ["Ledger accounts", "Wallets"]
    qtbot.waitUntil(lambda: page.unexplained_model.rowCount() == 2, timeout=TIMEOUT)  # W1 is in it

    with qtbot.waitSignal(page.pnl_loaded, timeout=TIMEOUT):
        pick(qtbot, win, "")  # All: everything as before
    assert {r.account for r in page.pnl_model.rows() if not r.total} == {"Broker", "Hot"}
    qtbot.waitUntil(lambda: page.unexplained_model.rowCount() == 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: holdings.portfolio.total == D(8800), timeout=TIMEOUT)
    with qtbot.waitSignal(timeline.net_worth_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(timeline)
    assert timeline.net_worth.total_at(len(timeline.net_worth) - 1) == D(8800)
    assert timeline.breakdown_box.isEnabled()
    qtbot.waitUntil(
        lambda: timeline.comparison is not None and timeline.comparison.change == D(900),
        timeout=TIMEOUT,
    )  # the whole history again: 8,800 − (2,200 + 5,700)
    qtbot.waitUntil(lambda: timeline.returns_label.text().startswith("Ledger:"), timeout=TIMEOUT)
    assert context.settings.get("ui.portfolio") == ""
    win.hide()


def test_the_remembered_portfolio_is_shown_at_start(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context)
    seed_portfolio(context)
    context.settings.remember("ui.portfolio", "Long term")
    win = window_with_snapshot(qtbot, context)
    assert win.portfolio_picker.current() == "Long term"
    qtbot.waitUntil(lambda: win.holdings_page.portfolio.total == D(2800), timeout=TIMEOUT)
    win.hide()


def test_manage_dialog_creates_includes_excludes_and_deletes_with_keys(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context)
    win = window_with_snapshot(qtbot, context)
    picker = win.portfolio_picker
    assert picker.box.count() == 1
    QTest.keyClick(picker.manage, Qt.Key.Key_Space)
    dialog = win.manage_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=TIMEOUT)
    assert dialog.names.count() == 0 and not dialog.wallets.isEnabled()

    # Bad input first: an empty name is refused with a message, nothing is created.
    dialog.new_name.setFocus()
    QTest.keyClick(dialog.new_name, Qt.Key.Key_Return)
    assert "Type a name" in dialog.status.text()
    QTest.keyClicks(dialog.new_name, "Trading")
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
        QTest.keyClick(dialog.new_name, Qt.Key.Key_Return)
    assert dialog.selected() == "Trading" and dialog.wallets.isEnabled()
    qtbot.waitUntil(lambda: picker.box.findData("Trading") > 0, timeout=TIMEOUT)
    # A second portfolio of the same name is refused, said in a plain sentence.
    QTest.keyClicks(dialog.new_name, "trading")
    QTest.keyClick(dialog.new_name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "already" in dialog.status.text(), timeout=TIMEOUT)

    def member_row(lst: Any, key: str) -> int:
        return next(
            i for i in range(lst.count()) if lst.item(i).data(Qt.ItemDataRole.UserRole) == key
        )

    for lst, key in ((dialog.wallets, W2), (dialog.accounts, "Hot")):
        lst.setFocus()
        lst.setCurrentRow(member_row(lst, key))
        with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
            QTest.keyClick(lst, Qt.Key.Key_Space)
    p = context.portfolios.get("Trading")
    assert (p.wallets, p.accounts) == ((W2,), ("Hot",))

    # Show it while editing: excluding the wallet re-scopes the Portfolio tab at once.
    pick(qtbot, win, "Trading")
    qtbot.waitUntil(lambda: win.holdings_page.portfolio.total == D(6000), timeout=TIMEOUT)
    dialog.wallets.setFocus()
    dialog.wallets.setCurrentRow(member_row(dialog.wallets, W2))
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
        QTest.keyClick(dialog.wallets, Qt.Key.Key_Space)
    assert context.portfolios.get("Trading").wallets == ()
    qtbot.waitUntil(lambda: win.holdings_page.portfolio.total == D(0), timeout=TIMEOUT)

    dialog.names.setFocus()
    with qtbot.waitSignal(dialog.loaded, timeout=TIMEOUT):
        QTest.keyClick(dialog, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    assert context.portfolios.portfolios() == [] and dialog.names.count() == 0
    # The shown portfolio is gone: the window is back on All.
    qtbot.waitUntil(lambda: picker.box.count() == 1, timeout=TIMEOUT)
    assert picker.current() == ""
    qtbot.waitUntil(lambda: win.holdings_page.portfolio.total == D(8800), timeout=TIMEOUT)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    win.hide()


def test_a_portfolio_with_no_snapshot_yet_shows_nothing_and_does_not_break(
    qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any
) -> None:
    seed(context, snapshot=False)
    seed_portfolio(context, snapshot=False)
    win = open_window(qtbot, context)
    win.update_timeline()
    win.show_snapshot(None)
    qtbot.waitUntil(lambda: win.portfolio_picker.isEnabled(), timeout=TIMEOUT)
    pick(qtbot, win, "Long term")
    assert win.holdings_page.portfolio.taken_at is None
    timeline = win.timeline_page
    with qtbot.waitSignal(timeline.net_worth_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(timeline)
    assert len(timeline.net_worth) == 0 and timeline.stack.currentWidget() is timeline.empty_label
    page = win.performance_page
    with qtbot.waitSignal(page.pnl_loaded, timeout=TIMEOUT):
        win.tabs.setCurrentWidget(page)
    assert {r.account for r in page.pnl_model.rows() if not r.total} == {"Broker"}
    qtbot.waitUntil(lambda: page.returns_model.rowCount() > 0, timeout=TIMEOUT)
    wallets = next(r for r in page.returns_model.rows() if r.name == "Wallets")
    assert wallets.figures is None and "snapshot" in wallets.problem
    win.hide()
