"""History use cases for the timeline: net worth, breakdowns and "what changed".

Methods are synchronous and thread-safe on purpose: the GUI calls them through
``asyncio.to_thread`` (SQLite work off the GUI thread), the benchmark times them directly.
Results carry floats for drawing next to the exact Decimal text for anything shown as a number.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from app.domain.changes import BREAKDOWN_KINDS, AssetChange, what_changed
from app.domain.history import HistoryStore
from app.domain.snapshot import SnapshotHolding
from app.domain.text import clean_text
from app.domain.valuation import money_context
from app.services.downsample import Floats, Ints, downsample, peak_indices

DEFAULT_TOP = 7  # plus "Other": eight colours a person can still tell apart
TOP_SAMPLE = 64  # snapshots used to rank keys for "top N"
OTHER = "Other"


def _nearest(times: Ints, t: float) -> int | None:
    if len(times) == 0:
        return None
    i = int(np.searchsorted(times, t))
    if i <= 0:
        return 0
    if i >= len(times):
        return len(times) - 1
    return i if times[i] - t < t - times[i - 1] else i - 1


@dataclass(frozen=True, eq=False)
class NetWorth:
    """Total value per snapshot, oldest first."""

    ids: Ints
    times: Ints
    values: Floats  # drawing only
    exact: list[str]  # the stored totals, exact

    def __len__(self) -> int:
        return len(self.times)

    def nearest(self, t: float) -> int | None:
        """Index of the snapshot closest in time to ``t``."""
        return _nearest(self.times, t)

    def total_at(self, i: int) -> Decimal:
        return Decimal(self.exact[i])

    def visible(self, lo: float, hi: float, buckets: int) -> tuple[Floats, Floats]:
        """Points to draw for [lo, hi]: at most two per bucket, peaks kept."""
        return downsample(self.times, self.values, lo, hi, buckets)


@dataclass(frozen=True, eq=False)
class Series:
    key: str  # "" for Other
    label: str
    values: Floats  # drawing only
    exact: list[str | None] = field(repr=False)  # None: not held at that snapshot


@dataclass(frozen=True, eq=False)
class Breakdown:
    """Top series plus "Other" at the snapshots picked for the screen."""

    kind: str
    ids: Ints
    times: Ints
    totals: Floats
    totals_exact: list[str]
    series: tuple[Series, ...]

    def nearest(self, t: float) -> int | None:
        return _nearest(self.times, t)

    def exact_at(self, i: int) -> list[tuple[str, Decimal]]:
        """Each series' exact value at point ``i``; Other is the total minus the top keys."""
        out: list[tuple[str, Decimal]] = []
        with money_context():
            rest = Decimal(self.totals_exact[i])
            for s in self.series:
                if s.key == "":
                    out.append((s.label, rest))
                    continue
                text = s.exact[i]
                value = Decimal(text) if text is not None else Decimal(0)
                rest -= value
                out.append((s.label, value))
        return out


@dataclass(frozen=True, eq=False)
class Comparison:
    """What changed between two snapshots (``before_time``/``after_time`` are when they were
    taken, which may differ from the times asked for)."""

    before_time: int | None
    after_time: int | None
    currency: str
    rows: list[AssetChange]
    note: str = ""  # why there are no rows when two snapshots cannot be compared

    def _sum(self, attr: str) -> Decimal:
        with money_context():
            return sum((getattr(r, attr) for r in self.rows), Decimal(0))

    @property
    def change(self) -> Decimal:
        with money_context():
            return self.value_after - self.value_before

    @property
    def value_before(self) -> Decimal:
        return self._sum("value_before")

    @property
    def value_after(self) -> Decimal:
        return self._sum("value_after")

    @property
    def price_effect(self) -> Decimal:
        return self._sum("price_effect")

    @property
    def quantity_effect(self) -> Decimal:
        return self._sum("quantity_effect")


def series_label(kind: str, key: str, names: Mapping[str, str], symbols: Mapping[str, str]) -> str:
    """Plain-text legend label. ``names`` maps chain ids and wallet addresses to display names;
    symbols are token text (hostile), cleaned here."""
    if kind == "chain":
        return clean_text(names.get(key, key), 40)
    if kind == "wallet":
        short = key if len(key) <= 13 else f"{key[:6]}…{key[-4:]}"
        return clean_text(names.get(key, short), 40)
    chain = key.split("/", 1)[0]
    symbol = clean_text(symbols.get(key, key.rsplit(":", 1)[-1][:10]), 16)
    return f"{symbol} · {clean_text(names.get(chain, chain), 24)}"


SnapshotKey = tuple[int, int]  # (id, taken_at): a stored snapshot never changes


class HistoryService:
    """Thread-safe: the timeline calls it from worker threads, several at a time.

    "What changed" is the heavy read (two snapshots of up to 10,000s of holdings, compared with
    exact Decimal arithmetic). The last few comparisons are kept (until one ends at a newer
    snapshot), so switching back and forth between ranges compares nothing again, and so are
    the holdings of the newest snapshot compared to, the end of every range that reaches now:
    switching ranges after a refresh reads only the start's snapshot. Only that one snapshot is
    kept: every object kept alive is walked by each full garbage collection, which stops the
    window's thread too (four kept snapshots of 10,000 holdings made each one ~50 ms longer in
    tests/benchmarks/ui_stall.py).
    """

    COMPARISONS_KEPT = 8

    def __init__(self, store: HistoryStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._newest: tuple[SnapshotKey, tuple[SnapshotHolding, ...]] | None = None
        self._comparisons: OrderedDict[tuple[SnapshotKey, SnapshotKey], Comparison] = OrderedDict()

    def span(self) -> tuple[int, int] | None:
        return self._store.span()

    def net_worth(self, start: int | None = None, end: int | None = None) -> NetWorth:
        cols = self._store.totals(start, end)
        return NetWorth(
            ids=np.asarray(cols.ids, dtype=np.int64),
            times=np.asarray(cols.times, dtype=np.int64),
            values=np.asarray(cols.floats, dtype=np.float64),
            exact=cols.totals,
        )

    def breakdown(
        self,
        kind: str,
        start: float,
        end: float,
        buckets: int = 1000,
        top: int = DEFAULT_TOP,
        names: Mapping[str, str] | None = None,
        net_worth: NetWorth | None = None,
    ) -> Breakdown:
        """Series for ``kind`` over [start, end] at most ``2 * buckets`` snapshots.

        The snapshots are the lowest and highest total of each time bucket, so the top of the
        stack (the total) keeps its peaks. Keys are ranked by their largest absolute value over
        a sample of those snapshots; everything else is "Other" (total minus the top keys).
        Pass the already loaded ``net_worth`` to save reading the totals again.
        """
        if kind not in BREAKDOWN_KINDS:
            raise ValueError(f"unknown breakdown kind {kind!r}")
        nw = net_worth if net_worth is not None else self.net_worth(int(start) - 1, int(end) + 1)
        idx = peak_indices(nw.times, nw.values, start, end, buckets)
        ids = nw.ids[idx]
        times = nw.times[idx]
        totals = nw.values[idx]
        totals_exact = [nw.exact[i] for i in idx]
        sample = ids[np.linspace(0, len(ids) - 1, min(TOP_SAMPLE, len(ids))).astype(int)]
        keys = self._store.top_keys(kind, [int(i) for i in sample], top) if len(ids) else []
        rows = self._store.breakdown(kind, [int(i) for i in ids], keys)
        position = {int(sid): j for j, sid in enumerate(ids)}
        matrix = np.zeros((len(keys), len(ids)), dtype=np.float64)
        exact: list[list[str | None]] = [[None] * len(ids) for _ in keys]
        row_of = {k: r for r, k in enumerate(keys)}
        for sid, key, value, text in rows:
            r, j = row_of[key], position[sid]
            matrix[r, j] = value
            exact[r][j] = text
        latest: dict[str, int] = {}  # the newest drawn snapshot holding each key
        for sid, key, _value, _text in rows:
            latest[key] = max(latest.get(key, sid), sid)
        symbols = self._store.symbols(latest) if kind == "asset" else {}
        labels = names or {}
        series = [
            Series(k, series_label(kind, k, labels, symbols), matrix[r], exact[r])
            for r, k in enumerate(keys)
        ]
        other = totals - matrix.sum(axis=0)
        scale = max(float(np.max(np.abs(totals))) if len(totals) else 0.0, 1.0)
        if len(other) and float(np.max(np.abs(other))) > 1e-9 * scale:
            series.append(Series("", OTHER, other, [None] * len(ids)))
        return Breakdown(kind, ids, times, totals, totals_exact, tuple(series))

    def what_changed(self, start: int, end: int) -> Comparison:
        """Per asset (and position) from the snapshot at ``start`` to the one at ``end``.

        "At" means the last snapshot taken at or before that time; a start before the first
        snapshot uses the first one.
        """
        after = self._store.snapshot_head(end)
        before = self._store.snapshot_head(start) or self._store.snapshot_head(start, after=True)
        if after is None or before is None or before[1] >= after[1]:
            currency = after[2] if after is not None else ""
            return Comparison(None, None, currency, [])
        if before[2] != after[2]:  # values in two currencies never mix
            note = (
                f"The snapshot of the start is in {before[2]} and the one of the end in "
                f"{after[2]}: what changed cannot be split across two currencies."
            )
            return Comparison(before[1], after[1], after[2], [], note)
        pair = ((before[0], before[1]), (after[0], after[1]))
        with self._lock:
            known = self._comparisons.get(pair)
            if known is not None:
                self._comparisons.move_to_end(pair)
                return known
        rows = what_changed(self._store.holdings_of(before[0]), self._end_holdings(pair[1]))
        comparison = Comparison(before[1], after[1], after[2], rows)
        with self._lock:
            if all(end[1] < pair[1][1] for _start, end in self._comparisons):
                self._comparisons.clear()  # a newer snapshot: the ranges now end there
            self._comparisons[pair] = comparison
            while len(self._comparisons) > self.COMPARISONS_KEPT:
                self._comparisons.popitem(last=False)
        return comparison

    def _end_holdings(self, key: SnapshotKey) -> tuple[SnapshotHolding, ...]:
        with self._lock:
            newest = self._newest
        if newest is not None and newest[0] == key:
            return newest[1]
        holdings = self._store.holdings_of(key[0])
        with self._lock:
            if self._newest is None or self._newest[0][1] <= key[1]:
                self._newest = (key, holdings)
        return holdings
