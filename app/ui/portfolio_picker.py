"""Portfolios in the window: the toolbar's selector ("All" or one portfolio by name) and the
dialog that manages them (create, delete, include and exclude wallets and ledger accounts).

The selector scopes the Portfolio tab (its wallets' holdings of the latest snapshot:
:func:`scoped_snapshot`, applied in the holdings page's worker), the Timeline's total
(:func:`portfolio_net_worth`) and the Performance tab (``PortfolioService.pnl``/``returns``);
"All" shows everything, as before portfolios existed. Every read and write goes through
``PortfolioService`` in worker threads (the window's :class:`~app.ui.tasks.TaskRunner`).
Names are untrusted text: shown plain, never as rich text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QWidget,
)
from shiboken6 import isValid

from app.domain.errors import report
from app.domain.model import short_address
from app.domain.portfolios import Portfolio, same_wallet
from app.domain.text import clean_text

if TYPE_CHECKING:
    from app.domain.snapshot import Snapshot
    from app.services.history import Comparison, HistoryService, NetWorth
    from app.services.portfolios import PortfolioService
    from app.ui.tasks import TaskRunner

log = logging.getLogger(__name__)
ALL = ""  # the selector's "All": no portfolio
ALL_TEXT = "All wallets and accounts"


# ------------------------------------------------------------------ scoping (worker threads)


def _address(caip10: str) -> str:
    return caip10.rsplit(":", 1)[-1]


def scoped_snapshot(snapshot: Snapshot | None, wallets: tuple[str, ...]) -> Snapshot | None:
    """The snapshot kept to ``wallets`` (addresses): their holdings and lending accounts."""
    if snapshot is None:
        return None

    def kept(caip10: str) -> bool:
        address = _address(caip10)
        return any(same_wallet(address, w) for w in wallets)

    return replace(
        snapshot,
        holdings=tuple(h for h in snapshot.holdings if kept(h.wallet)),
        accounts=tuple(a for a in snapshot.accounts if kept(a.wallet)),
    )


def portfolio_net_worth(service: PortfolioService, history: HistoryService, name: str) -> NetWorth:
    """The portfolio's total per snapshot (``PortfolioService.timeline``) in the Timeline's
    shape; snapshot ids come from the whole history (the same snapshots)."""
    import numpy as np

    from app.services.history import NetWorth

    points, _notes = service.timeline(name)
    every = history.net_worth()
    ids = {int(t): int(i) for t, i in zip(every.times, every.ids, strict=True)}
    kept = [p for p in points if p.taken_at in ids]
    return NetWorth(
        ids=np.asarray([ids[p.taken_at] for p in kept], dtype=np.int64),
        times=np.asarray([p.taken_at for p in kept], dtype=np.int64),
        values=np.asarray([float(p.total) for p in kept], dtype=np.float64),
        exact=[str(p.total) for p in kept],
    )


def portfolio_what_changed(
    snapshots: Any, history: HistoryService, wallets: tuple[str, ...], start: int, end: int
) -> Comparison:
    """The Timeline's "What changed" kept to the portfolio's wallets (as
    ``HistoryService.what_changed``: the snapshots at or before ``start`` and ``end``, a start
    before the first snapshot using the first)."""
    from app.domain.changes import what_changed
    from app.services.history import Comparison

    after = snapshots.at_or_before(end)
    before = snapshots.at_or_before(start)
    if before is None:
        later = [int(t) for t in history.net_worth().times if t >= start]
        before = snapshots.at_or_before(later[0]) if later else None
    if after is None or before is None or before.taken_at >= after.taken_at:
        return Comparison(None, None, after.currency if after is not None else "", [])
    if before.currency != after.currency:
        note = (
            f"The snapshot of the start is in {before.currency} and the one of the end in "
            f"{after.currency}: what changed cannot be split across two currencies."
        )
        return Comparison(before.taken_at, after.taken_at, after.currency, [], note)
    old, new = scoped_snapshot(before, wallets), scoped_snapshot(after, wallets)
    assert old is not None and new is not None
    rows = what_changed(old.holdings, new.holdings)
    return Comparison(before.taken_at, after.taken_at, after.currency, rows)


def portfolio_timeline_text(
    service: PortfolioService, name: str, lo: float, hi: float, now: float
) -> str:
    """The Timeline's returns label for one portfolio's ledger accounts over its visible range
    ("" when it has none, or the range is in the future)."""
    from datetime import UTC, datetime

    from app.domain.errors import ChainfolioError
    from app.ui.performance_page import returns_label

    today = datetime.fromtimestamp(now, UTC).date()
    end = min(datetime.fromtimestamp(max(hi, 0), UTC).date(), today)
    start = datetime.fromtimestamp(max(lo, 0), UTC).date()
    if start > end:
        return ""
    try:
        result = service.returns(name, start, end).accounts
    except ChainfolioError as exc:
        log.info("portfolio returns for the timeline: %s", exc)
        return "Returns unavailable (see the Performance tab)"
    if result is None or not result.figures.days:
        return ""
    return returns_label(result).replace("Ledger:", "Accounts:", 1)


# ------------------------------------------------------------------ the selector


class PortfolioPicker(QWidget):
    """``chosen(name)``: "" for All. ``manage_requested`` opens the dialog."""

    chosen = Signal(str)
    manage_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.portfolios: list[Portfolio] = []
        self.box = QComboBox()
        self.box.setAccessibleName("Portfolio")
        self.box.setToolTip("Show one portfolio's wallets and accounts, or all of them")
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.box.addItem(ALL_TEXT, ALL)
        self.box.currentIndexChanged.connect(lambda _i: self.chosen.emit(self.current()))
        caption = QLabel("Portfolio")
        caption.setBuddy(self.box)
        self.manage = QToolButton()
        self.manage.setText("Manage…")
        self.manage.setAccessibleName("Manage portfolios")
        self.manage.setToolTip("Create and delete portfolios, choose their wallets and accounts")
        self.manage.clicked.connect(self.manage_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 0, 8, 0)
        row.addWidget(caption)
        row.addWidget(self.box)
        row.addWidget(self.manage)

    def current(self) -> str:
        return str(self.box.currentData() or ALL)

    def portfolio(self) -> Portfolio | None:
        name = self.current()
        return next((p for p in self.portfolios if p.name == name), None)

    def set_portfolios(self, portfolios: list[Portfolio], current: str) -> bool:
        """Fill the list; select ``current`` (All when it no longer exists). True when the
        selection changed (``chosen`` was emitted)."""
        before = self.current()
        self.portfolios = list(portfolios)
        self.box.blockSignals(True)
        self.box.clear()
        self.box.addItem(ALL_TEXT, ALL)
        for p in self.portfolios:
            self.box.addItem(clean_text(p.name, 60), p.name)
        self.box.setCurrentIndex(max(0, self.box.findData(current)))
        self.box.blockSignals(False)
        if self.current() != before:
            self.chosen.emit(self.current())
            return True
        return False

    def select(self, name: str) -> None:
        self.box.setCurrentIndex(max(0, self.box.findData(name)))


# ------------------------------------------------------------------ the manage dialog


@dataclass(frozen=True, slots=True)
class ManageData:
    portfolios: list[Portfolio]
    wallets: list[tuple[str, str]]  # (address, shown name)
    accounts: list[str]


def read_manage_data(
    service: PortfolioService, wallets: Callable[[], list[Any]], accounts: Callable[[], list[Any]]
) -> ManageData:
    return ManageData(
        service.portfolios(),
        [(w.address, w.display_name) for w in wallets()],
        [a.name for a in accounts()],
    )


class ManageDialog(QDialog):
    """Portfolios on the left (create, delete); the chosen one's wallets and accounts as check
    lists on the right: checking includes, unchecking excludes. Each change is written at once
    (``PortfolioService.add/remove/include/exclude`` in a worker), then everything is read
    again; ``changed`` tells the window to refresh its selector."""

    changed = Signal()
    loaded = Signal()

    def __init__(
        self,
        service: Callable[[], PortfolioService],
        read: Callable[[], ManageData],
        tasks: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Portfolios")
        self._service = service
        self._read = read
        self.tasks = tasks
        self.data: ManageData | None = None
        self._filling = False

        self.names = QListWidget()
        self.names.setAccessibleName("Portfolios")
        self.names.currentItemChanged.connect(lambda *_: self._fill_members())
        self.new_name = QLineEdit()
        self.new_name.setAccessibleName("New portfolio name")
        self.new_name.setPlaceholderText("New portfolio name")
        self.new_name.setMaxLength(200)
        self.new_name.returnPressed.connect(self.create_portfolio)
        self.create_button = QPushButton("&Create")
        self.create_button.clicked.connect(self.create_portfolio)
        self.create_button.setAutoDefault(False)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.clicked.connect(self.delete)
        self.delete_button.setAutoDefault(False)
        self.wallets = QListWidget()
        self.wallets.setAccessibleName("Wallets in the portfolio")
        self.accounts = QListWidget()
        self.accounts.setAccessibleName("Ledger accounts in the portfolio")
        self.wallets.itemChanged.connect(lambda item: self._toggled(item, "wallet"))
        self.accounts.itemChanged.connect(lambda item: self._toggled(item, "account"))
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)

        grid = QGridLayout(self)
        for column, text in enumerate(("Portfolios", "Wallets", "Ledger accounts")):
            label = QLabel(text)
            label.setBuddy((self.names, self.wallets, self.accounts)[column])
            grid.addWidget(label, 0, column)
        grid.addWidget(self.names, 1, 0)
        grid.addWidget(self.wallets, 1, 1)
        grid.addWidget(self.accounts, 1, 2)
        new_row = QHBoxLayout()
        new_row.addWidget(self.new_name, 1)
        new_row.addWidget(self.create_button)
        grid.addLayout(new_row, 2, 0)
        grid.addWidget(self.delete_button, 3, 0, Qt.AlignmentFlag.AlignLeft)
        hint = QLabel(
            "Check a wallet or an account to include it in the selected portfolio; a wallet "
            "or account may belong to several portfolios."
        )
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.setWordWrap(True)
        grid.addWidget(hint, 2, 1, 2, 2)
        grid.addWidget(self.status, 4, 0, 1, 3)
        grid.addWidget(buttons, 5, 0, 1, 3)
        self.resize(760, 420)
        self.reload()

    # --- reading ------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        keep = select if select is not None else self.selected()
        self._run("read", self._read, lambda data: self._show(data, keep), "Reading portfolios")

    def _show(self, data: ManageData, select: str | None) -> None:
        self.data = data
        self.names.blockSignals(True)
        self.names.clear()
        for p in data.portfolios:
            item = QListWidgetItem(clean_text(p.name, 60))
            item.setData(Qt.ItemDataRole.UserRole, p.name)
            self.names.addItem(item)
        self.names.blockSignals(False)
        at = next((i for i, p in enumerate(data.portfolios) if p.name == select), 0)
        if data.portfolios:
            self.names.setCurrentRow(at)
        self._fill_members()
        self.loaded.emit()

    def selected(self) -> str | None:
        item = self.names.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _portfolio(self) -> Portfolio | None:
        name = self.selected()
        if self.data is None or name is None:
            return None
        return next((p for p in self.data.portfolios if p.name == name), None)

    def _fill_members(self) -> None:
        p = self._portfolio()
        self._filling = True
        self.wallets.clear()
        self.accounts.clear()
        if self.data is not None and p is not None:
            for address, shown in self.data.wallets:
                label = clean_text(shown, 40)
                short = short_address(address)
                item = QListWidgetItem(label if label == short else f"{label} ({short})")
                item.setData(Qt.ItemDataRole.UserRole, address)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                member = any(same_wallet(address, w) for w in p.wallets)
                item.setCheckState(Qt.CheckState.Checked if member else Qt.CheckState.Unchecked)
                self.wallets.addItem(item)
            for name in self.data.accounts:
                item = QListWidgetItem(clean_text(name, 60))
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                member = name in p.accounts
                item.setCheckState(Qt.CheckState.Checked if member else Qt.CheckState.Unchecked)
                self.accounts.addItem(item)
        self._filling = False
        has = p is not None
        for widget in (self.wallets, self.accounts, self.delete_button):
            widget.setEnabled(has)

    # --- writing ------------------------------------------------------------------------
    def create_portfolio(self) -> None:
        name = self.new_name.text()
        if not name.strip():
            self._say("Type a name for the new portfolio.", error=True)
            return
        service = self._service

        def done(p: Portfolio) -> None:
            self.new_name.clear()
            self._say(f"Created the portfolio {clean_text(p.name, 60)}.")
            self.changed.emit()
            self.reload(select=p.name)

        self._run("write", lambda: service().add(name), done, "Creating the portfolio")

    def delete(self) -> None:
        name = self.selected()
        if name is None:
            return
        service = self._service

        def done(p: Portfolio) -> None:
            self._say(
                f"Deleted the portfolio {clean_text(p.name, 60)} (its wallets, accounts and "
                "transactions are kept)."
            )
            self.changed.emit()
            self.reload(select="")

        self._run("write", lambda: service().remove(name), done, "Deleting the portfolio")

    def _toggled(self, item: QListWidgetItem, kind: str) -> None:
        name = self.selected()
        if self._filling or name is None:
            return
        key = str(item.data(Qt.ItemDataRole.UserRole))
        on = item.checkState() == Qt.CheckState.Checked
        service = self._service

        def work() -> tuple[Portfolio, bool]:
            s = service()
            target = {"wallet": key} if kind == "wallet" else {"account": key}
            return s.include(name, **target) if on else s.exclude(name, **target)

        def done(_result: tuple[Portfolio, bool]) -> None:
            self._say("")
            self.changed.emit()
            self.reload(select=name)

        self._run(f"{kind}-{key}", work, done, "Changing the portfolio")

    # --- plumbing -----------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        from app.ui.theme import Role, paint_text

        self.status.setText(text)
        paint_text(self.status, Role.ERROR if error else Role.MUTED)

    def _run(
        self, what: str, work: Callable[[], Any], on_success: Callable[[Any], None], doing: str
    ) -> None:
        def ok(value: Any) -> None:
            if isValid(self):
                on_success(value)

        def failed(exc: BaseException) -> None:
            if isValid(self):
                self._say(report(exc, doing, log), error=True)
                if what != "read":
                    self.reload()  # show what is stored

        self.tasks.run(asyncio.to_thread(work), ok, failed, key=f"portfolios-{id(self)}-{what}")
