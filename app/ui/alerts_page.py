"""The alerts page: the person's alert rules (add, switch off, remove) and the alerts that fired.

Notifications: the page subscribes to the :class:`AlertService`; every alert that fires in
``AlertService.after_refresh`` is re-emitted as ``alert_fired(title, message)`` for the tray to
show as a desktop notification, and the lists reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.alerts import (
    LENDING_PROTOCOLS,
    YIELD_PROTOCOLS,
    AlertKind,
    AlertRule,
    FiredAlert,
)
from app.domain.snapshot import Snapshot
from app.services.alerts import AlertService, AssetChoice
from app.ui.asset_picker import AssetPicker, Search
from app.ui.empty_view import ExplainingTableView
from app.ui.models.alerts_model import EventsModel, RulesModel
from app.ui.risk_page import symbols_of
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text

KIND_LABELS = {
    AlertKind.HEALTH_FACTOR_BELOW: "Health factor falls below",
    AlertKind.LIQUIDATION_PROBABILITY_ABOVE: "Chance of liquidation within 24 h rises above (%)",
    AlertKind.PRICE_ABOVE: "Price rises above",
    AlertKind.PRICE_BELOW: "Price falls below",
    AlertKind.DAILY_MOVE_ABOVE: "Total value moves in a day by more than (%)",
    AlertKind.APY_BELOW: "APY of a position falls below (%)",
    AlertKind.APY_MOVE_ABOVE: "APY of a position moves in a day by more than (points)",
}
PLACEHOLDERS = {
    AlertKind.HEALTH_FACTOR_BELOW: "1.2",
    AlertKind.LIQUIDATION_PROBABILITY_ABOVE: "5",
    AlertKind.PRICE_ABOVE: "4000",
    AlertKind.PRICE_BELOW: "2500",
    AlertKind.DAILY_MOVE_ABOVE: "10",
    AlertKind.APY_BELOW: "3",
    AlertKind.APY_MOVE_ABOVE: "2",
}
NO_RULES = (
    "No alert rules yet. Press Add alert… to be told when a price crosses a level (ETH on "
    "Ethereum above 4,000 USD), a loan's health factor falls, or your total moves a lot in a day."
)
NO_EVENTS = (
    "No alert has fired yet. When one does, it is listed here and shown as a desktop notification."
)
LENDING = (AlertKind.HEALTH_FACTOR_BELOW, AlertKind.LIQUIDATION_PROBABILITY_ABOVE)
PRICE = (AlertKind.PRICE_ABOVE, AlertKind.PRICE_BELOW)
APY = (AlertKind.APY_BELOW, AlertKind.APY_MOVE_ABOVE)


class AlertRuleDialog(QDialog):
    """Fields for one rule. ``submitted`` carries them; the page validates through the service
    and either closes the dialog or shows the service's message in it."""

    submitted = Signal(object)  # dict of AlertService.add keyword arguments

    def __init__(
        self,
        wallets: Sequence[tuple[str, str]] = (),
        currency: str = "USD",
        parent: QWidget | None = None,
        *,
        held: Sequence[AssetChoice] = (),
        tasks: TaskRunner | None = None,
        search: Search | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New alert")
        self.setMinimumWidth(640)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Alert when")
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.threshold = QLineEdit()
        self.threshold.setAccessibleName("Level")
        # The asset is picked from the holdings (or found by symbol), never typed as an id.
        self.asset = AssetPicker(held, currency, tasks, search)
        self.wallet = QComboBox()
        self.wallet.setAccessibleName("Wallet")
        self.wallet.addItem("Any wallet", None)
        for address, name in wallets:
            self.wallet.addItem(name, address)
        self.protocol = QComboBox()
        self.protocol.setAccessibleName("Protocol")
        self._fill_protocols(LENDING_PROTOCOLS)
        self.currency = currency
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        paint_text(self.error, Role.ERROR)
        self.error.hide()

        self.form = QFormLayout()
        self.form.addRow("Alert &when", self.kind)
        self.form.addRow("&Asset", self.asset)
        self.form.addRow("&Level", self.threshold)
        self.form.addRow("Wall&et", self.wallet)
        self.form.addRow("&Protocol", self.protocol)
        asset_label = self.form.labelForField(self.asset)
        if isinstance(asset_label, QLabel):
            asset_label.setBuddy(self.asset.query)
        self.asset.changed.connect(self._asset_changed)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()

    def selected_kind(self) -> AlertKind:
        return AlertKind(self.kind.currentData())

    def _fill_protocols(self, names: dict[str, str]) -> None:
        """The protocols a rule of the chosen kind can watch; the choice is kept if it still
        fits."""
        chosen = self.protocol.currentData()
        self.protocol.clear()
        self.protocol.addItem("Any protocol", None)
        for key, name in names.items():
            self.protocol.addItem(name, key)
        self.protocol.setCurrentIndex(max(0, self.protocol.findData(chosen)))

    def _kind_changed(self) -> None:
        kind = self.selected_kind()
        self.threshold.setPlaceholderText(PLACEHOLDERS[kind])
        self._fill_protocols(YIELD_PROTOCOLS if kind in APY else LENDING_PROTOCOLS)
        self.form.setRowVisible(self.asset, kind in PRICE)
        self.form.setRowVisible(self.wallet, kind in LENDING or kind in APY)
        self.form.setRowVisible(self.protocol, kind in LENDING or kind in APY)
        self._asset_changed()
        self.show_error("")

    def _asset_changed(self) -> None:
        """The level's label names what it is about: "Level (USD per ETH on Base)"."""
        kind = self.selected_kind()
        label = self.form.labelForField(self.threshold)
        if not isinstance(label, QLabel):
            return
        if kind in PRICE:
            choice = self.asset.selected()
            per = f" per {choice.label}" if choice is not None else ""
            label.setText(f"&Level ({self.currency}{per})")
        else:
            label.setText("&Level")
        self.threshold.setAccessibleName(label.text().replace("&", ""))

    def values(self) -> dict[str, object]:
        kind = self.selected_kind()
        values: dict[str, object] = {"kind": kind, "threshold": self.threshold.text().strip()}
        if kind in PRICE:
            values["asset"] = self.asset.value()
            values["currency"] = self.currency
        if kind in LENDING or kind in APY:
            values["wallet"] = self.wallet.currentData()
            values["protocol"] = self.protocol.currentData()
        return values

    def _submit(self) -> None:
        values = self.values()
        if not values["threshold"]:
            self.show_error("Enter a level.")
            return
        if "asset" in values and not values["asset"]:
            self.show_error("Pick the asset to watch, or search for it by symbol.")
            return
        self.buttons.setEnabled(False)
        self.submitted.emit(values)

    def show_error(self, text: str) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(text)
        self.error.setVisible(bool(text))


class AlertsPage(QWidget):
    alert_fired = Signal(str, str)  # title, message: for the tray's desktop notification

    def __init__(
        self, service: AlertService, tasks: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self._tasks = tasks
        self.wallets: list[tuple[str, str]] = []  # (address, name) for the dialog
        self.currency = "USD"
        self.symbols: dict[str, str] = {}
        self.snapshot: Snapshot | None = None
        self.dialog: AlertRuleDialog | None = None
        service.subscribe(self._on_fired)

        self.rules_model = RulesModel(self)
        self.rules = ExplainingTableView(NO_RULES)
        self.rules.setAccessibleName("Alert rules")
        self.rules.setModel(self.rules_model)
        self.rules.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.rules.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.rules.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rules.verticalHeader().hide()
        self.rules.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.rules.horizontalHeader().setStretchLastSection(True)
        self.rules.selectionModel().selectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("&Add alert…")
        self.add_button.setAccessibleName("Add an alert rule")
        self.add_button.clicked.connect(self.open_add_dialog)
        self.toggle_button = QPushButton("Switch off")
        self.toggle_button.setAccessibleName("Switch the selected rule off or on")
        self.toggle_button.clicked.connect(self.toggle_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove the selected rule")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.toggle_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.events_model = EventsModel(self)
        self.events = ExplainingTableView(NO_EVENTS)
        self.events.setAccessibleName("Recent alerts")
        self.events.setModel(self.events_model)
        self.events.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.events.verticalHeader().hide()
        self.events.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.events.horizontalHeader().setStretchLastSection(True)
        self.events.setWordWrap(True)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(QLabel("Alert rules (checked after every refresh; each fires once)"))
        layout.addLayout(buttons)
        layout.addWidget(self.rules, 2)
        layout.addWidget(QLabel("Recent alerts"))
        layout.addWidget(self.events, 3)
        layout.addWidget(self.status)
        self.reload()

    # ---- data ----------------------------------------------------------------------------------
    def set_snapshot(self, snapshot: Snapshot | None) -> None:
        """Symbols for the rule list, the held assets for the picker and the currency of new
        price rules."""
        if snapshot is not None:
            self.snapshot = snapshot
            self.symbols = symbols_of(snapshot)
            self.currency = snapshot.currency
            self.reload()

    def reload(self) -> None:
        selected = self.selected_rule()
        self.rules_model.set_rules(self.service.rules(), self.symbols, self.service.chain_names)
        self.events_model.set_events(self.service.events(50))
        if selected is not None:
            for row in range(self.rules_model.rowCount()):
                if self.rules_model.row_at(row).id == selected.id:
                    self.rules.selectRow(row)
        self._update_buttons()

    def selected_rule(self) -> AlertRule | None:
        rows = self.rules.selectionModel().selectedRows()
        return self.rules_model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        rule = self.selected_rule()
        self.toggle_button.setEnabled(rule is not None)
        self.remove_button.setEnabled(rule is not None)
        self.toggle_button.setText("Switch on" if rule and not rule.enabled else "Switch off")

    # ---- actions -------------------------------------------------------------------------------
    def open_add_dialog(self) -> AlertRuleDialog:
        snapshot, service = self.snapshot, self.service
        dialog = AlertRuleDialog(
            self.wallets,
            self.currency,
            self,
            held=service.held_assets(snapshot),
            tasks=self._tasks,
            search=lambda text: service.search_assets(text, snapshot),
        )
        dialog.submitted.connect(lambda values: self._add(dialog, values))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _add(self, dialog: AlertRuleDialog, values: dict[str, object]) -> None:
        def added(rule: AlertRule) -> None:
            dialog.accept()
            self.status.setText(f"Added: {self._describe(rule)}")
            self.reload()

        kind = values.pop("kind")
        assert isinstance(kind, AlertKind)
        self._tasks.run(
            asyncio.to_thread(self.service.add, kind, **values),  # type: ignore[arg-type]
            added,
            lambda exc: dialog.show_error(str(exc)),
        )

    def _describe(self, rule: AlertRule) -> str:
        return rule.describe(self.symbols, self.service.chain_names)

    def toggle_selected(self) -> None:
        rule = self.selected_rule()
        if rule is not None:
            self.service.set_enabled(rule.id, not rule.enabled)
            self.reload()

    def remove_selected(self) -> None:
        rule = self.selected_rule()
        if rule is not None:
            self.service.remove(rule.id)
            self.status.setText(f"Removed: {self._describe(rule)}")
            self.reload()

    # ---- fired alerts (checked by the refresh pipeline's alerts step) ---------------------------
    def _on_fired(self, alert: FiredAlert) -> None:
        self.alert_fired.emit(alert.title, alert.message)
        self.reload()
