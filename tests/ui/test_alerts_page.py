"""Alerts page: rule and event models, the add dialog's validation, switch off/remove, and the
``alert_fired`` signal for the tray."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.domain.alerts import AlertKind
from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.alerts import AlertService
from app.storage.alert_store import SqlAlertStore
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from app.ui.alerts_page import AlertRuleDialog, AlertsPage
from app.ui.models.alerts_model import EventsModel, RulesModel
from app.ui.tasks import TaskRunner

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH = "eip155:1/slip44:60"


@pytest.fixture
def loop(qasync_loop: object) -> object:
    """The qasync loop (its worker threads end with the test: see tests/ui/conftest.py)."""
    return qasync_loop


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = open_database(tmp_path / "db.sqlite", tmp_path / "backups")
    yield e
    e.dispose()


def snapshot(hf: str = "1.1") -> Snapshot:
    eth = SnapshotHolding(
        f"eip155:1:{ADDR}", ETH, "ETH", 18, 10**18, Decimal(3000), Decimal(3000),
        SourceState.OK, 1,
    )  # fmt: skip
    acc = LendingAccount(
        f"eip155:1:{ADDR}", "aave-v3", "eip155:1", "", Decimal(3000), Decimal(2000),
        Decimal("0.83"), Decimal(hf), (ETH,), (),
    )  # fmt: skip
    return Snapshot(int(time.time()), "USD", (eth,), (), accounts=(acc,))


CHAINS = {"eip155:1": "Ethereum", "eip155:8453": "Base"}
USDC_BASE = "eip155:8453/erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
CATALOG = [("eip155:8453/slip44:60", "ETH"), (USDC_BASE, "USDC"), ("eip155:1/erc20:0xdead", "USDe")]


def make_page(qtbot: QtBot, engine: Engine) -> AlertsPage:
    SqlSnapshotStore(engine).write(snapshot())
    service = AlertService(
        SqlAlertStore(engine), SqlSnapshotStore(engine), catalog=lambda: CATALOG,
        chain_names=CHAINS,
    )  # fmt: skip
    page = AlertsPage(service, TaskRunner())
    qtbot.addWidget(page)
    return page


def test_models_pass_modeltester(qtmodeltester, qtbot: QtBot, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    page = make_page(qtbot, engine)
    page.service.add(AlertKind.PRICE_ABOVE, "4000", asset=ETH, currency="USD")
    page.service.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2")
    page.service.check(snapshot())
    page.set_snapshot(snapshot())
    rules, events = page.rules_model, page.events_model
    assert isinstance(rules, RulesModel) and isinstance(events, EventsModel)
    qtmodeltester.check(rules)
    qtmodeltester.check(events)
    assert rules.index(0, 0).data() == "ETH on Ethereum above 4,000 USD"  # symbol and chain
    assert [rules.index(r, 1).data() for r in range(2)] == ["Armed", "Fired"]
    assert events.rowCount() == 1 and "health factor 1.100" in events.index(0, 1).data()


def test_add_dialog_validates_through_the_service(
    qtbot: QtBot, engine: Engine, loop: object
) -> None:
    page = make_page(qtbot, engine)
    page.set_snapshot(snapshot())  # what the window does with every snapshot it shows
    page.wallets = [(ADDR, "Ledger")]
    dialog = page.open_add_dialog()
    assert isinstance(dialog, AlertRuleDialog) and dialog.isVisible()
    dialog.kind.setCurrentIndex(dialog.kind.findData(AlertKind.LIQUIDATION_PROBABILITY_ABOVE))
    assert dialog.wallet.isVisibleTo(dialog) and not dialog.asset.isVisibleTo(dialog)
    dialog.buttons.accepted.emit()
    assert dialog.error.text() == "Enter a level."
    dialog.threshold.setText("150")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "between 0 and 100" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible() and page.rules_model.rowCount() == 0
    dialog.threshold.setText("5")
    dialog.wallet.setCurrentIndex(1)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 1, timeout=5000)
    assert not dialog.isVisible()
    (rule,) = page.service.rules()
    assert rule.filters == {"wallet": ADDR} and rule.threshold == Decimal(5)

    price = page.open_add_dialog()
    price.kind.setCurrentIndex(price.kind.findData(AlertKind.PRICE_BELOW))
    assert price.asset.isVisibleTo(price) and not price.wallet.isVisibleTo(price)
    price.threshold.setText("2500")
    price.asset.query.setText("DOGE")  # held nowhere, in no token list
    qtbot.waitUntil(lambda: "or the token lists" in price.asset.hint.text(), timeout=5000)
    assert price.asset.list.count() == 0
    price.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "unknown asset 'DOGE'" in price.error.text(), timeout=5000)
    price.asset.query.clear()
    assert price.asset.selected() is not None and price.asset.selected().asset_id == ETH
    price.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 2, timeout=5000)
    assert page.status.text() == "Added: ETH on Ethereum below 2,500 USD"


def test_switch_off_and_remove(qtbot: QtBot, engine: Engine) -> None:
    page = make_page(qtbot, engine)
    page.service.add(AlertKind.DAILY_MOVE_ABOVE, "10")
    page.reload()
    assert not page.remove_button.isEnabled()
    page.rules.selectRow(0)
    assert page.toggle_button.text() == "Switch off"
    page.toggle_button.click()
    assert page.rules_model.index(0, 1).data() == "Off"
    assert page.toggle_button.text() == "Switch on"
    page.remove_button.click()
    assert page.rules_model.rowCount() == 0 and "Removed" in page.status.text()


def test_fired_alerts_reach_the_signal(qtbot: QtBot, engine: Engine, loop: object) -> None:
    page = make_page(qtbot, engine)
    page.service.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2")
    page.reload()
    heard: list[tuple[str, str]] = []
    page.alert_fired.connect(lambda title, message: heard.append((title, message)))
    # What the refresh pipeline's alerts step does after each stored snapshot.
    page._tasks.run(page.service.after_refresh(snapshot("1.1")))
    qtbot.waitUntil(lambda: len(heard) == 1, timeout=5000)
    assert heard[0][0] == "Health factor 1.10 is below 1.2"
    assert page.events_model.rowCount() == 1
    assert page.rules_model.index(0, 1).data() == "Fired"
    page._tasks.run(page.service.after_refresh(snapshot("1.05")))  # same crossing: nothing new
    qtbot.waitUntil(lambda: not page._tasks.busy, timeout=5000)
    assert len(heard) == 1


def test_the_picker_lists_holdings_and_finds_other_assets_by_symbol(
    qtbot: QtBot, engine: Engine, loop: object
) -> None:
    page = make_page(qtbot, engine)
    page.set_snapshot(snapshot())
    dialog = page.open_add_dialog()
    dialog.kind.setCurrentIndex(dialog.kind.findData(AlertKind.PRICE_ABOVE))
    picker = dialog.asset
    # What is held comes first, with its chain, value and an icon; nothing typed.
    assert picker.list.count() == 1
    item = picker.list.item(0)
    assert item.text() == "ETH on Ethereum  ·  3,000.00 USD held"
    assert not item.icon().isNull()
    assert dialog.form.labelForField(dialog.threshold).text() == "&Level (USD per ETH on Ethereum)"
    # A symbol search adds the token lists and every network's coin (off the GUI thread).
    picker.query.setText("eth")
    qtbot.waitUntil(lambda: picker.list.count() == 2, timeout=5000)
    assert [picker.list.item(i).text() for i in range(2)] == [
        "ETH on Ethereum  ·  3,000.00 USD held",
        "ETH on Base",
    ]
    # Keyboard: Down in the search box moves through the list.
    qtbot.keyClick(picker.query, Qt.Key.Key_Down)
    assert picker.selected() is not None and picker.selected().label == "ETH on Base"
    picker.query.setText("usdc")
    qtbot.waitUntil(lambda: picker.list.count() == 1, timeout=5000)
    assert picker.selected() is not None and picker.selected().asset_id == USDC_BASE
    dialog.threshold.setText("1.05")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 1, timeout=5000)
    (rule,) = page.service.rules()
    assert rule.filters == {"asset": USDC_BASE, "currency": "USD"}
    page.symbols[USDC_BASE] = "USDC"
    page.reload()
    assert page.rules_model.index(0, 0).data() == "USDC on Base above 1.05 USD"


def test_a_price_alert_names_the_chain_when_it_fires(
    qtbot: QtBot, engine: Engine, loop: object
) -> None:
    page = make_page(qtbot, engine)
    page.service.add(AlertKind.PRICE_ABOVE, "2000", asset=ETH, currency="USD")
    heard: list[tuple[str, str]] = []
    page.alert_fired.connect(lambda title, message: heard.append((title, message)))
    page._tasks.run(page.service.after_refresh(snapshot()))
    qtbot.waitUntil(lambda: len(heard) == 1, timeout=5000)
    assert heard[0] == (
        "ETH on Ethereum above 2,000 USD",
        "ETH on Ethereum is at 3,000.00 USD, above your alert level 2,000 USD.",
    )


def test_empty_tables_say_what_goes_there_and_what_to_do(qtbot: QtBot, engine: Engine) -> None:
    page = make_page(qtbot, engine)
    assert page.rules.shown_placeholder().startswith("No alert rules yet. Press Add alert…")
    assert page.events.shown_placeholder().startswith("No alert has fired yet.")
    assert page.rules.accessibleDescription() == page.rules.shown_placeholder()
    page.service.add(AlertKind.DAILY_MOVE_ABOVE, "10")
    page.reload()
    assert page.rules.shown_placeholder() == "" and page.rules.accessibleDescription() == ""
    page.resize(700, 500)
    page.show()
    page.rules.grab()  # paints with rows, and the events table with its text, without error
    page.events.grab()
