"""Settings → Privacy: proxy or Tor, own nodes only, unlinkable reads (``net.*`` settings).

The tab registers itself on the settings dialog (:meth:`PrivacyTab.attach`): its fields are
checked before the dialog saves, saved after it, and their keys join the dialog's
``settings_changed``, the one path by which the running window applies settings (the next
request already uses a new proxy; no restart). The cost of unlinkable reads is worked out from
the wallets and enabled networks in a worker thread and stated next to the option.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.config import SETTINGS, Settings
from app.domain.errors import ChainfolioError
from app.net.policy import TOR_PRESET
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.chains.unlinkable import Cost
    from app.ui.dialogs.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)
KEYS = ("net.proxy", "net.isolate_hosts", "net.own_nodes_only", "net.unlinkable_reads")
OWN_ONLY_TEXT = (
    "Only the servers you set up yourself are contacted: your own RPC URLs and price-source "
    "addresses you entered. Public RPC defaults, CoinGecko, DefiLlama, Frankfurter, Stooq and "
    "ENS through a public node are refused before any connection (the Privacy tab lists them)."
)


def _label(text: str = "", role: Role | None = None) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role is not None:
        paint_text(label, role)
    return label


class PrivacyTab(QWidget):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        layout = QVBoxLayout(self)

        proxy_box = QGroupBox("Proxy for all traffic")
        pl = QVBoxLayout(proxy_box)
        self.direct = QRadioButton("&No proxy (connect directly)")
        self.tor = QRadioButton(f"&Tor on this computer ({TOR_PRESET.split('://')[1]})")
        self.custom = QRadioButton("&Other proxy:")
        self.proxy_url = QLineEdit()
        self.proxy_url.setPlaceholderText("socks5h://127.0.0.1:1080 or http://proxy:3128")
        self.proxy_url.setAccessibleName("Proxy address")
        self.modes = QButtonGroup(self)
        for button in (self.direct, self.tor, self.custom):
            self.modes.addButton(button)
            button.toggled.connect(lambda _on: self._update())
        custom_row = QHBoxLayout()
        custom_row.addWidget(self.custom)
        custom_row.addWidget(self.proxy_url, 1)
        self.proxy_url.textEdited.connect(lambda _t: self._select_custom())
        self.isolate = QCheckBox("A separate Tor circuit for each &host (stream isolation)")
        self.proxy_error = _label(role=Role.ERROR)
        self.proxy_error.setObjectName("error:net.proxy")
        self.proxy_error.hide()
        pl.addWidget(self.direct)
        pl.addWidget(self.tor)
        pl.addLayout(custom_row)
        pl.addWidget(self.proxy_error)
        pl.addWidget(self.isolate)
        pl.addWidget(
            _label(
                "With a proxy set, names are looked up through it too (socks5h), and when it "
                "does not answer nothing is sent directly.",
                Role.MUTED,
            )
        )
        layout.addWidget(proxy_box)

        self.own_only = QCheckBox("&Own nodes only")
        layout.addWidget(self.own_only)
        layout.addWidget(_label(OWN_ONLY_TEXT, Role.MUTED))

        self.unlinkable = QCheckBox("&Unlinkable reads: each wallet in its own requests")
        layout.addWidget(self.unlinkable)
        self.cost = _label(
            "A node then cannot tell from one batch that your wallets belong together.",
            Role.MUTED,
        )
        layout.addWidget(self.cost)
        layout.addStretch(1)
        self._load()

    # --- values -----------------------------------------------------------------------
    def _load(self) -> None:
        s = self._settings
        proxy = str(s.get("net.proxy"))
        if not proxy:
            self.direct.setChecked(True)
        elif proxy == TOR_PRESET:
            self.tor.setChecked(True)
        else:
            self.custom.setChecked(True)
            self.proxy_url.setText(proxy)
        self.isolate.setChecked(bool(s.get("net.isolate_hosts")))
        self.own_only.setChecked(bool(s.get("net.own_nodes_only")))
        self.unlinkable.setChecked(bool(s.get("net.unlinkable_reads")))
        self._update()

    def _select_custom(self) -> None:
        if not self.custom.isChecked():
            self.custom.setChecked(True)

    def _update(self) -> None:
        self.proxy_url.setEnabled(self.custom.isChecked())
        socks = self.tor.isChecked() or (
            self.custom.isChecked() and self.proxy_url.text().strip().startswith("socks")
        )
        self.isolate.setEnabled(socks)
        if not self.custom.isChecked():
            self.proxy_error.hide()

    def proxy(self) -> str:
        if self.tor.isChecked():
            return TOR_PRESET
        if self.custom.isChecked():
            return self.proxy_url.text().strip()
        return ""

    def values(self) -> dict[str, Any]:
        return {
            "net.proxy": self.proxy(),
            "net.isolate_hosts": self.isolate.isChecked(),
            "net.own_nodes_only": self.own_only.isChecked(),
            "net.unlinkable_reads": self.unlinkable.isChecked(),
        }

    def validate(self) -> bool:
        try:
            if self.custom.isChecked() and not self.proxy():
                raise ChainfolioError("Enter the proxy's address, or choose No proxy.")
            SETTINGS["net.proxy"].coerce(self.proxy())
        except ChainfolioError as exc:
            self.proxy_error.setText(str(exc))
            self.proxy_error.show()
            return False
        self.proxy_error.hide()
        return True

    def apply(self) -> list[str]:
        """Save what changed; the keys that did."""
        before = {k: self._settings.get(k) for k in KEYS}
        values = self.values()
        changed = [k for k in KEYS if SETTINGS[k].coerce(values[k]) != before[k]]
        if not changed:
            return []
        for key in changed:
            self._settings.set(key, values[key])
        self._settings.save()
        return changed

    def show_cost(self, cost: Cost) -> None:
        self.cost.setText(
            "A node then cannot tell from one batch that your wallets belong together. "
            + cost.sentence()
        )

    # --- the dialog -------------------------------------------------------------------
    @classmethod
    def attach(cls, dialog: SettingsDialog, settings: Settings) -> PrivacyTab:
        """Add the tab to ``dialog``: checked before its save, saved after it (one line)."""
        tab = cls(settings)
        dialog.tabs.addTab(tab, "Privacy")
        dialog.buttons.accepted.disconnect(dialog.save)

        def save() -> None:
            if not tab.validate():
                dialog.tabs.setCurrentWidget(tab)
                dialog.save_problem.setText("Fix the fields marked in red first.")
                return
            dialog.save()
            if dialog.result() != QDialog.DialogCode.Accepted:
                return
            try:
                changed = tab.apply()
            except (ChainfolioError, OSError):
                log.warning("could not save the privacy settings", exc_info=True)
                return
            if changed:
                dialog.settings_changed.emit(changed)

        dialog.buttons.accepted.connect(save)
        tab.estimate(dialog.parentWidget())
        return tab

    def estimate(self, window: QWidget | None) -> None:
        """The cost of unlinkable reads from the window's wallets and networks (a worker reads
        them); without a window (tests) the general sentence stays."""
        context = getattr(window, "context", None)
        tasks = getattr(window, "tasks", None)
        if context is None or tasks is None:
            return

        def read() -> Cost:
            from app.chains.unlinkable import request_cost

            counts = Counter(w.family for w in context.wallets.list())
            return request_cost(context.networks.enabled(), counts)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.show_cost(read())  # no loop (tests without one): at once
            return
        tasks.run(asyncio.to_thread(read), self.show_cost, key="privacy-cost")
