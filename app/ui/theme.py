"""Light, dark or the system's colours, switched while running, with readable text.

Why one module: colours written into widgets once (``setStyleSheet("color: #16a34a")``, a
``QColor`` cached by a model) do not follow a theme switch, and a green that reads on white is
too dark on a dark background. Here every colour the app adds to the palette is a *role*
(:class:`Role`: muted text, gain, loss, warning, error, ok) computed from the palette in use and
pushed until it has at least :data:`TEXT_CONTRAST` (WCAG AA, 4.5:1) against the window and the
table backgrounds.

How widgets follow a switch:

- Models ask :func:`colours` in ``data()``; it is cached per palette (``QPalette.cacheKey``), so
  asking per cell costs a dictionary look-up. A palette change repaints the views, which read the
  new colours: no model is rebuilt.
- Labels get a role with :func:`paint_text` and style sheets with :func:`themed_style` (a
  :class:`string.Template` with ``$muted``, ``$warning``, …). Both are re-applied when the
  application palette changes (one event filter on the application, see :class:`_Watcher`).

:func:`apply_theme` sets the palette: Fusion with its standard palette for light, Fusion with the
palette below for dark, and the platform's own style and palette for "system". The style is
:class:`ChainfolioStyle`, which draws check box and radio button outlines that can be seen
(Fusion draws them a shade darker than the window: invisible on a dark base).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from string import Template

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

TEXT_CONTRAST = 5.0  # WCAG AA asks 4.5:1 for text; margin for thin anti-aliased glyphs ("—")
OUTLINE_CONTRAST = 3.0  # WCAG 1.4.11: outlines of controls (check boxes) against their fill
THEMES = ("system", "light", "dark")
_ROLE_PROPERTY = "chainfolioTextRole"
_STYLE_PROPERTY = "chainfolioStyleTemplate"


class Role(enum.StrEnum):
    MUTED = "muted"  # secondary text: captions, counts, spam rows
    GAIN = "gain"
    LOSS = "loss"  # losses and debt
    WARNING = "warning"  # stale data
    ERROR = "error"  # a field that is wrong, an action that failed
    OK = "ok"  # a check that passed


# The hue each role starts from on a light and on a dark background; readable() then moves it
# towards black or white until it reads on the palette actually in use.
_SEEDS: dict[Role, tuple[str, str]] = {
    Role.GAIN: ("#15803d", "#4ade80"),
    Role.LOSS: ("#b91c1c", "#f87171"),
    Role.WARNING: ("#92400e", "#fbbf24"),
    Role.ERROR: ("#b91c1c", "#f87171"),
    Role.OK: ("#166534", "#4ade80"),
}

DARK_PALETTE: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#1f2126",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#16181c",
    QPalette.ColorRole.AlternateBase: "#23262b",
    QPalette.ColorRole.ToolTipBase: "#2b2f36",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#2a2d33",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#7cb0ff",
    QPalette.ColorRole.LinkVisited: "#b99cff",
    QPalette.ColorRole.Highlight: "#2563eb",  # white on it: 5.2:1
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#9096a0",
    QPalette.ColorRole.Light: "#454a52",
    QPalette.ColorRole.Midlight: "#363a41",
    QPalette.ColorRole.Mid: "#2c2f35",
    QPalette.ColorRole.Dark: "#141518",
    QPalette.ColorRole.Shadow: "#0b0c0e",
}
DARK_DISABLED = "#7d828b"
LIGHT_HIGHLIGHT = "#1d64c8"  # Fusion's #308cc6 gives white text 3.6:1; this gives 5.7:1
LIGHT_PLACEHOLDER = "#6b6b6b"  # Fusion's is black at half strength: 3.9:1 on the window


# ------------------------------------------------------------------ contrast arithmetic


def luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2.x) of an opaque sRGB colour."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two opaque colours, 1.0 to 21.0."""
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def flatten(colour: QColor, background: QColor) -> QColor:
    """A translucent colour as it shows over ``background``."""
    a = colour.alphaF()
    return QColor.fromRgbF(
        colour.redF() * a + background.redF() * (1 - a),
        colour.greenF() * a + background.greenF() * (1 - a),
        colour.blueF() * a + background.blueF() * (1 - a),
    )


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def readable(colour: QColor, backgrounds: list[QColor], minimum: float = TEXT_CONTRAST) -> QColor:
    """``colour``, moved towards black (light backgrounds) or white (dark ones) in small steps
    until it has ``minimum`` contrast against every background."""
    dark = sum(luminance(b) for b in backgrounds) / len(backgrounds) < 0.18
    target = QColor("#ffffff" if dark else "#000000")
    base = flatten(colour, backgrounds[0])
    for step in range(21):
        candidate = _mix(base, target, step / 20)
        if all(contrast(candidate, b) >= minimum for b in backgrounds):
            return candidate
    return target


def is_dark(palette: QPalette) -> bool:
    return luminance(palette.color(QPalette.ColorRole.Window)) < 0.18


# ------------------------------------------------------------------ colour roles


@dataclass(frozen=True, slots=True)
class Colours:
    dark: bool
    muted: QColor
    gain: QColor
    loss: QColor
    warning: QColor
    error: QColor
    ok: QColor
    outline: QColor  # check box and radio button outlines
    tint: QColor  # a translucent highlight behind group rows

    def of(self, role: Role) -> QColor:
        colour: QColor = getattr(self, role.value)
        return colour

    def names(self) -> dict[str, str]:
        """``{"muted": "#6b6b6b", …}`` for :func:`themed_style` templates."""
        return {role.value: self.of(role).name() for role in Role} | {
            "outline": self.outline.name()
        }


def _fusion_pane(button: QColor) -> QColor:
    """The colour Fusion fills tab pages with: its button colour, lightened (qfusionstyle.cpp
    ``buttonColor`` then ``tabFrameColor``). On a dark palette it is the lightest surface."""
    grey = (button.red() * 11 + button.green() * 16 + button.blue() * 5) // 32
    colour = button.lighter(100 + max(1, (180 - grey) // 6))
    colour.setHsv(colour.hue(), int(colour.saturation() * 0.75), colour.value())
    return colour.lighter(104)


def colours_for(palette: QPalette) -> Colours:
    """Every role computed for ``palette``: readable on its window, base, alternate base,
    button and tab page colours."""
    dark = is_dark(palette)
    backgrounds = [
        palette.color(QPalette.ColorRole.Window),
        palette.color(QPalette.ColorRole.Base),
        palette.color(QPalette.ColorRole.AlternateBase),
        palette.color(QPalette.ColorRole.Button),
        _fusion_pane(palette.color(QPalette.ColorRole.Button)),
    ]
    text = palette.color(QPalette.ColorRole.Text)
    # Muted text: half-way between the text and its background, then as close to the text as
    # it must be to stay readable.
    muted = readable(_mix(text, backgrounds[1], 0.45), backgrounds)
    roles = {
        role: readable(QColor(seeds[1] if dark else seeds[0]), backgrounds)
        for role, seeds in _SEEDS.items()
    }
    outline = readable(_mix(text, backgrounds[1], 0.55), backgrounds[1:2], OUTLINE_CONTRAST)
    tint = QColor(palette.color(QPalette.ColorRole.Highlight))
    tint.setAlpha(28)
    return Colours(
        dark,
        muted,
        roles[Role.GAIN],
        roles[Role.LOSS],
        roles[Role.WARNING],
        roles[Role.ERROR],
        roles[Role.OK],
        outline,
        tint,
    )


_cache: tuple[int, Colours] | None = None


def colours() -> Colours:
    """The roles for the application palette in use (cached until the palette changes)."""
    global _cache
    palette = QGuiApplication.palette()
    key = palette.cacheKey()
    if _cache is None or _cache[0] != key:
        _cache = (key, colours_for(palette))
    return _cache[1]


# ------------------------------------------------------------------ widgets that follow


def paint_text(widget: QWidget, role: Role | None) -> None:
    """Draw ``widget``'s text in ``role`` (None: the palette's own text colour), now and after
    every theme switch."""
    widget.setProperty(_ROLE_PROPERTY, role.value if role is not None else "")
    _apply_role(widget)
    _watcher()


def _apply_role(widget: QWidget) -> None:
    value = widget.property(_ROLE_PROPERTY)
    palette = widget.palette()
    app_palette = QGuiApplication.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for part in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
            colour = colours().of(Role(value)) if value else app_palette.color(group, part)
            palette.setColor(group, part, colour)
    widget.setPalette(palette)


def themed_style(widget: QWidget, template: str) -> None:
    """A style sheet with colour roles (``$muted``, ``$warning``, ``$outline``…) filled in now
    and again after every theme switch; an empty template removes the style sheet."""
    widget.setProperty(_STYLE_PROPERTY, template)
    widget.setStyleSheet(Template(template).substitute(colours().names()) if template else "")
    _watcher()


def restyle(app: QApplication | None = None) -> None:
    """Re-apply every widget's text role and themed style sheet for the palette now in use."""
    app = app or QApplication.instance()  # type: ignore[assignment]
    if app is None:
        return
    names = colours().names()
    for widget in QApplication.allWidgets():
        if widget.property(_ROLE_PROPERTY) is not None:
            _apply_role(widget)
        template = widget.property(_STYLE_PROPERTY)
        if template:
            if "palette(" in str(template):
                widget.setStyleSheet("")  # palette(...) is read when the sheet is set
            widget.setStyleSheet(Template(str(template)).substitute(names))


def _palette_changed(_palette: QPalette) -> None:
    restyle()


_watched: QObject | None = None  # the application whose palette changes restyle the widgets


def _watcher() -> None:
    """Restyle after the application palette changed: a forced theme, or the system's.

    Through the application's ``paletteChanged`` signal, not an event filter on the
    application: such a filter runs Python for every event of every widget, and each of
    those calls waits for the interpreter lock while a worker thread runs Python (start-up's
    imports, a refresh), which made the window's thread stall."""
    global _watched
    app = QApplication.instance()
    if isinstance(app, QGuiApplication) and app is not _watched:
        app.paletteChanged.connect(_palette_changed)
        _watched = app


# ------------------------------------------------------------------ style and palette


class ChainfolioStyle(QProxyStyle):
    """Fusion (or the platform's style) with check box and radio outlines of 3:1 contrast."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key.lower()  # QProxyStyle.name() is empty

    _INDICATORS = frozenset(
        {
            QStyle.PrimitiveElement.PE_IndicatorCheckBox,
            QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
            QStyle.PrimitiveElement.PE_IndicatorRadioButton,
        }
    )

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in self._INDICATORS:
            return
        palette = option.palette
        outline = _outline(
            palette.color(QPalette.ColorRole.Text).rgb(),
            palette.color(QPalette.ColorRole.Base).rgb(),
        )
        rect = QRectF(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect.adjusted(1.0, 1.0, -1.0, -1.0))
        else:
            painter.drawRoundedRect(rect.adjusted(0.6, 0.6, -0.6, -0.6), 1.5, 1.5)
        painter.restore()


@functools.lru_cache(maxsize=16)
def _outline(text: int, base: int) -> QColor:
    """A check box outline between the text and base colours with 3:1 against the base."""
    return readable(_mix(QColor(text), QColor(base), 0.55), [QColor(base)], OUTLINE_CONTRAST)


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK_PALETTE.items():
        palette.setColor(role, QColor(colour))
    disabled = QColor(DARK_DISABLED)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def light_palette(style: QStyle) -> QPalette:
    palette = style.standardPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor(LIGHT_HIGHLIGHT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(LIGHT_PLACEHOLDER))
    return palette


_system_style: str | None = None


def apply_theme(app: QApplication, theme: str) -> None:
    """Follow the OS colour scheme ("system"), or force "light" or "dark".

    A forced theme cannot rely on the platform honouring ``setColorScheme`` (many Linux
    desktops ignore it), so it sets Fusion and a palette itself. Switching is cheap: the style
    is only replaced when it changes (light ↔ dark keep it), and widgets restyle from the
    palette change; no model is rebuilt.
    """
    global _system_style
    current = app.style()
    if _system_style is None:
        base = current.baseStyle() if isinstance(current, QProxyStyle) else current
        name = current.key if isinstance(current, ChainfolioStyle) else base.name() if base else ""
        _system_style = name or "fusion"
    hints = QGuiApplication.styleHints()
    forced = theme in ("light", "dark")
    wanted = "fusion" if forced else _system_style
    if not (isinstance(current, ChainfolioStyle) and current.key == wanted.lower()):
        app.setStyle(ChainfolioStyle(wanted))
    if theme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
        app.setPalette(dark_palette())
    elif theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
        app.setPalette(light_palette(app.style()))
    else:
        hints.setColorScheme(Qt.ColorScheme.Unknown)
        app.setPalette(QPalette())  # nothing set: the platform's (or the style's) palette
    restyle(app)
