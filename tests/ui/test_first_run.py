"""The first-run page on the Portfolio tab: every pasted line checked in words, secrets wiped,
activity found on the chains (a real anvil node; every other network a dead local port), the
first refresh started by itself, and the offline case adding all the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.bootstrap import AppContext
from app.chains.registry import ChainRegistry
from app.config import Paths
from app.domain.addresses import to_checksum_address
from app.services.scheduler import RefreshOutcome
from app.ui.application import ChainfolioApp
from app.ui.first_run import FirstRunPage
from app.ui.main_window import MainWindow
from app.ui.tasks import TaskRunner
from tests.integration.evm.anvil import Anvil, running
from tests.support.fakes import MemorySecrets
from tests.ui.test_refresh_pipeline_ui import offline_setup, shutdown, start

CHAIN_ID = 31_779
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
FRESH = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"
SEED = "abandon ability able about above absent absorb abstract absurd abuse access accident"


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    yield from running(CHAIN_ID, multicall=False)


def with_anvil(data_dir: Path, anvil: Anvil, *, dead_networks: int = 2) -> Paths:
    """Built-in networks switched off except ``dead_networks`` of them (at a dead local port);
    the anvil node as a custom network."""
    paths = offline_setup(data_dir)
    registry = ChainRegistry(paths.config_dir / "networks.toml", MemorySecrets())
    evm = [s for s in registry.all() if s.family.value == "evm"]
    for spec in registry.all():
        if spec not in evm[:dead_networks]:
            registry.set_enabled(str(spec.chain_id), False)
    registry.add(anvil.chain_id, "Local anvil", "LETH", [anvil.url])
    return paths


def page_for(qtbot: QtBot, context: AppContext) -> FirstRunPage:
    page = FirstRunPage(TaskRunner())
    qtbot.addWidget(page)
    page.attach(context.wallets.check, None, context.wallets.add_many)
    page.show()
    return page


def cell(page: FirstRunPage, row: int, column: int) -> str:
    item = page.results.item(row, column)
    return item.text() if item is not None else ""


def test_each_line_says_what_is_wrong_with_it(qtbot: QtBot, context: AppContext) -> None:
    page = page_for(qtbot, context)
    bad_checksum = ADDR.replace("aAeb", "aaeb")
    page.editor.setPlainText(f"{ADDR}\n\n{bad_checksum}\nnot-an-address\n{SOL}\n{ADDR.lower()}\n")
    assert [c.line for c in page.checks] == [1, 3, 4, 5, 6]
    assert cell(page, 0, 1) == "✓ EVM address" and cell(page, 0, 0) == ADDR
    assert "EIP-55 checksum" in cell(page, 1, 1)
    assert "Not a recognised address" in cell(page, 2, 1)
    assert cell(page, 3, 1) == "✓ Solana address"
    assert cell(page, 4, 1) == "The same as line 1: remove one."
    assert not page.add_button.isEnabled()
    assert page.feedback.text().startswith("Line 3: This EVM address has a wrong EIP-55")
    assert "3 lines need fixing: 3, 4, 6" in page.feedback.text()

    page.editor.setPlainText(f"{ADDR}\n{SOL}\nvitalik.eth")
    assert page.add_button.isEnabled() and page.add_button.text() == "Add 3 wallets"
    assert cell(page, 2, 1) == "ENS name: looked up when you add it"
    assert "3 addresses ready to add" in page.feedback.text()


@pytest.mark.parametrize(
    "secret",
    [
        "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        SEED,
        SEED.replace(" ", "\n"),  # one word per line is still a seed phrase
    ],
)
def test_a_pasted_secret_is_wiped_at_once(qtbot: QtBot, context: AppContext, secret: str) -> None:
    page = page_for(qtbot, context)
    page.editor.setPlainText(f"{ADDR}\n{secret}")
    assert page.editor.toPlainText() == ""
    assert not page.editor.document().isUndoAvailable()  # not even in the undo history
    assert page.checks == [] and not page.add_button.isEnabled()
    assert "was not saved" in page.feedback.text() and secret[:20] not in page.feedback.text()
    assert page.feedback.text().startswith("⚠ The pasted text looks like a")


def test_the_portfolio_tab_is_the_first_run_page_until_a_wallet_is_watched(
    qtbot: QtBot, context: AppContext, qasync_loop: object
) -> None:
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.show()
    assert window.portfolio_stack.currentWidget() is window.holdings_page  # not yet attached
    window.attach(context)
    assert window.tabs.tabText(0) == "Portfolio"
    assert window.portfolio_stack.currentWidget() is window.first_run
    assert window.focusWidget() is window.first_run.editor  # type straight away
    # The Wallets tab's empty state leads here for a list of addresses.
    window.tabs.setCurrentWidget(window.wallets_page)
    window.wallets_page.empty.findChild(QPushButton, "pasteAddresses").click()
    assert window.tabs.currentWidget() is window.portfolio_stack
    assert window.focusWidget() is window.first_run.editor
    # The status-bar progress has room for its longest text (it was squeezed and clipped).
    metrics = window.progress.fontMetrics()
    assert window.progress.width() > metrics.horizontalAdvance("Reading chains… 100/100")
    qtbot.keyClicks(window.first_run.editor, SOL)
    window.first_run.add_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 1, timeout=5000)
    # No refresh service attached here: nothing to wait for, the portfolio shows at once.
    assert window.portfolio_stack.currentWidget() is window.holdings_page
    assert [w.address for w in context.wallets.list()] == [SOL]


def outcomes_of(app: ChainfolioApp) -> list[RefreshOutcome]:
    assert app.scheduler is not None
    seen: list[RefreshOutcome] = []
    app.scheduler.subscribe(on_outcome=seen.append)
    return seen


@pytest.mark.integration
def test_activity_is_found_and_the_first_refresh_starts_by_itself(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, anvil: Anvil
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, with_anvil(data_dir, anvil))
    window, page = app.window, app.window.first_run
    qtbot.addWidget(window)
    window.show()
    outcomes = outcomes_of(app)
    sender = to_checksum_address(anvil.sender)
    page.editor.setPlainText(f"{anvil.sender}\n{FRESH}\n{SOL}")
    assert cell(page, 0, 2) == "Checking the networks…"
    qtbot.waitUntil(lambda: sender in page.activity and FRESH in page.activity, timeout=20_000)
    used = cell(page, 0, 2)
    assert used.startswith("Used on Local anvil; could not check ")  # two dead networks
    assert cell(page, 1, 2).startswith("No activity found on the 1 network checked; could not")
    assert cell(page, 2, 2) == "Read at the first refresh"  # Solana: no probe
    for text in (used, cell(page, 1, 2)):
        assert "Error" not in text and "Exception" not in text

    page.add_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 3, timeout=10_000)
    assert window.portfolio_stack.currentWidget() is page  # the first refresh's progress
    assert page.stack.currentIndex() == 1 and page.reading_title.text() == "Reading your 3 wallets…"
    qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)  # started by itself
    assert window.portfolio_stack.currentWidget() is window.holdings_page
    assert outcomes[0].snapshot is not None
    account = f"eip155:{CHAIN_ID}:{sender}"
    [held] = [h for h in outcomes[0].snapshot.holdings if h.wallet.lower() == account.lower()]
    assert held.raw == int(anvil.rpc("eth_getBalance", anvil.sender, "latest"), 16)
    shutdown(qtbot, app)


def test_offline_the_addresses_still_add_and_ens_says_why_in_words(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, offline_setup(data_dir))  # every network at a dead local port
    window, page = app.window, app.window.first_run
    qtbot.addWidget(window)
    window.show()
    outcomes = outcomes_of(app)
    page.editor.setPlainText(f"{ADDR}\nalice.eth")
    qtbot.waitUntil(lambda: ADDR in page.activity, timeout=30_000)
    assert cell(page, 0, 2) == "Could not check where it is used: no network answered."
    page.add_button.click()
    qtbot.waitUntil(lambda: "Nothing was added" in page.feedback.text(), timeout=30_000)
    message = page.feedback.text()
    assert "line 2: Could not look up alice.eth: Ethereum could not be reached." in message
    assert "Error" not in message and "(" not in message.split("line 2:")[1]
    assert page.add_button.isEnabled() and window.wallets_model.rowCount() == 0

    page.editor.setPlainText(ADDR)  # without the name: adds, offline
    page.add_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)
    assert not outcomes[0].ok  # and the portfolio says so instead of spinning forever
    assert window.portfolio_stack.currentWidget() is window.holdings_page
    shutdown(qtbot, app)


def test_the_first_wallet_added_from_the_wallets_tab_starts_a_refresh(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, offline_setup(data_dir, enabled=False))
    window = app.window
    qtbot.addWidget(window)
    window.show()
    outcomes = outcomes_of(app)
    window.tabs.setCurrentWidget(window.wallets_page)
    dialog = window.add_wallet()
    assert dialog is not None
    dialog.address.setText(ADDR)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=30_000)
    assert window.wallets_model.rowCount() == 1
    # A second wallet is not a first one: no refresh of its own.
    second = window.add_wallet()
    assert second is not None
    second.address.setText(SOL)
    second.ok_button.click()
    qtbot.waitUntil(lambda: window.wallets_model.rowCount() == 2, timeout=10_000)
    assert len(outcomes) == 1 and not app.context.refresh.running  # type: ignore[union-attr]
    shutdown(qtbot, app)
