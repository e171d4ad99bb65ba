"""Settings → Price sources: which sources are asked, and in what order (``prices.order``).

Every known source is listed; a ticked source is asked, in list order, and later ones only fill
the assets the earlier ones missed. The list is validated with the ``prices.order`` Setting
itself, so the dialog and ``chainfolio config set prices.order …`` accept the same values.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import SETTINGS, Settings
from app.domain.errors import ChainfolioError
from app.prices.settings import SOURCES
from app.ui.theme import Role, paint_text

KEY = "prices.order"
NAMES = {"coingecko": "CoinGecko", "defillama": "DefiLlama"}


class PricesTab(QWidget):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Price sources are asked from top to bottom; a later source only fills the assets "
            "the earlier ones have no price for. Untick a source to stop asking it."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.source_list = QListWidget()
        self.source_list.itemChanged.connect(lambda _item: self.validate())
        layout.addWidget(self.source_list)
        row = QHBoxLayout()
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move do&wn")
        self.up_button.clicked.connect(lambda: self.move_source(-1))
        self.down_button.clicked.connect(lambda: self.move_source(1))
        row.addWidget(self.up_button)
        row.addWidget(self.down_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        paint_text(self.error, Role.ERROR)
        self.error.setObjectName(f"error:{KEY}")
        self.error.hide()
        layout.addWidget(self.error)
        layout.addStretch(1)

        current = [s for s in settings.get(KEY) if s in SOURCES]
        for source in current + [s for s in SOURCES if s not in current]:
            item = QListWidgetItem(NAMES.get(source, source))
            item.setData(Qt.ItemDataRole.UserRole, source)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = source in current
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.source_list.addItem(item)

    def order(self) -> list[str]:
        """The ticked sources, top to bottom."""
        out = []
        for row in range(self.source_list.count()):
            item = self.source_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def move_source(self, step: int) -> None:
        row = self.source_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.source_list.count():
            return
        item = self.source_list.takeItem(row)
        self.source_list.insertItem(target, item)
        self.source_list.setCurrentRow(target)

    def validate(self) -> bool:
        """Check the order with its Setting; show the message under the list."""
        try:
            SETTINGS[KEY].coerce(self.order())
        except ChainfolioError as exc:
            message = str(exc) if self.order() else "Tick at least one price source."
            self.error.setText(message)
            self.error.show()
            return False
        self.error.clear()
        self.error.hide()
        return True
