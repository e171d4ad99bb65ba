"""Desktops sharing one database: the refresh service takes its turn through the group port,
uses a snapshot another stored while it waited, gives the turn back after its own refresh (also
a failed one), stops waiting when cancelled; the scheduler counts its interval from a refresh
another desktop made."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from app.domain.refresh_group import TurnCancelled
from app.domain.snapshot import Snapshot
from app.services.refresh import RefreshService
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from tests.unit.test_refresh_service import WALLET, A, B, FakeChains, FakePricer
from tests.unit.test_scheduler import MIN, OK, START, FakeTime, Script, make, settle


class FakeGroup:
    """The port with a scripted answer; records what the service did with its turn."""

    def __init__(self, stored: Snapshot | None = None) -> None:
        self.stored = stored
        self.acquired = 0
        self.released = 0
        self.block: threading.Event | None = None
        self.gave_up = threading.Event()

    def acquire(self, requested_at: int, cancelled: threading.Event) -> Snapshot | None:
        self.acquired += 1
        if self.block is not None:  # another process holds the turn until cancelled
            while not cancelled.wait(0.01):
                pass
            self.gave_up.set()
            raise TurnCancelled()
        return self.stored

    def release(self) -> None:
        self.released += 1


def _service(tmp_path: Path, group: FakeGroup, chains: FakeChains) -> RefreshService:
    store = SqlSnapshotStore(open_database(tmp_path / "db.sqlite3", tmp_path / "b"))
    return RefreshService(
        lambda: [A, B], lambda: [WALLET], chains.read, FakePricer, store, lambda: "USD",
        clock=lambda: 1000.0, group=group,
    )  # fmt: skip


def test_a_snapshot_stored_while_waiting_is_the_result_and_no_chain_is_read(
    tmp_path: Path,
) -> None:
    other = Snapshot(990, "USD", (), ())
    group, chains = FakeGroup(stored=other), FakeChains()
    result = asyncio.run(_service(tmp_path, group, chains).refresh())
    assert chains.reads == 0 and result.snapshot is other and not result.stored
    assert "Another Chainfolio" in result.summary and result.ok
    assert group.released == 0  # the group gave the turn back itself


def test_our_turn_reads_stores_and_gives_the_turn_back_even_on_failure(tmp_path: Path) -> None:
    group, chains = FakeGroup(), FakeChains()
    service = _service(tmp_path, group, chains)
    result = asyncio.run(service.refresh())
    assert result.stored and chains.reads == 2 and group.released == 1
    chains.failing = {A.chain_id, B.chain_id}
    asyncio.run(service.refresh())  # nothing read: nothing stored, the turn still given back
    assert group.acquired == 2 and group.released == 2
    # a read-only refresh (--no-prices) stores nothing and takes no turn
    asyncio.run(service.refresh(store=False))
    assert group.acquired == 2


def test_a_refresh_cancelled_while_waiting_stops_waiting(tmp_path: Path) -> None:
    group, chains = FakeGroup(), FakeChains()
    group.block = threading.Event()
    service = _service(tmp_path, group, chains)

    async def main() -> None:
        task = asyncio.ensure_future(service.refresh())
        while not group.acquired:
            await asyncio.sleep(0.01)
        await service.aclose()  # quitting: the refresh is cancelled, not only its caller
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(group.gave_up.wait, 10)

    asyncio.run(main())
    assert chains.reads == 0 and group.released == 0


def test_the_timer_counts_from_a_refresh_made_by_another_desktop() -> None:
    async def main() -> None:
        t, script = FakeTime(), Script(OK)
        sched = make(t, script)
        sched.start()
        await settle()
        assert script.calls == [START]
        await t.advance(10 * MIN)
        sched.refreshed_elsewhere()  # another desktop stored a snapshot 10 minutes in
        assert sched.state.next_run_at == START + 25 * MIN
        await t.advance(14 * MIN)
        assert script.calls == [START]  # not at 15 minutes: the group refreshed at 10
        await t.advance(1 * MIN)
        assert script.calls == [START, START + 25 * MIN]
        await sched.aclose()

    asyncio.run(main())
