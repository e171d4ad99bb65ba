"""The read-only report table the Risk and Yield tabs share: sortable rows of one selection,
columns sized to their contents, and an explanation shown in its place while it is empty."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QStackedWidget, QTableView


def report_table(model: QSortFilterProxyModel, sort_column: int, name: str = "") -> QTableView:
    table = QTableView()
    if name:
        table.setAccessibleName(name)
    table.setModel(model)
    table.setSortingEnabled(True)
    table.sortByColumn(sort_column, Qt.SortOrder.DescendingOrder)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def empty_or(table: QTableView, empty_text: str) -> tuple[QLabel, QStackedWidget]:
    """A stack that shows ``empty_text`` (centred, wrapped, plain) or ``table``."""
    empty = QLabel(empty_text)
    empty.setTextFormat(Qt.TextFormat.PlainText)
    empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty.setWordWrap(True)
    stack = QStackedWidget()
    stack.addWidget(empty)
    stack.addWidget(table)
    return empty, stack
