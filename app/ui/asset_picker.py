"""Pick an asset for a price alert: what you hold first (symbol, chain, icon, value), or search
the token lists and every network's coin by symbol. Nobody types a CAIP-19 id.

The held list comes from the snapshot already on screen (no database work); a search of the
token lists runs in a worker thread, the latest search winning.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from functools import lru_cache

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.alerts import AssetChoice
from app.ui.models.holdings_format import money_text
from app.ui.tasks import TaskRunner

Search = Callable[[str], list[AssetChoice]]  # blocking: run in a worker thread
SEARCH_DELAY_MS = 200
CHOICE_ROLE = Qt.ItemDataRole.UserRole + 1
# Distinct, mid-tone colours: white letters on them read well in light and dark themes.
CHAIN_COLOURS = ("#4f46e5", "#0e7490", "#b45309", "#7c3aed", "#be123c", "#15803d", "#1d4ed8",
                 "#a21caf")  # fmt: skip
KNOWN_CHAIN_COLOURS = {
    "eip155:1": "#4f46e5", "eip155:10": "#be123c", "eip155:8453": "#1d4ed8",
    "eip155:42161": "#0e7490", "eip155:137": "#7c3aed", "eip155:56": "#b45309",
}  # fmt: skip


def chain_colour(chain: str) -> str:
    if chain in KNOWN_CHAIN_COLOURS:
        return KNOWN_CHAIN_COLOURS[chain]
    digest = hashlib.sha256(chain.encode()).digest()
    return CHAIN_COLOURS[digest[0] % len(CHAIN_COLOURS)]


@lru_cache(maxsize=512)
def asset_icon(symbol: str, chain: str, size: int = 22) -> QIcon:
    """A round badge in the chain's colour with the symbol's first letter: tells ETH on
    Ethereum from ETH on Base at a glance, without downloading any logo."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(chain_colour(chain)))
    painter.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.55))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    letter = next((c for c in symbol if c.isalnum()), "?").upper()
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return QIcon(pixmap)


def choice_text(choice: AssetChoice, currency: str) -> str:
    if choice.value is None:
        return choice.label
    return f"{choice.label}  ·  {money_text(choice.value, currency)} held"


class _ArrowKeys(QObject):
    """Up/Down in the search box move through the list, so the keyboard never has to leave it."""

    def __init__(self, picker: AssetPicker) -> None:
        super().__init__(picker)
        self._picker = picker

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None:
                self._picker.move_selection(step)
                return True
        return False


class AssetPicker(QWidget):
    changed = Signal()

    def __init__(
        self,
        held: Sequence[AssetChoice],
        currency: str,
        tasks: TaskRunner | None = None,
        search: Search | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._held = list(held)
        self._currency = currency
        self._tasks = tasks
        self._search = search
        self.query = QLineEdit()
        self.query.setObjectName("assetSearch")
        self.query.setPlaceholderText("Search by symbol, e.g. ETH or USDC")
        self.query.setClearButtonEnabled(True)
        self.query.setAccessibleName("Search assets by symbol")
        self.query.installEventFilter(_ArrowKeys(self))
        self.list = QListWidget()
        self.list.setObjectName("assetList")
        self.list.setAccessibleName("Assets")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setMinimumHeight(150)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # full text in the tooltip
        self.list.currentItemChanged.connect(lambda *_: self.changed.emit())
        self.hint = QLabel()
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("assetHint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.query)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._search_lists)
        self.query.textChanged.connect(self._query_changed)
        self._show(self._held, searched=False)

    # --- list ---------------------------------------------------------------------------
    def _show(self, choices: Sequence[AssetChoice], searched: bool) -> None:
        keep = self.selected()
        self.list.clear()
        for choice in choices:
            text = choice_text(choice, self._currency)
            item = QListWidgetItem(asset_icon(choice.symbol, choice.chain), text)
            item.setData(CHOICE_ROLE, choice)
            item.setToolTip(f"{text}\n{choice.asset_id}")
            self.list.addItem(item)
        row = next(
            (i for i, c in enumerate(choices) if keep and c.asset_id == keep.asset_id),
            0 if choices else -1,
        )
        self.list.setCurrentRow(row)
        query = self.query.text().strip()
        if not choices and query:
            self.hint.setText(
                f"Nothing called {query!r} in your holdings"
                + (" or the token lists." if searched else "; searching the token lists…")
            )
        elif not choices:
            self.hint.setText(
                "Nothing held yet: search the token lists by symbol (after the first refresh "
                "your holdings are listed here)."
            )
        else:
            self.hint.setText("")
        self.hint.setVisible(bool(self.hint.text()))
        self.changed.emit()

    def _query_changed(self, text: str) -> None:
        query = text.strip().lower()
        local = [
            c
            for c in self._held
            if not query or query in c.symbol.lower() or query in c.chain_name.lower()
        ]
        self._show(local, searched=self._search is None)
        if query and self._search is not None and self._tasks is not None:
            self._timer.start()

    def _search_lists(self) -> None:
        if self._search is None or self._tasks is None:
            return
        text = self.query.text()
        if not text.strip():
            return
        search = self._search
        self._tasks.run(
            asyncio.to_thread(search, text),
            lambda found: self._show(found, searched=True) if self.query.text() == text else None,
            key="alert-asset-search",
        )

    def move_selection(self, step: int) -> None:
        count = self.list.count()
        if count:
            self.list.setCurrentRow(max(0, min(count - 1, self.list.currentRow() + step)))

    # --- value --------------------------------------------------------------------------
    def selected(self) -> AssetChoice | None:
        item = self.list.currentItem()
        choice = item.data(CHOICE_ROLE) if item is not None else None
        return choice if isinstance(choice, AssetChoice) else None

    def value(self) -> str:
        """The chosen asset's CAIP-19 id; else what was typed (the service says what is
        wrong with it)."""
        choice = self.selected()
        return choice.asset_id if choice is not None else self.query.text().strip()
