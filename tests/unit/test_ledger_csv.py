"""CSV import and export of the ledger: bad input first (each bad line reported with its number,
nothing half-imported), then re-import adds nothing, then the three formats and round trips.

The service runs over the real SQLite store (a file in the test's folder)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.ledger import LedgerError, TxKind
from app.services.ledger import LedgerConfig, LedgerService
from app.services.ledger_csv import GENERIC_COLUMNS
from app.storage.database import open_database
from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore

NOW = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
HEADER = ",".join(GENERIC_COLUMNS)
BTC = "bip122:000000000019d6689c085ae165831e93/slip44:0"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[LedgerService]:
    engine = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    service = LedgerService(
        SqlLedgerStore(engine), SqlLedgerMarket(engine), lambda: LedgerConfig(), lambda: NOW
    )
    service.add_account("Broker", "broker")
    service.add_account("Cold", "cold-storage")
    yield service
    engine.dispose()


def rows(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


GOOD = [
    "2024-01-02,Broker,buy,stock:XNAS:AAPL,10,100,USD,5,USD,,,first lot",
    "2024-02-01,Broker,buy,stock:XNAS:AAPL,10,120,USD,,,,,",
    "2024-06-01T12:00:00Z,Broker,sell,stock:XNAS:AAPL,15,130,USD,3,USD,,,",
    "2024-01-01,Broker,deposit,fiat:EUR,1000,,,,,,,",
    "2024-03-01,Broker,transfer,fiat:EUR,400,,,,,Cold,,",
    "2024-04-01,Cold,income,fiat:EUR,2,,,,,,interest,",
]


# ---- bad input (written first) ---------------------------------------------------------------


def test_each_bad_line_is_reported_with_its_number_and_nothing_is_imported(
    ledger: LedgerService,
) -> None:
    text = rows(
        GOOD[0],  # line 2: fine
        "2024-13-01,Broker,buy,stock:XNAS:AAPL,1,100,USD,,,,,",  # 3: no such date
        "2024-01-03,Broker,buy,stock:XNAS:ZZZZ:X,1,100,USD,,,,,",  # 4: malformed asset id
        "2024-01-04,Broker,buy,stock:US0378331006,1,100,USD,,,,,",  # 5: ISIN check digit wrong
        "2024-01-05,Broker,buy,stock:XNAS:AAPL,-1,100,USD,,,,,",  # 6: negative amount
        "2030-01-01,Broker,buy,stock:XNAS:AAPL,1,100,USD,,,,,",  # 7: in the future
        "2024-01-06,Broker,sell,stock:XNAS:AAPL,11,100,USD,,,,,",  # 8: 11 sold, 10 held
        "2024-01-07,Broker,buy,stock:XNAS:AAPL,1,100,USD",  # 9: too few columns
        "2024-01-08,Broker,swap,stock:XNAS:AAPL,1,100,USD,,,,,",  # 10: unknown type
        "2024-01-09,Nowhere,buy,stock:XNAS:AAPL,1,100,USD,,,,,",  # 11: unknown account
        "2024-01-10,Broker,buy,stock:XNAS:AAPL,abc,100,USD,,,,,",  # 12: not a number
        "2024-01-11,Broker,buy,stock:XNAS:AAPL,1,,,,,,,",  # 13: a buy without a price
    )
    report = ledger.import_csv(text)
    by_line = {e.line: e.message for e in report.errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "not a date" in by_line[3]
    assert "EXCHANGE:TICKER" in by_line[4]
    assert "check digit" in by_line[5]
    assert "negative" in by_line[6]
    assert "future" in by_line[7]
    assert "holds only 10" in by_line[8]
    assert "columns" in by_line[9]
    assert "swap" in by_line[10]
    assert "Nowhere" in by_line[11]
    assert "not a number" in by_line[12]
    assert "price" in by_line[13]
    assert report.added == 0 and not report.ok
    assert ledger.transactions() == []  # nothing half-imported


def test_unknown_asset_symbol_in_koinly_file_is_a_line_error(ledger: LedgerService) -> None:
    text = (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,"
        "Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
        "2024-01-01 10:00,1000,USD,0.05,BTC,,,,,,,\n"
        "2024-01-02 10:00,100,USD,3,NOTACOIN,,,,,,,\n"
    )
    report = ledger.import_csv(text, "koinly", account="Broker")
    assert [(e.line, "NOTACOIN" in e.message) for e in report.errors] == [(3, True)]
    assert ledger.transactions() == []
    mapped = ledger.import_csv(
        text, "koinly", account="Broker", asset_map={"NOTACOIN": "eip155:1/erc20:0xabc"}
    )
    assert mapped.ok and mapped.added == 2


def test_header_problems_are_line_one(ledger: LedgerService) -> None:
    report = ledger.import_csv("date,account,kind\n2024-01-01,Broker,buy\n")
    assert [e.line for e in report.errors] == [1]
    assert "missing the column(s) type, asset, amount" in report.errors[0].message
    assert [e.line for e in ledger.import_csv("").errors] == [1]


def test_sell_beyond_holdings_counts_what_was_imported_before(ledger: LedgerService) -> None:
    assert ledger.import_csv(rows(GOOD[0])).added == 1  # 10 held
    report = ledger.import_csv(rows("2024-05-01,Broker,sell,stock:XNAS:AAPL,10.5,1,USD,,,,,"))
    assert [e.line for e in report.errors] == [2]
    assert len(ledger.transactions()) == 1


def test_missing_account_can_be_created_by_the_import(ledger: LedgerService) -> None:
    text = rows("2024-01-09,Kraken,deposit,fiat:USD,5,,,,,,,")
    assert not ledger.import_csv(text).ok
    report = ledger.import_csv(text, create_accounts=True)
    assert report.ok and report.added == 1 and report.new_accounts == ("Kraken",)
    assert "Kraken" in {a.name for a in ledger.accounts()}


# ---- re-import and dry run -------------------------------------------------------------------


def test_reimport_adds_nothing_and_dry_run_adds_nothing(ledger: LedgerService) -> None:
    text = rows(*GOOD)
    dry = ledger.import_csv(text, dry_run=True)
    assert dry.ok and dry.added == 0 and len(dry.to_add) == 6
    assert ledger.transactions() == []
    first = ledger.import_csv(text)
    assert first.added == 6 and first.duplicates == 0
    again = ledger.import_csv(text)
    assert again.ok and again.added == 0 and again.duplicates == 6
    assert len(ledger.transactions()) == 6
    # a file that repeats a line on purpose keeps both, once
    twice = rows(GOOD[1], GOOD[1])
    assert ledger.import_csv(twice).added == 1  # the first copy is already in
    assert ledger.import_csv(twice).added == 0
    assert len(ledger.transactions()) == 7


# ---- formats ---------------------------------------------------------------------------------


def test_generic_round_trip_is_exact(ledger: LedgerService, tmp_path: Path) -> None:
    ledger.import_csv(rows(*GOOD))
    exported = ledger.export_csv("generic")
    engine = open_database(tmp_path / "other.sqlite3", tmp_path / "b2")
    other = LedgerService(SqlLedgerStore(engine), None, lambda: LedgerConfig(), lambda: NOW)
    other.add_account("Broker")
    other.add_account("Cold")
    assert other.import_csv(exported).added == 6

    def key(svc: LedgerService) -> list[tuple[object, ...]]:
        return [
            (t.account, t.kind, t.ts, t.asset, t.amount, t.price, t.price_currency, t.fee,
             t.fee_currency, t.to_account, t.income_kind, t.note)
            for t in svc.transactions()
        ]  # fmt: skip

    assert key(other) == key(ledger)
    engine.dispose()


def test_koinly_universal_rows_become_buys_sells_income_and_trades(ledger: LedgerService) -> None:
    text = (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,"
        "Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
        "2024-01-01 10:00 UTC,1000,USD,0.05,BTC,2,USD,,,,bought,0xabc\n"
        "2024-01-05 10:00,0.01,BTC,,,,,500,USD,,,\n"  # withdrawal
        "2024-01-06 10:00,,,0.001,BTC,,,45,USD,staking,,\n"
        "2024-01-07 10:00,0.02,BTC,1,ETH,,,900,USD,,,\n"  # crypto-crypto trade
    )
    report = ledger.import_csv(text, "koinly", account="Broker")
    assert report.ok, report.errors
    txs = ledger.transactions()
    assert [(t.kind, t.asset.split("/")[-1]) for t in txs] == [
        (TxKind.BUY, "slip44:0"),
        (TxKind.WITHDRAWAL, "slip44:0"),
        (TxKind.INCOME, "slip44:0"),
        (TxKind.SELL, "slip44:0"),
        (TxKind.BUY, "slip44:60"),
    ]
    buy = txs[0]
    assert buy.price == Decimal(20000) and buy.fee == 2 and buy.fee_currency == "USD"
    assert buy.note == "bought · tx 0xabc"
    assert txs[3].price == Decimal(45000) and txs[4].price == Decimal(900)
    # exported and read back into another account: the same movements
    exported = ledger.export_csv("koinly")
    assert exported.splitlines()[0] == (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,"
        "Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash"
    )
    back = ledger.import_csv(exported, "koinly", account="Cold")
    assert back.ok and back.added == 5


def test_koinly_trade_between_coins_without_value_is_refused(ledger: LedgerService) -> None:
    text = (
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,"
        "Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
        "2024-01-07 10:00,0.02,BTC,1,ETH,,,,,,,\n"
    )
    report = ledger.import_csv(text, "koinly", account="Broker")
    assert [e.line for e in report.errors] == [2] and "Net Worth" in report.errors[0].message
    with pytest.raises(LedgerError):
        ledger.import_csv(text, "koinly", account="Broker", asset_map={"X": "nonsense"})


def test_cointracking_file_with_values_and_exchange_accounts(
    ledger: LedgerService, tmp_path: Path
) -> None:
    text = (
        '"Type","Buy","Cur.","Sell","Cur.","Fee","Cur.","Exchange","Group","Comment","Date",'
        '"Tx-ID","Buy Value in USD","Sell Value in USD"\n'
        '"Deposit","1000","EUR","","","","","Broker","","","01.01.2024 09:00:00","","",""\n'
        '"Trade","0.1","BTC","4000","USD","1","USD","Broker","","","02.01.2024 10:00:00",'
        '"","4000","4000"\n'
        '"Staking","0.01","ETH","","","","","Cold","","","03.01.2024 10:00:00","","25",""\n'
        '"Withdrawal","","","0.05","BTC","","","Broker","","","04.01.2024 10:00:00","","",""\n'
    )
    report = ledger.import_csv(text, "cointracking")
    assert report.ok, report.errors
    kinds = [(t.account, t.kind) for t in ledger.transactions()]
    assert kinds == [
        ("Broker", TxKind.DEPOSIT),
        ("Broker", TxKind.BUY),
        ("Cold", TxKind.INCOME),
        ("Broker", TxKind.WITHDRAWAL),
    ]
    exported = ledger.export_csv("cointracking")
    header = next(csv.reader(io.StringIO(exported)))
    assert header[:11] == [
        "Type", "Buy", "Cur.", "Sell", "Cur.", "Fee", "Cur.", "Exchange", "Group", "Comment",
        "Date",
    ]  # fmt: skip
    engine = open_database(tmp_path / "other.sqlite3", tmp_path / "b2")
    other = LedgerService(SqlLedgerStore(engine), None, lambda: LedgerConfig(), lambda: NOW)
    assert other.import_csv(exported, "cointracking", create_accounts=True).added == 4

    def key(svc: LedgerService) -> list[tuple[object, ...]]:
        return [(t.account, t.kind, t.ts, t.asset, t.amount, t.price) for t in svc.transactions()]

    assert key(other) == key(ledger)
    engine.dispose()


def test_cointracking_unknown_type_is_a_line_error(ledger: LedgerService) -> None:
    text = (
        '"Type","Buy","Cur.","Sell","Cur.","Fee","Cur.","Exchange","Group","Comment","Date"\n'
        '"Margin Profit","1","BTC","","","","","Broker","","","01.01.2024 09:00:00"\n'
    )
    report = ledger.import_csv(text, "cointracking")
    assert [e.line for e in report.errors] == [2] and "Margin Profit" in report.errors[0].message


def test_a_quoted_field_spanning_lines_reports_the_right_line(ledger: LedgerService) -> None:
    text = rows(
        '2024-01-02,Broker,buy,stock:XNAS:AAPL,10,100,USD,,,,,"a note\nover two lines"',
        "2024-01-03,Broker,buy,stock:XNAS:AAPL,-1,100,USD,,,,,",
    )
    report = ledger.import_csv(text)
    assert [e.line for e in report.errors] == [4]


SEED = " ".join(["abandon"] * 11 + ["about"])


def test_a_seed_phrase_in_a_note_is_refused_and_never_stored(ledger: LedgerService) -> None:
    report = ledger.import_csv(
        rows(GOOD[0], f'2024-01-03,Broker,buy,stock:XNAS:AAPL,1,100,USD,,,,,"{SEED}"')
    )
    assert [e.line for e in report.errors] == [3]
    assert "seed phrase" in report.errors[0].message and "abandon" not in report.errors[0].message
    assert ledger.transactions() == []
    tx_hash = "0x" + "ab" * 32  # a transaction hash looks like a hex key and is welcome
    ok = ledger.import_csv(rows(f"2024-01-03,Broker,deposit,fiat:EUR,1,,,,,,,tx {tx_hash}"))
    assert ok.added == 1
    with pytest.raises(LedgerError, match="seed phrase"):
        ledger.add_account("Other", "bank", SEED)
    with pytest.raises(LedgerError, match="seed phrase"):
        ledger.add_account(SEED)
    assert {a.name for a in ledger.accounts()} == {"Broker", "Cold"}
