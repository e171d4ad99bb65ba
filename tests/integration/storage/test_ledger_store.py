"""The ledger on a real SQLite file and on PostgreSQL: migration 0010 up and down, exact amounts, all-or-nothing
writes, and P&L when the price store is empty or unreadable (nothing stored wrongly)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from app.domain.ledger import LedgerError, Transaction, TxKind
from app.services.ledger import LedgerConfig, LedgerService
from app.storage.database import _alembic_config, create_sqlite_engine, migrate
from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore
from app.storage.price_store import SqlBackfillStore, SqlPriceStore
from tests.support.postgres import second_engine

NOW = 1_767_225_600  # 2026-01-01
ETH = "eip155:1/slip44:60"


def test_migration_adds_the_ledger_tables_and_removes_them_again(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = create_sqlite_engine(db)
    migrate(engine, "0009")
    migrate(engine, "0010")
    with engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master"))}
    assert {"ledger_accounts", "ledger_transactions"} <= names
    command.downgrade(_alembic_config(engine), "0009")
    with engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master"))}
    assert not {"ledger_accounts", "ledger_transactions"} & names
    engine.dispose()


def _service(engine: Engine) -> tuple[LedgerService, object]:
    svc = LedgerService(
        SqlLedgerStore(engine), SqlLedgerMarket(engine), lambda: LedgerConfig(), lambda: NOW
    )
    return svc, engine


def test_amounts_round_trip_exactly_and_batches_are_all_or_nothing(storage_engine: Engine) -> None:
    svc, engine = _service(storage_engine)
    store = SqlLedgerStore(engine)  # type: ignore[arg-type]
    svc.add_account("A", "exchange")
    tiny = Decimal("0.000000000000000001")
    huge = Decimal("123456789012345678901234567.123456789012345678")
    t1 = svc.add(Transaction("A", TxKind.DEPOSIT, NOW - 100, ETH, tiny))
    t2 = svc.add(Transaction("A", TxKind.BUY, NOW - 50, ETH, huge, Decimal("1e-12"), "USD"))
    back = {t.id: t for t in store.transactions()}
    assert back[t1.id].amount == tiny and str(back[t1.id].amount) == "1E-18"
    assert back[t2.id].amount == huge and back[t2.id].price == Decimal("1e-12")
    with storage_engine.connect() as con:
        stored = {r[0] for r in con.exec_driver_sql("SELECT amount FROM ledger_transactions")}
    assert stored == {"0.000000000000000001", "123456789012345678901234567.123456789012345678"}
    good = Transaction("A", TxKind.DEPOSIT, NOW, ETH, Decimal(1), fingerprint="f1")
    bad = Transaction("Nobody", TxKind.DEPOSIT, NOW, ETH, Decimal(1), fingerprint="f2")
    with pytest.raises(LedgerError, match="Nobody"):
        store.add([good, bad], NOW)
    assert len(store.transactions()) == 2  # the good one of the batch was not written either
    assert store.add([good], NOW) and store.add([good], NOW) == []  # a fingerprint once
    assert store.known_fingerprints(["f1", "f2"]) == {"f1"}
    engine.dispose()  # type: ignore[attr-defined]


def test_edit_remove_and_account_removal(storage_engine: Engine) -> None:
    svc, engine = _service(storage_engine)
    svc.add_account("A")
    svc.add_account("B")
    buy = svc.add(Transaction("A", TxKind.BUY, NOW - 99, ETH, Decimal(2), Decimal(10), "USD"))
    move = svc.add(Transaction("A", TxKind.TRANSFER, NOW - 9, ETH, Decimal(1), to_account="B"))
    with pytest.raises(LedgerError, match="more of the asset"):
        svc.edit(buy.id or 0, amount=Decimal("0.5"))  # the transfer would overdraw A
    assert svc.edit(buy.id or 0, price=Decimal(12)).price == 12
    with pytest.raises(LedgerError, match="has 2 transaction"):
        svc.remove_account("A")
    assert svc.remove(move.id or 0).kind is TxKind.TRANSFER
    assert svc.remove_account("B") == 0
    assert svc.remove_account("A", with_transactions=True) == 1
    assert svc.transactions() == [] and svc.accounts() == []
    with pytest.raises(LedgerError, match="no transaction"):
        svc.remove(12345)
    engine.dispose()  # type: ignore[attr-defined]


def test_pnl_without_any_stored_price_uses_transaction_prices(storage_engine: Engine) -> None:
    """The price store is empty (no refresh ever ran, or the price API was always down): the
    stock is valued at its last transaction price, the deposited coin has no price at all, so
    its unrealised P&L is unknown (None), never zero; no price row is written."""
    svc, engine = _service(storage_engine)
    svc.add_account("A")
    svc.add(
        Transaction("A", TxKind.BUY, NOW - 99, "stock:XNAS:AAPL", Decimal(2), Decimal(100), "USD")
    )
    svc.add(
        Transaction("A", TxKind.BUY, NOW - 50, "stock:XNAS:AAPL", Decimal(1), Decimal(130), "USD")
    )
    svc.add(Transaction("A", TxKind.DEPOSIT, NOW - 10, ETH, Decimal(1)))
    report = svc.pnl()
    by_asset = {h.asset: h for h in report.holdings}
    stock, coin = by_asset["stock:XNAS:AAPL"], by_asset[ETH]
    assert (stock.price, stock.price_source, stock.unrealised) == (130, "transaction", 60)
    assert coin.price is None and coin.unrealised is None and coin.market_value is None
    assert report.total.unrealised_unknown_holdings == 1
    returns = svc.returns()
    assert returns.figures.unpriced == (ETH,)
    with storage_engine.connect() as con:
        assert con.exec_driver_sql("SELECT count(*) FROM prices").scalar() == 0
        assert con.exec_driver_sql("SELECT count(*) FROM price_history").scalar() == 0
    # once the store has prices, the coin is valued by them (newest wins)
    SqlPriceStore(engine).save_rates({"EUR": Decimal("0.9")}, "test", NOW)  # type: ignore[arg-type]
    SqlBackfillStore(engine).save_history(ETH, [(NOW - 86400, Decimal(2000))], "test")  # type: ignore[arg-type]
    coin = {h.asset: h for h in svc.pnl().holdings}[ETH]
    assert (coin.price, coin.price_source) == (2000, "market")
    eur = svc.pnl(currency="EUR")
    assert {h.asset: h for h in eur.holdings}[ETH].price == Decimal(1800)
    assert any("today's exchange rate" in n for n in eur.notes)
    engine.dispose()  # type: ignore[attr-defined]


def test_pnl_when_the_price_tables_cannot_be_read(storage_engine: Engine) -> None:
    """A damaged price store (the table is gone) must not stop the P&L: transaction prices
    value what they can, the rest is unknown, and the ledger is left as it was."""
    svc, engine = _service(storage_engine)
    svc.add_account("A")
    svc.add(Transaction("A", TxKind.BUY, NOW - 99, ETH, Decimal(1), Decimal(1500), "USD"))
    with engine.begin() as con:  # type: ignore[attr-defined]
        con.execute(text("DROP TABLE price_history"))
        con.execute(text("DROP TABLE prices"))
    report = svc.pnl()
    assert report.holdings[0].price == 1500 and report.holdings[0].price_source == "transaction"
    assert svc.returns().figures.end_value == 1500
    with pytest.raises(LedgerError, match="No exchange rate for EUR"):
        svc.pnl(currency="EUR")  # conversion needs a rate: said plainly, nothing guessed
    assert len(svc.transactions()) == 1
    engine.dispose()  # type: ignore[attr-defined]


def test_a_write_from_another_process_is_seen_by_a_service_that_cached(
    storage_engine: Engine,
) -> None:
    """The service reuses the transactions it read until the ledger's revision changes; a write
    through another store on the same file (another process: the CLI while the window runs)
    changes it."""
    svc, engine = _service(storage_engine)
    svc.add_account("A")
    svc.add(Transaction("A", TxKind.BUY, NOW - 99, ETH, Decimal(1), Decimal(100), "USD"))
    assert svc.pnl().total.cost_basis == 100
    other_engine = second_engine(storage_engine)
    other = SqlLedgerStore(other_engine)
    before = other.revision()
    other.add([Transaction("A", TxKind.BUY, NOW - 9, ETH, Decimal(1), Decimal(50), "USD")], NOW)
    assert other.revision() == before + 1
    assert svc.pnl().total.cost_basis == 150
    (tx_id,) = [t.id for t in svc.transactions() if t.price == 50]
    other.remove(tx_id or 0)
    assert svc.pnl().total.cost_basis == 100
    other_engine.dispose()
    engine.dispose()  # type: ignore[attr-defined]


def test_import_in_a_real_process_all_or_nothing(tmp_path: Path) -> None:
    """The real command in a child process: a file with one bad line leaves the database file
    without a single ledger row and prints the line, no traceback; the good file then imports."""
    from tests.integration.storage.helpers import TRACEBACK, cli

    assert cli(tmp_path, "accounts", "add", "Broker").returncode == 0
    good = (
        "date,account,type,asset,amount,price,price_currency\n"
        "2024-01-02,Broker,buy,stock:XNAS:AAPL,10,100,USD\n"
        "2024-02-02,Broker,sell,stock:XNAS:AAPL,4,120,USD\n"
    )
    bad = good + "2024-03-02,Broker,sell,stock:XNAS:AAPL,7,120,USD\n"
    (tmp_path / "bad.csv").write_text(bad)
    (tmp_path / "good.csv").write_text(good)
    failed = cli(tmp_path, "tx", "import", str(tmp_path / "bad.csv"))
    assert failed.returncode == 1 and TRACEBACK not in failed.stderr
    assert "line 4: Takes 7 AAPL out of 'Broker', which holds only 6 then" in failed.stderr
    with sqlite3.connect(tmp_path / "chainfolio.sqlite3") as con:
        assert con.execute("SELECT count(*) FROM ledger_transactions").fetchone() == (0,)
    assert cli(tmp_path, "tx", "import", str(tmp_path / "good.csv")).returncode == 0
    again = cli(tmp_path, "tx", "import", str(tmp_path / "good.csv"))
    assert "Imported 0 transaction(s); 2 were already imported" in again.stdout
    with sqlite3.connect(tmp_path / "chainfolio.sqlite3") as con:
        assert con.execute("SELECT count(*) FROM ledger_transactions").fetchone() == (2,)
