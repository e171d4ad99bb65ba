"""Small status icons for table rows, painted once (crisp at any DPI, no image files).

Stale (amber clock: carried over from an earlier read), failed (red cross: could not be read)
and spam (grey slashed circle: shown on request, never counted).
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

AMBER = "#d97706"
RED = "#dc2626"
GREY = "#9ca3af"


def _canvas(size: int) -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def _icon(draw: str) -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32):
        pixmap, p = _canvas(size)
        s = size / 16.0
        disc = QRectF(1 * s, 1 * s, 14 * s, 14 * s)
        if draw == "stale":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(AMBER))
            p.drawEllipse(disc)
            pen = QPen(QColor("white"), 1.6 * s)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(QPointF(8 * s, 8 * s), QPointF(8 * s, 4.2 * s))
            p.drawLine(QPointF(8 * s, 8 * s), QPointF(10.8 * s, 9.8 * s))
        elif draw == "failed":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(RED))
            p.drawEllipse(disc)
            pen = QPen(QColor("white"), 1.8 * s)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(QPointF(5.5 * s, 5.5 * s), QPointF(10.5 * s, 10.5 * s))
            p.drawLine(QPointF(10.5 * s, 5.5 * s), QPointF(5.5 * s, 10.5 * s))
        else:  # spam
            pen = QPen(QColor(GREY), 1.6 * s)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(QRectF(2 * s, 2 * s, 12 * s, 12 * s))
            p.drawLine(QPointF(4.2 * s, 4.2 * s), QPointF(11.8 * s, 11.8 * s))
        p.end()
        icon.addPixmap(pixmap)
    return icon


@cache
def stale_icon() -> QIcon:
    return _icon("stale")


@cache
def failed_icon() -> QIcon:
    return _icon("failed")


@cache
def spam_icon() -> QIcon:
    return _icon("spam")
