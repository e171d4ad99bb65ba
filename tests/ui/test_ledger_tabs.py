"""Transactions and Performance tabs: through the real window, the real AppContext and a real
SQLite file; the ledger service runs in worker threads on the qasync loop, as in the app.

Covered: empty states; add / edit / delete through the dialog with key events; field messages
for bad input (negative amount, future date, unknown asset, a sell beyond holdings, a seed
phrase in the note) with everything else kept; CSV preview with a bad line imports nothing;
the P&L table shows unknown basis as such and the method switch changes realised figures (and
is remembered); returns for a range equal LedgerService's; the Timeline's returns label follows
its range; with no price history at all, unrealised P&L is unknown and nothing breaks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.domain.ledger import Transaction, TxKind
from app.ui.models.ledger_models import EXACT_ROLE, PnlColumn, TxColumn

DAY = 86400
NOW = int(time.time())
SEED = " ".join(["abandon"] * 11 + ["about"])
AAPL = "stock:XNAS:AAPL"
ETH = "eip155:1/slip44:60"
TIMEOUT = 15_000


@pytest.fixture
def window(qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any) -> Iterator[Any]:
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    win = MainWindow(TaskRunner())
    qtbot.addWidget(win)
    win.attach(context)
    qtbot.waitUntil(lambda: win.performance_page is not None, timeout=TIMEOUT)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.hide()


def tx(
    kind: TxKind, days_ago: int, amount: str, price: str | None = None, **kw: Any
) -> Transaction:
    return Transaction(
        account=kw.pop("account", "Broker"),
        kind=kind,
        ts=NOW - days_ago * DAY,
        asset=kw.pop("asset", AAPL),
        amount=Decimal(amount),
        price=None if price is None else Decimal(price),
        price_currency=None if price is None else "USD",
        **kw,
    )


def show(qtbot: QtBot, win: Any, page: Any) -> None:
    win.tabs.setCurrentWidget(page)
    qtbot.waitUntil(page.isVisible, timeout=TIMEOUT)


def loaded_ledger(qtbot: QtBot, win: Any) -> Any:
    page = win.ledger_page
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        show(qtbot, win, page)
    return page


def cell(model: Any, row: int, column: int) -> str:
    return str(model.index(row, column).data())


def modal_box(qtbot: QtBot) -> QMessageBox:
    found: list[QMessageBox] = []

    def visible() -> bool:
        found[:] = [w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.isVisible()]  # fmt: skip
        return bool(found)

    qtbot.waitUntil(visible, timeout=TIMEOUT)
    return found[0]


# ------------------------------------------------------------------ empty states


def test_empty_tabs_say_what_to_do(qtbot: QtBot, window: Any) -> None:
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[tabs.index("Timeline") + 1 : tabs.index("Timeline") + 3] == [
        "Transactions",
        "Performance",
    ]
    page = loaded_ledger(qtbot, window)
    assert page.table.shown_placeholder().startswith("No accounts yet.")
    assert "Add account" in page.table.shown_placeholder()
    assert "Import CSV" in page.table.shown_placeholder()
    perf = window.performance_page
    with qtbot.waitSignal(perf.pnl_loaded, timeout=TIMEOUT):
        show(qtbot, window, perf)
    assert "Transactions tab" in perf.pnl_table.shown_placeholder()
    assert window.name_widgets() == []


# ------------------------------------------------------------------ add / edit / delete


def test_add_edit_delete_with_the_keyboard(qtbot: QtBot, window: Any, context: Any) -> None:
    page = loaded_ledger(qtbot, window)
    # An account, through its dialog.
    account = page.add_account()
    qtbot.waitUntil(account.isVisible, timeout=TIMEOUT)
    QTest.keyClicks(account.name, "Broker")
    account.kind.setCurrentIndex(account.kind.findData("broker"))
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        QTest.keyClick(account.name, Qt.Key.Key_Return)
    assert [a.name for a in context.ledger.accounts()] == ["Broker"]
    assert page.table.shown_placeholder().startswith("No transactions yet.")

    # Add: Insert on the table opens the dialog; type, Enter saves.
    page.table.setFocus()
    QTest.keyClick(page.table, Qt.Key.Key_Insert)
    dialog = page.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)
    dialog.kind.setCurrentIndex(dialog.kind.findData(TxKind.BUY))
    dialog.date.setDateTime(dialog.date.dateTime().addDays(-3))
    QTest.keyClicks(dialog.asset, AAPL)
    QTest.keyClicks(dialog.amount, "2.5")
    QTest.keyClicks(dialog.price, "180.10")
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=TIMEOUT)
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        QTest.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert page.model.rowCount() == 1
    assert cell(page.model, 0, TxColumn.AMOUNT) == "2.5"
    (stored,) = context.ledger.transactions()
    assert stored.amount == Decimal("2.5") and stored.price == Decimal("180.10")

    # Edit: F2 on the selected row (the window's F2 edits wallets elsewhere).
    page.table.selectRow(0)
    page.table.setFocus()
    QTest.keyClick(page.table, Qt.Key.Key_F2)
    dialog = page.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)
    assert dialog.amount.text() == "2.5" and dialog.editing is not None
    dialog.amount.selectAll()
    QTest.keyClicks(dialog.amount, "3.125")
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=TIMEOUT)
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        QTest.keyClick(dialog.amount, Qt.Key.Key_Return)
    assert cell(page.model, 0, TxColumn.AMOUNT) == "3.125"
    assert context.ledger.transactions()[0].amount == Decimal("3.125")

    # Copy: exact figures.
    page.table.selectRow(0)
    text = page.copy_selection()
    assert "\t3.125\t180.1 USD\t" in text

    # Delete asks first; Cancel keeps it, Yes deletes it.
    page.table.selectRow(0)
    page.table.setFocus()
    QTest.keyClick(page.table, Qt.Key.Key_Delete)
    box = modal_box(qtbot)
    assert "Delete the buy of 3.125" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(50)
    assert len(context.ledger.transactions()) == 1
    page.table.selectRow(0)
    QTest.keyClick(page.table, Qt.Key.Key_Delete)
    box = modal_box(qtbot)
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert page.model.rowCount() == 0 and context.ledger.transactions() == []


def test_bad_input_is_said_at_its_field_and_nothing_typed_is_lost(
    qtbot: QtBot, window: Any, context: Any
) -> None:
    context.ledger.add_account("Broker", "broker")
    context.ledger.add(tx(TxKind.BUY, 10, "2", "100"))
    page = loaded_ledger(qtbot, window)
    dialog = page.add_transaction()
    qtbot.waitUntil(dialog.isVisible, timeout=TIMEOUT)
    dialog.kind.setCurrentIndex(dialog.kind.findData(TxKind.SELL))
    QTest.keyClicks(dialog.asset, "stock:XNAS:")
    QTest.keyClicks(dialog.amount, "-5")
    QTest.keyClicks(dialog.price, "120")
    QTest.keyClicks(dialog.note, "sold some")
    dialog.date.setDateTime(dialog.date.dateTime().addDays(3))
    problems = dialog.problems()
    assert "must not be negative" in problems["amount"]
    assert "in the future" in problems["date"]
    assert "EXCHANGE:TICKER" in problems["asset"]
    dialog.asset.setText("FOO")
    assert dialog.problems()["asset"].startswith("Unknown asset 'FOO': write its full id")
    assert not dialog.save_button.isEnabled()
    assert dialog.note.text() == "sold some" and dialog.price.text() == "120"

    # Fixed one by one; then a sell of more than is held is refused at the amount.
    dialog.date.setDateTime(dialog.date.dateTime().addDays(-4))
    dialog.asset.setText(AAPL)
    dialog.amount.setText("5")
    qtbot.waitUntil(lambda: "takes more" in dialog.problems().get("amount", ""), timeout=TIMEOUT)
    assert set(dialog.problems()) == {"amount"}
    assert not dialog.save_button.isEnabled()
    assert dialog.asset.text() == AAPL and dialog.note.text() == "sold some"

    # A seed phrase in the note is wiped at once, with a warning; the rest stays.
    dialog.amount.setText("1")
    dialog.note.setText(SEED)
    assert dialog.note.text() == ""
    assert "never" in dialog.problems()["note"].lower()
    assert dialog.amount.text() == "1" and dialog.price.text() == "120"
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=TIMEOUT)
    dialog.reject()
    assert len(context.ledger.transactions()) == 1


# ------------------------------------------------------------------ CSV


def test_import_preview_with_a_bad_line_imports_nothing(
    qtbot: QtBot, window: Any, context: Any, tmp_path: Path
) -> None:
    from app.services.ledger_csv import GENERIC_COLUMNS

    page = loaded_ledger(qtbot, window)
    day = lambda n: datetime.fromtimestamp(NOW - n * DAY, UTC).strftime("%Y-%m-%d")  # noqa: E731
    header = ",".join(GENERIC_COLUMNS)
    good = f"{day(30)},Broker,buy,{AAPL},10,100,USD,,,,,"
    bad = f"{day(20)},Broker,buy,{AAPL},-3,100,USD,,,,,"
    path = tmp_path / "in.csv"
    path.write_text(f"{header}\n{good}\n{bad}\n", encoding="utf-8")
    dialog = page.import_csv()
    dialog.create_accounts.setChecked(True)
    with qtbot.waitSignal(dialog.preview_model.modelReset, timeout=TIMEOUT):
        dialog.load_file(str(path))
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=TIMEOUT)
    lines = dialog.error_lines()
    assert [n for n, _m in lines] == [3] and "negative" in lines[0][1]
    assert not dialog.import_button.isEnabled()
    assert "nothing will be imported" in dialog.summary.text()
    dialog.run_import()  # refused: the preview has a bad line
    assert context.ledger.transactions() == [] and context.ledger.accounts() == []

    path.write_text(f"{header}\n{good}\n", encoding="utf-8")
    dialog.report = None
    dialog.load_file(str(path))
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=TIMEOUT)
    assert dialog.preview_model.rowCount() == 1 and dialog.error_lines() == []
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        dialog.import_button.click()
    assert len(context.ledger.transactions()) == 1
    assert page.model.rowCount() == 1

    out = tmp_path / "out.csv"
    with qtbot.waitSignal(page.message, timeout=TIMEOUT):
        page.export_csv(str(out), "generic")
    assert AAPL in out.read_text(encoding="utf-8")


# ------------------------------------------------------------------ P&L and returns


def seed_pnl(context: Any) -> None:
    ledger = context.ledger
    ledger.add_account("Broker", "broker")
    ledger.add_account("Cold", "cold-storage")
    ledger.add(tx(TxKind.BUY, 400, "10", "100"))
    ledger.add(tx(TxKind.BUY, 300, "10", "200"))
    ledger.add(tx(TxKind.SELL, 100, "5", "250"))
    # Coins deposited without a price: unknown basis; a later sale prices the asset.
    ledger.add(tx(TxKind.DEPOSIT, 200, "1", asset=ETH, account="Cold"))
    ledger.add(tx(TxKind.SELL, 50, "0.5", "3000", asset=ETH, account="Cold"))


def loaded_performance(qtbot: QtBot, win: Any) -> Any:
    perf = win.performance_page
    with (
        qtbot.waitSignal(perf.pnl_loaded, timeout=TIMEOUT),
        qtbot.waitSignal(perf.returns_loaded, timeout=TIMEOUT),
    ):
        show(qtbot, win, perf)
    return perf


def row_of(model: Any, account: str, asset: str) -> int:
    for i, r in enumerate(model.rows()):
        if r.account == account and r.asset == asset:
            return i
    raise AssertionError(f"no row for {account} {asset}")


def test_pnl_shows_unknown_basis_and_the_method_switch_changes_realised(
    qtbot: QtBot, window: Any, context: Any
) -> None:
    seed_pnl(context)
    perf = loaded_performance(qtbot, window)
    model = perf.pnl_model
    eth = row_of(model, "Cold", ETH)
    assert cell(model, eth, PnlColumn.COST_BASIS) == "unknown"
    assert cell(model, eth, PnlColumn.REALISED) == "unknown"
    assert "unknown cost basis" in str(
        model.index(eth, PnlColumn.REALISED).data(Qt.ItemDataRole.ToolTipRole)
    )
    aapl = row_of(model, "Broker", AAPL)
    assert model.index(aapl, PnlColumn.REALISED).data(EXACT_ROLE) == "750"  # FIFO: 5 x (250-100)
    assert model.rows()[-1].total  # the grand total is the last row

    with qtbot.waitSignal(perf.pnl_loaded, timeout=TIMEOUT):
        perf.method.setCurrentIndex(perf.method.findData("average"))
    aapl = row_of(model, "Broker", AAPL)
    assert model.index(aapl, PnlColumn.REALISED).data(EXACT_ROLE) == "500"  # 5 x (250-150)
    assert context.settings.get("ledger.cost_basis") == "average"
    service = context.ledger.pnl(method="average")
    (h,) = [h for h in service.holdings if h.asset == AAPL]
    assert h.realised == Decimal(500)

    with qtbot.waitSignal(perf.pnl_loaded, timeout=TIMEOUT):
        perf.scope.setCurrentIndex(perf.scope.findData("pooled"))
    assert context.settings.get("ledger.basis_scope") == "pooled"

    perf.rows_box.setCurrentIndex(1)  # by account: shown at once, from the same report
    assert [r.account for r in model.rows()] == ["Broker", "Cold", ""]
    assert perf.pnl_table.isColumnHidden(PnlColumn.ASSET)
    perf.pnl_table.selectRow(0)
    assert perf.copy_pnl().splitlines()[1].startswith("Broker\t\t\t")


def test_returns_for_a_range_match_the_service(qtbot: QtBot, window: Any, context: Any) -> None:
    seed_pnl(context)
    perf = loaded_performance(qtbot, window)
    for key in ("1y", "all"):
        with qtbot.waitSignal(perf.returns_loaded, timeout=TIMEOUT):
            perf.set_preset(key)
        start, end = perf.date_range()
        rows = perf.returns_model.rows()
        assert [r.name for r in rows] == ["", "Broker", "Cold"]
        for r in rows:
            expected = context.ledger.returns(account=r.name or None, start=start, end=end)
            assert r.figures == expected.figures
    # Typed dates: the presets let go, the figures follow.
    with qtbot.waitSignal(perf.returns_loaded, timeout=TIMEOUT):
        perf.from_date.setDate(perf.to_date.date().addDays(-200))
    assert not any(b.isChecked() for b in perf.preset_buttons.values())
    start, end = perf.date_range()
    assert start is not None and (end - start).days == 200
    total = perf.returns_model.rows()[0].figures
    assert total == context.ledger.returns(start=start, end=end).figures
    assert "TWR" in perf.copy_returns().splitlines()[0]


def test_the_timeline_label_follows_the_range(qtbot: QtBot, window: Any, context: Any) -> None:
    from app.domain.balances import SourceState
    from app.domain.snapshot import Snapshot, SnapshotHolding
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.ui.performance_page import range_returns, returns_label

    seed_pnl(context)
    store = SqlSnapshotStore(context.engine)
    for i, t in enumerate(range(NOW - 500 * DAY, NOW, 10 * DAY)):
        price = Decimal(2000 + i)
        store.write(Snapshot(t, "USD", (SnapshotHolding(
            "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ETH, "ETH", 18, 10**18, price,
            price, SourceState.OK, t, ""),), ()))  # fmt: skip
    window.update_timeline()
    page = window.timeline_page
    with qtbot.waitSignal(page.net_worth_loaded, timeout=TIMEOUT):
        show(qtbot, window, page)
    qtbot.waitUntil(lambda: page.returns_label.isVisible(), timeout=TIMEOUT)
    first = page.returns_label.text()
    assert first.startswith("Ledger: TWR")
    page.set_range("30d")
    qtbot.waitUntil(lambda: page.returns_label.text() != first, timeout=TIMEOUT)
    lo, hi = page.visible_range()
    assert page.returns_label.text() == returns_label(
        range_returns(context.ledger, lo, hi, time.time())
    )


def test_without_any_price_history_unrealised_is_unknown(
    qtbot: QtBot, window: Any, context: Any
) -> None:
    """The down case: no price store data at all, a coin deposited without a price."""
    context.ledger.add_account("Cold", "cold-storage")
    context.ledger.add(tx(TxKind.DEPOSIT, 30, "2", asset=ETH, account="Cold"))
    perf = loaded_performance(qtbot, window)
    model = perf.pnl_model
    eth = row_of(model, "Cold", ETH)
    assert cell(model, eth, PnlColumn.MARKET_VALUE) == "unknown"
    assert cell(model, eth, PnlColumn.UNREALISED) == "unknown"
    assert cell(model, eth, PnlColumn.COST_BASIS) == "unknown"
    assert "unknown" in perf.summary.text()
    total = perf.returns_model.rows()[0]
    assert total.figures is not None  # nothing priced: a flat range, no crash
    assert "no price" in " ".join(total.notes)


def test_exact_sort_of_amounts(qtbot: QtBot, window: Any, context: Any) -> None:
    """Sorting is by exact values: 10 after 9.5, not as text."""
    context.ledger.add_account("Broker", "broker")
    for days, amount in ((9, "9.5"), (8, "10"), (7, "0.000001"), (6, "100")):
        context.ledger.add(tx(TxKind.BUY, days, amount, "1"))
    page = loaded_ledger(qtbot, window)
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        page.table.sortByColumn(TxColumn.AMOUNT, Qt.SortOrder.AscendingOrder)
    amounts = [r.tx.amount for r in page.model.rows()]
    assert amounts == sorted(amounts)
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        page.text_filter.setText("9.5")
    assert [r.tx.amount for r in page.model.rows()] == [Decimal("9.5")]
    assert page.count_label.text() == "1 of 4 transactions"


def test_models_pass_the_model_tester(qtmodeltester: Any, context: Any) -> None:
    from app.ui.models.ledger_models import (
        PnlModel,
        ReturnsModel,
        ReturnsRow,
        TransactionsModel,
        pnl_rows,
        tx_rows,
    )

    seed_pnl(context)
    txs = TransactionsModel()
    txs.set_rows(tx_rows(context.ledger.transactions()))
    qtmodeltester.check(txs)
    pnl = PnlModel()
    pnl.set_rows(pnl_rows(context.ledger.pnl(), False), False)
    qtmodeltester.check(pnl)
    pnl.sort(PnlColumn.REALISED, Qt.SortOrder.DescendingOrder)
    assert pnl.rows()[-1].total  # the total stays last
    returns = ReturnsModel()
    figures = context.ledger.returns().figures
    returns.set_rows([ReturnsRow("", figures), ReturnsRow("Cold", None, "No rate.")], "USD")
    qtmodeltester.check(returns)


def test_remove_an_account_with_its_transactions_after_asking(
    qtbot: QtBot, window: Any, context: Any
) -> None:
    seed_pnl(context)
    page = loaded_ledger(qtbot, window)
    assert page.accounts.count() == 2
    page.accounts.setCurrentRow(1)  # Cold
    assert page.selected_account() == "Cold"
    box = page.remove_account()
    assert box is not None
    assert "2 transactions" in box.informativeText()
    with qtbot.waitSignal(page.arranged, timeout=TIMEOUT):
        box.button(QMessageBox.StandardButton.Yes).click()
    assert [a.name for a in context.ledger.accounts()] == ["Broker"]
    assert {t.account for t in context.ledger.transactions()} == {"Broker"}
    assert page.accounts.count() == 1 and page.count_label.text() == "3 transactions"


def test_the_timeline_label_is_hidden_without_a_ledger(
    qtbot: QtBot, window: Any, context: Any
) -> None:
    from app.ui.performance_page import timeline_text

    assert timeline_text(context.ledger, NOW - 30 * DAY, NOW, time.time()) == ""
    assert not window.timeline_page.returns_label.isVisible()
