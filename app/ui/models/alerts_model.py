"""Alert rules and fired alerts as tables."""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt

from app.domain.alerts import AlertEvent, AlertRule
from app.ui.models.base import Index, ListTableModel

ROW_ROLE = Qt.ItemDataRole.UserRole + 1


def local_time(ts: int | None) -> str:
    return "—" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def rule_state(rule: AlertRule) -> str:
    if not rule.enabled:
        return "Off"
    return "Fired" if rule.fired else "Armed"


class RuleColumn(enum.IntEnum):
    RULE = 0
    STATE = 1
    LAST_FIRED = 2


STATE_TIPS = {
    "Armed": "Fires when the condition becomes true.",
    "Fired": "Fired for the current crossing; re-arms once the condition is no longer true.",
    "Off": "Switched off: not checked.",
}


class RulesModel(ListTableModel[AlertRule]):
    HEADERS = ("Rule", "State", "Last fired")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._symbols: dict[str, str] = {}
        self._chain_names: dict[str, str] = {}

    def set_rules(
        self,
        rules: Sequence[AlertRule],
        symbols: Mapping[str, str],
        chain_names: Mapping[str, str] | None = None,
    ) -> None:
        self.beginResetModel()
        self._rows = list(rules)
        self._symbols = dict(symbols)
        self._chain_names = dict(chain_names or {})
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        rule = self.valid_row(index)
        if rule is None:
            return None
        column = RuleColumn(index.column())
        if role == ROW_ROLE:
            return rule
        if role == Qt.ItemDataRole.DisplayRole:
            if column == RuleColumn.RULE:
                return rule.describe(self._symbols, self._chain_names)
            if column == RuleColumn.STATE:
                return rule_state(rule)
            return local_time(rule.last_fired_at)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == RuleColumn.STATE:
                return STATE_TIPS[rule_state(rule)]
            if column == RuleColumn.RULE:
                return rule.target or None
        if role == Qt.ItemDataRole.ForegroundRole and not rule.enabled:
            from PySide6.QtGui import QPalette

            return QPalette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None


class EventsModel(ListTableModel[AlertEvent]):
    HEADERS = ("Time", "Alert")

    def set_events(self, events: Sequence[AlertEvent]) -> None:
        self.beginResetModel()
        self._rows = list(events)
        self.endResetModel()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        event = self.valid_row(index)
        if event is None:
            return None
        if role == ROW_ROLE:
            return event
        if role == Qt.ItemDataRole.DisplayRole:
            return local_time(event.fired_at) if index.column() == 0 else event.message
        return None
