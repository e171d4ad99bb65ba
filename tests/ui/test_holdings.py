"""Portfolio tab: holdings model, summary header, filters, and Refresh now with a fake service."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from pytestqt.qtbot import QtBot

from app.bootstrap import AppContext
from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.services.refresh import RefreshProgress
from app.ui.holdings_page import HoldingsPage
from app.ui.main_window import MainWindow
from app.ui.models.holdings_model import HoldingColumn, HoldingsModel
from app.ui.tasks import TaskRunner

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
NAMES = {"eip155:1": "Ethereum", "eip155:8453": "Base"}


def holding(
    chain: str, symbol: str, raw: int, price: str, state: SourceState = SourceState.OK
) -> SnapshotHolding:
    p = Decimal(price)
    value = Decimal(raw).scaleb(-18) * p
    return SnapshotHolding(
        f"{chain}:{ADDR}", f"{chain}/slip44:60", symbol, 18, raw, p, value, state, 100
    )


def snapshot() -> Snapshot:
    return Snapshot(
        1000,
        "USD",
        (
            holding("eip155:1", "ETH", 2 * 10**18, "2000"),
            holding("eip155:8453", "<b>ETH</b>", 10**18, "2000", SourceState.STALE),
            holding("eip155:1", "DUST", 10**14, "1"),
        ),
        (
            SourceStatus("eip155:1", SourceState.OK, None, 1000),
            SourceStatus("eip155:8453", SourceState.STALE, "node timed out", 100),
        ),
    )


def test_holdings_model_passes_modeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = HoldingsModel()
    model.set_snapshot(snapshot(), NAMES, {ADDR: "Ledger"})
    qtmodeltester.check(model)
    assert model.index(0, HoldingColumn.VALUE).data() == "4,000.00 USD"
    assert model.index(0, HoldingColumn.SHARE).data() == "66.7 %"
    assert model.index(1, HoldingColumn.ASSET).data() == "<b>ETH</b>  ⚠ stale"  # plain text
    assert model.index(0, HoldingColumn.WALLET).data() == "Ledger"


def test_summary_stale_warning_and_filters(qtbot: QtBot) -> None:
    page = HoldingsPage()
    qtbot.addWidget(page)
    page.show_snapshot(snapshot(), NAMES, {}, now=1000 + 300)
    assert page.total_label.text() == "6,000.00 USD"
    assert "5 min ago" in page.updated_label.text()
    assert not page.stale_label.isHidden() and "Base" in page.stale_label.text()
    assert "2,000.00 USD" in page.stale_label.text()
    assert page.proxy.rowCount() == 2  # dust hidden
    page.hide_small.setChecked(False)
    assert page.proxy.rowCount() == 3
    page.filter.setText("base")
    assert page.proxy.rowCount() == 1
    page.show_snapshot(None, NAMES, {})
    assert page.total_label.text() == "—" and page.stale_label.isHidden()


class FakeRefresher:
    def __init__(self) -> None:
        self.listeners: list = []  # type: ignore[type-arg]
        self.running = False
        self.calls = 0

    def subscribe(self, listener) -> None:  # type: ignore[no-untyped-def]
        self.listeners.append(listener)

    async def refresh(self) -> Snapshot:
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
        return snapshot()


def test_refresh_now_updates_the_portfolio(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.show()
    window.attach(context)
    assert not window.act_refresh.isEnabled()  # nothing to refresh with yet
    fake = FakeRefresher()
    window.set_refresher(fake, NAMES)  # type: ignore[arg-type]
    window.show_snapshot(None)
    assert window.act_refresh.isEnabled() and window.act_refresh.shortcut().toString() == "Ctrl+R"
    assert window.tabs.tabText(0) == "Portfolio"
    window.act_refresh.trigger()
    qtbot.waitUntil(lambda: window.holdings_page.model.rowCount() == 3, timeout=5000)
    assert fake.calls == 1
    assert window.holdings_page.total_label.text() == "6,000.00 USD"
    assert window.progress.isHidden()
