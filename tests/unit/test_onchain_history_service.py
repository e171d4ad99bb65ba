"""The history scan service with fake sources over the real SQLite stores: batches stored as
they come, progress with an estimate, cancel keeps what was stored, every source failing is one
clear message with nothing stored, the ledger import is idempotent and fills prices in."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.domain.addresses import AddressFamily
from app.domain.errors import ChainfolioError
from app.domain.ledger import TxKind
from app.domain.model import Wallet
from app.domain.onchain import Fee, HistorySource, Movement, MovementKind, ScanBatch, ScanRequest
from app.domain.onchain_ledger import AssetFacts
from app.services.onchain_history import (
    ChainSource,
    HistoryScanError,
    OnchainHistoryService,
    PriceFetch,
    ScanProgress,
)
from app.storage.database import open_database
from app.storage.ledger_store import SqlLedgerStore
from app.storage.onchain_store import SqlOnchainStore

CHAIN = "eip155:1"
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
DAY = 86_400
T0 = 1_700_000_000 - 1_700_000_000 % DAY
FACTS = {ETH: AssetFacts(18, native=True), USDC: AssetFacts(6)}


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class FakeSource:
    """Yields the given batches; ``fail`` raises after them; ``hold`` waits forever after."""

    def __init__(
        self,
        chain: str,
        batches: Sequence[ScanBatch],
        *,
        fail: BaseException | None = None,
        hold: asyncio.Event | None = None,
    ) -> None:
        self._chain = chain
        self._batches = batches
        self._fail = fail
        self._hold = hold
        self.requests: list[ScanRequest] = []
        self.closed = False

    @property
    def chain(self) -> str:
        return self._chain

    async def scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]:
        self.requests = list(requests)
        for b in self._batches:
            await asyncio.sleep(0)
            yield b
        if self._hold is not None:
            self._hold.set()
            await asyncio.Event().wait()
        if self._fail is not None:
            raise self._fail

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    """A second passes every time it is read."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1
        return self.now


class Prices:
    def __init__(self, stored: dict[str, dict[int, Decimal]]) -> None:
        self.stored = stored

    def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
        return {a: {d: p for d, p in self.stored.get(a, {}).items() if d >= start} for a in assets}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")


def wallets() -> list[Wallet]:
    return [Wallet(A, AddressFamily.EVM, "Main"), Wallet(B, AddressFamily.EVM, "Cold")]


def mv(tx: str, wallet: str, asset: str, delta: int, block: int, index: int = 0) -> Movement:
    kind = MovementKind.NATIVE if asset == ETH else MovementKind.TOKEN
    return Movement(CHAIN, tx, block, T0 + block * 60, wallet, asset, delta, kind, None, index)


BATCHES = (
    ScanBatch(CHAIN, (mv("0x01", A, USDC, 100_000_000, 1),), (), {A: "10", B: "10"}, {}, 10, 20),
    ScanBatch(
        CHAIN,
        (mv("0x02", A, USDC, -40_000_000, 12), mv("0x02", B, USDC, 40_000_000, 12, 1)),
        (Fee(CHAIN, "0x02", 12, T0 + 720, A, ETH, 10**15),),
        {A: "20", B: "20"},
        {},
        20,
        20,
    ),
)


def service(
    engine: Engine,
    sources: list[ChainSource],
    prices: Prices | None = None,
    fetch: PriceFetch | None = None,
) -> OnchainHistoryService:
    def catalog(assets: Sequence[str]) -> Mapping[str, AssetFacts]:
        return {a: FACTS[a] for a in assets if a in FACTS}

    return OnchainHistoryService(
        lambda: sources, wallets, SqlOnchainStore(engine), prices or Prices({}), catalog,
        fetch_prices=fetch, clock=Clock(T0 + 30 * DAY),
    )  # fmt: skip


def src(source: HistorySource, chain: str = CHAIN, name: str = "Ethereum") -> ChainSource:
    return ChainSource(chain, name, "evm", lambda: source)


@sync
async def test_scan_stores_batches_imports_the_ledger_and_reports_progress(engine: Engine) -> None:
    fake = FakeSource(CHAIN, BATCHES)
    svc = service(engine, [src(fake)], Prices({USDC: {T0: Decimal(1)}, ETH: {T0: Decimal(2000)}}))
    events: list[ScanProgress] = []
    svc.subscribe(events.append)
    report = await svc.scan()
    assert fake.closed and [r.cursor for r in fake.requests] == [None, None]
    (chain,) = report.chains
    assert (chain.wallets, chain.fees, chain.error) == ({A: 2, B: 1}, 1, None)
    assert [e.overall for e in events] == [0.5, 1.0] and events[-1].eta_seconds == 0
    txs = SqlLedgerStore(engine).transactions()
    kinds = sorted(t.kind.value for t in txs)
    assert kinds == ["deposit", "fee", "transfer"]
    deposit = next(t for t in txs if t.kind is TxKind.DEPOSIT)
    assert deposit.price == Decimal(1) and deposit.amount == Decimal(100)
    assert report.ledger.added == 3 and set(report.ledger.accounts) == {A, B}
    # scanning again resumes from the cursors and adds nothing to the ledger
    again = FakeSource(CHAIN, ())
    svc2 = service(engine, [src(again)])
    report2 = await svc2.scan()
    assert [r.cursor for r in again.requests] == ["20", "20"]
    assert report2.ledger.added == 0 and len(SqlLedgerStore(engine).transactions()) == 3


@sync
async def test_every_source_failing_is_one_clear_message_and_nothing_is_stored(
    engine: Engine,
) -> None:
    down = FakeSource(CHAIN, (), fail=ChainfolioError("the node refused the request"))
    broken = FakeSource("eip155:10", (), fail=RuntimeError("bug"))
    svc = service(engine, [src(down), src(broken, "eip155:10", "Optimism")])
    with pytest.raises(HistoryScanError) as info:
        await svc.scan()
    text = str(info.value)
    assert "Ethereum: the node refused the request" in text
    assert "Optimism: an unexpected error" in text and "RuntimeError" not in text
    assert SqlOnchainStore(engine).movements() == []
    assert SqlLedgerStore(engine).accounts() == []


@sync
async def test_what_a_source_could_not_see_is_in_the_report(engine: Engine) -> None:
    note = "Native transfers are not read: the node has no trace_filter."
    batch = ScanBatch(CHAIN, (), (), {A: "1", B: "1"}, {}, 1, 1, notes=(note,))
    report = await service(engine, [src(FakeSource(CHAIN, (batch, batch)))]).scan()
    assert report.chains[0].notes == [note]
    assert report.notes[0] == f"Ethereum: {note}"


@sync
async def test_one_chain_failing_keeps_the_others(engine: Engine) -> None:
    ok = FakeSource(CHAIN, BATCHES)
    down = FakeSource("eip155:10", (), fail=TimeoutError())
    report = await service(engine, [src(ok), src(down, "eip155:10", "Optimism")]).scan()
    assert [c.error for c in report.failed] == ["the node did not answer in time"]
    assert len(SqlOnchainStore(engine).movements()) == 3


@sync
async def test_cancel_keeps_every_stored_batch_and_still_imports_them(engine: Engine) -> None:
    held = asyncio.Event()
    fake = FakeSource(CHAIN, BATCHES[:1], hold=held)
    svc = service(engine, [src(fake)])
    task = asyncio.create_task(svc.scan())
    await held.wait()
    assert svc.running
    svc.cancel()
    report = await task
    assert report.cancelled and report.chains[0].cancelled and fake.closed
    assert SqlOnchainStore(engine).cursors(CHAIN) == {A: "10", B: "10"}
    assert [t.kind for t in SqlLedgerStore(engine).transactions()] == [TxKind.DEPOSIT]
    assert not svc.running


@sync
async def test_missing_price_days_are_fetched_before_the_import(engine: Engine) -> None:
    prices = Prices({})
    asked: list[tuple[tuple[str, ...], int, int]] = []

    async def fetch(assets: Sequence[str], start: int, end: int) -> None:
        asked.append((tuple(assets), start, end))
        prices.stored[USDC] = {T0: Decimal("0.999")}

    svc = service(engine, [src(FakeSource(CHAIN, BATCHES[:1]))], prices, fetch)
    await svc.scan()
    assert asked and asked[0][0] == (USDC,) and asked[0][1] <= T0 <= asked[0][2]
    (deposit,) = SqlLedgerStore(engine).transactions()
    assert deposit.price == Decimal("0.999")


@sync
async def test_a_price_fetch_that_fails_leaves_the_basis_unknown_with_a_note(
    engine: Engine,
) -> None:
    async def fetch(_assets: Sequence[str], _start: int, _end: int) -> None:
        raise ChainfolioError("DefiLlama did not answer")

    svc = service(engine, [src(FakeSource(CHAIN, BATCHES))], Prices({}), fetch)
    report = await svc.scan()
    assert any("DefiLlama did not answer" in n for n in report.notes)
    deposit = next(t for t in SqlLedgerStore(engine).transactions() if t.kind is TxKind.DEPOSIT)
    assert deposit.price is None


@sync
async def test_unknown_wallet_or_network_is_said_plainly(engine: Engine) -> None:
    svc = service(engine, [src(FakeSource(CHAIN, ()))])
    with pytest.raises(ChainfolioError, match="No wallet"):
        await svc.scan(wallet="0x0000000000000000000000000000000000000001")
    with pytest.raises(ChainfolioError, match="No enabled network"):
        await svc.scan(chain="Dogechain")
    report = await svc.scan(wallet="Main", chain="ethereum")
    assert report.chains[0].chain == CHAIN


@sync
async def test_a_source_for_another_chain_is_refused(engine: Engine) -> None:
    wrong = FakeSource(CHAIN, (ScanBatch("eip155:10", (), (), {A: "1"}),))
    with pytest.raises(HistoryScanError, match="another network"):
        await service(engine, [src(wrong)]).scan()


@sync
async def test_a_reorg_reread_replaces_the_ledger_entries_it_changed(engine: Engine) -> None:
    prices = Prices({USDC: {T0: Decimal(1)}})
    await service(engine, [src(FakeSource(CHAIN, BATCHES))], prices).scan()
    before = {t.fingerprint for t in SqlLedgerStore(engine).transactions()}
    # blocks from 12 on were re-read: the transfer 0x02 vanished, a deposit 0x03 took its place
    reorg = ScanBatch(
        CHAIN, (mv("0x03", A, USDC, 7_000_000, 13),), (), {A: "30", B: "30"},
        {A: 12, B: 12}, 30, 30,
    )  # fmt: skip
    report = await service(engine, [src(FakeSource(CHAIN, (reorg,)))], prices).scan()
    assert (report.ledger.added, report.ledger.removed) == (1, 2)  # the transfer and its fee
    txs = SqlLedgerStore(engine).transactions()
    assert sorted((t.kind.value, t.amount) for t in txs) == [
        ("deposit", Decimal(7)), ("deposit", Decimal(100))
    ]  # fmt: skip
    assert len(before & {t.fingerprint for t in txs}) == 1  # the first deposit stayed as it was
