"""The risk page: lending accounts of the latest snapshot with their chance of liquidation.

The estimate reads price history from SQLite, so it runs off the GUI thread: give the page a
``TaskRunner`` and an ``assess`` function (``RiskService.assess``) and call
:meth:`RiskPage.show_snapshot` with each new snapshot; a newer snapshot cancels the estimate of
an older one. :meth:`RiskPage.show_risks` shows risks already computed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import report
from app.domain.risk import AccountRisk
from app.domain.snapshot import Snapshot
from app.domain.text import clean_text
from app.ui.models.risk_model import SORT_ROLE, RiskColumn, RiskModel
from app.ui.report_table import empty_or, report_table
from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)
Assess = Callable[[Snapshot], Sequence[AccountRisk]]

EXPLANATION = (
    "The chance that a health factor falls below 1 (when the position can be liquidated), "
    "estimated from the recent day-to-day volatility of the collateral/debt price ratio. "
    "Hover over a probability to see what it was computed from. A rough gauge: sudden crashes "
    "are more likely than this model assumes."
)
EMPTY = (
    "No lending positions.\n\nBorrowing on Aave v3, Spark, Compound v3 or Morpho Blue from a "
    "watched wallet shows "
    "here with its health factor and the chance of liquidation within a day and a week."
)


def symbols_of(snapshot: Snapshot | None) -> dict[str, str]:
    """Each asset's cleaned symbol, cleaned once per asset (10,000s of holdings share a few
    hundred: on the window's thread after every refresh)."""
    out: dict[str, str] = {}
    for h in snapshot.holdings if snapshot else ():
        if h.asset_id not in out:
            out[h.asset_id] = clean_text(h.symbol, 32)
    return out


class RiskPage(QWidget):
    def __init__(
        self,
        tasks: TaskRunner | None = None,
        assess: Assess | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._assess = assess
        self.model = RiskModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)

        self.explanation = QLabel(EXPLANATION)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation.setWordWrap(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.hide()

        self.table = report_table(self.proxy, RiskColumn.P_24H)
        self.empty, self.stack = empty_or(self.table, EMPTY)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.explanation)
        layout.addWidget(self.status)
        layout.addWidget(self.stack, 1)

    @property
    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def show_snapshot(
        self,
        snapshot: Snapshot | None,
        chain_names: Mapping[str, str],
        wallet_names: Mapping[str, str],
    ) -> None:
        """Estimate the risks of ``snapshot`` in a worker thread, then show them."""
        if snapshot is None or not snapshot.accounts:
            self.show_risks(snapshot, (), chain_names, wallet_names)
            return
        if self._tasks is None or self._assess is None:
            raise RuntimeError("RiskPage.show_snapshot needs a TaskRunner and an assess function")
        self._set_status("Estimating liquidation risk…")
        assess = self._assess
        self._tasks.run(
            asyncio.to_thread(assess, snapshot),
            lambda risks: self.show_risks(snapshot, risks, chain_names, wallet_names),
            lambda exc: self._set_status(report(exc, "Estimating the liquidation risk", log)),
            key="risk-page",
        )

    def show_risks(
        self,
        snapshot: Snapshot | None,
        risks: Sequence[AccountRisk],
        chain_names: Mapping[str, str],
        wallet_names: Mapping[str, str],
    ) -> None:
        currency = snapshot.currency if snapshot else "USD"
        self.model.set_risks(risks, currency, chain_names, wallet_names, symbols_of(snapshot))
        self.stack.setCurrentWidget(self.table if risks else self.empty)
        self._set_status("")

    def _set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
