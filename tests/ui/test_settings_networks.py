"""Settings → Networks and Price sources: registry round trips and connectivity checks.

The connectivity checks run against a real anvil node (the EVM tests' starter) and a port where
nothing listens; they run as tasks on the qasync loop, which the tests drive with waitUntil.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.chains.registry import ChainRegistry, load_builtin
from app.config import Settings
from app.ui.dialogs.networks_tab import MASK, NetworksTab
from app.ui.dialogs.settings_dialog import SettingsDialog
from tests.integration.evm.anvil import Anvil, running
from tests.support.net import free_port
from tests.ui.test_settings_dialog import OK, MemorySecrets

SOLANA_GENESIS = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"  # mainnet-beta
ALCHEMY_KEY = "AlchemyKeyUiTest0123456789abcd"
CHAIN_ID = 31_777


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    yield from running(CHAIN_ID, multicall=False)


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path / "settings.toml")


def registry_at(settings: Settings, secrets: MemorySecrets) -> ChainRegistry:
    return ChainRegistry(settings.path.with_name("networks.toml"), secrets)


def make(qtbot: QtBot, settings: Settings, secrets: MemorySecrets) -> SettingsDialog:
    dialog = SettingsDialog(
        settings,
        secrets,
        OK,
        autostart_supported=lambda: False,
        registry=registry_at(settings, secrets),
    )
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def tab(dialog: SettingsDialog) -> NetworksTab:
    assert dialog.networks_tab is not None
    return dialog.networks_tab


def fill_custom(t: NetworksTab, chain_id: int, url: str, **more: str) -> None:
    values = {"name": "Local anvil", "chain_id": str(chain_id), "urls": url, "symbol": "LETH"}
    values.update(more)
    for key, text in values.items():
        t.fields[key].setText(text)


def test_every_chain_listed_and_enabled_flag_persisted(
    qtbot: QtBot, settings: Settings, secrets: MemorySecrets
) -> None:
    dialog = make(qtbot, settings, secrets)
    t = tab(dialog)
    assert t.chain_list.count() == len(load_builtin())
    assert dialog.tabs.tabText(1) == "Networks"
    t.chain_item("eip155:1").setCheckState(Qt.CheckState.Unchecked)
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.save()
    assert changed.args[0] == ["networks.eip155:1.enabled"]
    assert not registry_at(settings, secrets).get("eip155:1").enabled

    again = tab(make(qtbot, settings, secrets))
    item = again.chain_item("eip155:1")
    assert item.checkState() == Qt.CheckState.Unchecked
    item.setCheckState(Qt.CheckState.Checked)
    assert again.apply() == ["networks.eip155:1.enabled"]
    assert registry_at(settings, secrets).get("eip155:1").enabled


def test_rpc_urls_order_add_remove_and_keyed_url_masked(
    qtbot: QtBot, settings: Settings, secrets: MemorySecrets
) -> None:
    dialog = make(qtbot, settings, secrets)
    t = tab(dialog)
    t.chain_list.setCurrentItem(t.chain_item("eip155:1"))
    defaults = t.current_urls()
    t.new_url.setText("ftp://nope")
    t.add_url_button.click()
    assert "http://" in t.url_error.text() and not t.url_error.isHidden()
    keyed = f"https://eth-mainnet.g.alchemy.com/v2/{ALCHEMY_KEY}"
    t.new_url.setText(keyed)
    t.add_url_button.click()
    assert t.url_error.isHidden()
    last = t.url_list.count() - 1
    assert MASK in t.url_list.item(last).text() and ALCHEMY_KEY not in t.url_list.item(last).text()
    for _ in range(last):
        t.up_button.click()
    t.url_list.setCurrentRow(t.url_list.count() - 1)
    t.remove_url_button.click()
    t.url_list.setCurrentRow(0)
    t.down_button.click()
    expected = [defaults[0], keyed, *defaults[1:-1]]
    assert t.current_urls() == expected
    dialog.save()

    assert list(registry_at(settings, secrets).get("eip155:1").rpc_urls) == expected
    stored = settings.path.with_name("networks.toml").read_text()
    assert ALCHEMY_KEY not in stored and "{secret}" in stored
    assert secrets.values == {"rpc.eip155:1.1": ALCHEMY_KEY}

    again = tab(make(qtbot, settings, secrets))
    again.chain_list.setCurrentItem(again.chain_item("eip155:1"))
    shown = [again.url_list.item(i).text() for i in range(again.url_list.count())]
    assert not any(ALCHEMY_KEY in s for s in shown) and MASK in shown[1]


def test_custom_fields_validated_field_level(
    qtbot: QtBot, settings: Settings, secrets: MemorySecrets
) -> None:
    t = tab(make(qtbot, settings, secrets))
    fill_custom(t, 0, "not-a-url", symbol="", decimals="99", multicall3="0x1234")
    t.add_network_button.click()
    for key in ("chain_id", "urls", "symbol", "decimals", "multicall3"):
        assert not t.field_errors[key].isHidden(), key
    assert t.field_errors["name"].isHidden()
    fill_custom(t, 1, "http://127.0.0.1:1")
    t.add_network_button.click()
    assert "already exists" in t.field_errors["chain_id"].text()
    assert not t.busy


@pytest.mark.integration
def test_connectivity_check_adds_network_read_from_anvil(
    qtbot: QtBot,
    settings: Settings,
    secrets: MemorySecrets,
    anvil: Anvil,
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    dialog = make(qtbot, settings, secrets)
    t = tab(dialog)
    fill_custom(t, CHAIN_ID, anvil.url, decimals="18")
    t.add_network_button.click()
    assert not t.add_network_button.isEnabled()  # the check runs off the GUI thread
    qtbot.waitUntil(lambda: "Added" in t.custom_feedback.text(), timeout=10_000)
    spec = registry_at(settings, secrets).get(f"eip155:{CHAIN_ID}")
    assert spec.custom and spec.rpc_urls == (anvil.url,) and spec.native_symbol == "LETH"
    assert t.chain_item(f"eip155:{CHAIN_ID}").checkState() == Qt.CheckState.Checked

    t.chain_list.setCurrentItem(t.chain_item(f"eip155:{CHAIN_ID}"))
    t.url_list.setCurrentRow(0)
    t.test_button.click()
    qtbot.waitUntil(lambda: " ms." in t.test_result.text(), timeout=10_000)
    assert f"chain id {CHAIN_ID}" in t.test_result.text()
    assert "not eip155" not in t.test_result.text()


@pytest.mark.integration
def test_wrong_chain_id_refused(
    qtbot: QtBot,
    settings: Settings,
    secrets: MemorySecrets,
    anvil: Anvil,
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    t = tab(make(qtbot, settings, secrets))
    fill_custom(t, CHAIN_ID + 1, anvil.url)
    t.add_network_button.click()
    error = t.field_errors["chain_id"]
    qtbot.waitUntil(lambda: not error.isHidden(), timeout=10_000)
    assert f"answers chain id {CHAIN_ID}, not {CHAIN_ID + 1}" in error.text()
    assert t.add_network_button.isEnabled()
    assert f"eip155:{CHAIN_ID + 1}" not in {
        str(s.chain_id) for s in registry_at(settings, secrets).all()
    }

    # The Test button says so too when a chain's URL belongs to another network.
    t.chain_list.setCurrentItem(t.chain_item("eip155:1"))
    t.new_url.setText(anvil.url)
    t.add_url_button.click()
    t.test_button.click()
    qtbot.waitUntil(lambda: " ms." in t.test_result.text(), timeout=10_000)
    assert "This is not eip155:1" in t.test_result.text()


def test_dead_url_reports_the_error(
    qtbot: QtBot,
    settings: Settings,
    secrets: MemorySecrets,
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    t = tab(make(qtbot, settings, secrets))
    fill_custom(t, CHAIN_ID + 2, dead)
    t.add_network_button.click()
    error = t.field_errors["urls"]
    qtbot.waitUntil(lambda: not error.isHidden(), timeout=10_000)
    assert "could not be reached" in error.text()
    assert "Added" not in t.custom_feedback.text()

    t.chain_list.setCurrentItem(t.chain_item("eip155:8453"))
    t.new_url.setText(dead)
    t.add_url_button.click()
    t.test_button.click()
    qtbot.waitUntil(lambda: "could not be reached" in t.test_result.text(), timeout=10_000)
    assert not t.busy


def test_price_order_saved_and_validated(
    qtbot: QtBot, settings: Settings, secrets: MemorySecrets
) -> None:
    assert settings.get("prices.order") == ["defillama", "coingecko"]
    dialog = make(qtbot, settings, secrets)
    p = dialog.prices_tab
    p.source_list.setCurrentRow(1)
    p.up_button.click()
    assert p.order() == ["coingecko", "defillama"]
    for row in range(p.source_list.count()):
        p.source_list.item(row).setCheckState(Qt.CheckState.Unchecked)
    assert not p.error.isHidden() and "at least one price source" in p.error.text()
    assert "prices.order" not in p.error.text()  # the key is for the command line only
    dialog.save()
    assert dialog.result() == 0 and not settings.path.exists()
    assert dialog.tabs.currentWidget() is p

    p.source_list.item(0).setCheckState(Qt.CheckState.Checked)
    p.source_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert p.error.isHidden()
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.save()
    assert changed.args[0] == ["prices.order"]
    assert Settings.load(settings.path).get("prices.order") == ["coingecko", "defillama"]

    only = make(qtbot, Settings.load(settings.path), secrets).prices_tab
    only.source_list.item(1).setCheckState(Qt.CheckState.Unchecked)
    assert only.order() == ["coingecko"] and only.validate()


class _GenesisHandler(BaseHTTPRequestHandler):
    """A JSON-RPC endpoint answering getGenesisHash like a Solana mainnet node."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        result = SOLANA_GENESIS if request["method"] == "getGenesisHash" else None
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def solana_node() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _GenesisHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_solana_url_tested_by_genesis_hash(
    qtbot: QtBot,
    settings: Settings,
    secrets: MemorySecrets,
    solana_node: str,
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    t = tab(make(qtbot, settings, secrets))
    solana = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    t.chain_list.setCurrentItem(t.chain_item(solana))
    t.url_list.setCurrentRow(0)
    t.remove_url_button.click()  # the only URL: refused
    assert "at least one RPC URL" in t.url_error.text() and t.url_list.count() == 1
    t.new_url.setText(solana_node)
    t.add_url_button.click()
    t.test_button.click()
    qtbot.waitUntil(lambda: " ms." in t.test_result.text(), timeout=10_000)
    assert "genesis 5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" in t.test_result.text()
    assert "This is not" not in t.test_result.text()


def test_an_existing_networks_own_coin_gets_a_price_id_checked_as_typed(
    qtbot: QtBot, settings: Settings, secrets: MemorySecrets
) -> None:
    """Bad input first: a seed phrase and an empty id are refused; nothing is written until
    every edited id is valid; a valid id is saved for that network only, and clearing it goes
    back to the network's default."""
    dialog = make(qtbot, settings, secrets)
    t = tab(dialog)
    t.chain_list.setCurrentItem(t.chain_item("eip155:8453"))
    default = t.price_id_edit.text()
    t.price_id_edit.setText("coingecko:")
    assert not t.price_id_error.isHidden() and "CoinGecko coin id" in t.price_id_error.text()
    t.chain_item("eip155:1").setCheckState(Qt.CheckState.Unchecked)
    dialog.save()  # refused as a whole: the unticked network stays enabled
    assert dialog.save_problem.text() and registry_at(settings, secrets).get("eip155:1").enabled
    t.price_id_edit.setText("https://www.coingecko.com/en/coins/weth")
    assert t.price_id_error.isHidden()
    t.chain_list.setCurrentItem(t.chain_item("eip155:1"))  # the edit is kept per network
    t.chain_list.setCurrentItem(t.chain_item("eip155:8453"))
    assert t.price_id_edit.text() == "https://www.coingecko.com/en/coins/weth"
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.save()
    assert "networks.eip155:8453.price_id" in changed.args[0]
    saved = registry_at(settings, secrets)
    assert saved.get("eip155:8453").price_ids["coingecko_native"] == "weth"
    assert saved.get("eip155:10").price_ids == load_builtin_ids("eip155:10")

    again = tab(make(qtbot, settings, secrets))
    again.chain_list.setCurrentItem(again.chain_item("eip155:8453"))
    assert again.price_id_edit.text() == "coingecko:weth"
    again.price_id_edit.setText("")
    assert again.apply() == ["networks.eip155:8453.price_id"]
    assert again.price_id_edit.text() == "" and default.startswith("coingecko:")
    assert registry_at(settings, secrets).get("eip155:8453").price_ids == load_builtin_ids(
        "eip155:8453"
    )


def load_builtin_ids(chain: str) -> dict[str, str]:
    return next(dict(s.price_ids) for s in load_builtin() if str(s.chain_id) == chain)
