"""The Privacy page and the Settings → Privacy tab, under pytest-qt with the real app context
and its privacy ledger (records written by the same recorder the HTTP layer feeds)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.domain.privacy import Contact
from app.ui.privacy_page import HostColumn, HostsModel, PrivacyPage, privacy_reader
from app.ui.tasks import TaskRunner

A = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
B = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"


@pytest.fixture
def loop(qasync_loop: object) -> object:
    return qasync_loop


def fill(context: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:  # the qasync loop of the test is this thread's
        pool.submit(asyncio.run, context.wallets.add(A, label="Savings")).result()
        pool.submit(asyncio.run, context.wallets.add(B)).result()
    recorder = context.egress.recorder
    body = f'{{"params": ["{A.lower()}", "{B}"]}}'.encode()
    recorder.sent("node.home.lan:8545", "rpc", "http://node.home.lan:8545/", body)
    recorder.sent("node.home.lan:8545", "rpc", "http://node.home.lan:8545/", body)
    recorder.sent("coins.llama.fi", "prices", "https://coins.llama.fi/prices/current/x", b"")
    recorder.refused("api.coingecko.com", "prices")


def test_page_lists_hosts_addresses_and_refusals(
    qtbot: QtBot, loop: object, context: Any, qtmodeltester: Any
) -> None:
    fill(context)
    page = PrivacyPage(privacy_reader(context), TaskRunner())
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()  # shown: reads in a worker thread
    qtbot.waitUntil(lambda: page.view is not None, timeout=10000)
    qtmodeltester.check(page.hosts_model)
    m = page.hosts_model
    rows = {m.index(r, HostColumn.HOST).data(): r for r in range(m.rowCount())}
    assert set(rows) == {"node.home.lan:8545", "coins.llama.fi", "api.coingecko.com"}
    node = rows["node.home.lan:8545"]
    assert m.index(node, HostColumn.REQUESTS).data() == "2"
    assert m.index(node, HostColumn.ADDRESSES).data() == "2"
    refused = rows["api.coingecko.com"]
    assert m.index(refused, HostColumn.REFUSED).data() == "1"
    assert m.index(refused, HostColumn.FIRST).data() == "never (refused)"
    assert m.index(rows["coins.llama.fi"], HostColumn.ADDRESSES).data() == "0"
    assert "3 hosts, 3 requests sent, 1 refused" in page.summary.text()
    assert "directly (no proxy)" in page.summary.text()

    page.hosts_view.selectRow(node)
    qtmodeltester.check(page.addresses_model)
    am = page.addresses_model
    listed = {am.index(r, 0).data(): am.index(r, 1).data() for r in range(am.rowCount())}
    assert listed == {A: "Savings", B: context.wallets.list()[1].display_name}
    assert page.addresses_caption.text() == "node.home.lan:8545 has seen 2 of your addresses."
    page.hosts_view.selectRow(rows["coins.llama.fi"])
    assert am.rowCount() == 0 and "has not seen any" in page.addresses_caption.text()

    # New records appear on the next read; the selection stays on its host.
    page.hosts_view.selectRow(node)
    context.egress.recorder.sent("node.home.lan:8545", "rpc", "http://node.home.lan:8545/", b"")
    before = page.view
    page.reload()
    qtbot.waitUntil(lambda: page.view is not before, timeout=10000)
    assert m.index(page.hosts_view.currentIndex().row(), HostColumn.HOST).data() == (
        "node.home.lan:8545"
    )
    assert m.index(page.hosts_view.currentIndex().row(), HostColumn.REQUESTS).data() == "3"


def test_empty_page_explains_itself(qtbot: QtBot, loop: object, context: Any) -> None:
    page = PrivacyPage(privacy_reader(context), TaskRunner())
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.view is not None, timeout=10000)
    assert page.hosts_view.is_empty()
    assert "No host has been contacted yet" in page.hosts_view.shown_placeholder()


def test_a_failing_read_is_a_sentence(qtbot: QtBot, loop: object) -> None:
    def broken() -> Any:
        raise OSError("database is locked")

    page = PrivacyPage(broken, TaskRunner())
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(page.problem.isVisible, timeout=10000)
    assert "OSError" not in page.problem.text() and page.problem.text()


def test_hosts_model_text_is_plain() -> None:
    from app.domain.privacy import HostReport

    model = HostsModel()
    model.set_hosts([HostReport("<b>x</b>", ("rpc",), 1, 0, 1, 1, None, ())])
    assert model.index(0, 0).data() == "<b>x</b>"  # shown as text by a plain table view
    assert model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is None
    assert Contact("h", "rpc", 1).refused is False


def test_settings_tab_validates_saves_and_reports_changes(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import Settings
    from app.net.policy import TOR_PRESET
    from app.secrets import SecretStatus
    from app.ui.dialogs.settings_dialog import SettingsDialog
    from tests.support.fakes import MemorySecrets

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # autostart stays in tmp
    settings = Settings.load(tmp_path / "settings.toml")
    dialog = SettingsDialog(
        settings, MemorySecrets(), SecretStatus(True, "test"), autostart_supported=lambda: False
    )  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.open()
    tab = dialog.privacy_tab
    assert tab.direct.isChecked() and not tab.isolate.isEnabled()
    tab.custom.setChecked(True)
    tab.proxy_url.setText("ftp://127.0.0.1:1")
    with qtbot.assertNotEmitted(dialog.settings_changed):
        dialog.buttons.accepted.emit()
    assert tab.proxy_error.isVisibleTo(dialog) and "socks5h://" in tab.proxy_error.text()
    assert dialog.tabs.currentWidget() is tab and settings.get("net.proxy") == ""

    tab.tor.setChecked(True)
    assert tab.isolate.isEnabled()
    tab.own_only.setChecked(True)
    emitted: list[str] = []
    dialog.settings_changed.connect(emitted.extend)
    dialog.buttons.accepted.emit()
    assert set(emitted) == {"net.proxy", "net.own_nodes_only"}
    assert Settings.load(tmp_path / "settings.toml").get("net.proxy") == TOR_PRESET
    assert settings.get("net.own_nodes_only") is True
