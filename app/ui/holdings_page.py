"""The portfolio page: a summary header over the holdings of the latest snapshot.

One model (:class:`HoldingsModel`) feeds two views: a table when flat and a tree when grouped.
Only the active view is attached, because a ``QTreeView`` lays out every expanded row through
Python calls (~35 ms for 10,000 rows) where a ``QTableView`` asks only for the visible ones.
Groups start expanded up to :data:`EXPAND_LIMIT` holdings and collapsed above it, for the same
reason; what the person expands or collapses is remembered across refreshes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.domain.snapshot import Snapshot
from app.ui.holdings_summary import MUTED, PortfolioSummary
from app.ui.models.holdings_data import (
    SMALL_VALUE,
    Column,
    Group,
    GroupBy,
    HoldingRow,
    Portfolio,
    build_portfolio,
)
from app.ui.models.holdings_export import csv_text, tsv
from app.ui.models.holdings_format import describe_age
from app.ui.models.holdings_model import HoldingsModel

__all__ = ["EXPAND_LIMIT", "HoldingsPage", "SaveChooser", "ask_save_path", "describe_age"]

EXPAND_LIMIT = 2000
RESIZE_LIMIT = 1000  # columns fit their contents on the first data only up to this many rows
MIN_TEXT_WIDTH = 80
GROUP_CHOICES = (
    ("None", GroupBy.NONE),
    ("Asset", GroupBy.ASSET),
    ("Chain", GroupBy.CHAIN),
    ("Wallet", GroupBy.WALLET),
    ("Protocol", GroupBy.PROTOCOL),
)
WIDTHS = {
    Column.ASSET: 150, Column.CHAIN: 110, Column.WALLET: 140, Column.POSITION: 140,
    Column.AMOUNT: 110, Column.PRICE: 95, Column.VALUE: 110, Column.CHANGE: 160,
    Column.SHARE: 65,
}  # fmt: skip

BaselineSource = Snapshot | Callable[[], Snapshot | None] | None
# (parent, suggested path, called with the chosen path): a non-blocking "save as" question.
SaveChooser = Callable[[QWidget, str, Callable[[str], None]], None]


def ask_save_path(parent: QWidget, suggested: str, done: Callable[[str], None]) -> None:
    """A window-modal save dialog opened with ``open()`` (never ``exec()``: see qasync)."""
    dialog = QFileDialog(parent, "Export holdings as CSV", suggested, "CSV files (*.csv)")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setDefaultSuffix("csv")
    dialog.fileSelected.connect(done)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


class HoldingsPage(QWidget):
    message = Signal(str)  # a short result for the status bar ("Exported 12 holdings to …")

    def __init__(self, parent: QWidget | None = None, save_chooser: SaveChooser | None = None):
        super().__init__(parent)
        self.save_chooser: SaveChooser = save_chooser or ask_save_path
        self.export_dir = Path.home()
        self.model = HoldingsModel(self)
        self.portfolio = Portfolio()
        self.chain_names: dict[str, str] = {}
        self._generation = 0
        self._toggled: set[str] = set()  # groups expanded/collapsed against the default
        self._restoring = False
        self._expanded_by_default = True
        self._sized: set[int] = set()  # id() of the views whose columns were fitted

        self.summary = PortfolioSummary()
        self.total_label = self.summary.total_label
        self.change_label = self.summary.change_label
        self.debt_label = self.summary.debt_label
        self.updated_label = self.summary.updated_label
        self.stale_label = self.summary.stale_label

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by asset, chain, wallet or protocol")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda text: self._refilter(text=text))
        self.group_box = QComboBox()
        for title, key in GROUP_CHOICES:
            self.group_box.addItem(title, key.value)
        self.group_box.currentIndexChanged.connect(
            lambda _i: self.set_group_by(GroupBy(self.group_box.currentData()))
        )
        group_label = QLabel("Group by")
        group_label.setBuddy(self.group_box)
        self.hide_small = QCheckBox(f"Hide small balances (< {SMALL_VALUE})")
        self.hide_small.setChecked(True)
        self.hide_small.toggled.connect(lambda on: self._refilter(hide_small=on))
        self.show_spam = QCheckBox("Show spam")
        self.show_spam.setToolTip("Spam tokens are never counted in any total, shown or not.")
        self.show_spam.toggled.connect(lambda on: self._refilter(show_spam=on))
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the holdings shown, with exact amounts")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.count_label = QLabel()
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.count_label.setStyleSheet(MUTED)
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self._notice_timer = QTimer(self, singleShot=True, interval=8000)
        self._notice_timer.timeout.connect(self.notice.clear)

        self.act_copy = QAction("&Copy", self)
        self.act_copy.setShortcut(QKeySequence.StandardKey.Copy)  # shown in the menu; the
        self.act_copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # views' filter acts
        self.act_copy.triggered.connect(self.copy_selection)
        self.act_export = QAction("&Export CSV…", self)
        self.act_export.triggered.connect(lambda: self.export_csv())
        self.act_expand = QAction("E&xpand all", self)
        self.act_collapse = QAction("C&ollapse all", self)
        act_find = QAction(self)
        act_find.setShortcut(QKeySequence.StandardKey.Find)
        act_find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act_find.triggered.connect(self._focus_filter)
        self.addAction(act_find)

        self.table = QTableView()
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.tree = QTreeView()
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setIndentation(14)
        self.tree.expanded.connect(lambda i: self._remember(i, True))
        self.act_expand.triggered.connect(self.tree.expandAll)
        self.act_collapse.triggered.connect(self.tree.collapseAll)
        self.tree.collapsed.connect(lambda i: self._remember(i, False))
        for view in (self.table, self.tree):
            self._setup_view(view)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.tree)
        self._attach(self.table)

        tools = QHBoxLayout()
        tools.setSpacing(10)
        tools.addWidget(self.filter, 1)
        tools.addWidget(group_label)
        tools.addWidget(self.group_box)
        tools.addWidget(self.hide_small)
        tools.addWidget(self.show_spam)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.summary)
        layout.addLayout(tools)
        layout.addWidget(self.stack, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        footer.addWidget(self.notice)
        layout.addLayout(footer)

    def _focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def _setup_view(self, view: QTableView | QTreeView) -> None:
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setSortingEnabled(True)
        view.installEventFilter(self)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(lambda pos: self._context_menu(view, pos))
        header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
        header.setSortIndicator(Column.VALUE, Qt.SortOrder.DescendingOrder)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

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
                self.copy_selection()
            return True
        return super().eventFilter(watched, event)

    def _header(self, view: QTableView | QTreeView) -> QHeaderView:
        return view.horizontalHeader() if isinstance(view, QTableView) else view.header()

    # --- showing data -------------------------------------------------------------------
    def show_snapshot(
        self,
        snapshot: Snapshot | None,
        chain_names: dict[str, str],
        wallet_names: dict[str, str],
        now: float | None = None,
        *,
        baseline: Snapshot | None = None,
    ) -> None:
        """Show a snapshot at once. ``wallet_names`` maps an address to its label; ``baseline``
        is the snapshot ~24 h earlier (``store.at_or_before(snapshot.taken_at - 86400)``)."""
        self._generation += 1
        portfolio = build_portfolio(snapshot, chain_names, wallet_names, baseline)
        self.show_portfolio(portfolio, chain_names, now)

    async def show_snapshot_async(
        self,
        snapshot: Snapshot | None,
        chain_names: dict[str, str],
        wallet_names: dict[str, str],
        *,
        baseline: BaselineSource = None,
        now: float | None = None,
    ) -> bool:
        """Like :meth:`show_snapshot`, with the row preparation (and the baseline query, when
        ``baseline`` is a callable) in a worker thread: the GUI thread only swaps the rows in.
        The latest call wins; returns False when a newer one made this one moot."""
        self._generation += 1
        generation = self._generation
        names, wallets = dict(chain_names), dict(wallet_names)

        def prepare() -> Portfolio:
            base = baseline() if callable(baseline) else baseline
            return build_portfolio(snapshot, names, wallets, base)

        portfolio = await asyncio.to_thread(prepare)
        if generation != self._generation:
            return False
        self.show_portfolio(portfolio, names, now)
        return True

    def show_portfolio(
        self, portfolio: Portfolio, chain_names: dict[str, str], now: float | None = None
    ) -> None:
        self.portfolio = portfolio
        self.chain_names = chain_names
        with self._keeping_view_state():
            self.model.set_portfolio(portfolio)
        self.summary.show_portfolio(portfolio, chain_names, now)
        self.export_button.setEnabled(bool(portfolio.rows))
        self._fit_columns()

    @property
    def snapshot_time(self) -> int | None:
        return self.portfolio.taken_at

    def set_group_by(self, group_by: GroupBy) -> None:
        if group_by == self.model.group_by:
            return
        self._toggled.clear()
        index = self.group_box.findData(group_by.value)
        if index != self.group_box.currentIndex():
            self.group_box.setCurrentIndex(index)  # comes back here through the signal
            return
        keys = self._selected_keys()
        target = self.table if group_by == GroupBy.NONE else self.tree
        if target is not self.view:
            self._detach(self.view)  # first: a tree would lay out every row of a flat list
        self.model.set_group_by(group_by)
        self._attach(target)
        self._select_keys(keys)

    def _refilter(
        self, text: str | None = None, hide_small: bool | None = None, show_spam: bool | None = None
    ) -> None:
        with self._keeping_view_state():
            self.model.set_filter(text, hide_small, show_spam)

    # --- views --------------------------------------------------------------------------
    @property
    def view(self) -> QTableView | QTreeView:
        """The view on screen: the table when flat, the tree when grouped."""
        return self.tree if self.stack.currentWidget() is self.tree else self.table

    def _attach(self, view: QTableView | QTreeView) -> None:
        other = self.table if view is self.tree else self.tree
        if view.model() is not self.model:
            self._header(view).setSortIndicator(
                self.model.sort_column,
                Qt.SortOrder.DescendingOrder
                if self.model.descending
                else Qt.SortOrder.AscendingOrder,
            )
            old = view.selectionModel()
            view.setModel(self.model)
            if old is not None:
                old.deleteLater()
        self._detach(other)
        self.stack.setCurrentWidget(view)
        self._expand_groups()
        self._fit_columns()

    def _detach(self, view: QTableView | QTreeView) -> None:
        if view.model() is not None:
            old = view.selectionModel()
            view.setModel(None)
            if old is not None:
                old.deleteLater()

    def _fit_columns(self) -> None:
        """Fit the active view's columns once, on its first data while on screen; after that
        the person's widths stay. Contents decide (when that is cheap to measure), then the
        text columns give way so that every column fits the width; the last one takes what is
        left."""
        view = self.view
        if id(view) in self._sized or not self.portfolio.rows or not self.isVisible():
            return
        self._sized.add(id(view))
        header = self._header(view)
        rows = len(self.model.visible_rows()) + len(self.model.groups())
        widths = dict(WIDTHS)
        if rows <= RESIZE_LIMIT:
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
        self._fit_columns()

    @contextmanager
    def _keeping_view_state(self) -> Iterator[None]:
        """Selection (by holding key) and group expansion survive a model reset."""
        keys = self._selected_keys()
        yield
        self._expand_groups()
        self._select_keys(keys)
        self._show_count()

    def _show_count(self) -> None:
        rows = self.portfolio.rows
        if not rows:
            self.count_label.clear()
            return
        shown = self.model.shown_count()
        text = f"{shown} of {len(rows)} holdings shown"
        hidden = []
        if self.model.hide_small:
            small = sum(1 for r in rows if r.small and not (r.is_spam and not self.model.show_spam))
            if small:
                hidden.append(f"{small} small")
        if not self.model.show_spam and self.portfolio.spam_count:
            hidden.append(f"{self.portfolio.spam_count} spam")
        if hidden:
            text += " · " + " and ".join(hidden) + " hidden"
        self.count_label.setText(text)

    def _selected_keys(self) -> set[tuple[str, str, str]]:
        selection = self.view.selectionModel()
        if selection is None or not selection.hasSelection():
            return set()
        return {row.holding.key for row in self.selected_rows()}

    def _select_keys(self, keys: set[tuple[str, str, str]]) -> None:
        if not keys:
            return
        view, model = self.view, self.model
        selection = view.selectionModel()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        groups = model.groups()
        if groups:
            for g, group in enumerate(groups):
                for r, row in enumerate(group.rows):
                    if row.holding.key in keys:
                        selection.select(model.index(r, 0, model.group_index(g)), flags)
        else:
            for r, row in enumerate(model.visible_rows()):
                if row.holding.key in keys:
                    selection.select(model.index(r, 0), flags)

    def _expand_groups(self) -> None:
        if not self.model.grouped or self.tree.model() is not self.model:
            return
        # Called right after a reset or a fresh attach: every group starts collapsed.
        groups = self.model.groups()
        self._expanded_by_default = default = self.model.shown_count() <= EXPAND_LIMIT
        self._restoring = True
        try:
            for g, group in enumerate(groups):
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

    def _context_menu(self, view: QTableView | QTreeView, pos: QPoint) -> None:
        menu = QMenu(self)
        self.act_copy.setEnabled(view.selectionModel().hasSelection())
        menu.addAction(self.act_copy)
        menu.addAction(self.act_export)
        if view is self.tree:
            menu.addSeparator()
            menu.addAction(self.act_expand)
            menu.addAction(self.act_collapse)
        menu.aboutToHide.connect(lambda: self.act_copy.setEnabled(True))
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(view.viewport().mapToGlobal(pos))

    # --- copy and export ----------------------------------------------------------------
    def selected_rows(self) -> list[HoldingRow]:
        """Selected holdings in display order; a selected group stands for all its rows."""
        selection = self.view.selectionModel()
        picked: set[int] = set()
        for index in selection.selectedRows(0):
            node = self.model.node(index)
            if isinstance(node, Group):
                picked.update(id(r) for r in node.rows)
            elif node is not None:
                picked.add(id(node))
        return [row for row in self.model.visible_rows() if id(row) in picked]

    def copy_selection(self) -> str:
        """Copy the selected holdings as tab-separated text with exact amounts."""
        rows = self.selected_rows()
        if not rows:
            return ""
        text = tsv(rows, self.model.currency)
        QGuiApplication.clipboard().setText(text)
        self._notify(f"Copied {len(rows)} holding{'s' if len(rows) != 1 else ''}")
        return text

    def export_csv(self, path: str | None = None) -> None:
        """Save the holdings shown (filters and order as on screen) as CSV. Without a path,
        ask where through ``save_chooser``."""
        if path is not None:
            self._write_csv(path)
            return
        day = time.strftime("%Y-%m-%d", time.localtime(self.portfolio.taken_at or time.time()))
        suggested = str(self.export_dir / f"chainfolio-holdings-{day}.csv")
        self.save_chooser(self, suggested, self._write_csv)

    def _write_csv(self, path: str) -> None:
        if not path:
            return
        rows = self.model.visible_rows()
        try:
            with open(path, "w", encoding="utf-8", newline="") as out:
                out.write(csv_text(rows, self.model.currency))
        except OSError as exc:
            self._notify(f"Could not export to {path}: {exc.strerror or exc}")
            return
        self.export_dir = Path(path).parent
        self._notify(f"Exported {len(rows)} holding{'s' if len(rows) != 1 else ''} to {path}")

    def _notify(self, text: str) -> None:
        self.notice.setText(text)
        self._notice_timer.start()
        self.message.emit(text)
