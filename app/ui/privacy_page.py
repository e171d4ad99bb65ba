"""The Privacy page: per host, what it has learnt (the privacy ledger of ``app.net``).

The hosts table lists every host Chainfolio contacted or refused to contact: what for, how
many requests, how many attempts were refused (own nodes only), how many of your watched
addresses it has seen, first and last contact. Selecting a host lists those addresses with the
wallet's name. The data is read in a worker thread (pending records are written first) when
the page is shown, and every few seconds while it stays shown.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.domain.privacy import HostReport, SeenAddress, purpose_name
from app.ui.empty_view import ExplainingTableView
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text

log = logging.getLogger(__name__)
RELOAD_MS = 5_000
NO_HOSTS = (
    "No host has been contacted yet. After a refresh, every server Chainfolio talked to is "
    "listed here with the addresses of yours it has seen."
)
NO_ADDRESSES = "Select a host to see which of your addresses it has seen."
NONE_SEEN = "This host has not seen any of your addresses."

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class PrivacyView:
    """What the page shows, read off the window's thread."""

    hosts: tuple[HostReport, ...]
    labels: dict[str, str]  # address -> wallet name
    proxy: str
    own_nodes_only: bool

    def summary(self) -> str:
        route = f"through the proxy {self.proxy}" if self.proxy else "directly (no proxy)"
        own = "on: only your own servers are contacted" if self.own_nodes_only else "off"
        sent = sum(h.requests for h in self.hosts)
        refused = sum(h.refused for h in self.hosts)
        return (
            f"Traffic goes {route}. Own nodes only is {own}. "
            f"{len(self.hosts)} hosts, {sent} requests sent, {refused} refused."
        )


def when(at: int | None) -> str:
    if at is None:
        return "never"
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


class HostColumn(enum.IntEnum):
    HOST = 0
    PURPOSE = 1
    REQUESTS = 2
    REFUSED = 3
    ADDRESSES = 4
    FIRST = 5
    LAST = 6


HOST_HEADERS = {
    HostColumn.HOST: "Host",
    HostColumn.PURPOSE: "Used for",
    HostColumn.REQUESTS: "Requests",
    HostColumn.REFUSED: "Refused",
    HostColumn.ADDRESSES: "Your addresses seen",
    HostColumn.FIRST: "First contact",
    HostColumn.LAST: "Last contact",
}


class HostsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: tuple[HostReport, ...] = ()

    def set_hosts(self, hosts: Sequence[HostReport]) -> None:
        self.beginResetModel()
        self._rows = tuple(hosts)
        self.endResetModel()

    def host(self, row: int) -> HostReport | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HostColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(HostColumn):
            return HOST_HEADERS[HostColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        h = self._rows[index.row()]
        col = HostColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                HostColumn.HOST: h.host,
                HostColumn.PURPOSE: ", ".join(purpose_name(p) for p in h.purposes),
                HostColumn.REQUESTS: str(h.requests),
                HostColumn.REFUSED: str(h.refused) if h.refused else "",
                HostColumn.ADDRESSES: str(len(h.addresses)),
                HostColumn.FIRST: when(h.first_at) if h.requests else "never (refused)",
                HostColumn.LAST: (
                    when(h.last_at) if h.requests else f"refused {when(h.last_refused_at)}"
                ),
            }[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            HostColumn.REQUESTS, HostColumn.REFUSED, HostColumn.ADDRESSES,
        ):  # fmt: skip
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col is HostColumn.REFUSED and h.refused:
            return "Attempts refused before any connection (own nodes only)."
        return None


class AddressColumn(enum.IntEnum):
    ADDRESS = 0
    WALLET = 1
    REQUESTS = 2
    FIRST = 3
    LAST = 4


ADDRESS_HEADERS = {
    AddressColumn.ADDRESS: "Address",
    AddressColumn.WALLET: "Wallet",
    AddressColumn.REQUESTS: "Requests carrying it",
    AddressColumn.FIRST: "First seen",
    AddressColumn.LAST: "Last seen",
}


class AddressesModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: tuple[SeenAddress, ...] = ()
        self._labels: dict[str, str] = {}

    def set_addresses(self, rows: Sequence[SeenAddress], labels: dict[str, str]) -> None:
        self.beginResetModel()
        self._rows, self._labels = tuple(rows), dict(labels)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(AddressColumn)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(AddressColumn):
            return ADDRESS_HEADERS[AddressColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        a = self._rows[index.row()]
        col = AddressColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                AddressColumn.ADDRESS: a.address,
                AddressColumn.WALLET: self._labels.get(a.address, "(no longer watched)"),
                AddressColumn.REQUESTS: str(a.requests),
                AddressColumn.FIRST: when(a.first_at),
                AddressColumn.LAST: when(a.last_at),
            }[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col is AddressColumn.REQUESTS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class PrivacyPage(QWidget):
    """``read`` runs in a worker thread and returns what the page shows."""

    def __init__(self, read: Callable[[], PrivacyView], tasks: TaskRunner) -> None:
        super().__init__()
        self._read = read
        self._tasks = tasks
        self.view: PrivacyView | None = None
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.problem = QLabel("")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.hide()
        paint_text(self.problem, Role.ERROR)

        self.hosts_model = HostsModel()
        self.hosts_view = ExplainingTableView(NO_HOSTS)
        self.hosts_view.setModel(self.hosts_model)
        self.addresses_model = AddressesModel()
        self.addresses_view = ExplainingTableView(NO_ADDRESSES)
        self.addresses_view.setModel(self.addresses_model)
        for view, name in (
            (self.hosts_view, "Hosts contacted"),
            (self.addresses_view, "Your addresses the selected host has seen"),
        ):
            view.setAccessibleName(name)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            view.verticalHeader().hide()
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            view.horizontalHeader().setStretchLastSection(True)
        # "Used for" takes the spare width, so "Last contact" ("refused …") is never squeezed
        hosts_header = self.hosts_view.horizontalHeader()
        hosts_header.setStretchLastSection(False)
        hosts_header.setSectionResizeMode(HostColumn.PURPOSE, QHeaderView.ResizeMode.Stretch)
        self.hosts_view.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._show_addresses(current.row())
        )
        self.addresses_caption = QLabel(NO_ADDRESSES)
        self.addresses_caption.setTextFormat(Qt.TextFormat.PlainText)
        paint_text(self.addresses_caption, Role.MUTED)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.addresses_caption)
        lower_layout.addWidget(self.addresses_view)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.hosts_view)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addWidget(split, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(RELOAD_MS)
        self._timer.timeout.connect(self.reload)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()
        self._timer.start()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def reload(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (tests without one): at once
            try:
                self.show_view(self._read())
            except Exception as exc:
                self._failed(exc)
            return
        self._tasks.run(asyncio.to_thread(self._read), self.show_view, self._failed, key="privacy")

    def _failed(self, exc: BaseException) -> None:
        from app.domain.errors import report

        self.problem.setText(report(exc, "Reading the privacy record", log))
        self.problem.show()

    def show_view(self, view: PrivacyView) -> None:
        self.problem.hide()
        selected = self.hosts_model.host(self.hosts_view.currentIndex().row())
        self.view = view
        self.summary.setText(view.summary())
        self.hosts_model.set_hosts(view.hosts)
        rows = [i for i, h in enumerate(view.hosts) if selected and h.host == selected.host]
        if rows:
            self.hosts_view.selectRow(rows[0])
        else:
            self._show_addresses(-1)

    def _show_addresses(self, row: int) -> None:
        host = self.hosts_model.host(row)
        labels = self.view.labels if self.view is not None else {}
        if host is None:
            self.addresses_caption.setText(NO_ADDRESSES)
            self.addresses_model.set_addresses((), labels)
            return
        count = len(host.addresses)
        self.addresses_caption.setText(
            f"{host.host} has seen {count} of your addresses." if count else NONE_SEEN
        )
        self.addresses_view.set_placeholder(NONE_SEEN)
        self.addresses_model.set_addresses(host.addresses, labels)


def privacy_reader(context: Any) -> Callable[[], PrivacyView]:
    """What the page reads, from the app context (runs in a worker thread)."""
    from app.config import NetSettings

    def read() -> PrivacyView:
        context.flush_privacy()
        net = NetSettings(context.settings)
        return PrivacyView(
            tuple(context.privacy.report()),
            context.privacy_names(),
            net.proxy,
            net.own_nodes_only,
        )

    return read
