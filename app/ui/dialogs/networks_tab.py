"""Settings → Networks: enable chains, order and test RPC URLs, add a custom EVM network.

Everything is read from and written through the :class:`ChainRegistry` (the same calls the
``chainfolio networks`` commands make), so keyed provider URLs keep their secret part in the
keyring. Keyed URLs are shown masked; the full URL lives only in the item's data. Enabled flags
and URL lists are written on the dialog's Save (:meth:`NetworksTab.apply`); "Check and add" adds a
custom network at once, after its URL answered with the chain id typed in. Network checks run
as tasks on the qasync loop, never on the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.chains.probe import ProbeResult, probe_chain_id, probe_reference
from app.domain.addresses import parse_evm_address
from app.domain.errors import ChainfolioError, SecretInputError, report
from app.domain.price_routing import parse_price_id
from app.domain.secret_text import redact_url, refuse_secret
from app.domain.text import MAX_NETWORK_NAME, MAX_SYMBOL, check_url, clean_text, person_text
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.chains.registry import ChainRegistry
    from app.domain.chains import ChainSpec

log = logging.getLogger(__name__)
MASK = "••••••••"
URL_ROLE = Qt.ItemDataRole.UserRole
FIELDS = ("name", "chain_id", "urls", "symbol", "decimals", "multicall3", "price_id")
_FIELD_NAMES = {
    "name": "network name", "chain_id": "chain id", "urls": "RPC URL", "symbol": "symbol",
    "decimals": "decimals", "multicall3": "Multicall3 address", "price_id": "price id",
}  # fmt: skip


def masked(url: str) -> str:
    """What the person sees of a URL: every provider key and password replaced by dots."""
    return redact_url(url, MASK)


def _wipe(edit: QLineEdit) -> None:
    """A refused secret leaves the field at once (and its undo history with it)."""
    edit.blockSignals(True)
    edit.clear()
    edit.blockSignals(False)


def _label(text: str = "", error: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if error:
        paint_text(label, Role.ERROR)
    return label


def _describe(exc: BaseException) -> str:
    return report(exc, "The check", log)


class NetworksTab(QWidget):
    """One page of the settings dialog; :meth:`apply` writes the changes to the registry."""

    def __init__(self, registry: ChainRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._registry = registry
        self._runner = TaskRunner()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._specs: dict[str, ChainSpec] = {}
        self._urls: dict[str, list[str]] = {}  # edited URL lists, by chain id
        self._price_ids: dict[str, str] = {}  # edited native-coin price ids, by chain id
        self._current: str | None = None

        layout = QVBoxLayout(self)
        lists = QHBoxLayout()
        self.chain_list = QListWidget()
        self.chain_list.currentItemChanged.connect(self._chain_selected)
        lists.addWidget(self.chain_list, 1)
        lists.addLayout(self._url_column(), 2)
        layout.addLayout(lists)
        layout.addWidget(self._custom_group())
        self.reload()

    # ------------------------------------------------------------------ chains

    def reload(self) -> None:
        """Fill the chain list from the registry (built-in chains, then custom ones)."""
        self.chain_list.blockSignals(True)
        self.chain_list.clear()
        self._specs = {str(s.chain_id): s for s in self._registry.all()}
        for cid, spec in self._specs.items():
            suffix = " (custom)" if spec.custom else ""
            item = QListWidgetItem(f"{clean_text(spec.name, 60)}{suffix}")
            item.setData(URL_ROLE, cid)
            item.setToolTip(cid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if spec.enabled else Qt.CheckState.Unchecked)
            self.chain_list.addItem(item)
        self.chain_list.blockSignals(False)
        self._urls = {}
        self._price_ids = {}
        self._current = None
        self.chain_list.setCurrentRow(0)

    def chain_item(self, chain: str) -> QListWidgetItem:
        for row in range(self.chain_list.count()):
            item = self.chain_list.item(row)
            if item.data(URL_ROLE) == chain:
                return item
        raise KeyError(chain)

    def _chain_selected(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        self._store_current_urls()
        self._store_current_price_id()
        self._current = str(item.data(URL_ROLE)) if item is not None else None
        self.url_list.clear()
        self.test_result.clear()
        self.price_id_edit.blockSignals(True)
        self.price_id_edit.setText(self._price_id_of(self._current) if self._current else "")
        self.price_id_edit.blockSignals(False)
        self.price_id_error.hide()
        if self._current is None:
            return
        for url in self._urls.get(self._current, list(self._specs[self._current].rpc_urls)):
            self._append_url(url)

    # ------------------------------------------------------------------ native coin price id

    def _price_id_of(self, cid: str) -> str:
        """The price id shown for a network: as edited, else as configured (CoinGecko form)."""
        if cid in self._price_ids:
            return self._price_ids[cid]
        coin = self._specs[cid].price_ids.get("coingecko_native")
        return f"coingecko:{coin}" if coin else ""

    def _store_current_price_id(self) -> None:
        if self._current is not None:
            self._price_ids[self._current] = self.price_id_edit.text().strip()

    def _check_price_id(self, text: str) -> None:
        """Checked as typed; an empty field means the network's default (or none)."""
        try:
            if text.strip():
                parse_price_id(text)
        except ChainfolioError as exc:
            self.price_id_error.setText(str(exc))
            self.price_id_error.show()
        else:
            self.price_id_error.hide()

    # ------------------------------------------------------------------ RPC URLs

    def _url_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(_label("RPC URLs, tried in this order:"))
        self.url_list = QListWidget()
        column.addWidget(self.url_list)
        buttons = QHBoxLayout()
        self.up_button = QPushButton("Move &up")
        self.down_button = QPushButton("Move do&wn")
        self.remove_url_button = QPushButton("Re&move")
        self.test_button = QPushButton("&Test")
        self.up_button.clicked.connect(lambda: self._move_url(-1))
        self.down_button.clicked.connect(lambda: self._move_url(1))
        self.remove_url_button.clicked.connect(self._remove_url)
        self.test_button.clicked.connect(self.test_selected_url)
        for b in (self.up_button, self.down_button, self.remove_url_button, self.test_button):
            buttons.addWidget(b)
        column.addLayout(buttons)
        add_row = QHBoxLayout()
        self.new_url = QLineEdit()
        self.new_url.setPlaceholderText("https://… (a provider key in the URL goes to the keyring)")
        self.add_url_button = QPushButton("&Add URL")
        self.add_url_button.clicked.connect(self._add_url)
        add_row.addWidget(self.new_url, 1)
        add_row.addWidget(self.add_url_button)
        column.addLayout(add_row)
        self.url_error = _label(error=True)
        self.url_error.hide()
        self.new_url.textChanged.connect(lambda _text: self.url_error.hide())  # being fixed
        column.addWidget(self.url_error)
        self.test_result = _label()
        column.addWidget(self.test_result)
        price_row = QHBoxLayout()
        self.price_id_edit = QLineEdit()
        self.price_id_edit.setPlaceholderText("coingecko:ethereum (empty: the network's default)")
        self.price_id_edit.setToolTip(
            "The CoinGecko coin that prices this network's own coin: the last part of the coin's "
            "CoinGecko address (coingecko.com/en/coins/ethereum → ethereum)."
        )
        self.price_id_edit.setAccessibleName("Price id of the network's own coin")
        self.price_id_edit.textChanged.connect(self._check_price_id)
        price_label = _label("Own &coin's price id:")
        price_label.setBuddy(self.price_id_edit)
        price_row.addWidget(price_label)
        price_row.addWidget(self.price_id_edit, 1)
        column.addLayout(price_row)
        self.price_id_error = _label(error=True)
        self.price_id_error.hide()
        column.addWidget(self.price_id_error)
        return column

    def _append_url(self, url: str) -> None:
        item = QListWidgetItem(masked(url))
        item.setData(URL_ROLE, url)
        self.url_list.addItem(item)

    def current_urls(self) -> list[str]:
        return [str(self.url_list.item(i).data(URL_ROLE)) for i in range(self.url_list.count())]

    def _store_current_urls(self) -> None:
        if self._current is not None:
            self._urls[self._current] = self.current_urls()

    def _move_url(self, step: int) -> None:
        row = self.url_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.url_list.count():
            return
        item = self.url_list.takeItem(row)
        self.url_list.insertItem(target, item)
        self.url_list.setCurrentRow(target)
        self._store_current_urls()

    def _remove_url(self) -> None:
        row = self.url_list.currentRow()
        if row < 0:
            return
        if self.url_list.count() == 1:
            self.url_error.setText("A network needs at least one RPC URL: add another first.")
            self.url_error.show()
            return
        self.url_error.hide()
        self.url_list.takeItem(row)
        self._store_current_urls()

    def _add_url(self) -> None:
        url = self.new_url.text()
        try:
            check_url(url, "RPC URL")
        except SecretInputError as exc:
            _wipe(self.new_url)
            self.url_error.setText(str(exc))
            self.url_error.show()
            return
        except ChainfolioError as exc:
            self.url_error.setText(f"{exc} An RPC URL is http:// or https:// and a host name.")
            self.url_error.show()
            return
        self.url_error.hide()
        self.new_url.clear()
        self._append_url(url)
        self.url_list.setCurrentRow(self.url_list.count() - 1)
        self._store_current_urls()

    def test_selected_url(self) -> None:
        """Report the chain id and latency of the selected URL, or why it failed."""
        if self.url_list.currentRow() < 0:
            self.test_result.setText("Select a URL to test.")
            return
        item = self.url_list.currentItem()
        url, shown = str(item.data(URL_ROLE)), item.text()
        if self._current is None:
            return
        expected = self._specs[self._current].chain_id
        paint_text(self.test_result, None)
        self.test_result.setText(f"Testing {shown} …")

        def done(found: tuple[str, float]) -> None:
            reference, latency = found
            label = "chain id" if expected.is_evm else "genesis"
            text = f"{shown}: {label} {reference}, {latency:.0f} ms."
            wrong = expected.reference != reference
            if wrong:
                text += f" This is not {expected}: the URL belongs to another network."
            paint_text(self.test_result, Role.ERROR if wrong else None)
            self.test_result.setText(text)

        def failed(exc: BaseException) -> None:
            paint_text(self.test_result, Role.ERROR)
            self.test_result.setText(f"{shown}: {_describe(exc)}")

        check = probe_reference(url, expected.is_evm, bitcoin=expected.namespace == "bip122")
        self._start(check, done, failed, key="test")

    def _start(self, coro: Any, done: Any, failed: Any, key: str) -> None:
        task = self._runner.run(coro, done, failed, key=key)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def shutdown(self, _result: int = 0) -> None:
        """Cancel running checks (the dialog is closing; their callbacks must not run)."""
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ custom network

    def _custom_group(self) -> QGroupBox:
        box = QGroupBox("Add a custom EVM network")
        form = QFormLayout(box)
        self.fields: dict[str, QLineEdit] = {}
        self.field_errors: dict[str, QLabel] = {}
        labels = {
            "name": "Na&me", "chain_id": "Chain &id", "urls": "RPC U&RL(s)",
            "symbol": "Native &symbol", "decimals": "Native &decimals",
            "multicall3": "Multicall3 address (optional)",
            "price_id": "&Price id (optional)",
        }  # fmt: skip
        for key in FIELDS:
            edit = QLineEdit()
            self.fields[key] = edit
            error = _label(error=True)
            error.setObjectName(f"error:{key}")
            error.hide()
            self.field_errors[key] = error
            form.addRow(labels[key], edit)
            # A shown problem is checked again as the field is edited: it goes once fixed.
            edit.textChanged.connect(lambda _text, k=key: self._recheck(k))
            form.addRow("", error)
        self.fields["decimals"].setText("18")
        self.fields["urls"].setPlaceholderText("one or more, separated by spaces or commas")
        self.fields["price_id"].setPlaceholderText(
            "CoinGecko coin id of the native coin, e.g. ethereum"
        )
        self.fields["price_id"].setToolTip(
            "Without one, the native coin has no price and its balances are left out of "
            "totals. The id is the last part of the coin's CoinGecko address."
        )
        self.add_network_button = QPushButton("Check and &add network")
        self.add_network_button.clicked.connect(self.check_and_add)
        self.custom_feedback = _label()
        form.addRow("", self.add_network_button)
        form.addRow("", self.custom_feedback)
        return box

    def _field_error(self, key: str, text: str | None) -> None:
        label = self.field_errors[key]
        label.setText(text or "")
        label.setVisible(bool(text))

    def _recheck(self, key: str) -> None:
        if self.field_errors[key].isHidden():
            return
        self._custom_values(only_shown=True)
        if all(label.isHidden() for label in self.field_errors.values()):
            self.custom_feedback.clear()

    def _custom_values(self, only_shown: bool = False) -> dict[str, Any] | None:
        """Validate the custom-network fields; show each problem under its field."""
        problems: dict[str, str] = {}
        for key, edit in self.fields.items():  # no wallet secret stays in any field
            if only_shown:
                break  # a re-check while typing: secrets are refused when the form is sent
            try:
                if key == "urls":  # a phrase spans the separators; a key may sit in a URL
                    refuse_secret(edit.text(), "RPC URL", allow_hex_key=True)
                    for url in filter(None, re.split(r"[\s,]+", edit.text())):
                        check_url(url, "RPC URL")
                else:
                    refuse_secret(edit.text(), _FIELD_NAMES[key])
            except SecretInputError as exc:
                _wipe(edit)
                problems[key] = str(exc)
            except ChainfolioError:
                pass  # the field's own rule below says what is wrong
        text = {k: e.text().strip() for k, e in self.fields.items()}
        values: dict[str, Any] = {"name": text["name"], "symbol": text["symbol"]}
        try:
            name = person_text(text["name"], "network name", MAX_NETWORK_NAME, required=True)
        except ChainfolioError as exc:
            problems.setdefault("name", str(exc))
        else:
            if clean_text(name, MAX_NETWORK_NAME) != text["name"]:
                problems.setdefault("name", "Give the network a plain name (up to 60 characters).")
        if not re.fullmatch(r"[1-9][0-9]{0,18}", text["chain_id"]):
            problems.setdefault("chain_id", "A chain id is a positive whole number, e.g. 1337.")
        else:
            values["chain_id"] = int(text["chain_id"])
        urls = [u for u in re.split(r"[\s,]+", text["urls"]) if u]
        try:
            for url in urls:
                check_url(url, "RPC URL")
        except ChainfolioError as exc:
            problems.setdefault("urls", str(exc))
        if not urls:
            problems.setdefault("urls", "Enter at least one http:// or https:// URL.")
        values["urls"] = urls
        if not re.fullmatch(rf"[A-Za-z0-9.\-]{{1,{MAX_SYMBOL}}}", text["symbol"]):
            problems.setdefault("symbol", "A symbol is 1 to 12 letters or digits, e.g. ETH.")
        if not re.fullmatch(r"[0-9]{1,2}", text["decimals"]) or int(text["decimals"]) > 36:
            problems.setdefault(
                "decimals", "Decimals is a whole number from 0 to 36 (18 for most chains)."
            )
        else:
            values["decimals"] = int(text["decimals"])
        values["multicall3"] = ""
        if text["multicall3"] and "multicall3" not in problems:
            try:
                values["multicall3"] = parse_evm_address(text["multicall3"])
            except ChainfolioError as exc:
                problems["multicall3"] = str(exc)
        values["price_id"] = ""
        if text["price_id"] and "price_id" not in problems:
            try:
                values["price_id"] = parse_price_id(text["price_id"])
            except ChainfolioError as exc:
                problems["price_id"] = str(exc)
        if "chain_id" in values and f"eip155:{values['chain_id']}" in self._specs:
            problems["chain_id"] = f"A network with chain id {values['chain_id']} already exists."
        for key in FIELDS:
            if not only_shown or not self.field_errors[key].isHidden():
                self._field_error(key, problems.get(key))
        return None if problems else values

    def check_and_add(self) -> None:
        """Read eth_chainId from every URL; add the network only if all answer the typed id."""
        values = self._custom_values()
        paint_text(self.custom_feedback, None)
        if values is None:
            self.custom_feedback.setText("Fix the fields marked in red first.")
            return
        self.custom_feedback.setText("Checking the RPC URL(s)…")
        self.add_network_button.setEnabled(False)

        async def check() -> list[ProbeResult]:
            return list(await asyncio.gather(*(probe_chain_id(u) for u in values["urls"])))

        def done(results: list[ProbeResult]) -> None:
            self.add_network_button.setEnabled(True)
            for url, result in zip(values["urls"], results, strict=True):
                if result.chain_id != values["chain_id"]:
                    self._field_error(
                        "chain_id",
                        f"{masked(url)} answers chain id {result.chain_id}, not "
                        f"{values['chain_id']}: the network was not added.",
                    )
                    self.custom_feedback.setText("")
                    return
            self._add_network(values)

        def failed(exc: BaseException) -> None:
            self.add_network_button.setEnabled(True)
            self._field_error("urls", _describe(exc))
            self.custom_feedback.setText("")

        self._start(check(), done, failed, key="add")

    def _add_network(self, values: dict[str, Any]) -> None:
        try:
            spec = self._registry.add(
                values["chain_id"], values["name"], values["symbol"], values["urls"],
                native_decimals=values["decimals"], multicall3=values["multicall3"],
                price_id=values["price_id"],
            )  # fmt: skip
        except ChainfolioError as exc:
            paint_text(self.custom_feedback, Role.ERROR)
            self.custom_feedback.setText(str(exc))
            return
        self._store_current_urls()
        pending = dict(self._urls)
        checks = self.enabled_flags()
        self.reload()
        for cid, flag in checks.items():
            if cid in self._specs:
                state = Qt.CheckState.Checked if flag else Qt.CheckState.Unchecked
                self.chain_item(cid).setCheckState(state)
        self._urls = pending
        for edit in self.fields.values():
            edit.clear()
        self.fields["decimals"].setText("18")
        self.custom_feedback.setText(f"Added {spec.name} ({spec.chain_id}).")

    # ------------------------------------------------------------------ saving

    def enabled_flags(self) -> dict[str, bool]:
        flags = {}
        for row in range(self.chain_list.count()):
            item = self.chain_list.item(row)
            flags[str(item.data(URL_ROLE))] = item.checkState() == Qt.CheckState.Checked
        return flags

    def apply(self) -> list[str]:
        """Write changed enabled flags, URL lists and native-coin price ids to the registry;
        return what changed. Every price id is checked before anything is written."""
        self._store_current_urls()
        self._store_current_price_id()
        prices: dict[str, str | None] = {}
        for cid, text in self._price_ids.items():
            coin = parse_price_id(text) if text else None  # raises before any write
            current = self._specs[cid].price_ids.get("coingecko_native")
            if (coin or None) != (f"coingecko:{current}" if current else None):
                prices[cid] = coin
        changed: list[str] = []
        for cid, flag in self.enabled_flags().items():
            if self._specs[cid].enabled != flag:
                self._registry.set_enabled(cid, flag)
                changed.append(f"networks.{cid}.enabled")
        for cid, urls in self._urls.items():
            if tuple(urls) != self._specs[cid].rpc_urls:
                self._registry.set_rpc(cid, urls)
                changed.append(f"networks.{cid}.rpc_urls")
        for cid, coin in prices.items():
            self._registry.set_price_id(cid, coin)
            changed.append(f"networks.{cid}.price_id")
        return changed
