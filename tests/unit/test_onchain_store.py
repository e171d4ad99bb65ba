"""The on-chain history store on a real SQLite file: migration 0013 up and down, a batch and its
cursors in one transaction, re-org replacement, ledger accounts and the ledger kept in step."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from app.domain.ledger import AccountKind, Transaction, TxKind
from app.domain.onchain import Fee, Movement, ScanBatch
from app.domain.onchain_ledger import chain_prefix, fingerprint
from app.storage import onchain_store
from app.storage.database import _alembic_config, create_sqlite_engine, migrate
from app.storage.ledger_store import SqlLedgerStore
from app.storage.onchain_store import SqlOnchainStore
from app.storage.portfolio_store import SqlPortfolioStore
from app.storage.wallet_store import SqlWalletRepository

CHAIN = "eip155:1"
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TABLES = {"onchain_cursors", "onchain_movements", "onchain_fees", "onchain_accounts"}


@pytest.fixture
def engine(storage_engine: Engine) -> Engine:
    """Each test runs on SQLite and on PostgreSQL (tests/support/postgres.py)."""
    return storage_engine


def mv(tx: str, block: int, delta: int, asset: str = USDC, index: int = 0) -> Movement:
    return Movement(CHAIN, tx, block, 1_700_000_000 + block, A, asset, delta, index=index)


def batch(*moves: Movement, cursor: str, fees: tuple[Fee, ...] = (), reread: int | None = None):  # type: ignore[no-untyped-def]
    return ScanBatch(
        CHAIN, tuple(moves), fees, {A: cursor}, {A: reread} if reread is not None else {}, 1, 2
    )


def test_migration_0013_up_and_down(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "m.sqlite3")
    migrate(engine, "0013")
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(_alembic_config(engine), "0012")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine, "0013")
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_uint256_amounts_round_trip_exactly(engine: Engine) -> None:
    store = SqlOnchainStore(engine)
    huge = 2**256 - 1
    store.write_batch(batch(mv("0x01", 1, huge), mv("0x02", 2, -huge), cursor="2"), 0)
    assert [m.delta for m in store.movements(CHAIN)] == [huge, -huge]


def test_a_failed_batch_write_leaves_cursor_and_rows_as_before(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlOnchainStore(engine)
    store.write_batch(batch(mv("0x01", 1, 5), cursor="10"), 0)

    def broken(_fee: Fee) -> dict[str, object]:
        raise OSError("disk gone")  # the process dies half-way through the write

    monkeypatch.setattr(onchain_store, "_fee_row", broken)
    fee = Fee(CHAIN, "0x02", 11, 0, A, ETH, 21_000)
    with pytest.raises(OSError):
        store.write_batch(batch(mv("0x02", 11, 7), cursor="20", fees=(fee,)), 0)
    assert store.cursors(CHAIN) == {A: "10"}
    assert [m.tx for m in store.movements(CHAIN)] == ["0x01"]
    assert store.fees(CHAIN) == []


def test_rereading_the_same_blocks_adds_nothing_and_a_reorg_replaces(engine: Engine) -> None:
    store = SqlOnchainStore(engine)
    store.write_batch(batch(mv("0x01", 1, 5), mv("0x02", 50, 6), cursor="60"), 0)
    store.write_batch(batch(mv("0x01", 1, 5), mv("0x02", 50, 6), cursor="60"), 0)
    assert len(store.movements(CHAIN)) == 2
    # blocks from 40 on were re-read: 0x02 vanished in a re-org, 0x03 took its place
    store.write_batch(batch(mv("0x03", 52, 9), cursor="70", reread=40), 0)
    assert [m.tx for m in store.movements(CHAIN)] == ["0x01", "0x03"]
    assert store.cursors(CHAIN) == {A: "70"}


def test_accounts_are_created_once_and_linked_to_the_wallet(engine: Engine) -> None:
    from app.domain.addresses import AddressFamily
    from app.domain.model import Wallet

    SqlWalletRepository(engine).add(Wallet(A, AddressFamily.EVM, "Main"))
    store = SqlOnchainStore(engine)
    first = store.ensure_accounts([(A, "Main")], 0)
    again = store.ensure_accounts([(A, "Main")], 0)
    assert first == again
    assert first[A].startswith("Wallet Main (")
    assert [a.name for a in SqlLedgerStore(engine).accounts()] == [first[A]]
    links = SqlPortfolioStore(engine).links()
    assert [(lk.account, lk.wallet) for lk in links] == [(first[A], A)]


def test_sync_ledger_adds_once_removes_stale_and_fills_a_missing_price(engine: Engine) -> None:
    store = SqlOnchainStore(engine)
    ledger = SqlLedgerStore(engine)
    ledger.add_account("W", AccountKind.OTHER, "", 0)

    def deposit(tx: str, price: Decimal | None) -> Transaction:
        return Transaction(
            "W", TxKind.DEPOSIT, 1_700_000_000, USDC, Decimal(5), price,
            "USD" if price is not None else None,
            fingerprint=fingerprint(CHAIN, tx, "in", A, USDC),
        )  # fmt: skip

    one, two = deposit("0x01", None), deposit("0x02", Decimal(1))
    assert store.sync_ledger([chain_prefix(CHAIN)], [one, two], 0).added == 2
    assert store.sync_ledger([chain_prefix(CHAIN)], [one, two], 0).added == 0
    revision = ledger.revision()
    result = store.sync_ledger([chain_prefix(CHAIN)], [deposit("0x01", Decimal(1))], 0)
    assert (result.added, result.removed, result.priced) == (0, 1, 1)
    assert [(t.fingerprint == one.fingerprint, t.price) for t in ledger.transactions()] == [
        (True, Decimal(1))
    ]
    assert ledger.revision() != revision  # readers of the ledger see the change
    with engine.connect() as con:  # other entries (a CSV import) are never touched
        assert con.execute(text("SELECT count(*) FROM ledger_transactions")).scalar() == 1
