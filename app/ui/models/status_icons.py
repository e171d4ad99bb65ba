"""Small status icons for table rows, painted once (crisp at any DPI, no image files).

Stale (amber clock: carried over from an earlier read), failed (red cross: could not be read),
spam (grey slashed circle: shown on request, never counted) and manual (blue disc with a pencil
stroke: a price the person set, not a market price).
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

AMBER = "#d97706"
RED = "#dc2626"
GREY = "#9ca3af"
BLUE = "#2563eb"


def _canvas(size: int) -> tuple[QPixmap, QPainter]:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    return pixmap, painter


def _disc_with_strokes(
    p: QPainter,
    disc: QRectF,
    color: str,
    width: float,
    lines: list[tuple[float, float, float, float]],
    s: float,
) -> None:
    """A filled ``color`` disc with round white strokes, coordinates on a 16-unit grid."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    p.drawEllipse(disc)
    pen = QPen(QColor("white"), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    for x1, y1, x2, y2 in lines:
        p.drawLine(QPointF(x1 * s, y1 * s), QPointF(x2 * s, y2 * s))


def _icon(draw: str) -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32):
        pixmap, p = _canvas(size)
        s = size / 16.0
        disc = QRectF(1 * s, 1 * s, 14 * s, 14 * s)
        if draw == "stale":  # clock hands
            _disc_with_strokes(p, disc, AMBER, 1.6 * s, [(8, 8, 8, 4.2), (8, 8, 10.8, 9.8)], s)
        elif draw == "manual":  # a pencil: a slanted stroke with a short tip mark
            pencil = [(5.2, 10.8, 10.4, 5.6), (4.6, 11.4, 4.9, 11.1)]
            _disc_with_strokes(p, disc, BLUE, 1.8 * s, pencil, s)
        elif draw == "failed":  # a cross
            cross = [(5.5, 5.5, 10.5, 10.5), (10.5, 5.5, 5.5, 10.5)]
            _disc_with_strokes(p, disc, RED, 1.8 * s, cross, s)
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


@cache
def manual_icon() -> QIcon:
    return _icon("manual")
