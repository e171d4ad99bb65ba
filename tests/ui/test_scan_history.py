"""Wallets → Scan history… through the real window, AppContext and SQLite file, with fake
history sources in place of the chains: progress with an estimate, the window responsive while
the scan waits on the network, Stop keeps what was read, the Transactions tab shows it, and a
scan where every network fails says so plainly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import app.bootstrap
from app.domain.addresses import AddressFamily
from app.domain.errors import ChainfolioError
from app.domain.model import Wallet
from app.services.onchain_history import ChainSource
from app.storage.onchain_store import SqlOnchainStore
from app.storage.wallet_store import SqlWalletRepository
from tests.unit.test_onchain_history_service import BATCHES, CHAIN, A, B, FakeSource

TIMEOUT = 15_000


def use_sources(monkeypatch: pytest.MonkeyPatch, *sources: FakeSource) -> None:
    monkeypatch.setattr(
        app.bootstrap,
        "history_sources",
        lambda _ctx: [
            ChainSource(
                s.chain, "Ethereum" if s.chain == CHAIN else "Optimism", "evm", lambda s=s: s
            )
            for s in sources
        ],
    )


@pytest.fixture
def window(qapp: QApplication, qtbot: QtBot, qasync_loop: object, context: Any) -> Iterator[Any]:
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    repo = SqlWalletRepository(context.engine)
    repo.add(Wallet(A, AddressFamily.EVM, "Main"))
    repo.add(Wallet(B, AddressFamily.EVM, "Cold"))
    win = MainWindow(TaskRunner())
    qtbot.addWidget(win)
    win.attach(context)
    qtbot.waitUntil(lambda: win.ledger_page is not None, timeout=TIMEOUT)
    win.resize(1100, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    dialog = getattr(win, "scan_dialog", None)
    if dialog is not None and dialog.running:
        dialog.cancel()
        qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT)
    win.hide()


def test_scan_shows_progress_stays_responsive_and_stop_keeps_what_was_read(
    window: Any, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, context: Any
) -> None:
    held = asyncio.Event()
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES, hold=held))
    assert window.act_scan_history in window.menuBar().actions()[1].menu().actions()
    window.act_scan_history.trigger()
    dialog = window.scan_dialog
    qtbot.waitExposed(dialog)
    dialog.start_button.click()
    qtbot.waitUntil(held.is_set, timeout=TIMEOUT)  # both batches stored, the source waits
    qtbot.waitUntil(lambda: "movements stored so far" in dialog.status.text(), timeout=TIMEOUT)
    assert dialog.bar.value() == dialog.bar.maximum()  # 20 of 20 blocks
    assert dialog.eta.text() == "Less than a minute left"
    assert dialog.running and not dialog.start_button.isEnabled()
    # the window answers while the scan waits on the network
    window.tabs.setCurrentWidget(window.ledger_page)
    qtbot.waitUntil(window.ledger_page.isVisible, timeout=TIMEOUT)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT)
    assert dialog.status.text() == "Stopped: what was read is kept."
    assert "Ledger: 3 transaction(s) added" in dialog.summary.text()
    assert SqlOnchainStore(context.engine).cursors(CHAIN) == {A: "20", B: "20"}
    model = window.ledger_page.model  # the Transactions tab reloaded after the scan
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=TIMEOUT)


def test_every_network_failing_is_said_plainly(
    window: Any, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sources(monkeypatch, FakeSource(CHAIN, (), fail=ChainfolioError("the node refused")))
    dialog = window.scan_history()
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not dialog.running and dialog.start_button.isEnabled(), timeout=TIMEOUT)
    assert "No network could be scanned: Ethereum: the node refused" in dialog.status.text()
    assert "Error" not in dialog.status.text()
    assert dialog.start_button.text() == "Scan again"


def test_one_network_and_one_wallet_can_be_chosen(
    window: Any, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    eth, op = FakeSource(CHAIN, BATCHES), FakeSource("eip155:10", ())
    use_sources(monkeypatch, eth, op)
    dialog = window.scan_history()
    qtbot.waitUntil(lambda: dialog.chain_box.count() == 3, timeout=TIMEOUT)  # read in a worker
    assert [dialog.wallet_box.itemText(i) for i in range(dialog.wallet_box.count())] == [
        "All wallets", "Main (0x5aAe…eAed)", "Cold (0xfB69…d359)"
    ]  # fmt: skip
    dialog.chain_box.setCurrentIndex(dialog.chain_box.findData("eip155:10"))
    dialog.wallet_box.setCurrentIndex(dialog.wallet_box.findData(B))
    dialog.start_button.click()
    assert not dialog.chain_box.isEnabled()  # fixed while the scan runs
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT)
    assert eth.requests == [] and [r.wallet for r in op.requests] == [B]
    assert "Optimism: 0 new movement(s)" in dialog.summary.text()
    assert dialog.chain_box.isEnabled()
