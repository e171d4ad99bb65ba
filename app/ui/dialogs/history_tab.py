"""Settings → History: which block explorer, if any, may be asked for native coin transfers.

History is read from the person's own RPC nodes. Native coin transfers need a node that offers
``trace_filter``; for other nodes the person may opt into a block explorer, and the tab says
plainly that the explorer then sees the wallets' addresses. The default is no explorer: nothing
is sent. The Etherscan key goes straight to the OS keyring (never to the settings file), like
the API keys tab does.

The tab registers itself on the dialog (:meth:`HistoryTab.attach`, one line in the dialog):
its choice cannot be invalid, so it is saved when the dialog is accepted, and its key joins
the dialog's ``settings_changed``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.chains.evm.explorer import ETHERSCAN_KEY
from app.config import Settings
from app.domain.errors import ChainfolioError
from app.domain.ports import SecretStore
from app.secrets import check_value
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.ui.dialogs.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)
KEY = "history.explorer"
INTRO = (
    "Chainfolio reads each wallet's past transfers from your own RPC nodes. Token transfers "
    "work with any node. Native coin transfers (ETH, POL, …) need a node that offers "
    "trace_filter, such as Erigon, Reth or Nethermind; for other nodes you may choose a block "
    "explorer to ask instead."
)
CHOICES = (
    ("none", "&No explorer (nothing is sent; native transfers stay unknown on such nodes)"),
    ("etherscan", "&Etherscan (API v2, every network with one free API key)"),
    ("blockscout", "&Blockscout (public instances of the main networks, no key)"),
)
WHO_SEES = {
    "none": "No address is sent to a block explorer.",
    "etherscan": (
        "Etherscan (etherscan.io) will see the addresses of your wallets, and on which "
        "networks you hold them, whenever a history scan reads a network whose node has no "
        "trace_filter."
    ),
    "blockscout": (
        "Blockscout (the blockscout.com instance of each network) will see the addresses of "
        "your wallets, and on which networks you hold them, whenever a history scan reads a "
        "network whose node has no trace_filter."
    ),
}


def _label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class HistoryTab(QWidget):
    def __init__(self, settings: Settings, secrets: SecretStore, parent: QWidget | None = None):
        super().__init__(parent)
        self._settings = settings
        self._secrets = secrets
        layout = QVBoxLayout(self)
        layout.addWidget(_label(INTRO))

        box = QGroupBox("Block explorer for native transfers")
        bl = QVBoxLayout(box)
        self.choice_group = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        current = str(settings.get(KEY))
        for value, text in CHOICES:
            button = QRadioButton(text)
            button.setChecked(value == current)
            button.toggled.connect(lambda _on: self._update())
            self.choice_group.addButton(button)
            self.choices[value] = button
            bl.addWidget(button)
        self.who_sees = _label()
        self.who_sees.setObjectName("history:who_sees")
        bl.addWidget(self.who_sees)
        layout.addWidget(box)

        key_box = QGroupBox("Etherscan API key")
        kl = QVBoxLayout(key_box)
        row = QHBoxLayout()
        self.key_value = QLineEdit()
        self.key_value.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_value.setPlaceholderText("paste the key; it is stored in the OS keyring")
        self.key_value.setAccessibleName("Etherscan API key")
        self.store_button = QPushButton("&Store key")
        self.store_button.clicked.connect(self.store_key)
        row.addWidget(self.key_value, 1)
        row.addWidget(self.store_button)
        kl.addLayout(row)
        self.key_status = _label()
        kl.addWidget(self.key_status)
        self.key_box = key_box
        layout.addWidget(key_box)
        layout.addStretch(1)
        self._show_key_status()
        self._update()

    def choice(self) -> str:
        return next(v for v, b in self.choices.items() if b.isChecked())

    def _update(self) -> None:
        choice = self.choice()
        self.who_sees.setText(WHO_SEES[choice])
        paint_text(self.who_sees, Role.WARNING if choice != "none" else None)
        self.key_box.setEnabled(choice == "etherscan")

    def _has_key(self) -> bool | None:
        try:
            return ETHERSCAN_KEY in self._secrets.names()
        except ChainfolioError:
            return None

    def _show_key_status(self, text: str | None = None, error: bool = False) -> None:
        if text is None:
            has = self._has_key()
            text = {
                True: "An Etherscan key is stored in the keyring.",
                False: "No Etherscan key is stored yet.",
                None: "The keyring cannot be read, so no key can be stored now.",
            }[has]
            error = has is None
        self.key_status.setText(text)
        paint_text(self.key_status, Role.ERROR if error else None)

    def store_key(self) -> None:
        value = self.key_value.text().strip()
        self.key_value.clear()  # the value leaves the widget whatever happens next
        if not value:
            self._show_key_status("Paste the key first.", error=True)
            return
        try:
            check_value(ETHERSCAN_KEY, value)
            self._secrets.set(ETHERSCAN_KEY, value)
        except ChainfolioError as exc:
            self._show_key_status(str(exc), error=True)
            return
        self._show_key_status("The Etherscan key is stored in the keyring.")

    def apply(self) -> list[str]:
        """Save the choice; the keys that changed."""
        if self.choice() == self._settings.get(KEY):
            return []
        self._settings.set(KEY, self.choice())
        self._settings.save()
        return [KEY]

    @classmethod
    def attach(cls, dialog: SettingsDialog, settings: Settings, secrets: SecretStore) -> HistoryTab:
        """Add the tab to ``dialog``; its choice is saved when the dialog is accepted."""
        tab = cls(settings, secrets)
        dialog.tabs.addTab(tab, "History")

        def saved() -> None:
            try:
                changed = tab.apply()
            except (ChainfolioError, OSError):
                log.warning("could not save the history explorer choice", exc_info=True)
                return
            if changed:
                dialog.settings_changed.emit(changed)

        dialog.accepted.connect(saved)
        return tab
