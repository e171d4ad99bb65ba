"""The two views over the holdings model: a table when flat, a tree when grouped.

Only the active view is attached to the model, because a ``QTreeView`` lays out every expanded
row through Python calls (~35 ms for 10,000 rows) where a ``QTableView`` asks only for the
visible ones. Groups start expanded up to :data:`EXPAND_LIMIT` holdings and collapsed above it,
for the same reason; what the person expands or collapses is remembered across refreshes, and
the selection (by holding key) survives every reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStackedWidget,
    QTableView,
    QTreeView,
    QWidget,
)

from app.ui.models.holdings_data import Column, Group, HoldingRow
from app.ui.models.holdings_model import HoldingsModel

EXPAND_LIMIT = 2000
RESIZE_LIMIT = 1000  # columns fit their contents only up to this many rows (cost)
MIN_TEXT_WIDTH = 80
WIDTHS = {
    Column.ASSET: 150, Column.CHAIN: 110, Column.WALLET: 140, Column.POSITION: 140,
    Column.AMOUNT: 110, Column.PRICE: 95, Column.VALUE: 110, Column.CHANGE: 160,
    Column.SHARE: 65,
}  # fmt: skip
View = QTableView | QTreeView
Key = tuple[str, str, str]


def header_of(view: View) -> QHeaderView:
    return view.horizontalHeader() if isinstance(view, QTableView) else view.header()


class HoldingsViews(QStackedWidget):
    copy_requested = Signal()  # Ctrl+C in either view

    def __init__(self, model: HoldingsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.menu_actions: list[QAction] = []  # the page's Copy / Export, first in the menu
        self._toggled: set[str] = set()  # groups expanded/collapsed against the default
        self._restoring = False
        self._expanded_by_default = True
        self._sized: set[int] = set()  # id() of the views whose columns were fitted

        self.table = QTableView()
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setIndentation(14)
        self.tree.expanded.connect(lambda i: self._remember(i, True))
        self.tree.collapsed.connect(lambda i: self._remember(i, False))
        self.act_expand = QAction("E&xpand all", self)
        self.act_expand.triggered.connect(self.tree.expandAll)
        self.act_collapse = QAction("C&ollapse all", self)
        self.act_collapse.triggered.connect(self.tree.collapseAll)
        for view in (self.table, self.tree):
            self._setup(view)
            self.addWidget(view)
        self.attach(grouped=False)

    def _setup(self, view: View) -> None:
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setSortingEnabled(True)
        view.installEventFilter(self)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos: self._context_menu(view, pos))
        header = header_of(view)
        header.setSortIndicator(Column.VALUE, Qt.SortOrder.DescendingOrder)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    @property
    def view(self) -> View:
        """The view on screen: the table when flat, the tree when grouped."""
        return self.tree if self.currentWidget() is self.tree else self.table

    # --- attaching ----------------------------------------------------------------------
    def detach_for(self, grouped: bool) -> None:
        """Before the model changes shape: let go of a view that is about to be swapped out
        (a tree still attached would lay out every row of a flat list)."""
        if (self.view is self.tree) != grouped:
            self._detach(self.view)

    def attach(self, grouped: bool) -> None:
        view, other = (self.tree, self.table) if grouped else (self.table, self.tree)
        if view.model() is not self.model:
            order = (
                Qt.SortOrder.DescendingOrder
                if self.model.descending
                else Qt.SortOrder.AscendingOrder
            )
            header_of(view).setSortIndicator(self.model.sort_column, order)
            old = view.selectionModel()
            view.setModel(self.model)  # a sorting view calls model.sort: a no-op in that order
            if old is not None:
                old.deleteLater()
        self._detach(other)
        self.setCurrentWidget(view)
        self.expand_groups()
        self.fit_columns()

    def _detach(self, view: View) -> None:
        if view.model() is not None:
            old = view.selectionModel()
            view.setModel(None)
            if old is not None:
                old.deleteLater()

    # --- columns ------------------------------------------------------------------------
    def fit_columns(self) -> None:
        """Fit the active view's columns once, on its first data while on screen; after that
        the person's widths stay. Contents decide (when that is cheap to measure), then the
        text columns give way so that every column fits; the last one takes what is left."""
        view = self.view
        if id(view) in self._sized or not self.model.portfolio.rows or not self.isVisible():
            return
        self._sized.add(id(view))
        header = header_of(view)
        widths = dict(WIDTHS)
        if self.model.shown_count() + len(self.model.groups()) <= RESIZE_LIMIT:
            for column in Column:
                content = max(view.sizeHintForColumn(column), header.sectionSizeHint(column))
                widths[column] = content + 14
        excess = sum(widths.values()) - view.viewport().width()
        flexible = [Column.WALLET, Column.POSITION, Column.CHAIN, Column.ASSET]
        room = sum(max(0, widths[c] - MIN_TEXT_WIDTH) for c in flexible)
        if excess > 0 and room > 0:
            for c in flexible:
                give = max(0, widths[c] - MIN_TEXT_WIDTH) * min(1.0, excess / room)
                widths[c] -= int(give + 0.999)
        for column, width in widths.items():
            header.resizeSection(column, width)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()

    # --- selection and expansion --------------------------------------------------------
    @contextmanager
    def keeping_state(self) -> Iterator[None]:
        """Selection (by holding key) and group expansion survive a model reset."""
        keys = self.selected_keys()
        yield
        self.expand_groups()
        self.select_keys(keys)

    def selected_rows(self) -> list[HoldingRow]:
        """Selected holdings in display order; a selected group stands for all its rows."""
        selection = self.view.selectionModel()
        if selection is None or not selection.hasSelection():
            return []
        picked: set[int] = set()
        for index in selection.selectedRows(0):
            node = self.model.node(index)
            if isinstance(node, Group):
                picked.update(id(r) for r in node.rows)
            elif node is not None:
                picked.add(id(node))
        return [row for row in self.model.visible_rows() if id(row) in picked]

    def selected_keys(self) -> set[Key]:
        return {row.holding.key for row in self.selected_rows()}

    def select_keys(self, keys: set[Key]) -> None:
        if not keys:
            return
        model = self.model
        selection = self.view.selectionModel()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        if model.grouped:
            for g, group in enumerate(model.groups()):
                for r, row in enumerate(group.rows):
                    if row.holding.key in keys:
                        selection.select(model.index(r, 0, model.group_index(g)), flags)
        else:
            for r, row in enumerate(model.visible_rows()):
                if row.holding.key in keys:
                    selection.select(model.index(r, 0), flags)

    def forget_expansion(self) -> None:
        self._toggled.clear()

    def expand_groups(self) -> None:
        """Right after a reset or a fresh attach every group is collapsed: expand those that
        should be (all of them for a small portfolio, minus what the person collapsed)."""
        if not self.model.grouped or self.tree.model() is not self.model:
            return
        self._expanded_by_default = default = self.model.shown_count() <= EXPAND_LIMIT
        self._restoring = True
        try:
            for g, group in enumerate(self.model.groups()):
                if default != (group.key in self._toggled):
                    self.tree.setExpanded(self.model.group_index(g), True)
        finally:
            self._restoring = False

    def _remember(self, index: QModelIndex, expanded: bool) -> None:
        if self._restoring:
            return
        node = self.model.node(index)
        if isinstance(node, Group):
            if expanded != self._expanded_by_default:
                self._toggled.add(node.key)
            else:
                self._toggled.discard(node.key)

    # --- keyboard and menu --------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Ctrl+C in a view copies the selected rows (a view alone would copy one cell)."""
        kind = event.type()
        if (
            kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and watched in (self.table, self.tree)
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Copy)
        ):
            event.accept()  # an accepted override turns the shortcut into a key press
            if kind == QEvent.Type.KeyPress:
                self.copy_requested.emit()
            return True
        return super().eventFilter(watched, event)

    def _context_menu(self, view: View, pos: QPoint) -> None:
        menu = QMenu(self)
        for action in self.menu_actions:
            menu.addAction(action)
        if view is self.tree:
            menu.addSeparator()
            menu.addAction(self.act_expand)
            menu.addAction(self.act_collapse)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(view.viewport().mapToGlobal(pos))
