"""The portfolio page: a summary header, the toolbar (filter, group by, toggles, export) and
the holdings views (:mod:`app.ui.holdings_views`) over one :class:`HoldingsModel`.

Big portfolios: :meth:`HoldingsPage.show_snapshot_async` prepares the rows in a worker thread,
so the GUI thread only swaps them in (about 10 ms for 10,000 holdings).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.domain.snapshot import Snapshot
from app.ui.holdings_summary import MUTED, PortfolioSummary
from app.ui.holdings_views import EXPAND_LIMIT, HoldingsViews
from app.ui.models.holdings_data import (
    SMALL_VALUE,
    GroupBy,
    HoldingRow,
    Portfolio,
    build_portfolio,
)
from app.ui.models.holdings_export import csv_text, tsv
from app.ui.models.holdings_format import describe_age
from app.ui.models.holdings_model import HoldingsModel
from app.ui.tasks import TaskRunner
from app.ui.theme import paint_text

if TYPE_CHECKING:
    from app.services.price_ids import PriceIdService
    from app.ui.dialogs.price_source_dialog import PriceSourceDialog

__all__ = ["EXPAND_LIMIT", "HoldingsPage", "SaveChooser", "ask_save_path", "describe_age"]


GROUP_CHOICES = (
    ("None", GroupBy.NONE),
    ("Asset", GroupBy.ASSET),
    ("Chain", GroupBy.CHAIN),
    ("Wallet", GroupBy.WALLET),
    ("Protocol", GroupBy.PROTOCOL),
)
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
    shown = Signal()  # a snapshot is on screen (after show_snapshot_async's worker is done)
    refresh_wanted = Signal()  # a price source was set: a refresh would apply it now

    def __init__(self, parent: QWidget | None = None, save_chooser: SaveChooser | None = None):
        super().__init__(parent)
        self.save_chooser: SaveChooser = save_chooser or ask_save_path
        self.export_dir = Path.home()
        # Set by the window once the database is open: "Set price source…" needs it.
        self.price_ids: PriceIdService | None = None
        self.tasks = TaskRunner()
        self.model = HoldingsModel(self)
        self.portfolio = Portfolio()
        self.chain_names: dict[str, str] = {}
        self._generation = 0

        self.summary = PortfolioSummary()
        self.total_label = self.summary.total_label
        self.change_label = self.summary.change_label
        self.debt_label = self.summary.debt_label
        self.updated_label = self.summary.updated_label
        self.stale_label = self.summary.stale_label
        self.unpriced_button = self.summary.unpriced_button
        self.unpriced_button.clicked.connect(
            lambda: self.show_only_unpriced(not self.model.only_unpriced)
        )

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
        paint_text(self.count_label, MUTED)
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self._notice_timer = QTimer(self, singleShot=True, interval=8000)
        self._notice_timer.timeout.connect(self.notice.clear)

        self.act_copy = QAction("&Copy", self)
        self.act_copy.setShortcut(QKeySequence.StandardKey.Copy)  # shown in the menu
        self.act_copy.triggered.connect(self.copy_selection)
        self.act_export = QAction("&Export CSV…", self)
        self.act_export.triggered.connect(lambda: self.export_csv())
        self.act_price_source = QAction("Set &price source…", self)
        self.act_price_source.setToolTip(
            "Price this asset as a CoinGecko coin (for tokens and coins no source knows)"
        )
        self.act_price_source.triggered.connect(lambda: self.ask_price_source())
        act_find = QAction(self)
        act_find.setShortcut(QKeySequence.StandardKey.Find)
        act_find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act_find.triggered.connect(self._focus_filter)
        self.addAction(act_find)

        self.views = HoldingsViews(self.model)
        self.views.menu_actions = [self.act_copy, self.act_export, self.act_price_source]
        self.views.menu_opening.connect(self._update_price_action)
        self.views.copy_requested.connect(self.copy_selection)
        self.table = self.views.table
        self.tree = self.views.tree

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
        layout.addWidget(self.views, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        footer.addWidget(self.notice)
        layout.addLayout(footer)

    def _focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

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
        scope: Callable[[Snapshot | None], Snapshot | None] | None = None,
    ) -> bool:
        """Like :meth:`show_snapshot`, with the row preparation (and the baseline query, when
        ``baseline`` is a callable) in a worker thread: the GUI thread only swaps the rows in.
        The latest call wins; returns False when a newer one made this one moot."""
        self._generation += 1
        generation = self._generation
        names, wallets = dict(chain_names), dict(wallet_names)

        def prepare() -> Portfolio:
            base = baseline() if callable(baseline) else baseline
            if scope is not None:  # one portfolio's wallets (app.ui.portfolio_picker)
                return build_portfolio(scope(snapshot), names, wallets, scope(base))
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
        if self.model.only_unpriced and not portfolio.unpriced_count:
            self.show_only_unpriced(False)  # nothing left to show that way
        self.summary.show_unpriced(portfolio.unpriced_count, self.model.only_unpriced)
        self.export_button.setEnabled(bool(portfolio.rows))
        self.views.fit_columns()
        self.shown.emit()

    def show_only_unpriced(self, on: bool) -> None:
        """Show only the holdings without a price (the total's "left out" link), or all."""
        with self._keeping_view_state():
            self.model.set_filter(only_unpriced=on)
        self.summary.show_unpriced(self.portfolio.unpriced_count, on)

    def set_group_by(self, group_by: GroupBy) -> None:
        if group_by == self.model.group_by:
            return
        self.views.forget_expansion()
        index = self.group_box.findData(group_by.value)
        if index != self.group_box.currentIndex():
            self.group_box.setCurrentIndex(index)  # comes back here through the signal
            return
        keys = self.views.selected_keys()
        self.views.detach_for(grouped=group_by != GroupBy.NONE)
        self.model.set_group_by(group_by)
        self.views.attach(grouped=self.model.grouped)
        self.views.select_keys(keys)
        self._show_count()

    def _refilter(
        self, text: str | None = None, hide_small: bool | None = None, show_spam: bool | None = None
    ) -> None:
        with self._keeping_view_state():
            self.model.set_filter(text, hide_small, show_spam)

    @property
    def view(self) -> QTableView | QTreeView:
        """The view on screen: the table when flat, the tree when grouped."""
        return self.views.view

    @contextmanager
    def _keeping_view_state(self) -> Iterator[None]:
        with self.views.keeping_state():
            yield
        self._show_count()

    def _show_count(self) -> None:
        rows = self.portfolio.rows
        if not rows:
            self.count_label.clear()
            return
        text = f"{self.model.shown_count()} of {len(rows)} holdings shown"
        if self.model.only_unpriced:
            text += " · only those without a price"
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

    # --- price sources ------------------------------------------------------------------
    def _price_target(self) -> HoldingRow | None:
        rows = self.selected_rows()
        if len(rows) != 1 or rows[0].failure is not None:
            return None
        return rows[0]

    def _update_price_action(self) -> None:
        row = self._price_target()
        self.act_price_source.setEnabled(self.price_ids is not None and row is not None)

    def ask_price_source(self) -> PriceSourceDialog | None:
        """Open "Set price source…" for the one selected holding's asset."""
        row = self._price_target()
        if row is None or self.price_ids is None:
            return None
        from app.services.price_ids import PricedThing
        from app.ui.dialogs.price_source_dialog import open_price_source_dialog

        h = row.holding
        thing = PricedThing(h.asset_id, h.symbol, h.symbol, h.decimals)

        def saved(price_id: str) -> None:
            self._notify(f"{h.symbol} on {row.chain_name} is priced as {price_id} from now on")
            self.refresh_wanted.emit()

        return open_price_source_dialog(
            self, self.price_ids, thing, row.chain_name, self.model.currency, self.tasks, saved
        )

    # --- copy and export ----------------------------------------------------------------
    def selected_rows(self) -> list[HoldingRow]:
        """Selected holdings in display order; a selected group stands for all its rows."""
        return self.views.selected_rows()

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
