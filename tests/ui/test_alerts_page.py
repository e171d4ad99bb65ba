"""Alerts page: rule and event models, the add dialog's validation, switch off/remove, and the
``alert_fired`` signal for the tray."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
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


def make_page(qtbot: QtBot, engine: Engine) -> AlertsPage:
    SqlSnapshotStore(engine).write(snapshot())
    service = AlertService(SqlAlertStore(engine), SqlSnapshotStore(engine))
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
    assert rules.index(0, 0).data() == "ETH above 4000 USD"  # symbol, not the asset id
    assert [rules.index(r, 1).data() for r in range(2)] == ["Armed", "Fired"]
    assert events.rowCount() == 1 and "health factor 1.100" in events.index(0, 1).data()


def test_add_dialog_validates_through_the_service(
    qtbot: QtBot, engine: Engine, loop: object
) -> None:
    page = make_page(qtbot, engine)
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
    price.asset.setText("DOGE")
    price.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "unknown asset 'DOGE'" in price.error.text(), timeout=5000)
    price.asset.setText("eth")
    price.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 2, timeout=5000)


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
