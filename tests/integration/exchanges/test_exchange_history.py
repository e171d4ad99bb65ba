"""Exchange history into the ledger: real ccxt against the local fake of each exchange's REST
API, the real store on a SQLite file, the real service. Trades exact with their fees,
deposits, withdrawals, paging, a second import that adds nothing, a 429 half-way that keeps
what was read, hostile records skipped with a reason, and withdrawals matched with a wallet's
on-chain deposit as a transfer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.domain.exchanges import EXCHANGES, Credentials, ExchangeAccount
from app.domain.ledger import Transaction, TxKind
from app.exchanges.history import HistoryClient
from app.services.exchange_history import ExchangeHistoryService, ImportReport
from app.storage.database import open_database
from app.storage.exchange_history_store import SqlExchangeHistoryStore
from app.storage.exchange_store import SqlExchangeStore
from app.storage.ledger_store import SqlLedgerStore
from tests.support.fake_exchange import ExchangeWorld, running
from tests.support.fake_exchange_history import FakeTrade, FakeTransfer

pytestmark = pytest.mark.integration

KEY = Credentials("key-LEAKTEST-7f3a", "secretLEAKTEST9q8Zr2Xw5Yv7Ut3Ss1", "pass-LEAKTEST")
ALL = sorted(EXCHANGES)
T0 = 1_760_000_000_000  # ms
H = 3_600_000
NOW = [(T0 + 10 * H) / 1000]  # the clock: moved on between imports
BTC = "bip122:000000000019d6689c085ae165831e93/slip44:0"
ETH = "eip155:1/slip44:60"
USDT = "eip155:1/erc20:0xdAC17F958D2ee523a2206206994597C13D831ec7"
DAY = 86_400
# ccxt's own limiter spaces Kraken's private calls ~3 s apart; the local fake needs no pacing.
FAST = 5


class Accounts:
    def __init__(self, store: SqlExchangeStore) -> None:
        self.store = store
        self.keys: dict[str, Credentials] = {}

    def account_urls(self) -> list[tuple[ExchangeAccount, str | None]]:
        return self.store.accounts()

    def credentials(self, name: str) -> Credentials | None:
        return self.keys.get(name)


class Prices:
    """The stored daily price history: BTC at 60,000 USD on T0's day."""

    def daily_usd(self, assets: Any, start: int) -> dict[str, dict[int, Decimal]]:
        day = T0 // 1000 - (T0 // 1000) % DAY
        return {BTC: {day: Decimal(60000)}} if BTC in assets else {}


def base_world(exchange: str = "") -> ExchangeWorld:
    # Bybit charges a spot buy's fee in the coin bought (ccxt reads it so); the others here in
    # the quote
    fee = ("0.0001", "BTC") if exchange == "bybit" else ("0.5", "USDT")
    return ExchangeWorld(
        spot={"BTC": ("0.5", "0"), "USDT": ("100", "0"), "ETH": ("1", "0")},
        trades=[
            FakeTrade(1, T0 + 1 * H, "BTC", "USDT", "buy", "0.1", "60000.5", *fee),
            FakeTrade(2, T0 + 2 * H, "ETH", "BTC", "sell", "1.5", "0.05", "0.000075", "BTC"),
            FakeTrade(3, T0 + 3 * H, "BTC", "EUR", "sell", "0.05", "55000", "2.75", "EUR"),
        ],
        deposits=[
            FakeTransfer("101", T0, "USDT", "7000", txid="0x" + "a" * 64),
            FakeTransfer("102", T0 + 4 * H, "ETH", "2", txid="0x" + "b" * 64),
        ],
        withdrawals=[FakeTransfer("201", T0 + 5 * H, "BTC", "0.02", "0.0005", txid="c" * 64)],
    )


@pytest.fixture(autouse=True)
def clock() -> None:
    NOW[0] = (T0 + 10 * H) / 1000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    yield eng
    eng.dispose()


def _service(engine: Engine, exchange: str, url: str, prices: Any = None) -> ExchangeHistoryService:
    store = SqlExchangeStore(engine)
    store.add(ExchangeAccount("main", exchange, 1), url)
    accounts = Accounts(store)
    accounts.keys["main"] = KEY
    return ExchangeHistoryService(
        accounts,
        SqlExchangeHistoryStore(engine),
        lambda ex, creds, u: HistoryClient(
            ex, creds, api_url=u, timeout=10, rate_limit_ms=FAST, start_ms=T0 - 20 * 86_400_000, limit=2,
            clock=lambda: NOW[0],
        ),
        prices,
        clock=lambda: NOW[0],
    )  # fmt: skip


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _entries(engine: Engine) -> list[Transaction]:
    return SqlLedgerStore(engine).transactions()


def _shape(t: Transaction) -> tuple[str, str, Decimal, Decimal | None, str | None, Decimal]:
    return (t.kind.value, t.asset, t.amount, t.price, t.price_currency, t.fee)


@pytest.mark.parametrize("exchange", ALL)
def test_trades_deposits_withdrawals_into_the_ledger(exchange: str, engine: Engine) -> None:
    w = base_world(exchange)
    bybit = exchange == "bybit"
    w.status_since = T0 + 1  # Kraken: the first deposit is beyond its status list, in Ledgers
    with running(w) as url:
        service = _service(engine, exchange, url, Prices())
        report: ImportReport = _run(service.import_history())
        (acct,) = report.accounts
        assert acct.error is None and acct.skipped == []
        assert acct.new_records == 6
        entries = _entries(engine)
        title = f"{EXCHANGES[exchange]} (main)"
        assert {t.account for t in entries} == {title}
        assert all((t.fingerprint or "").startswith("exchange:main:") for t in entries)
        got = sorted(_shape(t) for t in entries)
        d = Decimal
        # the withdrawal fee: Bitstamp's withdrawal requests do not state one
        wd_fee = d(0) if exchange == "bitstamp" else d("0.0005")
        # BTC/USDT: valued by BTC's price that day (0.1 x 60,000 = 6,000 USD)
        usdt_unit = d(6000) / d("6000.05")
        want = sorted([
            ("sell", USDT, d("6000.05"), usdt_unit, "USD", d(0) if bybit else d("0.5")),
            ("buy", BTC, d("0.1"), d(60000), "USD", d("0.0001") if bybit else d(0)),
            # ETH/BTC: valued by the BTC received (0.075 x 60,000 = 4,500 USD)
            ("sell", ETH, d("1.5"), d(3000), "USD", d(0)),
            ("buy", BTC, d("0.075"), d(60000), "USD", d("0.000075")),
            # BTC/EUR: a sale in euros; the cash received is the cost less the euro fee
            ("sell", BTC, d("0.05"), d(55000), "EUR", d("2.75")),
            ("deposit", "fiat:EUR", d("2747.25"), d(1), "EUR", d(0)),
            ("deposit", USDT, d(7000), None, None, d(0)),
            ("deposit", ETH, d(2), None, None, d(0)),
            ("withdrawal", BTC, d("0.02"), None, None, wd_fee),
        ])  # fmt: skip
        assert [(*g[:3], g[4], g[5]) for g in got] == [(*x[:3], x[4], x[5]) for x in want]
        for g, x in zip(got, want, strict=True):  # prices exact to the ledger's precision
            assert (g[3] is None) == (x[3] is None)
            if g[3] is not None and x[3] is not None:
                assert abs(g[3] - x[3]) < d("1e-20")
        hashes = {r.id: r.txid for r in SqlExchangeHistoryStore(engine).records("main")}
        if exchange == "kraken":  # from Ledgers (no hash) and from the status list (its hash)
            assert hashes["101"] is None and hashes["102"] == "0x" + "b" * 64
        sent = len(w.requests)
        # nothing new: the second import adds nothing and asks from the cursors on
        again = _run(service.import_history())
        assert again.accounts[0].new_records == 0 and again.accounts[0].added == 0
        assert len(_entries(engine)) == len(entries)
        # something new: only that is added
        w.trades.append(
            FakeTrade(
                106,
                T0 + 20 * H,
                "ETH",
                "USDT",
                "buy",
                "0.25",
                "4000",
                *(("0.00025", "ETH") if bybit else ("1", "USDT")),
            )
        )
        w.deposits.append(FakeTransfer("103", T0 + 21 * H, "USDT", "50", txid="0x" + "d" * 64))
        NOW[0] = (T0 + 30 * H) / 1000
        third = _run(service.import_history())
        assert third.accounts[0].new_records == 2, third
        assert third.accounts[0].added == 3  # two legs of the trade, the deposit
        assert len(_entries(engine)) == len(entries) + 3
        assert len(w.requests) > sent
    # every private request signed; the secret itself never crossed the wire
    for _, path, headers, body in w.requests:
        assert KEY.secret not in path and KEY.secret.encode() not in body
        assert KEY.secret not in str(headers)


@pytest.mark.parametrize("exchange", ALL)
def test_a_429_half_way_keeps_what_was_read(exchange: str, engine: Engine) -> None:
    w = base_world(exchange)
    # fail after the market lists (Kraken: assets and pairs) and a page or two of history
    w.mode, w.fail_after = "429", 3 if exchange == "kraken" else 2
    with running(w) as url:
        service = _service(engine, exchange, url)
        first = _run(service.import_history())
        (acct,) = first.accounts
        assert acct.error is not None and "slow down" in acct.error
        assert KEY.secret not in acct.error and KEY.api_key not in acct.error
        kept = len(_entries(engine))
        assert acct.new_records > 0 and kept > 0  # what was read before the 429 is kept
        w.mode, w.fail_after = None, None
        second = _run(service.import_history())
        assert second.accounts[0].error is None
        assert acct.new_records + second.accounts[0].new_records == 6
        fps = [t.fingerprint for t in _entries(engine)]
        assert len(fps) == len(set(fps)) == 9


def test_the_exchange_down_fails_with_a_sentence_and_keeps_the_ledger(engine: Engine) -> None:
    w = base_world()
    with running(w) as url:
        service = _service(engine, "okx", url)
        _run(service.import_history())
    before = len(_entries(engine))
    report = _run(service.import_history())  # the server is gone
    assert "could not be reached" in (report.accounts[0].error or "")
    assert len(_entries(engine)) == before


@pytest.mark.parametrize("exchange", ["binance", "okx", "bitstamp"])
def test_a_pending_withdrawal_is_read_again_until_it_completes(
    exchange: str, engine: Engine
) -> None:
    w = base_world(exchange)
    w.withdrawals[0].status = "pending"
    with running(w) as url:
        service = _service(engine, exchange, url)
        _run(service.import_history())
        fps = {t.fingerprint for t in _entries(engine)}
        assert "exchange:main:withdrawal:201" not in fps
        w.withdrawals[0].status = "ok"
        NOW[0] = (T0 + 40 * H) / 1000
        report = _run(service.import_history())
    assert report.accounts[0].new_records == 1
    assert "exchange:main:withdrawal:201" in {t.fingerprint for t in _entries(engine)}


@pytest.mark.parametrize("exchange", ALL)
def test_hostile_records_are_skipped_with_a_reason(
    exchange: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    w = base_world(exchange)
    if exchange != "bitstamp":  # Bitstamp's format writes a buy's sign into its amounts
        w.trades.append(FakeTrade(7, T0 + 6 * H, "BTC", "USDT", "buy", "-3", "1", "0", "USDT"))
    w.trades.append(FakeTrade(8, T0 + 900 * 24 * H, "BTC", "USDT", "buy", "1", "1", "0", "USDT"))
    w.deposits.append(FakeTransfer("104", T0 + 8 * H, "US<b>DT", "1"))
    w.deposits.append(FakeTransfer("105", T0 + 9 * H, "USDT", "0"))
    with running(w) as url, caplog.at_level(logging.INFO):
        service = _service(engine, exchange, url)
        report = _run(service.import_history())
    (acct,) = report.accounts
    assert acct.error is None and acct.new_records == 6  # the good ones, all of them
    assert acct.skipped and "record skipped" in caplog.text
    entries = _entries(engine)
    assert len(entries) == 9  # nothing of the hostile ones reached the ledger
    assert not any("<" in t.asset or t.amount in (3, 0) for t in entries)
    # what each format can carry is refused with its reason; where a format cannot carry it,
    # it never arrives: Bybit is asked up to now only, Coinbase lists no account whose coin is
    # not plain, and a transfer of nothing is neither a deposit nor a withdrawal there
    reasons = " | ".join(acct.skipped)
    if exchange in ("binance", "okx", "kraken"):
        assert len(acct.skipped) == 4, acct.skipped
    assert "no believable time" in reasons or exchange == "bybit"
    assert "coin code" in reasons or exchange in ("coinbase", "bitstamp")


def test_a_missing_key_is_a_sentence(engine: Engine) -> None:
    with running(base_world()) as url:
        service = _service(engine, "binance", url)
        service._accounts.keys.clear()  # type: ignore[attr-defined]
        report = _run(service.import_history())
    assert "not in the keyring" in (report.accounts[0].error or "")
    assert _entries(engine) == []


def test_unknown_account_name_is_refused(engine: Engine) -> None:
    from app.domain.errors import ChainfolioError

    with running(base_world()) as url:
        service = _service(engine, "binance", url)
        with pytest.raises(ChainfolioError, match="No exchange account named nope"):
            _run(service.import_history("nope"))
    assert TxKind.TRANSFER  # the module's kinds are the ledger's


# ---- matching with the person's own wallets ------------------------------------------------------
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
H1, H2, H3, H4 = ("0x" + c * 64 for c in "1234")


def _onchain(engine: Engine, moves: list[tuple[str, int, str, int]]) -> Any:
    """The wallet's on-chain history imported into the ledger the history-ledger way: (tx,
    ms, asset, raw delta) movements through plan_import and sync_ledger."""
    from app.domain.onchain import Movement
    from app.domain.onchain_ledger import AssetFacts, chain_prefix, plan_import
    from app.storage.onchain_store import SqlOnchainStore

    store = SqlOnchainStore(engine)
    now = int(NOW[0])
    accounts = store.ensure_accounts([(WALLET, "Main")], now)
    movements = [
        Movement("eip155:1", tx, 100 + i, ts // 1000, WALLET, asset, delta, index=0)
        for i, (tx, ts, asset, delta) in enumerate(moves)
    ]
    facts = {ETH: AssetFacts(18, native=True), USDT: AssetFacts(6)}
    plan = plan_import(movements, [], accounts, facts.get, lambda _a, _t: None, now)
    return store.sync_ledger([chain_prefix("eip155:1")], plan.transactions, now)


def test_withdrawals_and_deposits_matched_with_own_wallets_become_transfers(
    engine: Engine,
) -> None:
    w = base_world()
    w.trades = []
    w.withdrawals = [FakeTransfer("201", T0 + 5 * H, "ETH", "0.5", "0.001", txid=H1)]
    w.deposits = [
        FakeTransfer("102", T0 + 4 * H, "ETH", "2"),  # the exchange names no hash
        FakeTransfer("101", T0, "USDT", "7000", txid=H4),
    ]
    moves = [
        (H1, T0 + 5 * H + 600_000, ETH, 5 * 10**17),  # the withdrawal arriving
        (H3, T0 + 5 * H + 300_000, ETH, 5 * 10**17),  # same amount, nearer, another hash
        (H2, T0 + 4 * H - 1_200_000, ETH, -2 * 10**18),  # sent to the exchange
        (H4, T0 - 72 * H, USDT, -7000 * 10**6),  # same hash but three days before: no
    ]
    _onchain(engine, moves)
    with running(w) as url:
        service = _service(engine, "okx", url)
        report = _run(service.import_history())
    (acct,) = report.accounts
    assert acct.error is None and acct.matched == 2
    by_fp = {t.fingerprint: t for t in _entries(engine)}
    exchange = "OKX (main)"
    wallet = next(t.account for t in by_fp.values() if t.account != exchange)
    assert wallet.startswith("Wallet Main")
    out = next(t for t in by_fp.values() if f":{H1}:" in (t.fingerprint or ""))
    assert (out.kind, out.account, out.to_account) == (TxKind.TRANSFER, exchange, wallet)
    assert (out.amount, out.fee, out.fee_currency) == (Decimal("0.5"), Decimal("0.001"), ETH)
    into = next(t for t in by_fp.values() if f":{H2}:" in (t.fingerprint or ""))
    assert (into.kind, into.account, into.to_account) == (TxKind.TRANSFER, wallet, exchange)
    assert into.amount == 2 and into.fee == 0
    decoy = next(t for t in by_fp.values() if f":{H3}:" in (t.fingerprint or ""))
    assert decoy.kind is TxKind.DEPOSIT and decoy.account == wallet
    usdt_out = next(t for t in by_fp.values() if f":{H4}:" in (t.fingerprint or ""))
    assert usdt_out.kind is TxKind.WITHDRAWAL  # outside the window: no match
    assert "exchange:main:withdrawal:201" not in by_fp  # the transfer stands for it
    assert "exchange:main:deposit:102" not in by_fp
    assert "exchange:main:deposit:101" in by_fp
    before = sorted((t.fingerprint or "", t.kind.value) for t in _entries(engine))
    # the on-chain import run again leaves the transfers; the exchange import too
    synced = _onchain(engine, moves)
    assert (synced.added, synced.removed) == (0, 0)
    with running(w) as url:
        again = _run(_service_again(engine, url).import_history())
    assert again.accounts[0].added == 0 and again.accounts[0].removed == 0
    assert sorted((t.fingerprint or "", t.kind.value) for t in _entries(engine)) == before
    # a re-org drops the chain's side: the exchange's withdrawal is back on its own
    _onchain(engine, [m for m in moves if m[0] != H1])
    with running(w) as url:
        _run(_service_again(engine, url).import_history())
    by_fp = {t.fingerprint: t for t in _entries(engine)}
    back = by_fp["exchange:main:withdrawal:201"]
    assert (back.kind, back.amount, back.fee) == (
        TxKind.WITHDRAWAL,
        Decimal("0.5"),
        Decimal("0.001"),
    )
    assert by_fp[into.fingerprint].kind is TxKind.TRANSFER  # the other match holds


def _service_again(engine: Engine, url: str) -> ExchangeHistoryService:
    accounts = Accounts(SqlExchangeStore(engine))
    accounts.keys["main"] = KEY
    return ExchangeHistoryService(
        accounts,
        SqlExchangeHistoryStore(engine),
        lambda ex, creds, u: HistoryClient(
            ex, creds, api_url=u, timeout=10, rate_limit_ms=FAST, start_ms=T0 - 20 * 86_400_000, limit=2,
            clock=lambda: NOW[0],
        ),
        clock=lambda: NOW[0],
    )  # fmt: skip
