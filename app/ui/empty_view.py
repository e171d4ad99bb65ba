"""A table that explains itself when it has no rows: what would be listed, and what to do."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QTableView, QWidget


class ExplainingTableView(QTableView):
    """A QTableView that paints ``placeholder`` (plain text, wrapped, muted) over an empty
    viewport, and gives it to screen readers as the table's description."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._placeholder = placeholder
        self._base_description = ""

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
                signal.connect(self._update_description)
            if hasattr(model, "layoutChanged"):
                model.layoutChanged.connect(self._update_description)
        self._update_description()

    @property
    def placeholder(self) -> str:
        return self._placeholder

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self._update_description()
        self.viewport().update()

    def is_empty(self) -> bool:
        model = self.model()
        return model is None or model.rowCount() == 0

    def shown_placeholder(self) -> str:
        """The text on screen now ("" while there are rows)."""
        return self._placeholder if self.is_empty() else ""

    def _update_description(self) -> None:
        self.setAccessibleDescription(self.shown_placeholder())
        self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        text = self.shown_placeholder()
        if not text:
            return
        painter = QPainter(self.viewport())
        colour = self.palette().color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(colour)
        area = self.viewport().rect().adjusted(24, 16, -24, -16)
        width = min(area.width(), 560)
        box = QRect(area.x() + (area.width() - width) // 2, area.y(), width, area.height())
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(box, int(flags), text)
        painter.end()
