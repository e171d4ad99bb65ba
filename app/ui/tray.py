"""The system-tray icon: the total at a glance, refresh, pause, show/hide and quit.

The menu reuses the main window's actions (Refresh now, Pause auto-refresh, Quit), so their
enabled and checked states are one state wherever they are shown, and Quit goes through the
app's one shutdown path. The tooltip is plain text built from numbers only (no token text).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.domain.outcome import plain_reason
from app.domain.snapshot import Snapshot
from app.services.day_change import DayChange
from app.services.scheduler import RefreshOutcome, ScheduleState
from app.ui.icons import app_icon
from app.ui.models.holdings_format import plain_money


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


def format_change(change: DayChange | None, currency: str) -> str:
    if change is None:
        return "24 h: —"
    text = f"24 h: {plain_money(change.amount, currency, plus=True)}"
    if change.percent is not None:
        sign = "+" if change.percent > 0 else ""
        text += f" ({sign}{change.percent:,.2f} %)"
    return text


def tooltip_text(
    snapshot: Snapshot | None,
    change: DayChange | None,
    state: ScheduleState | None,
    now: float | None = None,
) -> str:
    """Chainfolio, the total, the 24 h change, and anything unusual about refreshing."""
    lines = ["Chainfolio"]
    if snapshot is None:
        lines.append("No refresh yet")
    else:
        lines.append(f"Total: {plain_money(snapshot.total, snapshot.currency)}")
        lines.append(format_change(change, snapshot.currency))
        stamp = time.strftime("%H:%M", time.localtime(snapshot.taken_at))
        if (now if now is not None else time.time()) - snapshot.taken_at > 86_400:
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(snapshot.taken_at))
        stale = snapshot.stale_total
        lines.append(f"Updated {stamp}" + (" (part stale)" if stale else ""))
    if state is not None:
        if state.running:
            lines.append("Refreshing…")
        elif state.failures:
            n = state.failures
            lines.append(f"Last {n} refresh{'es' if n != 1 else ''} failed")
            if state.last_error:
                lines.append(state.last_error)
        if state.paused:
            lines.append("Auto-refresh paused")
    return "\n".join(lines)


class Tray(QObject):
    """Owns the QSystemTrayIcon and its menu; the app decides what the actions do."""

    toggle_window_requested = Signal()

    def __init__(
        self,
        refresh: QAction,
        pause: QAction,
        quit_action: QAction,
        window_visible: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window_visible = window_visible
        self._snapshot: Snapshot | None = None
        self._change: DayChange | None = None
        self._state: ScheduleState | None = None
        self._notified_streak = False
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.act_toggle = QAction("Show window", self.menu)
        self.act_toggle.triggered.connect(self.toggle_window_requested)
        self.act_refresh = refresh
        self.act_pause = pause
        self.act_quit = quit_action
        self.menu.addAction(self.act_refresh)
        self.menu.addAction(self.act_toggle)
        self.menu.addAction(self.act_pause)
        self.menu.addSeparator()
        self.menu.addAction(self.act_quit)
        self.menu.aboutToShow.connect(self.update_toggle)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.update_toggle()
        self._update_tooltip()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def update_toggle(self) -> None:
        self.act_toggle.setText("Hide window" if self._window_visible() else "Show window")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A plain click shows or hides the window; the context menu opens on its own.
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window_requested.emit()

    # --- what it shows ------------------------------------------------------------------
    def show_portfolio(self, snapshot: Snapshot | None, change: DayChange | None) -> None:
        self._snapshot, self._change = snapshot, change
        self._update_tooltip()

    def show_schedule(self, state: ScheduleState) -> None:
        self._state = state
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.icon.setToolTip(tooltip_text(self._snapshot, self._change, self._state))

    @property
    def tooltip(self) -> str:
        return self.icon.toolTip()

    # --- messages -----------------------------------------------------------------------
    def notify(self, title: str, text: str, warning: bool = False) -> None:
        icon = (
            QSystemTrayIcon.MessageIcon.Warning
            if warning
            else QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(title, text, icon, 10_000)

    def hint_still_running(self) -> None:
        """Said once (the app remembers it), the first time closing the window hides it."""
        self.notify(
            "Chainfolio is still running",
            "It keeps refreshing in the tray. Use Quit in the tray menu to stop it.",
        )

    def report(self, outcome: RefreshOutcome, notify_after: int) -> bool:
        """Notify once per failure streak, when it reaches ``notify_after`` (0: never)."""
        if outcome.ok:
            self._notified_streak = False
            return False
        if notify_after <= 0 or outcome.failures < notify_after or self._notified_streak:
            return False
        self._notified_streak = True
        self.notify(
            "Chainfolio cannot refresh",
            f"Refresh failed {outcome.failures} times in a row: {plain_reason(outcome.error)}. "
            "It keeps retrying; the last good values stay shown.",
            warning=True,
        )
        return True
