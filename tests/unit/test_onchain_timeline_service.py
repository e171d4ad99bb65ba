"""The rebuilt timeline over the real stores: movements, the first snapshot (its wallet balances
only: positions, spam and other wallets left out), daily prices and the day's exchange rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.domain.balances import SourceState
from app.domain.onchain import Movement, ScanBatch
from app.domain.onchain_ledger import AssetFacts
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.services.onchain_timeline import OnchainTimeline
from app.storage.database import open_database
from app.storage.onchain_store import SqlFirstSnapshot, SqlOnchainStore
from app.storage.price_store import SqlBackfillStore
from app.storage.snapshot_store import SqlSnapshotStore

ETH = "eip155:1/slip44:60"
A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
DAY = 86_400
D0 = 1_699_920_000


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")


class Daily:
    def __init__(self, engine: Engine) -> None:
        self.store = SqlBackfillStore(engine)

    def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
        return {a: dict(self.store.history(a, start)) for a in assets}


def reader(engine: Engine, rates: Mapping[int, Decimal] | None = None) -> OnchainTimeline:
    return OnchainTimeline(
        SqlOnchainStore(engine), SqlFirstSnapshot(engine), Daily(engine),
        lambda assets: {a: AssetFacts(18, native=True) for a in assets if a == ETH},
        lambda _code: dict(rates or {}), lambda: D0 + 10 * DAY,
    )  # fmt: skip


def holding(wallet: str, raw: int, position: str = "", spam: bool = False) -> SnapshotHolding:
    return SnapshotHolding(f"eip155:1:{wallet}", ETH, "ETH", 18, raw, Decimal(2000), None,
                           SourceState.OK, 0, position, spam)  # fmt: skip


def seed(engine: Engine, currency: str = "USD") -> None:
    SqlBackfillStore(engine).save_history(ETH, [(D0 + d * DAY, Decimal(2000)) for d in range(5)],
                                          "test")  # fmt: skip
    moves = (Movement("eip155:1", "0x01", 1, D0 + 3600, A, ETH, 2 * 10**18),)
    SqlOnchainStore(engine).write_batch(ScanBatch("eip155:1", moves, (), {A: "1"}), 0)
    taken = D0 + 3 * DAY
    SqlSnapshotStore(engine).write(Snapshot(taken, currency, (
        holding(A, 3 * 10**18),
        holding(A, 10**18, position="aave-v3:supplied"),  # a position: not a wallet balance
        holding(OTHER, 5 * 10**18),  # a wallet never scanned
    ), (SourceStatus("eip155:1", SourceState.OK, None, taken),)))  # fmt: skip


def test_rebuilt_values_and_the_gap_to_the_first_snapshot(engine: Engine) -> None:
    seed(engine)
    r = reader(engine).read()
    assert r is not None and r.currency == "USD"
    assert r.forward[0] == Decimal(4000) and len(r) == 4
    (gap,) = r.gaps
    assert (gap.observed, gap.reconstructed) == (Decimal(3), Decimal(2))  # A's balance only
    assert r.snapshot_total is not None and r.gap_value == r.snapshot_total - Decimal(4000)


def test_another_currency_uses_the_stored_rate_or_draws_nothing(engine: Engine) -> None:
    seed(engine, "EUR")
    assert reader(engine).read() is None  # no EUR rate stored: nothing honest to draw
    r = reader(engine, {D0 - DAY: Decimal("0.9")}).read()
    assert r is not None and r.forward[0] == Decimal(3600) and r.currency == "EUR"


def test_nothing_scanned_draws_nothing(engine: Engine) -> None:
    assert reader(engine).read() is None


def test_kept_until_the_history_or_prices_change(engine: Engine) -> None:
    seed(engine)
    timeline = reader(engine)
    first = timeline.read()
    assert timeline.read() is first  # a refresh that changed nothing reads nothing again
    more = (Movement("eip155:1", "0x02", 2, D0 + DAY, A, ETH, 10**18),)
    SqlOnchainStore(engine).write_batch(ScanBatch("eip155:1", more, (), {A: "2"}), 0)
    second = timeline.read()
    assert second is not first and second is not None and second.forward[1] == Decimal(6000)
    SqlBackfillStore(engine).save_history(ETH, [(D0 - DAY, Decimal(2100))], "test")
    assert timeline.read() is not second  # a price of a day not stored before came in
