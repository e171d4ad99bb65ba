"""Theme switch: every tab and the Settings dialog, rendered in light and in dark (switched while
the window is up, as Settings → Appearance does), keep text readable: each label, button, tab,
header section and visible table cell is grabbed as pixels, and the glyph colour is measured
against the background it is drawn on (WCAG AA: at least 4.5:1).

The sampler takes the rendered widget (``QWidget.grab`` → ``QImage``), the most common colour of
the element's box as its background, and the pixel furthest from it as the text colour, so a
hard-coded colour, a style sheet evaluated once or a palette that stayed behind all show up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenuBar,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.ui.theme import Role, apply_theme, colours, colours_for, contrast, paint_text, themed_style
from tests.support.messages import leaks

AA = 4.5
_LINEAR = np.array(
    [
        (c / 255) / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
        for c in range(256)
    ]
)


# ------------------------------------------------------------------ the sampler


def pixels(widget: QWidget) -> np.ndarray:
    """The widget as rendered: an (height, width, 3) array of RGB bytes."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    bgra = data.reshape(h, image.bytesPerLine() // 4, 4)[:, :w]
    return bgra[..., 2::-1].copy()  # BGRA in memory on little-endian machines


def _luminance(rgb: np.ndarray) -> np.ndarray:
    lin = _LINEAR[rgb]
    return 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]


def measured_contrast(image: np.ndarray, rect: QRect) -> float | None:
    """Contrast between the background of ``rect`` (its most common colour) and the pixel that
    differs most from it (the glyphs' core). None when nothing is drawn there."""
    found = measure(image, rect)
    return None if found is None else found[0]


def measure(image: np.ndarray, rect: QRect) -> tuple[float, QColor] | None:
    """(contrast of the strongest glyph pixel, background colour) of ``rect``."""
    r = rect.intersected(QRect(0, 0, image.shape[1], image.shape[0]))
    if r.width() < 3 or r.height() < 3:
        return None
    box = image[r.top() : r.bottom() + 1, r.left() : r.right() + 1].reshape(-1, 3)
    packed = (box[:, 0].astype(np.int32) << 16) | (box[:, 1].astype(np.int32) << 8) | box[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    if len(values) < 2:
        return None
    bg = values[np.argmax(counts)]
    bg_rgb = np.array([[(bg >> 16) & 255, (bg >> 8) & 255, bg & 255]])
    lb = float(_luminance(bg_rgb)[0])
    lum = _luminance(box)
    ratios = (np.maximum(lum, lb) + 0.05) / (np.minimum(lum, lb) + 0.05)
    return float(ratios.max()), QColor(int(bg_rgb[0, 0]), int(bg_rgb[0, 1]), int(bg_rgb[0, 2]))


def _in(window: QWidget, widget: QWidget, rect: QRect) -> QRect:
    return QRect(widget.mapTo(window, rect.topLeft()), rect.size())


Box = tuple[str, QRect, QColor | None]


def text_boxes(window: QWidget) -> Iterator[Box]:
    """(what, rectangle in window coordinates, the colour declared for it when the glyphs are too
    thin to show it) of every piece of text a person reads."""
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window) or not w.isEnabled() or w.visibleRegion().isEmpty():
            continue
        if isinstance(w, QLabel):
            if w.text().strip() and w.pixmap().isNull():
                yield f"label {w.text()[:40]!r}", _in(window, w, w.contentsRect()), None
        elif isinstance(w, QCheckBox | QRadioButton):
            if w.text():
                opt = QStyleOptionButton()
                opt.initFrom(w)
                element = (
                    QStyle.SubElement.SE_CheckBoxContents
                    if isinstance(w, QCheckBox)
                    else QStyle.SubElement.SE_RadioButtonContents
                )
                yield (
                    f"check {w.text()!r}",
                    _in(window, w, w.style().subElementRect(element, opt, w)),
                    None,
                )
        elif isinstance(w, QAbstractButton):
            if w.text() and w.icon().isNull():
                yield f"button {w.text()!r}", _in(window, w, w.rect().adjusted(3, 3, -3, -3)), None
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                yield (
                    f"tab {w.tabText(i)!r}",
                    _in(window, w, w.tabRect(i).adjusted(3, 3, -3, -3)),
                    None,
                )
        elif isinstance(w, QMenuBar):
            for action in w.actions():
                yield f"menu {action.text()!r}", _in(window, w, w.actionGeometry(action)), None
        elif isinstance(w, QHeaderView):
            yield from _header_boxes(window, w)
        elif isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView):
            yield from _cell_boxes(window, w)
        elif isinstance(w, QLineEdit | QComboBox):
            text = w.currentText() if isinstance(w, QComboBox) else w.text() or w.placeholderText()
            if text:
                yield f"field {text[:30]!r}", _in(window, w, w.rect().adjusted(4, 4, -22, -4)), None


def _header_boxes(window: QWidget, header: QHeaderView) -> Iterator[Box]:
    vertical = header.orientation() == Qt.Orientation.Vertical
    if vertical:
        return
    model = header.model()
    for logical in range(header.count()):
        if header.isSectionHidden(logical) or header.sectionSize(logical) < 8:
            continue
        x = header.sectionViewportPosition(logical)
        rect = QRect(x + 2, 2, header.sectionSize(logical) - 4, header.height() - 4)
        text = model.headerData(logical, Qt.Orientation.Horizontal) if model else ""
        if text and rect.right() > 0 and rect.left() < header.viewport().width():
            yield f"header {text!r}", _in(window, header.viewport(), rect), None


def _cell_boxes(window: QWidget, view: QAbstractItemView) -> Iterator[Box]:
    viewport = view.viewport()
    seen: set[tuple[int, int, int]] = set()
    for y in range(2, viewport.height(), 6):
        for x in range(2, viewport.width(), 24):
            index = view.indexAt(QPoint(x, y))
            if not index.isValid():
                continue
            key = (index.row(), index.column(), index.parent().row())
            if key in seen:
                continue
            seen.add(key)
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if text is None or not str(text).strip():
                continue
            rect = view.visualRect(index).intersected(viewport.rect()).adjusted(2, 2, -2, -2)
            icon = index.data(Qt.ItemDataRole.DecorationRole)
            flags = index.flags()
            left = 0
            if icon is not None:
                left += view.iconSize().width() + 6 if view.iconSize().width() > 0 else 22
            if flags & Qt.ItemFlag.ItemIsUserCheckable:
                left += 22  # the check box (its outline is measured against 3:1 elsewhere)
            rect.setLeft(rect.left() + left)
            declared = None
            if not any(c.isalnum() for c in str(text)):
                # A lone "—" is one pixel high: anti-aliasing never draws its full colour, so
                # the colour the view paints it in is measured against the rendered background.
                brush = index.data(Qt.ItemDataRole.ForegroundRole)
                declared = (
                    QColor(brush.color() if isinstance(brush, QBrush) else brush)
                    if brush is not None
                    else view.palette().color(QPalette.ColorRole.Text)
                )
            yield f"cell {str(text)[:30]!r}", _in(window, viewport, rect), declared


def unplain(widget: QWidget) -> list[str]:
    """Labels on screen that name an exception class, a code path or a setting key."""
    return [
        f"label {label.text()[:60]!r} shows {leaks(label.text())}"
        for label in widget.findChildren(QLabel)
        if label.isVisibleTo(widget) and leaks(label.text())
    ]


def unreadable(widget: QWidget) -> list[str]:
    image = pixels(widget)
    problems = []
    for what, rect, declared in text_boxes(widget):
        found = measure(image, rect)
        if found is None:
            continue
        ratio = found[0] if declared is None else contrast(declared, found[1])
        if ratio < AA:
            problems.append(f"{what}: {ratio:.2f}:1")
    return problems


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A data folder with wallets, ten days of history, lending accounts and alert rules
    (the same data the screenshots show). Seeded before any qasync loop runs."""
    from app.config import Paths
    from tests.support.screenshots import seed_demo

    seed_demo(Paths.resolve(tmp_path / "data"), days=10)
    return tmp_path / "data"


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    yield
    apply_theme(qapp, "system")


def _window(qtbot: QtBot, data: Path) -> Any:
    from app.bootstrap import bootstrap
    from app.config import Paths
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    context = bootstrap(Paths.resolve(data))
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    window.attach(context)
    window.set_refresher(context.refresh, context.chain_names)
    window.set_defi(context.risk.assess, context.alerts)
    window.resize(1366, 768)
    window.show()
    window.show_snapshot(context.snapshots.latest())
    page = window.holdings_page
    qtbot.waitUntil(lambda: page.portfolio.taken_at is not None, timeout=10_000)
    page.show_spam.setChecked(True)  # spam rows are among the hard cases
    window._test_context = context  # closed by the test
    return window


def _every_tab(qtbot: QtBot, window: Any) -> list[str]:
    problems = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        page = window.tabs.widget(i)
        if page is window.timeline_page:
            qtbot.waitUntil(lambda: window.timeline_page.net_worth is not None, timeout=10_000)
        if page is window.risk_page:
            qtbot.waitUntil(lambda: window.risk_page.model.rowCount() > 0, timeout=10_000)
        QApplication.processEvents()
        problems += [
            f"{window.tabs.tabText(i)} tab, {p}" for p in unreadable(window) + unplain(window)
        ]
    return problems


def _settings_tabs(qtbot: QtBot, window: Any) -> list[str]:
    from PySide6.QtWidgets import QTabWidget

    dialog = window.open_settings()
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    tabs = dialog.findChild(QTabWidget)
    problems = []
    for i in range(tabs.count()):
        tabs.setCurrentIndex(i)
        QApplication.processEvents()
        problems += [
            f"Settings → {tabs.tabText(i)}, {p}" for p in unreadable(dialog) + unplain(dialog)
        ]
    dialog.reject()
    return problems


# ------------------------------------------------------------------ tests


def test_contrast_arithmetic_matches_wcag() -> None:
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)
    assert contrast(QColor("#ffffff"), QColor("#ffffff")) == pytest.approx(1.0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_role_reads_on_every_background(
    qapp: QApplication, theme: str, restore_theme: None
) -> None:
    apply_theme(qapp, theme)
    palette = qapp.palette()
    roles = colours_for(palette)
    for bg_role in (
        QPalette.ColorRole.Window,
        QPalette.ColorRole.Base,
        QPalette.ColorRole.AlternateBase,
    ):
        bg = palette.color(bg_role)
        for role in Role:
            assert contrast(roles.of(role), bg) >= AA, (theme, role, bg_role)
        assert contrast(roles.outline, bg) >= 3.0 or bg_role is not QPalette.ColorRole.Base
    selected = contrast(
        palette.color(QPalette.ColorRole.HighlightedText),
        palette.color(QPalette.ColorRole.Highlight),
    )
    assert selected >= AA


def test_the_sampler_sees_unreadable_text(
    qtbot: QtBot, qapp: QApplication, restore_theme: None
) -> None:
    """The measurement itself can fail: grey on dark grey is caught, the same label in a role
    colour is not."""
    apply_theme(qapp, "dark")
    box = QWidget()
    qtbot.addWidget(box)
    box.resize(300, 80)
    label = QLabel("Net worth 24 h change", box)
    label.setGeometry(10, 10, 280, 30)
    label.setStyleSheet("color: #4b5563;")  # a hard-coded grey made for white backgrounds
    box.show()
    QApplication.processEvents()
    assert any("Net worth" in p for p in unreadable(box))
    label.setStyleSheet("")
    paint_text(label, Role.MUTED)
    QApplication.processEvents()
    assert unreadable(box) == []


def _themed_in_light(qtbot: QtBot, qapp: QApplication) -> tuple[QLabel, QLabel]:
    """The light theme; a label painted in the muted role and a banner styled in the warning
    colour."""
    apply_theme(qapp, "light")
    label = QLabel("24 h change")
    banner = QLabel("stale")
    qtbot.addWidget(label)
    qtbot.addWidget(banner)
    paint_text(label, Role.MUTED)
    themed_style(banner, "QLabel { color: $warning; }")
    return label, banner


def test_roles_follow_a_switch_without_rebuilding(
    qtbot: QtBot, qapp: QApplication, restore_theme: None
) -> None:
    label, banner = _themed_in_light(qtbot, qapp)
    light_muted = label.palette().color(QPalette.ColorRole.WindowText)
    apply_theme(qapp, "dark")
    assert label.palette().color(QPalette.ColorRole.WindowText) == colours().muted != light_muted
    assert colours().warning.name() in banner.styleSheet()


def test_a_palette_change_from_the_desktop_restyles_without_a_call(
    qtbot: QtBot, qapp: QApplication, restore_theme: None
) -> None:
    """The desktop switching to dark while the app runs reaches the themed widgets through
    the application's palette signal: no apply_theme() call, no event filter on every event."""
    from app.ui.theme import dark_palette, light_palette

    label, banner = _themed_in_light(qtbot, qapp)
    light_warning = colours().warning.name()
    qapp.setPalette(dark_palette())  # as the platform theme does, behind the app's back
    qtbot.waitUntil(lambda: colours().warning.name() in banner.styleSheet(), timeout=2000)
    assert colours().warning.name() != light_warning
    assert label.palette().color(QPalette.ColorRole.WindowText) == colours().muted
    qapp.setPalette(light_palette(qapp.style()))
    qtbot.waitUntil(lambda: light_warning in banner.styleSheet(), timeout=2000)


def test_every_tab_is_readable_in_light_and_dark(
    seeded: Path, qtbot: QtBot, qapp: QApplication, qasync_loop: object, restore_theme: None
) -> None:
    apply_theme(qapp, "light")
    window = _window(qtbot, seeded)
    try:
        resets: list[str] = []
        window.holdings_page.model.modelReset.connect(lambda: resets.append("holdings"))
        light = _every_tab(qtbot, window) + _settings_tabs(qtbot, window)
        apply_theme(qapp, "dark")  # while running: nothing is rebuilt
        assert resets == []
        dark = _every_tab(qtbot, window) + _settings_tabs(qtbot, window)
        apply_theme(qapp, "light")  # and back
        back = _every_tab(qtbot, window)
        assert resets == []
        assert light == [], "\n".join(light)
        assert dark == [], "\n".join(dark)
        assert back == [], "\n".join(back)
    finally:
        window._test_context.close()


def test_unticked_network_boxes_can_be_seen_in_dark(
    qtbot: QtBot, qapp: QApplication, restore_theme: None
) -> None:
    """Settings → Networks lists check boxes in a list view; unticked ones must have an outline
    of at least 3:1 against the list's background (WCAG 1.4.11)."""
    from PySide6.QtWidgets import QListWidget, QListWidgetItem

    apply_theme(qapp, "dark")
    view = QListWidget()
    qtbot.addWidget(view)
    item = QListWidgetItem("Linea")
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Unchecked)
    view.addItem(item)
    view.resize(200, 60)
    view.show()
    QApplication.processEvents()
    image = pixels(view.viewport())
    rect = view.visualItemRect(item)
    box = QRect(rect.left(), rect.top(), rect.height(), rect.height())  # the indicator's square
    assert (measured_contrast(image, box) or 1.0) >= 3.0


def test_system_theme_gives_the_platform_palette_back(
    qapp: QApplication, restore_theme: None
) -> None:
    """Dark, then "Follow the system": the forced palette is dropped, not kept."""
    apply_theme(qapp, "system")
    system = qapp.palette().color(QPalette.ColorRole.Window).name()
    apply_theme(qapp, "dark")
    assert qapp.palette().color(QPalette.ColorRole.Window).name() != system
    apply_theme(qapp, "system")
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == system
