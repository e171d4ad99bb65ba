""" "Set price source…": give a holding's asset a CoinGecko coin id, checked before it is saved.

Opened with ``open()`` (never ``exec()`` inside the qasync loop). The check asks the configured
price sources for the coin: an id they know is saved at once; an unknown one is refused in
words; when no source can be reached the person may save it anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ChainfolioError
from app.domain.text import clean_text
from app.services.price_ids import Check, PricedThing, PriceIdCheck, PriceIdService
from app.ui.models.holdings_format import format_number
from app.ui.tasks import TaskRunner


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # token names are never markup
    label.setWordWrap(True)
    return label


class PriceSourceDialog(QDialog):
    saved = Signal(str)  # the stored price id

    def __init__(
        self,
        service: PriceIdService,
        thing: PricedThing,
        where: str,
        currency: str,
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service, self.thing, self.currency, self.tasks = service, thing, currency, tasks
        self._anyway: str | None = None  # an id that could not be checked, saved on request
        self._running: list[asyncio.Task[Any]] = []
        self.finished.connect(self._stop)  # closed mid-check: its answer must not arrive here
        symbol = clean_text(thing.symbol, 24)
        self.setWindowTitle(f"Price source for {symbol}")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        what = "the native coin of" if thing.is_native else "held on"
        intro = _plain(f"Price {symbol} ({what} {where}) as this CoinGecko coin:")
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("for example usd-coin")
        self.edit.setAccessibleName("CoinGecko coin id")
        intro.setBuddy(self.edit)
        hint = _plain(
            "The coin id is the last part of the coin's CoinGecko address "
            "(coingecko.com/en/coins/usd-coin → usd-coin). The next refresh uses it."
        )
        hint.setObjectName("priceSourceHint")
        self.status = _plain()
        self.status.setObjectName("priceSourceStatus")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton("Check and save")
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        self.edit.textEdited.connect(self._edited)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.edit)
        layout.addWidget(hint)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def _edited(self, _text: str) -> None:
        self._anyway = None
        self.status.clear()
        self.save_button.setText("Check and save")

    def _busy(self, busy: bool, text: str = "") -> None:
        self.save_button.setEnabled(not busy)
        self.edit.setReadOnly(busy)
        if text:
            self.status.setText(text)

    def _submit(self) -> None:
        text = self.edit.text()
        if self._anyway is not None:
            self._save(self._anyway)
            return
        self._busy(True, "Asking the price sources…")
        self._track(
            self.tasks.run(
                self.service.check(text, self.currency),
                on_success=self._checked,
                on_failure=self._failed,
                key="price-source-check",
            )
        )

    def _checked(self, check: PriceIdCheck) -> None:
        self._busy(False)
        if check.outcome is Check.PRICED:
            price = (
                "" if check.price is None else f" ({format_number(check.price)} {self.currency})"
            )
            self.status.setText(f"{check.price_id} is known{price}. Saving…")
            self._save(check.price_id)
            return
        self.status.setText(check.sentence)
        if check.outcome is Check.UNREACHABLE:
            self._anyway = check.price_id
            self.save_button.setText("Save anyway")

    def _save(self, price_id: str) -> None:
        self._busy(True)
        self._track(
            self.tasks.run(
                self.service.save(self.thing, price_id),
                on_success=self._done,
                on_failure=self._failed,
                key="price-source-save",
            )
        )

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._running = [t for t in self._running if not t.done()] + [task]

    def _stop(self, _result: int = 0) -> None:
        for task in self._running:
            task.cancel()
        self._running = []

    def _done(self, price_id: str) -> None:
        self._busy(False)
        self.saved.emit(price_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, ChainfolioError):
            self.status.setText(str(exc))
        else:
            self.status.setText("The price source could not be saved; the log has the details.")


def open_price_source_dialog(
    parent: QWidget,
    service: PriceIdService,
    thing: PricedThing,
    where: str,
    currency: str,
    tasks: TaskRunner,
    saved: Callable[[str], None],
) -> PriceSourceDialog:
    dialog = PriceSourceDialog(service, thing, where, currency, tasks, parent)
    dialog.saved.connect(saved)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
