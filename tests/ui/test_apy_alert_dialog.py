"""The Alerts page's dialog adds the APY rules: wallet and protocol filters (every protocol with
rates), no asset picker, the level checked by the service."""

from __future__ import annotations

from decimal import Decimal

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.domain.alerts import AlertKind
from tests.ui.test_alerts_page import ADDR, engine, loop, make_page, snapshot

__all__ = ["engine", "loop"]  # the fixtures, shared with the Alerts page's own tests


def test_dialog_adds_an_apy_rule(qtbot: QtBot, engine: Engine, loop: object) -> None:
    page = make_page(qtbot, engine)
    page.set_snapshot(snapshot())
    page.wallets = [(ADDR, "Ledger")]
    dialog = page.open_add_dialog()
    dialog.kind.setCurrentIndex(dialog.kind.findData(AlertKind.APY_BELOW))
    assert dialog.wallet.isVisibleTo(dialog) and dialog.protocol.isVisibleTo(dialog)
    assert not dialog.asset.isVisibleTo(dialog)
    names = [dialog.protocol.itemText(i) for i in range(dialog.protocol.count())]
    assert {"Any protocol", "Aave v3", "Morpho Blue", "Spark", "Sky Savings", "Pendle"} <= set(
        names
    )
    assert dialog.threshold.placeholderText() == "3"
    dialog.threshold.setText("-500")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: "an APY level is a percentage" in dialog.error.text(), timeout=5000)
    dialog.threshold.setText("3.5")
    dialog.protocol.setCurrentIndex(dialog.protocol.findData("morpho-blue"))
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: page.rules_model.rowCount() == 1, timeout=5000)
    (rule,) = page.service.rules()
    assert rule.kind is AlertKind.APY_BELOW and rule.threshold == Decimal("3.5")
    assert rule.filters == {"protocol": "morpho-blue"}
    assert page.status.text() == "Added: APY of a position below 3.5 % (Morpho Blue)"
    # Back to a lending kind: only the lending protocols (Morpho and Spark among them) are offered.
    lending = page.open_add_dialog()
    lending.kind.setCurrentIndex(lending.kind.findData(AlertKind.APY_MOVE_ABOVE))
    lending.kind.setCurrentIndex(lending.kind.findData(AlertKind.HEALTH_FACTOR_BELOW))
    assert lending.protocol.findData("sky") == -1  # savings have no health factor
    assert lending.protocol.findData("morpho-blue") > 0
