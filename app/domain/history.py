"""The history port: what the timeline needs from stored snapshots, and the shapes it returns.

The service (app/services/history.py) depends on this Protocol; app/storage/history_store.py
implements it on SQLite. Money crosses it as exact Decimal text; floats only for drawing.

Each snapshot keeps the currency it was stored in. :func:`in_currency` shows stored totals in
the display currency only where the exchange rates of the snapshot's own day are stored, and
says so plainly where they are not, instead of relabelling them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from app.domain.fx_days import DayRates
from app.domain.snapshot import SnapshotHolding
from app.domain.valuation import convert


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

    def snapshot_head(self, when: int, after: bool = False) -> tuple[int, int, str] | None:
        """(id, taken_at, currency) of the snapshot :meth:`snapshot_near` would return."""
        ...

    def holdings_of(self, snapshot_id: int) -> tuple[SnapshotHolding, ...]: ...


DAY = 86_400


@dataclass(frozen=True, slots=True)
class StoredTotal:
    """One snapshot's total as stored, in the currency it was stored in."""

    taken_at: int
    currency: str
    total: Decimal


@dataclass(frozen=True, slots=True)
class ShownTotal:
    """A stored total as shown in the display currency, or in its own currency when it cannot
    be converted honestly. ``total`` is in ``currency``; ``rate_day`` is the day of the exchange
    rates used (None when not converted)."""

    taken_at: int
    total: Decimal
    currency: str
    stored_total: Decimal
    stored_currency: str
    rate_day: int | None = None


def in_currency(
    points: Sequence[StoredTotal],
    target: str,
    usd_rates: Callable[[str], Mapping[int, Decimal]],
) -> tuple[list[ShownTotal], list[str]]:
    """Totals in ``target`` at the exchange rates of the snapshot's own day, and plain notes
    about the rest. A day without a stored rate (a weekend: the ECB publishes none) uses the
    nearest earlier day's rate, and the notes say how many did; a snapshot older than every
    stored rate keeps the currency it was stored in: a stored figure is never relabelled.

    ``usd_rates(code)`` gives the stored daily rates of a currency (day start -> units of the
    currency per US dollar); the US dollar itself needs none.
    """
    target = target.upper()
    rates = DayRates(lambda code: usd_rates(code).items())
    shown: list[ShownTotal] = []
    kept: dict[str, list[int]] = {}
    converted: dict[str, int] = {}
    earlier: dict[str, int] = {}
    for p in points:
        code = p.currency.upper()
        if code == target:
            shown.append(ShownTotal(p.taken_at, p.total, code, p.total, code))
            continue
        day = p.taken_at - p.taken_at % DAY
        have = rates.usd_rate(code, p.taken_at)
        want = rates.usd_rate(target, p.taken_at) if have is not None else None
        if have is not None and want is not None:
            value = convert(p.total, have.rate, want.rate)
            rate_day = min(have.rate_day, want.rate_day)
            shown.append(ShownTotal(p.taken_at, value, target, p.total, code, rate_day))
            converted[code] = converted.get(code, 0) + 1
            if rate_day != day:
                earlier[code] = earlier.get(code, 0) + 1
        else:
            shown.append(ShownTotal(p.taken_at, p.total, code, p.total, code))
            kept.setdefault(code, []).append(p.taken_at)
    notes = []
    for code, n in sorted(converted.items()):
        note = (
            f"{n} {'snapshot' if n == 1 else 'snapshots'} stored in {code} "
            f"{'is' if n == 1 else 'are'} shown in {target} at the exchange rate stored for "
            f"{'its' if n == 1 else 'their'} day."
        )
        if code in earlier:
            k = earlier[code]
            note += (
                f" For {k} of them no rate of that day is stored, so the nearest earlier day's "
                "rate was used."
                if n > 1 or k > 1
                else " No rate of that day is stored, so the nearest earlier day's rate was used."
            )
        notes.append(note)
    for code, times in sorted(kept.items()):
        first, last = _date(min(times)), _date(max(times))
        span = first if first == last else f"{first} to {last}"
        notes.append(
            f"Earlier history is in {code}; no exchange rate is stored for those dates "
            f"({span}) or before, so {'that total is' if len(times) == 1 else 'those totals are'} "
            f"shown in {code}."
        )
    return shown, notes


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()
