"""The history port: what the timeline needs from stored snapshots, and the shapes it returns.

The service (app/services/history.py) depends on this Protocol; app/storage/history_store.py
implements it on SQLite. Money crosses it as exact Decimal text; floats only for drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.snapshot import SnapshotHolding


@dataclass(frozen=True, slots=True)
class TotalsColumns:
    """The net-worth series as columns, oldest first. ``floats`` are for drawing only;
    ``totals`` are the exact stored Decimal texts."""

    ids: list[int]
    times: list[int]
    floats: list[float]
    totals: list[str]


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A stored snapshot's identity and holdings (what "what changed" compares)."""

    id: int
    taken_at: int
    currency: str
    holdings: tuple[SnapshotHolding, ...]


class HistoryStore(Protocol):
    def span(self) -> tuple[int, int] | None: ...

    def totals(self, start: int | None = None, end: int | None = None) -> TotalsColumns: ...

    def top_keys(self, kind: str, snapshot_ids: Sequence[int], limit: int) -> list[str]: ...

    def breakdown(
        self, kind: str, snapshot_ids: Sequence[int], keys: Sequence[str]
    ) -> list[tuple[int, str, float, str]]: ...

    def symbols(self, where: Mapping[str, int]) -> dict[str, str]: ...

    def snapshot_near(self, when: int, after: bool = False) -> StoredSnapshot | None: ...
