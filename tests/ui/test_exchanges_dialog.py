"""File → Exchange accounts…: a read-only key is checked with the exchange (real ccxt against
the local fake) and added; a key that may withdraw is refused with the reason and nothing is kept;
removing forgets the key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.exchanges.ccxt_client import ExchangeClient
from app.services.exchanges import ExchangeService
from app.ui.dialogs.exchanges_dialog import ExchangesDialog
from app.ui.tasks import TaskRunner
from tests.integration.exchanges.test_exchanges import MemoryAccounts, MemorySecrets
from tests.support.fake_exchange import ExchangeWorld, running


@pytest.fixture
def world() -> Iterator[tuple[ExchangeWorld, str]]:
    w = ExchangeWorld(spot={"BTC": ("0.5", "0"), "ETH": ("2", "0")})
    with running(w) as url:
        yield w, url


def _dialog(qtbot: QtBot, url: str) -> tuple[ExchangesDialog, MemorySecrets]:
    secrets = MemorySecrets()
    service = ExchangeService(
        MemoryAccounts(),
        secrets,
        lambda exchange, creds, _url: ExchangeClient(exchange, creds, api_url=url, timeout=5),
    )
    dialog = ExchangesDialog(service, TaskRunner())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, secrets


def _fill(dialog: ExchangesDialog, exchange: str, name: str) -> None:
    dialog.exchange.setCurrentIndex(dialog.exchange.findData(exchange))
    dialog.name.setText(name)
    dialog.key.setText("ui-key-LEAK")
    dialog.secret.setText("uiSecretLEAKTEST9q8Zr2Xw5Yv7Ut3S")
    dialog.passphrase.setText("ui-pass")


def test_add_a_read_only_key_then_remove_it(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, world: Any
) -> None:
    _, url = world
    dialog, secrets = _dialog(qtbot, url)
    assert dialog.passphrase.isHidden()  # Binance keys have none
    _fill(dialog, "okx", "okx-main")
    assert not dialog.passphrase.isHidden()  # OKX keys do
    with qtbot.waitSignal(dialog.changed, timeout=60_000):
        dialog.add_button.click()
    assert "Added OKX (okx-main): 2 coins held now" in dialog.status.text()
    assert dialog.key.text() == "" and dialog.secret.text() == ""  # not left in the form
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    assert dialog.table.item(0, 0).text() == "okx-main"
    assert dialog.table.item(0, 2).text() == "In the keyring"
    assert set(secrets.values) == {
        "exchange.okx-main.key", "exchange.okx-main.secret", "exchange.okx-main.passphrase"
    }  # fmt: skip
    dialog.table.selectRow(0)
    with qtbot.waitSignal(dialog.changed, timeout=30_000):
        dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0)
    assert secrets.values == {}


def test_a_key_that_may_withdraw_is_refused_and_nothing_is_kept(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, world: Any
) -> None:
    w, url = world
    w.can_withdraw = True
    dialog, secrets = _dialog(qtbot, url)
    _fill(dialog, "binance", "binance")
    dialog.add_button.click()
    qtbot.waitUntil(lambda: "may withdraw" in dialog.status.text(), timeout=60_000)
    assert "create a read-only key" in dialog.status.text()
    assert secrets.values == {} and dialog.table.rowCount() == 0
    assert dialog.add_button.isEnabled()  # the person can try another key


def test_exchange_down_says_so(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> None:
    with running(ExchangeWorld()) as url:
        pass  # nothing listens there any more
    dialog, secrets = _dialog(qtbot, url)
    _fill(dialog, "kraken", "kraken")
    dialog.add_button.click()
    qtbot.waitUntil(lambda: "could not be reached" in dialog.status.text(), timeout=60_000)
    assert secrets.values == {}
