"""The holdings of one snapshot as a two-level tree: optional groups, then holdings.

Flat ("group by: none") the top level holds the holdings themselves. The model filters, groups
and sorts in Python over prepared rows (:mod:`app.ui.models.holdings_data`) and tells the view
with one reset; sorting keeps selection and expansion (a layout change with remapped persistent
indexes). Index ids: 0 for a top-level item, ``group row + 1`` for a holding inside a group.
Numbers stay Decimal; the sort role exposes floats only as ordering keys for other consumers.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot
from app.ui.models.holdings_data import (
    GROUP_NUMBERS,
    ROW_NUMBERS,
    Column,
    Group,
    GroupBy,
    HoldingRow,
    Portfolio,
    build_portfolio,
    filter_rows,
    group_rows,
    sort_groups,
    sort_rows,
)
from app.ui.models.holdings_text import (
    group_cell,
    group_tooltip,
    row_cell,
    row_tooltip,
    stamp,
    status_text,
)
from app.ui.models.status_icons import failed_icon, manual_icon, spam_icon, stale_icon
from app.ui.theme import colours

Index = QModelIndex | QPersistentModelIndex
HoldingColumn = Column
__all__ = ["ROW_ROLE", "SORT_ROLE", "HoldingColumn", "HoldingsModel"]
SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the HoldingRow or Group behind an index

HEADERS = {
    Column.ASSET: "Asset",
    Column.CHAIN: "Chain",
    Column.WALLET: "Wallet",
    Column.POSITION: "Position",
    Column.AMOUNT: "Amount",
    Column.PRICE: "Price",
    Column.VALUE: "Value",
    Column.CHANGE: "24 h change",
    Column.SHARE: "Share",
}
NUMERIC = {Column.AMOUNT, Column.PRICE, Column.VALUE, Column.CHANGE, Column.SHARE}
IN_CURRENCY = {Column.PRICE, Column.VALUE, Column.CHANGE}
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

_DISPLAY = Qt.ItemDataRole.DisplayRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_FONT = Qt.ItemDataRole.FontRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_HANDLED = frozenset(
    {_DISPLAY, _FOREGROUND, _ALIGNMENT, _DECORATION, _FONT, _TOOLTIP, _BACKGROUND, SORT_ROLE,
     ROW_ROLE}
)  # fmt: skip
_DEBT_COLUMNS = frozenset({Column.AMOUNT, Column.VALUE, Column.POSITION, Column.SHARE})
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
_GROUP_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class HoldingsModel(QAbstractItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.portfolio = Portfolio()
        self.group_by = GroupBy.NONE
        self.text = ""
        self.hide_small = True
        self.show_spam = False
        self.only_unpriced = False
        self.sort_column = Column.VALUE
        self.descending = True
        self._top: list[HoldingRow] | list[Group] = []
        self._sorted: dict[tuple[Column, bool], list[HoldingRow]] = {}  # per portfolio
        self._grouped = False
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    # --- what to show -------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return self.portfolio.currency

    def set_snapshot(
        self,
        snapshot: Snapshot | None,
        chain_names: dict[str, str],
        wallet_names: dict[str, str],
        baseline: Snapshot | None = None,
    ) -> None:
        self.set_portfolio(build_portfolio(snapshot, chain_names, wallet_names, baseline))

    def set_portfolio(self, portfolio: Portfolio) -> None:
        self.beginResetModel()
        self.portfolio = portfolio
        self._sorted = {(Column.VALUE, True): portfolio.rows}  # build_portfolio's order
        self._arrange()
        self.endResetModel()

    def set_filter(
        self,
        text: str | None = None,
        hide_small: bool | None = None,
        show_spam: bool | None = None,
        only_unpriced: bool | None = None,
    ) -> None:
        self.beginResetModel()
        if only_unpriced is not None:
            self.only_unpriced = only_unpriced
        if text is not None:
            self.text = text
        if hide_small is not None:
            self.hide_small = hide_small
        if show_spam is not None:
            self.show_spam = show_spam
        self._arrange()
        self.endResetModel()

    def set_group_by(self, group_by: GroupBy) -> None:
        self.beginResetModel()
        self.group_by = group_by
        self._arrange()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        if not 0 <= column < len(Column) or (column, descending) == (
            self.sort_column,
            self.descending,
        ):
            return  # views call this when attached; the rows are already in that order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        nodes = [(self.node(i), i.column()) for i in persistent]
        self.sort_column = Column(column)
        self.descending = order == Qt.SortOrder.DescendingOrder
        self._arrange()
        if persistent:
            where = self._positions()
            moved = [self._index_at(where, node, col) for node, col in nodes]
            self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(Column) - 1)

    def _arrange(self) -> None:
        """Sort once per portfolio and order; filtering and grouping keep that order."""
        order = (self.sort_column, self.descending)
        ordered = self._sorted.get(order)
        if ordered is None:
            ordered = self._sorted[order] = sort_rows(self.portfolio.rows, *order)
        rows = filter_rows(ordered, self.text, self.hide_small, self.show_spam, self.only_unpriced)
        self._grouped = self.group_by != GroupBy.NONE
        if self._grouped:
            groups = group_rows(rows, self.group_by, self.portfolio.total)
            self._top = sort_groups(groups, *order)
        else:
            self._top = rows

    def _positions(self) -> dict[int, tuple[int, int]]:
        """id(node) -> (row, group row or -1)."""
        where: dict[int, tuple[int, int]] = {}
        for r, top in enumerate(self._top):
            where[id(top)] = (r, -1)
            if isinstance(top, Group):
                for c, row in enumerate(top.rows):
                    where[id(row)] = (c, r)
        return where

    def _index_at(
        self, where: dict[int, tuple[int, int]], node: HoldingRow | Group | None, column: int
    ) -> QModelIndex:
        if node is None or id(node) not in where:
            return QModelIndex()
        row, group = where[id(node)]
        return self.createIndex(row, column, group + 1)

    # --- reading ------------------------------------------------------------------------
    @property
    def grouped(self) -> bool:
        return self._grouped

    def shown_count(self) -> int:
        """How many holdings pass the filters (grouped or not)."""
        if not self._grouped:
            return len(self._top)
        return sum(len(g.rows) for g in self.groups())

    def groups(self) -> list[Group]:
        return list(self._top) if self._grouped else []  # type: ignore[arg-type]

    def visible_rows(self) -> list[HoldingRow]:
        """Every holding the view shows, in display order (group by group when grouped)."""
        if not self._grouped:
            return list(self._top)  # type: ignore[arg-type]
        return [row for group in self._top for row in group.rows]  # type: ignore[union-attr]

    def node(self, index: Index) -> HoldingRow | Group | None:
        if not index.isValid():
            return None
        ident = index.internalId()
        top = self._top
        if ident == 0:
            return top[index.row()] if index.row() < len(top) else None
        if ident - 1 >= len(top):
            return None
        rows = top[ident - 1].rows  # type: ignore[union-attr]
        return rows[index.row()] if index.row() < len(rows) else None

    def group_index(self, row: int) -> QModelIndex:
        return self.createIndex(row, 0, 0)

    # --- QAbstractItemModel -------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= 9 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self._top) else QModelIndex()
        if self._grouped and parent.internalId() == 0 and parent.column() == 0:
            group = parent.row()
            if group < len(self._top) and row < len(self._top[group].rows):  # type: ignore[union-attr]
                return self.createIndex(row, column, group + 1)
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        ident = index.internalId()
        return QModelIndex() if ident == 0 else self.createIndex(ident - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._top)
        if self._grouped and parent.internalId() == 0 and parent.column() == 0:
            return len(self._top[parent.row()].rows)  # type: ignore[union-attr]
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Column)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._grouped and index.internalId() == 0:
            return _GROUP_FLAGS
        return _ROW_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        column = Column(section)
        if role == _DISPLAY:
            title = HEADERS[column]
            if column in IN_CURRENCY:
                title = f"{title} ({self.currency})"
            if column in NUMERIC and column == self.sort_column:
                title += "    "  # right-aligned: keep clear of the sort arrow
            return title
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.CHANGE:
            at = self.portfolio.baseline_at
            if at is None:
                return "No snapshot from 24 h ago yet: the change appears after a day of history."
            return f"Change in value of each holding since the snapshot of {stamp(at)}."
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.SHARE:
            return "Share of the net total (debts count negative; spam never counts)."
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # Painting asks 7 roles of every visible cell through Python: keep this path short.
        if role not in _HANDLED:
            return None
        node = self.node(index)
        if node is None:
            return None
        column = index.column()
        if node.__class__ is Group:
            return self._group_data(node, Column(column), role)
        row: HoldingRow = node  # type: ignore[assignment]
        if role == _DISPLAY:
            if column == Column.POSITION and self.group_by == GroupBy.PROTOCOL:
                return row.kind  # the group row already names the protocol
            cells = row.cells
            if cells is None:
                cells = row.cells = [row_cell(row, c) for c in Column]
            return cells[column]
        if role == _ALIGNMENT:
            return RIGHT if column in NUMERIC else None
        if role == _FOREGROUND:
            return self._foreground(row, column)
        if role == _DECORATION:
            if column == Column.ASSET:
                return self._icon(row)
            return manual_icon() if column == Column.PRICE and row.manual else None
        if role == _FONT:
            if row.is_spam or (row.stale and column in NUMERIC):
                return self._italic
            return None
        if role == _TOOLTIP:
            return row_tooltip(row, Column(column), self.portfolio)
        if role == _BACKGROUND:
            return None
        if role == SORT_ROLE:
            if column in ROW_NUMBERS:
                number = ROW_NUMBERS[Column(column)](row)
                return None if number is None else float(number)
            return row_cell(row, Column(column)).casefold()
        return row  # ROW_ROLE

    # --- cells of a holding -------------------------------------------------------------
    def _foreground(self, row: HoldingRow, column: int) -> QColor | None:
        if row.is_spam or (row.failure is not None and column == Column.AMOUNT):
            return colours().muted  # theme roles, read at paint time: they follow a theme switch
        if column == Column.CHANGE:
            if row.change is None:
                return colours().muted
            return colours().gain if row.change > 0 else colours().loss if row.change < 0 else None
        if column in _DEBT_COLUMNS and row.is_debt:
            return colours().loss
        return None

    def status_text(self, row: HoldingRow) -> str | None:
        return status_text(row, self.portfolio)

    def _icon(self, row: HoldingRow) -> Any:
        if row.failure is not None:
            return failed_icon()
        state = row.holding.state
        if state is SourceState.FAILED:
            return failed_icon()
        if state is SourceState.STALE:
            return stale_icon()
        if row.holding.is_spam:
            return spam_icon()
        return None

    # --- cells of a group ---------------------------------------------------------------
    def _group_data(self, group: Group, column: Column, role: int) -> Any:
        if role == _DISPLAY:
            return group_cell(group, column)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        if role == _BACKGROUND:
            return colours().tint
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in NUMERIC else None
        if role == _FOREGROUND:
            if column == Column.CHANGE and group.change:
                return colours().gain if group.change > 0 else colours().loss
            if column == Column.VALUE and group.value is not None and group.value < 0:
                return colours().loss
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            if column == Column.ASSET and group.stale:
                return stale_icon()
            if column == Column.PRICE and group.manual:
                return manual_icon()
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.ASSET:
            return group_tooltip(group)
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.PRICE and group.manual:
            return "A manual price you set, not a market price."
        if role == SORT_ROLE:
            if column in GROUP_NUMBERS:
                number = GROUP_NUMBERS[column](group)
                return None if number is None else float(number)
            return group.label.casefold()
        if role == ROW_ROLE:
            return group
        return None
