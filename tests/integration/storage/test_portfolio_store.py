"""Portfolios on a real SQLite file: migration 0012 up and down, members that go with their
wallet or account, totals with a wallet in two portfolios, a linked account counted once, the
timeline from the stored per-wallet sums, unexplained change, and the down cases (no snapshot
yet, no price at all): the figures say unknown and nothing is stored wrongly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from app.bootstrap import AppContext, bootstrap
from app.config import Paths
from app.domain.balances import SourceState
from app.domain.errors import SecretInputError, WalletNotFoundError
from app.domain.ledger import LedgerError, Transaction, TxKind
from app.domain.portfolios import PortfolioError
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.text import InvalidTextError
from app.domain.valuation import Quote
from app.storage.database import _alembic_config, create_sqlite_engine, migrate
from app.storage.price_store import SqlPriceStore
from app.storage.snapshot_store import SqlSnapshotStore

D = Decimal
DAY = 86_400
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
W1 = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
W2 = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
NOW = int(time.time()) - 100
JAN = 1_704_067_200  # 2024-01-01


def test_migration_adds_the_portfolio_tables_and_removes_them_again(tmp_path: Path) -> None:
    engine = create_sqlite_engine(tmp_path / "db.sqlite3")
    migrate(engine, "0011")
    migrate(engine, "0012")
    tables = {"portfolios", "portfolio_wallets", "portfolio_accounts", "ledger_wallet_links"}
    with engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master"))}
    assert tables <= names
    command.downgrade(_alembic_config(engine), "0011")
    with engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master"))}
    assert not tables & names
    engine.dispose()


@pytest.fixture
def ctx(tmp_path: Path, storage_backend: str) -> Iterator[AppContext]:
    """On the SQLite file and on PostgreSQL (``storage_backend``, tests/support/postgres.py)."""
    context = bootstrap(Paths.resolve(str(tmp_path)))
    try:
        yield context
    finally:
        context.close()


def _holding(wallet: str, asset: str, symbol: str, decimals: int, raw: int, price: str,
             ts: int, spam: bool = False) -> SnapshotHolding:  # fmt: skip
    amount = D(raw).scaleb(-decimals)
    return SnapshotHolding(
        f"eip155:1:{wallet}", asset, symbol, decimals, raw, D(price), amount * D(price),
        SourceState.OK, ts, is_spam=spam,
    )  # fmt: skip


def _snapshot(ctx: AppContext, ts: int, eth_price: str, w1_eth: str = "1") -> None:
    holdings = (
        _holding(W1, ETH, "ETH", 18, int(D(w1_eth) * 10**18), eth_price, ts),
        _holding(W2, USDC, "USDC", 6, 500 * 10**6, "1", ts),
        _holding(W2, "eip155:1/erc20:0x" + "1" * 40, "SCAM", 0, 10**9, "1", ts, spam=True),
    )
    status = (SourceStatus("eip155:1", SourceState.OK, None, ts),)
    SqlSnapshotStore(ctx.engine).write(Snapshot(ts, "USD", holdings, status))


def _setup(ctx: AppContext) -> None:
    for address in (W1, W2):
        asyncio.run(ctx.wallets.add(address))
    with ctx.engine.begin() as con:  # watched since long before the snapshots
        con.execute(text("UPDATE wallets SET created_at = '2024-01-01T00:00:00+00:00'"))
    ctx.ledger.add_account("Broker", "broker")
    ctx.ledger.add(Transaction("Broker", TxKind.BUY, JAN, "stock:XNAS:AAPL", D(10), D(100), "USD"))


def test_a_wallet_in_two_portfolios_counts_in_each(ctx: AppContext) -> None:
    _setup(ctx)
    _snapshot(ctx, NOW - DAY - 600, "1800")
    _snapshot(ctx, NOW, "2000")
    svc = ctx.portfolios
    svc.add("Long term")
    svc.add("Trading")
    svc.include("Long term", wallet=W1.lower())  # any case finds the watched wallet
    svc.include("Long term", account="Broker")
    svc.include("trading", wallet=W1)  # a name is found in any case too
    _p, changed = svc.include("Trading", wallet=W2)
    assert changed and svc.include("Trading", wallet=W2) == (svc.get("Trading"), False)

    long_term = svc.summary("Long term")
    assert long_term.portfolio.wallets == (W1,) and long_term.portfolio.accounts == ("Broker",)
    assert long_term.wallets_value == D(2000) and long_term.accounts_value == D(1000)
    assert long_term.total == D(3000) and long_term.snapshot_time == NOW
    trading = svc.summary("Trading")
    assert trading.total == D(2500)  # ETH 2000 + USDC 500; the spam token never counts
    assert trading.day_change is not None
    assert trading.day_change.amount == D(200) and trading.day_change.since == NOW - DAY - 600
    assert round(trading.day_change.percent or 0, 6) == round(D(200) / D(2300) * 100, 6)

    points, _notes = svc.timeline("Trading")
    assert [(p.taken_at, p.total, p.currency) for p in points] == [
        (NOW - DAY - 600, D(2300), "USD"),
        (NOW, D(2500), "USD"),
    ]
    assert svc.timeline("Trading", start=NOW - 10)[0][0].total == D(2500)


def test_members_go_with_their_wallet_or_account(ctx: AppContext, tmp_path: Path) -> None:
    _setup(ctx)
    svc = ctx.portfolios
    svc.add("Family")
    svc.include("Family", wallet=W2)
    svc.include("Family", account="Broker")
    svc.link("Broker", W2)
    ctx.wallets.remove(ctx.wallets.find(W2))
    assert svc.get("Family").wallets == () and svc.links() == []
    ctx.ledger.remove_account("Broker", with_transactions=True)
    assert svc.get("Family").accounts == ()
    svc.remove("Family")
    with ctx.engine.connect() as con:
        for table in ("portfolios", "portfolio_wallets", "portfolio_accounts",
                      "ledger_wallet_links"):  # fmt: skip
            assert tuple(con.exec_driver_sql(f"SELECT count(*) FROM {table}").one()) == (0,)


def test_bad_requests_are_refused_and_store_nothing(ctx: AppContext, tmp_path: Path) -> None:
    _setup(ctx)
    svc = ctx.portfolios
    svc.add("Trading")
    with pytest.raises(PortfolioError, match="already a portfolio"):
        svc.add(" TRADING ")
    with pytest.raises(SecretInputError):
        svc.add("abandon " * 11 + "about")
    with pytest.raises(InvalidTextError):
        svc.add("")
    with pytest.raises(WalletNotFoundError):
        svc.include("Trading", wallet="0x" + "2" * 40)
    with pytest.raises(LedgerError, match="No ledger account"):
        svc.include("Trading", account="Nope")
    with pytest.raises(PortfolioError, match="No portfolio"):
        svc.include("Nope", account="Broker")
    with pytest.raises(PortfolioError, match="one wallet"):
        svc.include("Trading")
    with pytest.raises(LedgerError):
        svc.link("Nope", W1)
    assert [(p.name, p.wallets, p.accounts) for p in svc.portfolios()] == [("Trading", (), ())]
    with ctx.engine.connect() as con:
        assert con.exec_driver_sql("SELECT count(*) FROM ledger_wallet_links").scalar() == 0


def test_no_snapshot_yet_and_no_price_at_all_say_unknown(ctx: AppContext) -> None:
    _setup(ctx)
    ctx.ledger.add_account("Cold", "cold-storage")
    ctx.ledger.add(Transaction("Cold", TxKind.DEPOSIT, JAN, ETH, D(2)))  # no price anywhere
    svc = ctx.portfolios
    svc.add("All")
    svc.include("All", wallet=W1)
    svc.include("All", account="Broker")
    s = svc.summary("All")
    assert s.wallets_value is None and s.total is None and s.accounts_value == D(1000)
    assert any("No snapshot yet" in n for n in s.notes) and s.day_change is None
    with ctx.engine.begin() as con:
        con.execute(text("UPDATE wallets SET created_at = '2099-01-01T00:00:00+00:00'"))
    _snapshot(ctx, NOW, "2000")  # taken before the wallets were added
    s = svc.summary("All")
    assert s.wallets_value is None and s.total is None and s.snapshot_time is not None
    assert any("added after the latest snapshot" in n for n in s.notes)
    with ctx.engine.begin() as con:
        con.execute(text("DELETE FROM snapshots"))
    assert svc.timeline("All")[0] == []
    assert svc.returns("All").wallets is not None
    assert svc.returns("All").wallets.twr is None  # type: ignore[union-attr]
    svc.include("All", account="Cold")
    s = svc.summary("All")
    assert s.accounts_value is None and any("No price at all" in n for n in s.notes)
    svc.link("Cold", W1)
    report = svc.unexplained()
    assert report.snapshot_time is None and report.changes == ()
    assert "No snapshot yet" in report.notes[0]


def test_a_linked_account_is_counted_once_and_its_difference_is_unexplained(
    ctx: AppContext,
) -> None:
    _setup(ctx)
    _snapshot(ctx, NOW, "2000", w1_eth="1")
    SqlPriceStore(ctx.engine).save([Quote(ETH, "USD", D(2100), "test", NOW)])
    ctx.ledger.add_account("Hot", "other")
    ctx.ledger.add(Transaction("Hot", TxKind.BUY, JAN, ETH, D("0.4"), D(1000), "USD"))
    ctx.ledger.add(Transaction("Hot", TxKind.DEPOSIT, JAN, "fiat:USD", D(50)))
    svc = ctx.portfolios
    svc.link("Hot", W1)
    svc.add("Hot wallet")
    svc.include("Hot wallet", wallet=W1)
    svc.include("Hot wallet", account="Hot")
    s = svc.summary("Hot wallet")
    # The wallet's observed ETH (2000) counts; the account adds only its cash (50).
    assert (s.wallets_value, s.accounts_value, s.total) == (D(2000), D(50), D(2050))
    report = svc.unexplained()
    (c,) = report.changes
    assert (c.wallet, c.accounts, c.asset) == (W1, ("Hot",), ETH)
    assert (c.ledger_quantity, c.observed_quantity, c.difference) == (D("0.4"), D(1), D("0.6"))
    assert c.value == D("0.6") * D(2100) and c.snapshot_time == NOW
    # Nothing was adjusted: the ledger still says 0.4, the snapshot still says 1.
    assert sum(t.amount for t in ctx.ledger.transactions(asset=ETH)) == D("0.4")
    ctx.ledger.add(Transaction("Hot", TxKind.BUY, JAN + DAY, ETH, D("0.6"), D(1000), "USD"))
    assert svc.unexplained().changes == ()
    assert svc.unexplained("Hot wallet").links == report.links
    svc.add("Other")
    assert svc.unexplained("Other").links == ()


def test_accounts_as_one_set_return_like_the_whole_ledger(ctx: AppContext) -> None:
    ctx.ledger.add_account("A")
    ctx.ledger.add_account("B")
    aapl = "stock:XNAS:AAPL"
    ctx.ledger.add(Transaction("A", TxKind.BUY, JAN, aapl, D(10), D(100), "USD"))
    ctx.ledger.add(Transaction("A", TxKind.TRANSFER, JAN + 30 * DAY, aapl, D(4), to_account="B"))
    ctx.ledger.add(Transaction("B", TxKind.SELL, JAN + 60 * DAY, aapl, D(4), D(130), "USD"))
    ctx.ledger.add(Transaction("A", TxKind.BUY, JAN + 90 * DAY, aapl, D(1), D(120), "USD"))
    svc = ctx.portfolios
    svc.add("Both")
    svc.include("Both", account="A")
    svc.include("Both", account="B")
    stop = date(2024, 7, 19)  # JAN + 200 days
    mine = svc.returns("Both", end=stop)
    whole = ctx.ledger.returns(end=stop)
    assert mine.accounts is not None and mine.wallets is None
    assert mine.accounts.account == "Both"
    assert mine.accounts.figures.twr == whole.figures.twr
    assert mine.accounts.figures.irr == whole.figures.irr
    assert mine.accounts.figures.end_value == whole.figures.end_value
    only_a = svc.returns("Both").accounts
    assert only_a is not None
    svc.exclude("Both", account="B")  # now the transfer to B is money out of the set
    a = svc.returns("Both", end=stop).accounts
    single = ctx.ledger.returns(account="A", end=stop)
    assert a is not None and a.figures.twr == single.figures.twr
    assert a.figures.outflows == single.figures.outflows


def test_the_wallets_return_counts_a_linked_deposit_as_money_in(ctx: AppContext) -> None:
    _setup(ctx)
    now = int(time.time())
    _snapshot(ctx, now - 2 * DAY, "2000", w1_eth="1")
    _snapshot(ctx, now - DAY, "2000", w1_eth="2")
    ctx.ledger.add_account("Hot")
    ctx.ledger.add(Transaction("Hot", TxKind.DEPOSIT, JAN, ETH, D(1), D(900), "USD"))
    ctx.ledger.add(
        Transaction("Hot", TxKind.DEPOSIT, now - DAY - DAY // 2, ETH, D(1), D(2000), "USD")
    )
    svc = ctx.portfolios
    svc.add("Hot")
    svc.include("Hot", wallet=W1)
    unlinked = svc.returns("Hot").wallets
    assert unlinked is not None and unlinked.twr == 1  # 2000 -> 4000 looks like a gain
    svc.link("Hot", W1)
    r = svc.returns("Hot")
    assert r.wallets is not None and r.accounts is None
    assert r.wallets.twr == 0 and r.wallets.inflows == D(2000) and r.wallets.flows_counted == 1
    assert any("(Hot)" in n for n in r.notes)
