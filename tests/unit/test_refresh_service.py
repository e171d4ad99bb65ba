"""RefreshService with fakes of the chain readers and prices, and the real snapshot store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AccountId, ChainId
from app.domain.model import Wallet
from app.domain.snapshot import Snapshot
from app.services.refresh import ReadChain, RefreshProgress, RefreshResult, RefreshService
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
WALLET = Wallet(id=1, address=ADDR, family=AddressFamily.EVM)


def spec(n: int) -> ChainSpec:
    return ChainSpec(ChainId.evm(n), f"Chain {n}", ChainFamily.EVM, "ETH", "Ether", 18, 60, ("x",))


A, B = spec(1), spec(8453)


def eth(chain: ChainSpec, raw: int) -> Balance:
    asset = AssetInfo(chain.native_asset, "ETH", "Ether", 18)
    return Balance(AccountId(chain.chain_id, ADDR), asset, raw)


@dataclass
class Priced:
    asset_id: str
    price: Decimal | None
    source: str | None = "coingecko"


@dataclass
class Prices:
    quotes: list[Priced]
    errors: tuple[str, ...] = ()


class FakePricer:
    def __init__(self, price: str = "2000") -> None:
        self.price = Decimal(price)
        self.calls = 0
        self.fail = False
        self.asked: list[tuple[list[str], Prices | None]] = []  # assets asked, known
        self.fail_calls: set[int] = set()  # these calls (counted from 1) raise
        self.hold: asyncio.Event | None = None  # each call waits for it
        self.called: asyncio.Event | None = None  # set by each call
        self.cancelled = 0

    async def __call__(
        self, balances: Sequence[Balance], currency: str, known: Prices | None = None
    ) -> Prices:
        self.calls += 1
        self.asked.append((sorted({str(b.asset.asset_id) for b in balances}), known))
        if self.called is not None:
            self.called.set()
        if self.hold is not None:
            try:
                await self.hold.wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        if self.fail or self.calls in self.fail_calls:
            raise RuntimeError("price source exploded")
        return Prices([Priced(str(b.asset.asset_id), self.price) for b in balances])


class FakeChains:
    def __init__(self) -> None:
        self.raw = {A.chain_id: 10**18, B.chain_id: 2 * 10**18}
        self.failing: set[ChainId] = set()
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def read(self, chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        if chain.chain_id in self.failing:
            return ChainReadResult(chain.chain_id, SourceState.FAILED, error="node timed out")
        return ChainReadResult(
            chain.chain_id, SourceState.OK, balances=(eth(chain, self.raw[chain.chain_id]),)
        )


@pytest.fixture
def store(tmp_path: Path) -> SqlSnapshotStore:
    return SqlSnapshotStore(open_database(tmp_path / "db.sqlite3", tmp_path / "b"))


def service_of(
    chains: Sequence[ChainSpec], read: ReadChain, store: SqlSnapshotStore, now: list[float],
    pricer: FakePricer | None = None, wallets: Sequence[Wallet] = (WALLET,),
) -> RefreshService:  # fmt: skip
    """The service as the composition root wires it, retention step included."""
    priced = pricer or FakePricer()
    service = RefreshService(
        lambda: chains, lambda: wallets, read, lambda: priced, store, lambda: "USD",
        clock=lambda: now[0],
    )  # fmt: skip

    async def retention(result: RefreshResult) -> None:
        await asyncio.to_thread(store.compact, result.started_at)

    service.add_step("retention", retention)
    return service


def make(
    store: SqlSnapshotStore, chains: FakeChains, pricer: FakePricer, now: list[float]
) -> RefreshService:
    return service_of([A, B], chains.read, store, now, pricer)


def refresh(service: RefreshService) -> Snapshot:
    """Run one refresh that must store a snapshot; return the stored snapshot."""
    result = asyncio.run(service.refresh())
    assert result.stored and result.snapshot is not None, result.summary
    return result.snapshot


def test_snapshot_values_every_holding(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    snap = refresh(make(store, chains, pricer, now))
    assert snap.id is not None and snap.total == Decimal(6000)
    latest = store.latest()
    assert latest is not None and latest.total == Decimal(6000) and latest.stale_total == 0
    assert {h.raw for h in latest.holdings} == {10**18, 2 * 10**18}
    assert all(s.state is SourceState.OK for s in latest.sources)


def test_failed_chain_keeps_last_good_holdings_marked_stale(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    asyncio.run(service.refresh())
    chains.failing.add(B.chain_id)
    chains.raw[A.chain_id] = 3 * 10**18
    now[0] = 2000.0
    snap = refresh(service)
    by_chain = {h.chain: h for h in snap.holdings}
    assert by_chain["eip155:1"].state is SourceState.OK and by_chain["eip155:1"].raw == 3 * 10**18
    stale = by_chain["eip155:8453"]
    assert stale.state is SourceState.STALE and stale.as_of == 1000 and stale.raw == 2 * 10**18
    status = {s.source: s for s in snap.sources}["eip155:8453"]
    assert status.state is SourceState.STALE and status.reason == "node timed out"
    assert status.as_of == 1000
    assert snap.total == Decimal(10000) and snap.stale_total == Decimal(4000)
    assert store.count() == 2  # history kept


def test_failed_chain_without_history_is_failed_not_zero(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    chains.failing.add(A.chain_id)
    snap = refresh(make(store, chains, pricer, now))
    assert {s.source: s.state for s in snap.sources}["eip155:1"] is SourceState.FAILED
    assert [h.chain for h in snap.holdings] == ["eip155:8453"]


def test_concurrent_requests_join_one_refresh(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)

    async def scenario() -> tuple[int | None, int | None]:
        chains.gate = asyncio.Event()
        first = asyncio.ensure_future(service.refresh())
        await asyncio.sleep(0)
        assert service.running
        second = asyncio.ensure_future(service.refresh())
        chains.gate.set()
        a, b = await asyncio.gather(first, second)
        assert a is b and a.snapshot is not None
        return a.snapshot.id, b.snapshot.id if b.snapshot else None

    a, b = asyncio.run(scenario())
    assert a == b and chains.reads == 2 and pricer.calls == 1 and store.count() == 1


def test_nothing_half_written_when_pricing_fails(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    pricer.fail = True
    with pytest.raises(RuntimeError):
        asyncio.run(make(store, chains, pricer, now).refresh())
    assert store.count() == 0


def test_snapshot_write_is_atomic(store: SqlSnapshotStore) -> None:
    """An error in the middle of writing holdings leaves no totals row behind."""
    from app.domain.snapshot import Snapshot, SnapshotHolding

    h = SnapshotHolding(f"eip155:1:{ADDR}", "eip155:1/slip44:60", "ETH", 18, 1, None, None,
                        SourceState.OK, 1)  # fmt: skip
    with pytest.raises(IntegrityError):
        store.write(Snapshot(1, "USD", (h, h), ()))  # duplicate key on the second holding
    assert store.count() == 0 and store.latest() is None


def test_progress_events(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    events: list[RefreshProgress] = []
    service.subscribe(events.append)
    asyncio.run(service.refresh())
    stages = [e.stage for e in events]
    assert stages[0] == "started" and stages[-1] == "done"
    assert stages.count("chain") == 2 and stages[-3:] == ["pricing", "saving", "done"]
    assert events[-1].total == 2


def test_timeline_totals(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    for t in (1000.0, 2000.0, 3000.0):
        now[0] = t
        chains.raw[A.chain_id] += 10**18
        asyncio.run(service.refresh())
    assert store.totals() == [(1000, Decimal(8000)), (2000, Decimal(10000)), (3000, Decimal(12000))]
    assert store.totals(start=1500, end=2500) == [(2000, Decimal(10000))]


def test_retention_keeps_all_then_hourly_then_daily(store: SqlSnapshotStore) -> None:
    """Snapshots every 20 minutes for 120 days, compacted: the right rows survive."""
    from sqlalchemy import text

    from app.domain.snapshot import Snapshot, SnapshotHolding
    from app.storage.snapshot_store import DAY, HOUR, compact

    now = 200 * DAY
    start = now - 120 * DAY
    engine = store._engine
    for t in range(start, now + 1, 20 * 60):
        h = SnapshotHolding(f"eip155:1:{ADDR}", "eip155:1/slip44:60", "ETH", 18, t, None, None,
                            SourceState.OK, t)  # fmt: skip
        store.write(Snapshot(t, "USD", (h,), ()))
    removed = compact(engine, now)
    times = [t for t, _ in store.totals()]
    assert removed > 0 and len(times) + removed == (120 * DAY) // (20 * 60) + 1
    recent = [t for t in times if t >= now - 7 * DAY]
    assert len(recent) == 7 * 24 * 3 + 1  # all kept
    hourly = [t for t in times if now - 90 * DAY <= t < now - 7 * DAY]
    assert len({t // HOUR for t in hourly}) == len(hourly)  # at most one per hour
    assert len(hourly) == 83 * 24  # and one in every hour
    daily = [t for t in times if t < now - 90 * DAY]
    assert len({t // DAY for t in daily}) == len(daily) == 30
    assert all(t % DAY == DAY - 20 * 60 for t in daily)  # the last of each day is kept
    with engine.connect() as con:  # holdings of removed snapshots went with them
        orphans = con.execute(
            text(
                "SELECT count(*) FROM snapshot_holdings WHERE snapshot_id NOT IN "
                "(SELECT id FROM snapshots)"
            )
        ).scalar()
    assert orphans == 0
    assert compact(engine, now) == 0  # idempotent


def test_each_refresh_applies_retention(store: SqlSnapshotStore) -> None:
    """The window's refresh and the CLI's share the service, so both compact history."""
    from app.domain.snapshot import Snapshot
    from app.storage.snapshot_store import DAY

    chains, pricer, now = FakeChains(), FakePricer(), [300.0 * DAY]
    for t in (100 * DAY + 10, 100 * DAY + 20, 100 * DAY + 30):  # one old day, three snapshots
        store.write(Snapshot(t, "USD", (), ()))
    asyncio.run(make(store, chains, pricer, now).refresh())
    assert [t for t, _ in store.totals()] == [100 * DAY + 30, 300 * DAY]


def test_wallet_balance_and_position_of_same_asset_are_valued_separately(
    store: SqlSnapshotStore,
) -> None:
    """A wallet can hold USDC and supply USDC to a lending market; a debt counts negative."""
    from app.domain.positions import LendingAccount

    usdc = AssetInfo(A.native_asset, "ETH", "Ether", 18)
    acct = AccountId(A.chain_id, ADDR)
    held = Balance(acct, usdc, 10**18)
    supplied = Balance(acct, usdc, 3 * 10**18, "aave-v3:supplied")
    borrowed = Balance(acct, usdc, -(10**18), "aave-v3:borrowed")
    spam = Balance(acct, AssetInfo(A.native_asset, "ETH", "Ether", 18, is_spam=True), 10**18)
    account = LendingAccount(
        str(acct), "aave-v3", str(A.chain_id), "", Decimal(6000), Decimal(2000),
        Decimal("0.825"), Decimal("2.475"), (str(usdc.asset_id),), (str(usdc.asset_id),),
    )  # fmt: skip
    spam_balance = Balance(acct, spam.asset, spam.raw, "junk:rewards")

    async def read(chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        balances = (held, supplied, borrowed, spam_balance) if chain == A else ()
        return ChainReadResult(
            chain.chain_id, SourceState.OK, balances=balances,
            accounts=(account,) if chain == A else (),
        )  # fmt: skip

    snap = refresh(service_of([A, B], read, store, [1000.0]))
    values = {h.position: h.value for h in snap.holdings}
    assert values == {
        "": Decimal(2000), "aave-v3:supplied": Decimal(6000),
        "aave-v3:borrowed": Decimal(-2000), "junk:rewards": Decimal(2000),
    }  # fmt: skip
    assert snap.total == Decimal(6000)  # spam is kept but never counted
    latest = store.latest()
    assert latest is not None and latest.total == Decimal(6000)
    assert {h.key for h in latest.holdings} == {h.key for h in snap.holdings}
    assert [h.is_spam for h in latest.holdings if h.position == "junk:rewards"] == [True]
    assert latest.accounts == (account,)


def test_failed_chain_carries_positions_and_accounts_over(store: SqlSnapshotStore) -> None:
    from app.domain.positions import LendingAccount

    acct = AccountId(A.chain_id, ADDR)
    eth_asset = AssetInfo(A.native_asset, "ETH", "Ether", 18)
    account = LendingAccount(
        str(acct), "aave-v3", str(A.chain_id), "", Decimal(1), Decimal(0), Decimal("0.8"), None
    )
    failing = [False]

    async def read(chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        if failing[0]:
            return ChainReadResult(chain.chain_id, SourceState.FAILED, error="down")
        staked = Balance(acct, eth_asset, 10**18, "lido:staked")
        return ChainReadResult(
            chain.chain_id, SourceState.OK, balances=(staked,), accounts=(account,)
        )

    now = [1000.0]
    service = service_of([A], read, store, now)
    refresh(service)
    failing[0], now[0] = True, 2000.0
    snap = refresh(service)
    [held] = snap.holdings
    assert (held.position, held.state, held.as_of) == ("lido:staked", SourceState.STALE, 1000)
    assert snap.accounts == (account,)


def test_at_or_before_finds_the_snapshot_nearest_a_past_time(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    for t in (1000.0, 5000.0, 9000.0):
        now[0] = t
        asyncio.run(service.refresh())
    assert store.at_or_before(999) is None
    found = store.at_or_before(8999)
    assert found is not None and found.taken_at == 5000
    latest = store.at_or_before(None)
    assert latest is not None and latest.taken_at == 9000


def test_values_and_totals_keep_every_digit() -> None:
    """Decimal's default context rounds to 28 digits; money here never does."""
    from app.domain.snapshot import Snapshot, SnapshotHolding
    from app.domain.valuation import holding_value

    amount = Decimal("123456789.123456789012345678")  # 18 decimals
    value = holding_value(amount, Decimal("1999.123456789"))
    # integer arithmetic, scaled back: 18 + 9 decimals
    exact = 123456789123456789012345678 * 1999123456789
    assert value == Decimal(f"{exact}e-27") and len(value.as_tuple().digits) > 28
    holdings = tuple(
        SnapshotHolding(
            f"eip155:1:{ADDR}", f"eip155:1/erc20:0x{i:040x}", "T", 18, 1, None, v,
            SourceState.OK, 0,
        )
        for i, v in enumerate((value, Decimal("0.000000000000000001")))
    )  # fmt: skip
    assert Snapshot(0, "USD", holdings, ()).total == Decimal(f"{exact + 10**9}e-27")


def test_the_cyclic_collector_pauses_during_a_refresh_and_runs_again_after(
    store: SqlSnapshotStore,
) -> None:
    """A refresh reads, values and stores with the collector paused (its passes over 100,000s of
    new objects cost a window's refresh 25-45 ms); it runs again afterwards, even when the
    refresh failed, and stays off in a process that had turned it off (``refresh --once``)."""
    import gc

    seen: list[bool] = []
    chains, now = FakeChains(), [1000.0]

    async def read(chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        seen.append(gc.isenabled())
        return await chains.read(chain, wallets)

    service = service_of([A, B], read, store, now)
    refresh(service)
    assert seen == [False, False] and gc.isenabled()

    chains.failing = {A.chain_id, B.chain_id}
    now[0] += 60
    assert asyncio.run(service.refresh()).status.value == "failed"
    assert gc.isenabled()

    gc.disable()
    try:
        now[0] += 60
        chains.failing = set()
        refresh(service)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_refresh_prices_what_the_last_one_held_while_the_chains_answer(
    store: SqlSnapshotStore,
) -> None:
    """The price round trip no longer follows the read: the assets the last refresh held are
    priced while the chains answer, and that answer is handed to the pricing after the read
    (which then asks only for assets new since)."""
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    refresh(service)
    ((held, known),) = pricer.asked  # the first refresh knows nothing: priced after the read
    assert known is None and held == ["eip155:1/slip44:60", "eip155:8453/slip44:60"]

    async def second() -> RefreshResult:
        chains.gate, pricer.called = asyncio.Event(), asyncio.Event()
        pricer.called.clear()
        task = asyncio.ensure_future(service.refresh())
        await asyncio.wait_for(pricer.called.wait(), 10)
        # Asked while both chains are still being read.
        assert not task.done() and chains.reads == 4 and pricer.asked[1] == (held, None)
        chains.gate.set()
        return await task

    now[0] += 900
    result = asyncio.run(second())
    assert result.stored and result.snapshot is not None
    assert result.snapshot.total == Decimal(6000)
    assert len(pricer.asked) == 3
    after, known = pricer.asked[2]
    assert after == held and known is not None  # the early answer, handed over
    assert [q.asset_id for q in known.quotes] == held


def test_early_prices_that_fail_leave_the_pricing_to_after_the_read(
    store: SqlSnapshotStore, caplog: pytest.LogCaptureFixture
) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    refresh(service)
    pricer.fail_calls = {2}  # the early request of the second refresh
    now[0] += 900
    with caplog.at_level("WARNING", logger="app.services.refresh"):
        snap = refresh(service)
    assert snap.total == Decimal(6000) and pricer.calls == 3
    assert pricer.asked[2][1] is None  # nothing early to hand over: everything asked again
    assert "asking for the last refresh's prices early failed" in caplog.text


def test_a_read_only_refresh_asks_for_no_price_early(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    refresh(service)
    result = asyncio.run(service.refresh(store=False))
    assert result.status.value == "ok" and pricer.calls == 1


def test_a_cancelled_refresh_drops_its_early_price_request(store: SqlSnapshotStore) -> None:
    chains, pricer, now = FakeChains(), FakePricer(), [1000.0]
    service = make(store, chains, pricer, now)
    refresh(service)

    async def cancelled() -> None:
        chains.gate, pricer.hold, pricer.called = asyncio.Event(), asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(service.refresh())
        await asyncio.wait_for(pricer.called.wait(), 10)
        await service.aclose()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0)  # the dropped request's cancellation is delivered
        # Dropped with the refresh, not left running until the loop closes.
        assert pricer.cancelled == 1

    now[0] += 900
    asyncio.run(cancelled())
    assert store.count() == 1
