"""The timeline chart (pyqtgraph). Imported only when the timeline page is first shown.

Why its own module: pyqtgraph and numpy cost ~0.5 s to import, so the window's first paint must
not wait for them; :mod:`app.ui.timeline_page` imports this lazily.

Drawing follows pyqtgraph's examples (DateAxisItem with epoch seconds, crosshair from an
InfiniteLine + ``mapSceneToView`` + ``searchsorted``, throttled by ``SignalProxy``) but the
downsampling is ours (:mod:`app.services.downsample`): on every range change the visible part of
the full series is cut to two points per pixel, peaks kept, so five years of hourly snapshots
redraw in a few milliseconds. Every text given to pyqtgraph is plain text or HTML-escaped:
legend labels render as HTML there, and token symbols are hostile.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from app.domain.onchain_timeline import Reconstruction
from app.services.history import Breakdown, NetWorth

# Tableau 10: distinct on light and dark backgrounds, kind to colour-blind readers.
SERIES_COLOURS = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER_COLOUR = "#8c8c8c"
RECONSTRUCTED_COLOUR = "#f28e2b"  # the rebuilt part: its own colour and a dashed line
GAP_COLOUR = "#e15759"
RECONSTRUCTED_LABEL = "Reconstructed from on-chain history"
GAP_LABEL = "Gap to the first snapshot"
FILL_ALPHA = 150


class MoneyAxis(pg.AxisItem):  # type: ignore[misc]
    """Grouped thousands instead of pyqtgraph's SI prefixes (a portfolio is not in kV)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        places = 0 if spacing >= 1 else 2
        return [f"{v:,.{places}f}" for v in values]


class TimelinePlot(QWidget):
    """Net worth (one line) or a breakdown (stacked areas or lines) over time.

    ``describe(t)`` is asked for the crosshair: it returns the snapped (x, y) and the text.
    """

    x_range_changed = Signal(float, float)  # every change (pan, zoom, range button)
    x_range_settled = Signal(float, float)  # after the view stopped moving for a moment
    hovered = Signal(str)  # the crosshair's text ("" when it is hidden)

    def __init__(
        self,
        describe: Callable[[float], tuple[float, float, str] | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._describe = describe
        self.net_worth: NetWorth | None = None
        self.breakdown: Breakdown | None = None
        self.stacked = True
        self._items: list[Any] = []
        pg.setConfigOptions(antialias=True)
        self.widget = pg.PlotWidget(
            axisItems={"bottom": pg.DateAxisItem(orientation="bottom"), "left": MoneyAxis("left")},
            enableMenu=False,  # never shown; building its widgets was a fifth of opening the tab
        )
        self.widget.setObjectName("timelinePlot")
        self.widget.setAccessibleName("Chart of the value over time")
        self.item = self.widget.getPlotItem()
        self.item.setMenuEnabled(False)
        self.item.hideButtons()
        self.item.showGrid(x=False, y=True, alpha=0.15)  # a vertical grid costs ~15 ms a paint
        self.view = self.item.getViewBox()
        self.view.setMouseEnabled(x=True, y=False)  # pan and zoom in time; y follows the data
        self.view.disableAutoRange(axis="x")  # the range buttons and the person decide x
        # y follows the data in view, fitted at once by fit_y(): pyqtgraph's own auto-range
        # waits for the paint, moves the axis then, and so paints every change twice
        self.view.disableAutoRange(axis="y")
        self.total_curve = pg.PlotCurveItem()
        self.total_curve.setZValue(10)
        self.item.addItem(self.total_curve)
        self.legend = self.item.addLegend(offset=(10, 10))
        self.legend.hide()
        # The part before the first snapshot, rebuilt from the scanned history (dashed), and
        # the gap between it and the first observed total (dotted, never closed by force).
        self.reconstruction: Reconstruction | None = None
        self.recon_curve = pg.PlotCurveItem()
        self.recon_curve.setZValue(9)
        self.gap_curve = pg.PlotCurveItem()
        self.gap_curve.setZValue(9)
        self.gap_label = pg.TextItem(anchor=(0, 0.5))
        for item in (self.recon_curve, self.gap_curve):
            self.item.addItem(item)
            item.hide()
        self.item.addItem(self.gap_label, ignoreBounds=True)
        self.gap_label.hide()
        self.recon_legend = pg.LegendItem(offset=(-10, -10))  # bottom right
        self.recon_legend.setParentItem(self.item.vb)
        self.recon_legend.addItem(self.recon_curve, RECONSTRUCTED_LABEL)
        self.recon_legend.addItem(self.gap_curve, GAP_LABEL)
        for sample, _label in self.recon_legend.items:
            sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.recon_legend.hide()
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.vline.setZValue(20)
        self.marker = pg.ScatterPlotItem(size=8)
        self.marker.setZValue(21)
        self.label = pg.TextItem(anchor=(0, 0))
        self.label.setZValue(22)
        for item in (self.vline, self.marker, self.label):
            self.item.addItem(item, ignoreBounds=True)
            item.hide()
        for name in ("left", "bottom"):  # redrawn when their range moves, not on every paint
            self.item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.hover_text = ""
        self._mouse = pg.SignalProxy(
            self.widget.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved
        )
        self.view.sigXRangeChanged.connect(self._on_x_range)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(250)
        self._settle.timeout.connect(lambda: self.x_range_settled.emit(*self.x_range()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)
        self.apply_palette()

    # --- data ---------------------------------------------------------------------------
    def set_net_worth(self, nw: NetWorth, now: float) -> None:
        """Draw a new series; pan and zoom stay within a margin around the data and now."""
        self.net_worth = nw
        if len(nw):
            self._set_limits(now)
        self.redraw()

    def set_reconstruction(self, r: Reconstruction | None, now: float) -> None:
        """Draw the rebuilt values before the first snapshot (dashed) and the gap to the first
        observed total (a dotted vertical segment with its amount); None hides both."""
        self.reconstruction = r
        if r is None or not len(r):
            for item in (self.recon_curve, self.gap_curve, self.gap_label, self.recon_legend):
                item.hide()
            if self.net_worth is not None:
                self.set_net_worth(self.net_worth, now)
            return
        x = np.asarray(r.times, dtype=np.float64)
        y = np.asarray([float(v) for v in r.forward], dtype=np.float64)
        self.recon_curve.setData(x, y)
        self.recon_curve.show()
        gap = r.gap_value
        if r.snapshot_time is not None and r.snapshot_total is not None and gap:
            t = float(r.snapshot_time)
            self.gap_curve.setData([t, t], [float(r.forward[-1]), float(r.snapshot_total)])
            self.gap_curve.show()
            self.gap_label.setText(f"gap {float(gap):+,.2f} {r.currency}")
            self.gap_label.setPos(t, (float(r.forward[-1]) + float(r.snapshot_total)) / 2)
            self.gap_label.show()
        else:
            self.gap_curve.hide()
            self.gap_label.hide()
        self.recon_legend.show()
        self._set_limits(now)
        self.fit_y()

    def first_time(self) -> float | None:
        """The earliest time drawn: the rebuilt part's start, else the first snapshot's."""
        times = []
        if self.reconstruction is not None and len(self.reconstruction):
            times.append(float(self.reconstruction.times[0]))
        if self.net_worth is not None and len(self.net_worth):
            times.append(float(self.net_worth.times[0]))
        return min(times) if times else None

    def _set_limits(self, now: float) -> None:
        nw = self.net_worth
        start = self.first_time()
        if start is None:
            return
        last = max(float(nw.times[-1]) if nw is not None and len(nw) else start, now)
        first = min(start, last - 366 * 86400.0)  # the "1 y" button must fit
        margin = 0.1 * (last - first)
        self.view.setLimits(xMin=first - margin, xMax=last + margin, minXRange=600)

    def set_breakdown(self, breakdown: Breakdown | None, stacked: bool) -> None:
        self.breakdown = breakdown
        self.stacked = stacked
        self._draw_breakdown()
        self.fit_y()

    def stop_timers(self) -> bool:
        """Stop a pending "range settled"; True if one was pending."""
        pending = self._settle.isActive()
        self._settle.stop()
        return pending

    def x_range(self) -> tuple[float, float]:
        lo, hi = self.view.viewRange()[0]
        return float(lo), float(hi)

    def set_x_range(self, lo: float, hi: float) -> None:
        self.view.setXRange(lo, hi, padding=0)

    def buckets(self) -> int:
        """Time buckets for the visible range: one per horizontal pixel of the plot area."""
        return max(int(self.view.width()), 200)

    # --- drawing ------------------------------------------------------------------------
    def redraw(self) -> None:
        """Cut the full series to what the visible range and width need (peaks kept)."""
        nw = self.net_worth
        if nw is None or not len(nw):
            self.total_curve.setData([], [])
            return
        lo, hi = self.x_range()
        span = hi - lo
        # a margin of one screen on each side keeps panning smooth until the next redraw
        x, y = nw.visible(lo - span, hi + span, 3 * self.buckets())
        self.total_curve.setData(x, y)
        self.fit_y()

    def fit_y(self) -> None:
        """Fit the y axis to what is drawn inside the visible time range (filled areas down to
        their fill level), as pyqtgraph's auto-range with ``autoVisible`` would, but now."""
        lo, hi = self.x_range()
        low, high = np.inf, -np.inf
        shown = [self.recon_curve, self.gap_curve] if self.reconstruction is not None else []
        for item in (self.total_curve, *self._items, *shown):
            bottom, top = item.dataBounds(1, orthoRange=(lo, hi))
            if bottom is not None and top is not None:
                low, high = min(low, bottom), max(high, top)
        if low <= high:
            if low == high:  # one value (or a flat line): give it some room
                margin = max(abs(low) * 0.05, 1.0)
                low, high = low - margin, high + margin
            self._fit_axis_width(low, high)
            self.view.setYRange(low, high)
        # Move the drawn items now: pyqtgraph defers this to the paint, and moving them there
        # makes Qt paint the plot a second time.
        self.view.updateMatrix()

    def _fit_axis_width(self, low: float, high: float) -> None:
        """Give the money axis the width of the widest label this range can have, before the
        paint. pyqtgraph measures its labels while painting, then widens the axis and paints
        everything a second time (on opening the tab, and on ranges with longer labels)."""
        axis = self.item.getAxis("left")
        style = axis.style
        reach = max(abs(low), abs(high)) * 1.1  # a tick can lie a little beyond the data
        places = 2 if high - low < 10 else 0  # as MoneyAxis labels small steps
        text = f"{-reach if low < 0 else reach:,.{places}f}"
        metrics = QFontMetrics(style["tickFont"] or axis.font())
        width = metrics.horizontalAdvance(text) + style["tickTextOffset"][0]
        width += max(0, style["tickLength"]) + 2
        current = axis.fixedWidth or 0
        if width > current or width < current - 30:  # a little slack: no jitter between ranges
            axis.setWidth(width)
            self.item.layout.activate()  # the plot area takes its new width now, not at paint

    def _clear_breakdown(self) -> None:
        for item in self._items:
            self.item.removeItem(item)
        self._items = []
        self.legend.clear()
        self.legend.hide()

    def _draw_breakdown(self) -> None:
        self._clear_breakdown()
        b = self.breakdown
        if b is None or not b.series or not len(b.times):
            return
        x = b.times.astype(np.float64)
        values = np.vstack([s.values for s in b.series])
        colours = [
            OTHER_COLOUR if s.key == "" else SERIES_COLOURS[i % len(SERIES_COLOURS)]
            for i, s in enumerate(b.series)
        ]
        if self.stacked:
            self._draw_stack(x, values, colours)
        else:
            for row, colour in zip(values, colours, strict=True):
                curve = pg.PlotCurveItem(x, row, pen=pg.mkPen(colour, width=1.5))
                self.item.addItem(curve)
                self._items.append(curve)
        for s, colour in zip(b.series, colours, strict=True):
            swatch = pg.BarGraphItem(x=[0], height=[1], width=1, pen=colour, brush=colour)
            self.legend.addItem(swatch, html.escape(s.label))  # legend labels render HTML
        for sample, _label in self.legend.items:  # a click would only hide the swatch
            sample.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.legend.show()

    def _draw_stack(self, x: Any, values: Any, colours: list[str]) -> None:
        """Assets stack up from zero, debts stack down from zero; the total line is the net.

        Each band is drawn as its cumulative curve filled to zero, the outermost first, so
        every inner band paints over the one outside it. That is one cheap path per band
        (pyqtgraph's FillBetweenItem builds two paths per band and costs ~3 ms each at 2,000
        points). Fills are opaque (blended with the background here) so overlaps never mix.
        """
        base = self.palette().color(QPalette.ColorRole.Base)
        for part in (np.clip(values, 0, None), np.clip(values, None, 0)):
            edges = np.cumsum(part, axis=0)
            for i in reversed(range(len(colours))):
                if not np.any(part[i]):
                    continue
                curve = pg.PlotCurveItem(
                    x,
                    edges[i],
                    pen=pg.mkPen(colours[i], width=1),
                    fillLevel=0,
                    brush=self._fill(colours[i], base),
                )
                self.item.addItem(curve)
                self._items.append(curve)

    @staticmethod
    def _fill(colour: str, base: QColor) -> QColor:
        """The series colour at ~60 % over the background, as an opaque colour."""
        c = QColor(colour)
        mix = FILL_ALPHA / 255
        return QColor.fromRgbF(
            c.redF() * mix + base.redF() * (1 - mix),
            c.greenF() * mix + base.greenF() * (1 - mix),
            c.blueF() * mix + base.blueF() * (1 - mix),
        )

    def apply_palette(self) -> None:
        """Follow the application palette (light or dark)."""
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        self.widget.setBackground(base)
        for name in ("left", "bottom"):
            axis = self.item.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        self.total_curve.setPen(pg.mkPen(text, width=2))
        dim = QColor(text)
        dim.setAlpha(140)
        self.vline.setPen(pg.mkPen(dim, width=1, style=Qt.PenStyle.DashLine))
        self.marker.setBrush(pg.mkBrush(text))
        self.marker.setPen(pg.mkPen(base))
        self.label.setColor(text)
        self.label.fill = pg.mkBrush(base)
        self.label.border = pg.mkPen(dim)
        self.legend.setLabelTextColor(text)
        self.legend.setBrush(pg.mkBrush(base))
        self.recon_curve.setPen(pg.mkPen(RECONSTRUCTED_COLOUR, width=2, style=Qt.PenStyle.DashLine))
        self.gap_curve.setPen(pg.mkPen(GAP_COLOUR, width=2, style=Qt.PenStyle.DotLine))
        self.gap_label.setColor(GAP_COLOUR)
        self.recon_legend.setLabelTextColor(text)
        self.recon_legend.setBrush(pg.mkBrush(base))
        if self.breakdown is not None:  # fills are blended with the background
            self._draw_breakdown()

    # --- interaction --------------------------------------------------------------------
    def _on_x_range(self, *_: object) -> None:
        self.redraw()
        self.x_range_changed.emit(*self.x_range())
        self._settle.start()

    def _mouse_moved(self, event: tuple[QPointF]) -> None:
        self.hover_scene(event[0])

    def hover_scene(self, pos: QPointF) -> None:
        """Move the crosshair to the snapshot nearest to a scene position."""
        if not self.view.sceneBoundingRect().contains(pos):
            self.hide_crosshair()
            return
        found = self._describe(self.view.mapSceneToView(pos).x())
        if found is None:
            self.hide_crosshair()
            return
        x, y, text = found
        self.hover_text = text
        self.vline.setPos(x)
        self.marker.setData([x], [y])
        self.label.setText(text)
        # beside the line at the top of the plot, on the side with more room
        lo, hi = self.x_range()
        top = self.view.viewRange()[1][1]
        self.label.setAnchor((1.03, 0) if x > (lo + hi) / 2 else (-0.03, 0))
        self.label.setPos(x, top)
        for item in (self.vline, self.marker, self.label):
            item.show()
        self.hovered.emit(text)

    def hide_crosshair(self) -> None:
        if not self.hover_text:
            return
        self.hover_text = ""
        for item in (self.vline, self.marker, self.label):
            item.hide()
        self.hovered.emit("")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light/dark switch, or a parent's palette
            self.apply_palette()

    def leaveEvent(self, event: Any) -> None:
        self.hide_crosshair()
        super().leaveEvent(event)
