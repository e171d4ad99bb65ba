"""The Yield tab: the model (qtmodeltester), hostile symbols as plain text, the portfolio line,
the empty state, and the report built off the GUI thread."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.domain.balances import SourceState
from app.domain.rates import PositionRate, RateSide
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.yields import YieldReport, YieldService
from app.ui.tasks import TaskRunner
from app.ui.yield_page import YieldColumn, YieldModel, YieldPage, summary_text

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "eip155:1/erc20:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
NAMES = {"eip155:1": "Ethereum"}


@pytest.fixture
def loop(qasync_loop: object) -> object:
    return qasync_loop


def snapshot(symbol: str = "USDC") -> Snapshot:
    holdings = (
        SnapshotHolding(f"eip155:1:{ADDR}", USDC, symbol, 6, 10_000 * 10**6, Decimal(1),
                        Decimal(10_000), SourceState.OK, 0, "aave-v3:supplied"),
        SnapshotHolding(f"eip155:1:{ADDR}", WETH, "WETH", 18, -(10**18), Decimal(2000),
                        Decimal(-2000), SourceState.OK, 0, "aave-v3:borrowed"),
        SnapshotHolding(f"eip155:1:{ADDR}", USDC, symbol, 6, 5 * 10**6, Decimal(1), Decimal(5),
                        SourceState.OK, 0, ""),  # a plain balance: no rate, not shown
    )  # fmt: skip
    rates = (
        PositionRate("eip155:1", USDC, "aave-v3:supplied", RateSide.SUPPLY, Decimal("0.05"),
                     Decimal("0.0488"), "aave-v3"),
        PositionRate("eip155:1", WETH, "aave-v3:borrowed", RateSide.BORROW, Decimal("0.03"),
                     None, "aave-v3"),
    )  # fmt: skip
    return Snapshot(100, "EUR", holdings, (), rates=rates)


def test_model_passes_modeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = YieldModel()
    model.set_report(YieldService().report(snapshot()), NAMES, {ADDR: "Ledger"})
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    texts = {model.index(r, YieldColumn.POSITION).data(): r for r in range(2)}
    row = texts["Aave v3 · Supplied"]
    assert model.index(row, YieldColumn.APY).data() == "5.00 %"
    assert model.index(row, YieldColumn.WALLET).data() == "Ledger"
    assert model.index(row, YieldColumn.YEARLY).data() == "+500.00 EUR"
    debt = texts["Aave v3 · Borrowed"]
    assert model.index(debt, YieldColumn.APY).data() == "−3.00 %"
    assert model.index(debt, YieldColumn.REALISED).data() == "—"


def test_portfolio_line_and_hostile_symbol(qtbot: QtBot) -> None:
    page = YieldPage()
    qtbot.addWidget(page)
    page.show_snapshot(snapshot("<b>USDC</b>"), NAMES, {})
    assert not page.is_empty
    assert page.summary.textFormat().name == "PlainText"
    assert page.summary.text() == (
        "Portfolio yield: 5.50 % a year, earning 10,000.00 EUR, owing 2,000.00 EUR, "
        "about +440.00 EUR a year at today's rates."
    )
    symbols = [page.model.index(r, YieldColumn.ASSET).data() for r in range(2)]
    assert "<b>USDC</b>" in symbols  # shown as the literal text
    tip = page.model.index(symbols.index("<b>USDC</b>"), YieldColumn.APY).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert "&lt;b&gt;" in tip and "<b>USDC" not in tip


def test_empty_state(qtbot: QtBot) -> None:
    page = YieldPage()
    qtbot.addWidget(page)
    page.show_snapshot(None, NAMES, {})
    assert page.is_empty and page.summary.isHidden()
    assert "No interest-bearing positions" in page.empty.text()
    assert summary_text(YieldService().report(None)) == ""


def test_report_is_built_off_the_gui_thread(qtbot: QtBot, loop: object) -> None:
    threads: list[str] = []

    def build(snap: Snapshot | None) -> YieldReport:
        threads.append(threading.current_thread().name)
        return YieldService().report(snap)

    page = YieldPage(TaskRunner(), build)
    qtbot.addWidget(page)
    page.show_snapshot(snapshot(), NAMES, {})
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    assert threads and threads[0] != threading.main_thread().name
    assert page.status.isHidden()
