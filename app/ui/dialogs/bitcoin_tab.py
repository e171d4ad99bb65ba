"""Settings → Bitcoin: where Bitcoin wallets are read from, and the gap limit.

Bitcoin wallets are read from the Bitcoin network's Esplora APIs (their URLs are on the
Networks tab, like any chain's RPC URLs) unless the person names their own Electrum server
here. Either way a server sees addresses (Esplora) or script hashes (Electrum), never an
extended public key.

The tab registers itself on the dialog (:meth:`BitcoinTab.attach`, one line in the dialog):
its server address is checked before the dialog saves (a wrong one keeps the dialog open on
this tab), and its values are saved when the dialog is accepted and join ``settings_changed``.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.chains.bitcoin.servers import parse_electrum_server
from app.config import Settings
from app.domain.errors import ChainfolioError
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.ui.dialogs.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

SERVER, VERIFY, GAP = "bitcoin.electrum_server", "bitcoin.electrum_verify_tls", "bitcoin.gap_limit"
INTRO = (
    "Bitcoin wallets (xpub, ypub, zpub, descriptors, addresses) are read from the Esplora APIs "
    "listed for Bitcoin on the Networks tab, unless you name your own Electrum server here "
    "(Electrs, Fulcrum, ElectrumX). Addresses are derived on this computer: a server sees "
    "addresses or script hashes, never your extended public keys."
)


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class BitcoinTab(QWidget):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self.server = QLineEdit(str(settings.get(SERVER)))
        self.server.setObjectName("bitcoinElectrumServer")
        self.server.setPlaceholderText("empty: Esplora · ssl://my-node.local:50002")
        self.server.setClearButtonEnabled(True)
        self.server.setAccessibleName("Electrum server")
        self.server.textChanged.connect(self._check)
        self.problem = _plain()
        paint_text(self.problem, Role.ERROR)
        self.problem.hide()
        self.verify = QCheckBox(
            "Check the server's TLS certificate (turn off for your own self-signed one)"
        )
        self.verify.setChecked(bool(settings.get(VERIFY)))
        self.gap = QSpinBox()
        self.gap.setRange(1, 1000)
        self.gap.setValue(int(settings.get(GAP)))
        self.gap.setMaximumWidth(120)
        self.gap.setAccessibleName("Gap limit")
        self.gap.setToolTip(
            "A receive or change chain ends after this many unused addresses in a row."
        )

        form = QFormLayout()
        form.addRow("&Electrum server", self.server)
        form.addRow("", self.problem)
        form.addRow("", self.verify)
        form.addRow("&Gap limit", self.gap)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain(INTRO))
        layout.addLayout(form)
        layout.addStretch(1)
        self._check(self.server.text())

    def _check(self, text: str) -> bool:
        try:
            server = parse_electrum_server(text)
        except ChainfolioError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return False
        self.problem.hide()
        self.verify.setEnabled(server is not None and server.tls)  # only ssl:// has one
        return True

    def validate(self) -> bool:
        return self._check(self.server.text())

    def values(self) -> dict[str, Any]:
        return {
            SERVER: self.server.text().strip(),
            VERIFY: self.verify.isChecked(),
            GAP: self.gap.value(),
        }

    def apply(self) -> list[str]:
        """Save what changed (checked first: a wrong value changes nothing); the keys."""
        changed = {k: v for k, v in self.values().items() if self._settings.get(k) != v}
        if not changed:
            return []
        for key, value in changed.items():
            self._settings.set(key, value)
        self._settings.save()
        return list(changed)

    @classmethod
    def attach(cls, dialog: SettingsDialog, settings: Settings) -> BitcoinTab:
        """Add the tab to ``dialog``: checked before its save, saved once it is accepted."""
        tab = cls(settings)
        dialog.tabs.addTab(tab, "Bitcoin")
        save = dialog.save

        def checked_save() -> None:
            if not tab.validate():
                dialog.tabs.setCurrentWidget(tab)
                dialog.save_problem.setText("Fix the fields marked in red first.")
                return
            save()

        # The Save button calls ``dialog.save`` directly, or through a tab that wraps it and
        # calls ``dialog.save()`` (Privacy): either way this check runs first, and a wrong
        # server keeps the dialog open on this tab.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "failed to disconnect": wrapped
            direct = dialog.buttons.accepted.disconnect(save)
        if direct:
            dialog.buttons.accepted.connect(checked_save)
        dialog.save = checked_save  # type: ignore[method-assign]

        def saved() -> None:
            try:
                changed = tab.apply()
            except (ChainfolioError, OSError):
                log.warning("could not save the Bitcoin settings", exc_info=True)
                return
            if changed:
                dialog.settings_changed.emit(changed)

        dialog.accepted.connect(saved)
        return tab
