"""Keyboard and screen readers: every control of the window has an accessible name and is
reached by Tab; add a wallet, let it refresh and read the total with key events only, against
a real anvil node (every other network switched off; prices: a manual price set on the CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.cli import main as cli
from app.services.scheduler import RefreshOutcome
from app.ui.accessibility import is_interactive
from app.ui.application import ChainfolioApp
from app.ui.models.holdings_format import money_text
from tests.integration.evm.anvil import Anvil, running
from tests.ui.test_first_run import with_anvil
from tests.ui.test_refresh_pipeline_ui import offline_setup, shutdown, start

CHAIN_ID = 31_781
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    yield from running(CHAIN_ID, multicall=False)


def describe(widget: QWidget) -> str:
    return f"{type(widget).__name__}({widget.objectName() or widget.parentWidget()!r})"


def focused(qapp: QApplication) -> QWidget:
    widget = qapp.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(
    qapp: QApplication, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key press where the focus is, as a person's keyboard sends it."""
    QTest.keyClick(focused(qapp), key, modifier)


def open_window(qapp, qtbot: QtBot, app: ChainfolioApp) -> None:  # type: ignore[no-untyped-def]
    window = app.window
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def reachable(qapp: QApplication, start_at: QWidget, presses: int) -> list[QWidget]:
    """The widgets Tab lands on, in order, starting at ``start_at``."""
    start_at.setFocus(Qt.FocusReason.TabFocusReason)
    seen: list[QWidget] = []
    for _ in range(presses):
        press(qapp, Qt.Key.Key_Tab)
        widget = focused(qapp)
        if widget in seen:
            break
        seen.append(widget)
    return seen


def test_every_control_has_a_name_and_tab_reaches_it(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, offline_setup(data_dir, enabled=False))
    open_window(qapp, qtbot, app)
    window = app.window
    assert window.portfolio_stack.currentWidget() is window.first_run
    for index in range(window.tabs.count()):  # pages build some controls when first shown
        window.tabs.setCurrentIndex(index)
        qtbot.wait(10)
    window.tabs.setCurrentIndex(0)
    assert [describe(w) for w in window.name_widgets()] == []
    unnamed = [
        describe(w)
        for w in window.findChildren(QWidget)
        if is_interactive(w) and not w.accessibleName()
    ]
    assert unnamed == []
    # Names chosen for what a control does, not only its label:
    assert window.first_run.editor.accessibleName() == "Addresses to watch, one per line"
    assert window.first_run.add_button.accessibleName() == "Add the checked addresses"
    assert window.holdings_page.total_label.accessibleName() == "Net worth"

    # First run: editor -> Add -> one at a time (the Add button is enabled once a line is ok).
    page = window.first_run
    page.editor.setFocus()
    QTest.keyClicks(page.editor, ADDR)
    order = reachable(qapp, page.editor, 40)
    assert order[:2] == [page.add_button, page.other_button]
    assert window.tabs.tabBar() in order  # and on round to the page tabs

    # Alerts: every visible control on the page is reached by Tab, tables included (they let
    # Tab go on; arrows move inside them).
    alerts = window.alerts_page
    assert alerts is not None
    window.tabs.setCurrentWidget(alerts)
    qtbot.wait(10)
    expected = [
        w for w in alerts.findChildren(QWidget)
        if is_interactive(w) and w.isVisible() and w.isEnabled()
    ]  # fmt: skip
    order = reachable(qapp, window.tabs.tabBar(), 60)
    assert {describe(w) for w in expected} <= {describe(w) for w in order}
    assert order.index(alerts.add_button) < order.index(alerts.rules) < order.index(alerts.events)
    shutdown(qtbot, app)


def test_the_edit_dialog_address_is_read_only_and_looks_it(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from app.domain.addresses import AddressFamily
    from app.domain.model import Wallet

    app = start(qapp, offline_setup(data_dir, enabled=False))
    open_window(qapp, qtbot, app)
    dialog = app.window.edit_wallet(Wallet(ADDR, AddressFamily.EVM, "Main", id=1))
    assert dialog is not None
    field = dialog.address
    assert isinstance(field, QLineEdit) and field.isReadOnly() and not field.hasFrame()
    assert not field.isClearButtonEnabled()
    base, window_bg = (
        field.palette().color(field.palette().ColorRole.Base),
        field.palette().color(field.palette().ColorRole.Window),
    )
    assert base == window_bg  # no field background: it reads as text
    assert "cannot be changed" in field.toolTip() and field.accessibleDescription().startswith(
        "Read-only"
    )
    assert field.text() == ADDR
    dialog.reject()

    # The wallets table explains an empty result of the filter.
    window = app.window
    window.wallets_model.add_wallet(Wallet(ADDR, AddressFamily.EVM, "Main", id=1))
    window.wallets_page.filter.setText("ledger")
    assert window.wallets_page.table.shown_placeholder() == (
        "No wallet matches 'ledger'. Clear the filter to see all 1 wallet."
    )
    window.wallets_page.filter.clear()
    assert window.wallets_page.table.shown_placeholder() == ""
    shutdown(qtbot, app)


@pytest.mark.integration
def test_add_a_wallet_refresh_and_read_the_total_without_a_mouse(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, anvil: Anvil
) -> None:  # type: ignore[no-untyped-def]
    paths = with_anvil(data_dir, anvil, dead_networks=0)
    coin = f"eip155:{CHAIN_ID}/slip44:60"
    assert cli(["--data-dir", str(data_dir), "prices", "override", coin, "2000"]) == 0
    wei = int(anvil.rpc("eth_getBalance", anvil.sender, "latest"), 16)
    expected = money_text(Decimal(wei).scaleb(-18) * 2000, "USD")

    app = start(qapp, paths)
    assert app.scheduler is not None
    outcomes: list[RefreshOutcome] = []
    app.scheduler.subscribe(on_outcome=outcomes.append)
    open_window(qapp, qtbot, app)
    window, page = app.window, app.window.first_run

    # The window opens on the first-run page with the keyboard in the address box.
    assert focused(qapp) is page.editor
    QTest.keyClicks(focused(qapp), anvil.sender)
    assert page.add_button.isEnabled() and page.add_button.text() == "Add 1 wallet"
    press(qapp, Qt.Key.Key_Tab)
    assert focused(qapp) is page.add_button
    press(qapp, Qt.Key.Key_Space)  # adds it; the first refresh starts by itself
    qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)
    assert outcomes[0].ok, outcomes[0].error
    qtbot.waitUntil(lambda: window.holdings_page.total_label.text() == expected, timeout=10_000)

    # Read the total: Tab until the keyboard is on it, as a screen-reader user would.
    total = window.holdings_page.total_label
    for _ in range(40):
        if focused(qapp) is total:
            break
        press(qapp, Qt.Key.Key_Tab)
    assert focused(qapp) is total
    assert total.accessibleName() == "Net worth" and total.text() == expected
    shutdown(qtbot, app)
