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

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
    QWidget,
)

from app.ui.models.holdings_data import Column, Group, GroupBy, HoldingRow
from app.ui.models.holdings_model import HoldingsModel

EXPAND_LIMIT = 2000
MIN_TEXT_WIDTH = 80
NAME_CAP = 260  # a name column never starts wider than this (its tooltip has the rest)
NAME_SAMPLE = 5000  # rows whose names are measured (cost stays flat for huge portfolios)
ICON = 16
SORT_ARROW = 18
# Typical figures the number columns are sized for, once: they keep their width after that.
TYPICAL = {
    Column.AMOUNT: "12,345,678.12",
    Column.PRICE: "99,999.00",
    Column.VALUE: "1,234,567.00",
    Column.CHANGE: "+12,345.67  (+12.3 %)",
    Column.SHARE: "100.0 %",
}
# Name columns that give way when the window is narrow, first to last.
GIVE_WAY = (Column.POSITION, Column.WALLET, Column.ASSET, Column.CHAIN)
GROUPED_COLUMN = {
    GroupBy.CHAIN: Column.CHAIN, GroupBy.WALLET: Column.WALLET, GroupBy.PROTOCOL: Column.POSITION,
}  # fmt: skip
View = QTableView | QTreeView
Key = tuple[str, str, str]
Index = QModelIndex | QPersistentModelIndex


def header_of(view: View) -> QHeaderView:
    return view.horizontalHeader() if isinstance(view, QTableView) else view.header()


class RowHeightDelegate(QStyledItemDelegate):
    """Every tree row as tall as a table row (a tree sizes rows to the text alone)."""

    def __init__(self, height: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.height = height

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), self.height))


class PriceDelegate(RowHeightDelegate):
    """The Price column: its mark (a manual price) after the figure, not at the cell's far
    left next to the Amount column. Only this column pays for a Python delegate."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        option.decorationPosition = QStyleOptionViewItem.Position.Right


class HoldingsViews(QStackedWidget):
    copy_requested = Signal()  # Ctrl+C in either view
    menu_opening = Signal()  # just before the context menu shows (actions update their state)

    def __init__(self, model: HoldingsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.menu_actions: list[QAction] = []  # the page's Copy / Export, first in the menu
        self._toggled: set[str] = set()  # groups expanded/collapsed against the default
        self._restoring = False
        self._expanded_by_default = True
        self._sized: set[int] = set()  # id() of the views whose columns were fitted
        self._by_hand: dict[int, set[Column]] = {}  # per view: columns the person resized
        self._sizing = False

        self.table = QTableView()
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        # One row height for both views: grouped rows as tall as flat ones.
        self.row_height = max(self.fontMetrics().height(), ICON) + 10
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setMinimumSectionSize(self.row_height)
        rows.setDefaultSectionSize(self.row_height)
        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self._row_delegate = RowHeightDelegate(self.row_height, self.tree)
        self.tree.setItemDelegate(self._row_delegate)
        self._price_delegate = PriceDelegate(self.row_height, self)
        for view in (self.table, self.tree):
            view.setItemDelegateForColumn(Column.PRICE, self._price_delegate)
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
        view.setTextElideMode(Qt.TextElideMode.ElideRight)  # "DeFi hot w…", not "DeFi …allet"
        view.setSortingEnabled(True)
        view.installEventFilter(self)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos: self._context_menu(view, pos))
        header = header_of(view)
        header.sectionResized.connect(lambda c, _old, _new: self._section_resized(view, c))
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
        """Size the active view's columns once, on its first data while on screen, and keep
        those widths: number columns from typical figures (a 78-digit balance is shown compact,
        so it cannot widen its column), name columns from the names present. Where the window
        is too narrow the name columns give way, the position and wallet first and the chain
        last. Later refreshes and a wider window only widen a name column that would be cut,
        into room that is free; nothing a person resized by hand is touched."""
        view = self.view
        if not self.model.portfolio.rows or not self.isVisible():
            return
        if id(view) in self._sized:
            self._widen_names(view)
            return
        self._sized.add(id(view))
        widths = {c: max(self._typical_width(view, c), self._header_width(view, c)) for c in Column}
        names = self._name_widths(view)
        for c, width in names.items():
            widths[c] = max(widths[c], width)
        excess = sum(widths.values()) - view.viewport().width()
        if excess < 0:  # room to spare: every column but the last shares it, up to half again
            grown = [c for c in Column if c != Column.SHARE]
            base = sum(widths[c] for c in grown)
            for c in grown:
                widths[c] += min(widths[c] // 2, -excess * widths[c] // base)
        # In the tree, the column its groups already name gives way first, down to its title.
        named = GROUPED_COLUMN.get(self.model.group_by) if view is self.tree else None
        order = ([named] if named else []) + [c for c in GIVE_WAY if c != named]
        for c in order:
            if excess <= 0:
                break
            floor = self._header_width(view, c)
            if c != named:
                floor = max(MIN_TEXT_WIDTH, floor)
            give = min(excess, max(0, widths[c] - floor))
            widths[c] -= give
            excess -= give
        self._resize(view, widths)

    def _resize(self, view: View, widths: dict[Column, int]) -> None:
        header = header_of(view)
        self._sizing = True
        try:
            for column, width in widths.items():
                if column not in self._by_hand.get(id(view), set()):
                    header.resizeSection(column, width)
        finally:
            self._sizing = False

    def _section_resized(self, view: View, column: int) -> None:
        if not self._sizing and id(view) in self._sized and column != Column.SHARE:
            self._by_hand.setdefault(id(view), set()).add(Column(column))

    def _widen_names(self, view: View) -> None:
        """Widen name columns that would cut a name, as far as the free room allows."""
        header = header_of(view)
        needed = self._name_widths(view, cap=None)  # room allowing, a long name whole
        last = header.logicalIndex(header.count() - 1)
        used = sum(header.sectionSize(c) for c in Column if c != last)
        last_needs = max(
            self._typical_width(view, Column(last)), self._header_width(view, Column(last))
        )
        room = view.viewport().width() - used - last_needs
        grow: dict[Column, int] = {}
        for c in reversed(GIVE_WAY):  # the chain first: its names are the ones people read
            if room <= 0:
                break
            if c in self._by_hand.get(id(view), set()) or c == last:
                continue
            short = needed.get(c, 0) - header.sectionSize(c)
            if short > 0:
                grow[c] = header.sectionSize(c) + min(short, room)
                room -= min(short, room)
        if grow:
            self._resize(view, grow)

    def _padding(self) -> int:
        return 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 14

    def _header_width(self, view: View, column: Column) -> int:
        """The header title whole, with room for the sort arrow (never clipped)."""
        title = str(self.model.headerData(column, Qt.Orientation.Horizontal)).rstrip()
        metrics = header_of(view).fontMetrics()
        if column in TYPICAL:  # a sorted number column's title keeps clear of the arrow
            title += "    "
        return metrics.horizontalAdvance(title) + SORT_ARROW + self._padding()

    def _typical_width(self, view: View, column: Column) -> int:
        sample = TYPICAL.get(column)
        if sample is None:
            return MIN_TEXT_WIDTH
        width = view.fontMetrics().horizontalAdvance(sample) + self._padding()
        if column == Column.PRICE:
            width += ICON + 4  # the manual-price mark
        return width

    def _name_widths(self, view: View, cap: int | None = NAME_CAP) -> dict[Column, int]:
        """What each name column needs to show every name present (and, in the tree, every
        group label in bold); at the first fit capped so one long name cannot take the table
        (it widens later only into free room)."""
        limit = cap if cap is not None else 1 << 20
        portfolio_rows = self.model.portfolio.rows
        texts: dict[Column, set[str]] = {c: set() for c in GIVE_WAY}
        for row in portfolio_rows[:NAME_SAMPLE]:
            texts[Column.ASSET].add(row.holding.symbol)
            texts[Column.CHAIN].add(row.chain_name)
            texts[Column.WALLET].add(row.wallet_name)
            texts[Column.POSITION].add(row.position_text)
        metrics = view.fontMetrics()
        pad = self._padding()
        out = {
            c: min(limit, max((metrics.horizontalAdvance(t) for t in found), default=0) + pad)
            for c, found in texts.items()
        }
        out[Column.ASSET] += ICON + 4
        if view is self.tree:
            out[Column.ASSET] += 2 * self.tree.indentation()
            bold = QFont(view.font())
            bold.setBold(True)
            group_metrics = QFontMetrics(bold)
            labels = [f"{g.label}  ({len(g.rows)})" for g in self.model.groups()[:NAME_SAMPLE]]
            if labels:
                widest = max(group_metrics.horizontalAdvance(t) for t in labels)
                out[Column.ASSET] = max(
                    out[Column.ASSET], min(limit, widest + pad + 2 * self.tree.indentation())
                )
        return out

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if id(self.view) in self._sized and event.size().width() > event.oldSize().width():
            self._widen_names(self.view)

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
        self.menu_opening.emit()
        menu = QMenu(self)
        for action in self.menu_actions:
            menu.addAction(action)
        if view is self.tree:
            menu.addSeparator()
            menu.addAction(self.act_expand)
            menu.addAction(self.act_collapse)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(view.viewport().mapToGlobal(pos))
