"""The refresh pipeline's truthfulness: outcomes, what is stored, steps, logging.

Fakes of the chain readers and the pricer; the real snapshot store on a temporary database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AccountId, ChainId
from app.domain.model import Wallet
from app.domain.outcome import Cause, RefreshStatus, cause_of, plain_reason, summarize_failures
from app.services.refresh import RefreshResult, RefreshService
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from tests.support.chains import solana_spec
from tests.unit.test_refresh_service import FakePricer

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ADDR2 = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
SOL = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
W1 = Wallet(id=1, address=ADDR, family=AddressFamily.EVM)
W2 = Wallet(id=2, address=ADDR2, family=AddressFamily.EVM)
OFFLINE = "Could not read the network: the RPC endpoint could not be reached (ConnectError)."


def evm(n: int, name: str) -> ChainSpec:
    return ChainSpec(ChainId.evm(n), name, ChainFamily.EVM, "ETH", "Ether", 18, 60, ("x",))


ETHEREUM, BASE = evm(1, "Ethereum"), evm(8453, "Base")
SOLANA = solana_spec("x")


def eth(chain: ChainSpec, address: str, raw: int) -> Balance:
    return Balance(
        AccountId(chain.chain_id, address), AssetInfo(chain.native_asset, "ETH", "Ether", 18), raw
    )


class Chains:
    """Each chain answers its balances, fails with ``errors[chain]``, or reads part-way."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.unread: dict[str, set[str]] = {}
        self.raw = 10**18
        self.read_chains: list[str] = []

    async def read(self, chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        cid = str(chain.chain_id)
        self.read_chains.append(cid)
        if cid in self.errors:
            return ChainReadResult(chain.chain_id, SourceState.FAILED, error=self.errors[cid])
        skip = self.unread.get(cid, set())
        balances = tuple(eth(chain, w.address, self.raw) for w in wallets if w.address not in skip)
        unread = tuple(AccountId(chain.chain_id, a) for a in sorted(skip))
        return ChainReadResult(
            chain.chain_id, SourceState.OK, balances=balances, unread=unread, http_requests=2,
            error="ran out of time" if unread else None,
        )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> SqlSnapshotStore:
    return SqlSnapshotStore(open_database(tmp_path / "db.sqlite3", tmp_path / "b"))


def service(
    store: SqlSnapshotStore, chains: Chains, specs: list[ChainSpec], wallets: list[Wallet],
    now: list[float] | None = None,
) -> RefreshService:  # fmt: skip
    clock = now or [1000.0]
    pricer = FakePricer()
    return RefreshService(
        lambda: specs, lambda: wallets, chains.read, lambda: pricer, store, lambda: "USD",
        clock=lambda: clock[0],
    )  # fmt: skip


def test_nothing_read_and_nothing_stored_before_says_failed_and_stores_no_zero(
    store: SqlSnapshotStore,
) -> None:
    chains = Chains()
    chains.errors = {"eip155:1": OFFLINE, "eip155:8453": OFFLINE}
    result = asyncio.run(service(store, chains, [ETHEREUM, BASE], [W1]).refresh())
    assert result.status is RefreshStatus.FAILED and not result.stored
    assert result.failure == result.summary
    assert "No network connection: 2 chains unreachable" in result.summary
    assert "Error" not in result.summary  # no exception class names for people
    assert store.count() == 0 and store.latest() is None


def test_nothing_read_with_history_carries_it_over_and_still_counts_as_failed(
    store: SqlSnapshotStore,
) -> None:
    chains, now = Chains(), [1000.0]
    svc = service(store, chains, [ETHEREUM, BASE], [W1], now)
    assert asyncio.run(svc.refresh()).status is RefreshStatus.OK
    chains.errors = {"eip155:1": OFFLINE, "eip155:8453": "the RPC endpoint timed out"}
    now[0] = 2000.0
    result = asyncio.run(svc.refresh())
    assert result.status is RefreshStatus.FAILED and result.failure is not None
    assert result.stored and result.snapshot is not None
    assert all(h.state is SourceState.STALE and h.as_of == 1000 for h in result.snapshot.holdings)
    assert result.snapshot.total == store.totals()[0][1]  # the same value, not a cliff
    assert "Ethereum" in result.summary and "Base" in result.summary


def test_chains_without_a_wallet_of_their_family_are_not_read_or_counted(
    store: SqlSnapshotStore,
) -> None:
    chains = Chains()
    chains.errors = {str(SOLANA.chain_id): OFFLINE}  # would fail, were it read
    result = asyncio.run(service(store, chains, [ETHEREUM, SOLANA], [W1]).refresh())
    assert chains.read_chains == ["eip155:1"]
    assert result.status is RefreshStatus.OK and [c.chain for c in result.chains] == ["eip155:1"]
    assert result.snapshot is not None
    assert [s.source for s in result.snapshot.sources] == ["eip155:1"]


def test_no_wallets_is_empty_not_a_failure(store: SqlSnapshotStore) -> None:
    result = asyncio.run(service(store, Chains(), [ETHEREUM], []).refresh())
    assert result.status is RefreshStatus.EMPTY and result.failure is None and not result.stored


def test_a_chain_read_part_way_keeps_what_it_read_and_carries_the_rest(
    store: SqlSnapshotStore,
) -> None:
    chains, now = Chains(), [1000.0]
    svc = service(store, chains, [ETHEREUM], [W1, W2], now)
    asyncio.run(svc.refresh())
    chains.raw, now[0] = 5 * 10**18, 2000.0
    chains.unread = {"eip155:1": {ADDR2}}
    result = asyncio.run(svc.refresh())
    assert result.status is RefreshStatus.PARTIAL and result.failure is None
    assert result.snapshot is not None
    held = {h.wallet.rsplit(":", 1)[1]: h for h in result.snapshot.holdings}
    assert (held[ADDR].raw, held[ADDR].state) == (5 * 10**18, SourceState.OK)
    assert (held[ADDR2].raw, held[ADDR2].state, held[ADDR2].as_of) == (
        10**18, SourceState.STALE, 1000,
    )  # fmt: skip
    [report] = result.chains
    assert report.partial and report.read == 1


def test_steps_run_in_order_a_failing_step_does_not_undo_the_snapshot(
    store: SqlSnapshotStore, caplog: pytest.LogCaptureFixture
) -> None:
    svc = service(store, Chains(), [ETHEREUM], [W1])
    ran: list[str] = []

    async def first(result: RefreshResult) -> None:
        ran.append("first")
        raise RuntimeError("step bug")

    async def second(result: RefreshResult) -> None:
        ran.append(f"second:{result.snapshot.id if result.snapshot else None}")

    background_done = asyncio.Event

    async def scenario() -> RefreshResult:
        done = background_done()

        async def slow(result: RefreshResult) -> None:
            await asyncio.sleep(0)
            ran.append("background")
            done.set()

        svc.add_step("first", first)
        svc.add_step("background", slow, background=True)
        svc.add_step("second", second)
        result = await svc.refresh()
        await svc.drain(5)
        assert done.is_set()
        return result

    with caplog.at_level(logging.ERROR):
        result = asyncio.run(scenario())
    assert result.stored and store.count() == 1
    assert ran[0] == "first" and ran[1] == f"second:{result.snapshot.id}"  # type: ignore[union-attr]
    assert ran[2] == "background"
    assert "step 'first' failed" in caplog.text


def test_steps_do_not_run_when_nothing_is_stored(store: SqlSnapshotStore) -> None:
    chains = Chains()
    chains.errors = {"eip155:1": OFFLINE}
    svc = service(store, chains, [ETHEREUM], [W1])
    ran: list[str] = []

    async def step(result: RefreshResult) -> None:
        ran.append("ran")

    svc.add_step("alerts", step)
    asyncio.run(svc.refresh())
    assert ran == []


def test_read_only_refresh_stores_and_prices_nothing(store: SqlSnapshotStore) -> None:
    svc = service(store, Chains(), [ETHEREUM], [W1])
    result = asyncio.run(svc.refresh(store=False))
    assert result.status is RefreshStatus.OK and not result.stored and result.prices is None
    assert [len(r.balances) for r in result.results] == [1]  # what was read, unvalued
    assert store.count() == 0


def test_refreshing_some_chains_keeps_the_others_as_they_were(store: SqlSnapshotStore) -> None:
    chains, now = Chains(), [1000.0]
    svc = service(store, chains, [ETHEREUM, BASE], [W1], now)
    asyncio.run(svc.refresh())
    now[0] = 2000.0
    result = asyncio.run(svc.refresh(chains=["eip155:8453"]))
    assert chains.read_chains[-1] == "eip155:8453" and result.status is RefreshStatus.OK
    assert result.snapshot is not None
    states = {s.source: (s.state, s.as_of) for s in result.snapshot.sources}
    assert states == {"eip155:8453": (SourceState.OK, 2000), "eip155:1": (SourceState.STALE, 1000)}


def test_every_refresh_logs_one_line_per_chain(
    store: SqlSnapshotStore, caplog: pytest.LogCaptureFixture
) -> None:
    chains = Chains()
    chains.errors = {"eip155:8453": OFFLINE}
    with caplog.at_level(logging.INFO, logger="app.services.refresh"):
        asyncio.run(service(store, chains, [ETHEREUM, BASE], [W1]).refresh())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refresh ")]
    eth_line = next(line for line in lines if line.startswith("refresh Ethereum:"))
    base_line = next(line for line in lines if line.startswith("refresh Base:"))
    assert " ok in " in eth_line and "2 requests" in eth_line and "1 holdings read" in eth_line
    assert "failed" in base_line and "could not be reached" in base_line
    assert "ConnectError" not in base_line
    assert any(line.startswith("refresh partial, snapshot stored") for line in lines)


def test_settings_read_on_every_refresh(store: SqlSnapshotStore) -> None:
    """A network enabled while the app runs is read by the next refresh."""
    chains, specs = Chains(), [ETHEREUM]
    svc = service(store, chains, specs, [W1])
    asyncio.run(svc.refresh())
    specs.append(BASE)
    asyncio.run(svc.refresh())
    assert chains.read_chains == ["eip155:1", "eip155:1", "eip155:8453"]


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        (OFFLINE, Cause.OFFLINE),
        ("Ethereum did not answer within 45 s.", Cause.TIMEOUT),
        ("the RPC endpoint answered HTTP 429", Cause.RATE_LIMITED),
        ("This RPC URL serves chain 59144 (Linea), not Scroll (534352)", Cause.WRONG_CHAIN),
        ("the RPC endpoint sent a reply that is not JSON", Cause.BAD_REPLY),
        ("the RPC endpoint refused the request (HTTP 403)", Cause.REFUSED),
        ("something odd", Cause.OTHER),
        (None, Cause.OTHER),
    ],
)
def test_causes(reason: str | None, cause: Cause) -> None:
    assert cause_of(reason) is cause


def test_summaries_group_and_name() -> None:
    eleven = [(f"Chain {i}", OFFLINE) for i in range(11)]
    assert summarize_failures(eleven) == "No network connection: 11 chains unreachable"
    one = summarize_failures([("Base", OFFLINE)])
    assert one == "Base: Could not read the network: the RPC endpoint could not be reached"
    mixed = summarize_failures([("A", OFFLINE), ("B", OFFLINE), ("C", "timed out")])
    assert mixed.startswith("No network connection: 2 chains unreachable; C: timed out")
    assert plain_reason("boom (httpx.ReadError)") == "boom" and plain_reason(None)
