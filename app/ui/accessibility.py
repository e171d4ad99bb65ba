"""Accessible names for screen readers, and the list of what the keyboard can reach.

Pages set names on their own controls (``setAccessibleName``). :func:`name_widgets` is the net
under them: any keyboard-reachable widget still without a name gets the words a sighted person
reads next to it — its own text, the form label that is its buddy, its placeholder or its
tooltip — so nothing is announced as just "edit" or "button". It returns what it could not
name, which a test keeps empty.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLayout,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QTreeView,
    QWidget,
)


def _plain(text: str) -> str:
    """Mnemonic ampersands out ("&Add" -> "Add"), "&&" kept as "&"; whitespace folded."""
    return " ".join(text.replace("&&", "\0").replace("&", "").replace("\0", "&").split())


def is_interactive(widget: QWidget) -> bool:
    """Reached by Tab: what a keyboard user lands on. Parts of a compound control (the line
    edit inside an editable combo box or a spin box, a scroll area's viewport, a combo box's
    pop-up list) are named by the control itself."""
    if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
        return False
    parent = widget.parentWidget()
    if isinstance(parent, QComboBox | QAbstractSpinBox):
        return False
    if isinstance(parent, QAbstractScrollArea) and parent.viewport() is widget:
        return False
    return widget.window().windowType() != Qt.WindowType.Popup


def _caption_before(widget: QWidget) -> str:
    """A QLabel right before ``widget`` in its layout: "Range:" [combo box]."""
    parent = widget.parentWidget()
    if parent is None:
        return ""
    for layout in [parent.layout(), *parent.findChildren(QLayout)]:
        if layout is None:
            continue
        index = layout.indexOf(widget)
        if index > 0:
            item = layout.itemAt(index - 1)
            before = item.widget() if item is not None else None
            if isinstance(before, QLabel) and before.text():
                return _plain(before.text()).rstrip(":")
            return ""
    return ""


def _page_title(widget: QWidget) -> str:
    """The title of the tab ``widget`` sits in."""
    child: QWidget | None = widget
    while child is not None:
        parent = child.parentWidget()
        holder = parent.parentWidget() if parent is not None else None
        if isinstance(holder, QTabWidget) and holder.indexOf(child) >= 0:
            return _plain(holder.tabText(holder.indexOf(child)))
        child = parent
    return ""


def _buddy_text(widget: QWidget) -> str:
    """The text of a QLabel whose buddy is ``widget``, or of its row label in a QFormLayout."""
    window = widget.window()
    for label in window.findChildren(QLabel):
        if label.buddy() is widget and label.text():
            return _plain(label.text())
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    forms = [layout] if isinstance(layout, QFormLayout) else []
    if parent is not None:
        forms += parent.findChildren(QFormLayout)
    for form in forms:
        row_label = form.labelForField(widget)
        if isinstance(row_label, QLabel) and row_label.text():
            return _plain(row_label.text())
    return ""


def derived_name(widget: QWidget) -> str:
    """What a screen reader should say for ``widget`` when the page set no name."""
    if isinstance(widget, QAbstractButton) and widget.text():
        return _plain(widget.text())
    buddy = _buddy_text(widget)
    if buddy:
        return buddy
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit) and widget.placeholderText():
        return _plain(widget.placeholderText().splitlines()[0])
    if isinstance(widget, QLabel) and widget.text():
        return _plain(widget.text())
    if isinstance(widget, QTabBar | QTabWidget):
        return "Pages"
    if widget.toolTip():
        return _plain(widget.toolTip().splitlines()[0])
    caption = _caption_before(widget)
    if caption:
        return caption
    box = widget.parentWidget()
    if isinstance(box, QGroupBox) and box.title():
        return _plain(box.title())
    if isinstance(widget, QAbstractItemView):
        kind = (
            "tree"
            if isinstance(widget, QTreeView)
            else "list"
            if isinstance(widget, QListView)
            else "table"
        )
        page = _page_title(widget)
        return f"{page} {kind}" if page else ""
    if isinstance(widget, QToolButton) and widget.defaultAction() is not None:
        return _plain(widget.defaultAction().text())
    return ""


def name_widgets(root: QWidget) -> list[QWidget]:
    """Name every keyboard-reachable widget under ``root`` (and ``root``) that has no name;
    return those left without one.

    Tables and lists also let Tab go on to the next control (arrow keys move inside them):
    by default a table keeps Tab for its cells, and a keyboard user is stuck in it."""
    unnamed: list[QWidget] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QAbstractItemView):
            widget.setTabKeyNavigation(False)
        if not is_interactive(widget) or widget.accessibleName():
            continue
        name = derived_name(widget)
        if name:
            widget.setAccessibleName(name)
        else:
            unnamed.append(widget)
    return unnamed
