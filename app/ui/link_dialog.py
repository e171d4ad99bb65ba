"""Linking a ledger account to the wallet whose coins it records (the Transactions tab's
"Link to wallet…"): the Performance tab then shows where the wallet's observed balance and the
account's transactions disagree ("Unexplained change"). Reads and writes go through
``PortfolioService.link`` / ``unlink`` in worker threads; the dialog itself only chooses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.domain.model import short_address
from app.domain.text import clean_text

if TYPE_CHECKING:
    from app.domain.model import Wallet
    from app.services.portfolios import PortfolioService

NOT_LINKED = "Not linked"


@dataclass(frozen=True, slots=True)
class WalletLinks:
    """What linking needs, each called in a worker thread."""

    wallets: Callable[[], list[Wallet]]
    service: Callable[[], PortfolioService]


@dataclass(frozen=True, slots=True)
class LinkChoices:
    account: str
    wallets: list[tuple[str, str]]  # (address, shown name)
    current: str | None  # the linked wallet's address


def read_choices(links: WalletLinks, account: str) -> LinkChoices:
    """In a worker thread: the watched wallets and the account's present link."""
    wallets = [(w.address, w.display_name) for w in links.wallets()]
    current = next((lk.wallet for lk in links.service().links() if lk.account == account), None)
    return LinkChoices(account, wallets, current)


class LinkDialog(QDialog):
    """``submitted(address or None)``: None removes the link."""

    submitted = Signal(object)

    def __init__(self, choices: LinkChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = clean_text(choices.account, 64)
        self.setWindowTitle("Link to wallet")
        intro = QLabel(
            f"Choose the watched wallet whose coins the account {name} records. The "
            "Performance tab then shows, per asset, where what the wallet holds differs from "
            "what the account's transactions explain. A portfolio holding both counts those "
            "coins once, as the wallet's balance."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.wallet = QComboBox()
        self.wallet.setAccessibleName("Wallet")
        self.wallet.addItem(NOT_LINKED, None)
        for address, shown in choices.wallets:
            label = clean_text(shown, 40)
            short = short_address(address)
            self.wallet.addItem(label if label == short else f"{label} ({short})", address)
        if choices.current is not None:
            at = self.wallet.findData(choices.current)
            if at < 0:  # linked to a wallet no longer watched: still shown as it is
                self.wallet.addItem(short_address(choices.current), choices.current)
                at = self.wallet.count() - 1
            self.wallet.setCurrentIndex(at)
        self._initial = choices.current
        caption = QLabel("&Wallet")
        caption.setBuddy(self.wallet)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(caption)
        layout.addWidget(self.wallet)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)

    def _submit(self) -> None:
        chosen = self.wallet.currentData()
        if chosen == self._initial:
            self.accept()  # nothing to change
            return
        self.ok.setEnabled(False)
        self.submitted.emit(chosen)

    def show_error(self, text: str) -> None:
        from app.ui.theme import Role, paint_text

        self.ok.setEnabled(True)
        self.error.setText(text)
        self.error.show()
        paint_text(self.error, Role.ERROR)
