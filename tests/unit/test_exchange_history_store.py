"""The exchange history store on a real SQLite file: migration 0017 up and down, a page and its
cursor in one transaction (a write that dies half-way leaves neither), records keyed by id."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from app.domain.exchange_history import ExchangeRecord, RecordKind
from app.domain.exchanges import ExchangeAccount
from app.storage.database import _alembic_config, create_sqlite_engine, migrate, open_database
from app.storage.exchange_history_store import SqlExchangeHistoryStore
from app.storage.exchange_store import SqlExchangeStore

TABLES = {"exchange_records", "exchange_cursors", "exchange_ledger_accounts", "exchange_matches"}


def rec(ident: str, ts: int = 1_760_000_000_000) -> ExchangeRecord:
    return ExchangeRecord(RecordKind.DEPOSIT, ident, ts, "ETH", Decimal("1.000000000000000001"))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    SqlExchangeStore(eng).add(ExchangeAccount("main", "okx", 1), None)
    return eng


def test_migration_0017_up_and_down(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "m.sqlite3")
    migrate(engine, "0017")
    assert set(inspect(engine).get_table_names()) >= TABLES | {"exchange_accounts"}
    command.downgrade(_alembic_config(engine), "0016")
    assert not (TABLES | {"exchange_accounts"}) & set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_page_and_its_cursor_are_one_write(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlExchangeHistoryStore(engine)
    assert store.write_page("main", "deposit", [rec("1"), rec("2")], "100") == 2
    assert store.write_page("main", "deposit", [rec("2"), rec("3")], "200") == 1  # ids: no repeat
    assert store.cursors("main") == {"deposit": "200"}
    assert [r.id for r in store.records("main")] == ["1", "2", "3"]
    assert store.records("main")[0].amount == Decimal("1.000000000000000001")  # exact

    def broken(self: ExchangeRecord) -> dict[str, object]:
        raise OSError("disk gone")

    monkeypatch.setattr(ExchangeRecord, "to_json", broken)
    with pytest.raises(OSError):
        store.write_page("main", "deposit", [rec("4")], "300")
    monkeypatch.undo()
    assert store.cursors("main") == {"deposit": "200"}
    assert [r.id for r in store.records("main")] == ["1", "2", "3"]


def test_the_ledger_account_is_made_once_with_a_free_name(engine: Engine) -> None:
    from app.domain.ledger import AccountKind
    from app.storage.ledger_store import SqlLedgerStore

    ledger = SqlLedgerStore(engine)
    ledger.add_account("OKX (main)", AccountKind.BANK, "", 0)  # the name is taken already
    store = SqlExchangeHistoryStore(engine)
    name = store.ensure_account("main", "OKX (main)", 5)
    assert name == "OKX (main) 2"
    assert store.ensure_account("main", "OKX (main)", 6) == name
    kinds = {a.name: a.kind for a in ledger.accounts()}
    assert kinds[name] is AccountKind.EXCHANGE


def test_removing_the_exchange_account_drops_its_records(engine: Engine) -> None:
    store = SqlExchangeHistoryStore(engine)
    store.write_page("main", "deposit", [rec("1")], "100")
    SqlExchangeStore(engine).remove("main")
    assert store.records("main") == [] and store.cursors("main") == {}
