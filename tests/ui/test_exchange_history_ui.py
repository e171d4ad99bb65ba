"""File → Exchange accounts… → "Import history": real ccxt against the local fake exchange, the
real service and store on a SQLite file. The import runs on the app's loop with its progress
shown; the window stays usable; the ledger gets the entries; an exchange that is down says so
and the button can be pressed again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.domain.exchanges import Credentials, ExchangeAccount
from app.exchanges.ccxt_client import ExchangeClient
from app.exchanges.history import HistoryClient
from app.services.exchange_history import ExchangeHistoryService
from app.services.exchanges import ExchangeService, secret_name
from app.storage.database import open_database
from app.storage.exchange_history_store import SqlExchangeHistoryStore
from app.storage.exchange_store import SqlExchangeStore
from app.storage.ledger_store import SqlLedgerStore
from app.ui.dialogs.exchanges_dialog import ExchangesDialog
from app.ui.tasks import TaskRunner
from tests.integration.exchanges.test_exchanges import MemorySecrets
from tests.support.fake_exchange import ExchangeWorld, running
from tests.support.fake_exchange_history import FakeTrade, FakeTransfer

T0 = 1_760_000_000_000
KEY = Credentials("ui-key-LEAK", "uiSecretLEAKTEST9q8Zr2Xw5Yv7Ut3S", "ui-pass")
# ccxt's own limiter spaces Kraken's private calls ~3 s apart; the local fake needs no pacing.
FAST = 5


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    yield eng
    eng.dispose()


def _dialog(qtbot: QtBot, engine: Engine, url: str) -> ExchangesDialog:
    secrets = MemorySecrets()
    for part, value in (("key", KEY.api_key), ("secret", KEY.secret)):
        secrets.set(secret_name("okx-main", part), value)
    secrets.set(secret_name("okx-main", "passphrase"), "ui-pass")
    store = SqlExchangeStore(engine)
    store.add(ExchangeAccount("okx-main", "okx", 1), url)
    service = ExchangeService(
        store, secrets,
        lambda exchange, creds, u: ExchangeClient(exchange, creds, api_url=u, timeout=5),
    )  # fmt: skip
    history = ExchangeHistoryService(
        service,
        SqlExchangeHistoryStore(engine),
        lambda ex, creds, u: HistoryClient(
            ex, creds, api_url=u, timeout=5, rate_limit_ms=FAST, start_ms=T0 - 86_400_000, limit=2
        ),
    )
    dialog = ExchangesDialog(service, TaskRunner(), history=history)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_import_history_button(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, engine: Engine
) -> None:
    world = ExchangeWorld(
        trades=[
            FakeTrade(i, T0 + i * 60_000, "BTC", "EUR", "buy", "0.01", "50000", "1", "EUR")
            for i in range(1, 6)
        ],
        deposits=[FakeTransfer("7", T0, "EUR", "3000")],
    )
    with running(world) as url:
        dialog = _dialog(qtbot, engine, url)
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
        assert dialog.import_button.isVisible() and dialog.import_button.isEnabled()
        assert dialog.progress.isHidden()
        with qtbot.waitSignal(dialog.imported, timeout=60_000):
            dialog.import_button.click()
            assert not dialog.import_button.isEnabled()  # one import at a time
            assert dialog.progress.isVisible()
            assert dialog.table.isEnabled() and dialog.add_button.isEnabled()  # not blocked
        text = dialog.status.text()
        assert "OKX (okx-main): 6 new records, 11 ledger entries added." in text, text
        assert dialog.progress.isHidden() and dialog.import_button.isEnabled()
        assert len(SqlLedgerStore(engine).transactions()) == 11
        assert KEY.secret not in text and KEY.api_key not in text
        with qtbot.waitSignal(dialog.imported, timeout=60_000):
            dialog.import_button.click()
        assert "0 new records, 0 ledger entries added." in dialog.status.text()


def test_import_history_with_the_exchange_down(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, engine: Engine
) -> None:
    with running(ExchangeWorld()) as url:
        pass  # nothing listens there any more
    dialog = _dialog(qtbot, engine, url)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    with qtbot.waitSignal(dialog.imported, timeout=60_000):
        dialog.import_button.click()
    assert "could not be reached" in dialog.status.text()
    assert dialog.import_button.isEnabled()
