"""Read side of the snapshot history, shaped for the timeline and "what changed".

Every query here is bounded by what the screen can show, not by how much history exists: the
net-worth series reads one totals row per snapshot (never holdings), a breakdown reads only the
snapshots picked for the pixels on screen and only their top keys, and "what changed" reads
the holdings of exactly two snapshots. Lists of ids and keys go to SQLite as one JSON array
parameter (``json_each``), so there is no bound-parameter limit to chunk around.

``breakdown_rows`` is also used by :meth:`SqlSnapshotStore.write`, so the sums are written in
the snapshot's own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from app.domain.balances import SourceState
from app.domain.changes import breakdown_sums
from app.domain.history import StoredSnapshot, TotalsColumns
from app.domain.snapshot import SnapshotHolding


def breakdown_rows(snapshot_id: int, holdings: Iterable[SnapshotHolding]) -> list[dict[str, Any]]:
    """Rows of ``snapshot_breakdown`` for one snapshot (see :func:`breakdown_sums`)."""
    return [
        {"snapshot_id": snapshot_id, "kind": kind, "key": key, "value": str(value)}
        for (kind, key), value in breakdown_sums(holdings).items()
    ]


class SqlHistoryStore:
    """Implements :class:`app.domain.history.HistoryStore`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def span(self) -> tuple[int, int] | None:
        """Time of the first and the last snapshot, or None when there is no history."""
        with self._engine.connect() as con:
            row = con.execute(text("SELECT min(taken_at), max(taken_at) FROM snapshots")).one()
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def totals(self, start: int | None = None, end: int | None = None) -> TotalsColumns:
        """Reads only the covering index ``ix_snapshots_timeline``, through the driver's own
        cursor: for years of hourly history this is the hot path of every timeline load."""
        query = "SELECT id, taken_at, CAST(total AS REAL), total FROM snapshots"
        where = []
        params: dict[str, int] = {}
        if start is not None:
            where.append("taken_at >= :start")
            params["start"] = start
        if end is not None:
            where.append("taken_at <= :end")
            params["end"] = end
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY taken_at, id"
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows = raw.execute(query, params).fetchall()
        if not rows:
            return TotalsColumns([], [], [], [])
        ids, times, floats, totals = zip(*rows, strict=True)
        return TotalsColumns(list(ids), list(times), list(floats), list(totals))

    def top_keys(self, kind: str, snapshot_ids: Sequence[int], limit: int) -> list[str]:
        """Keys with the largest absolute value at any of the given snapshots, largest first."""
        if not snapshot_ids or limit <= 0:
            return []
        with self._engine.connect() as con:
            rows = con.execute(
                text(
                    "SELECT key, max(abs(CAST(value AS REAL))) AS size FROM snapshot_breakdown "
                    "WHERE snapshot_id IN (SELECT value FROM json_each(:ids)) AND kind = :kind "
                    "GROUP BY key ORDER BY size DESC, key LIMIT :limit"
                ),
                {"ids": json.dumps(list(snapshot_ids)), "kind": kind, "limit": limit},
            ).fetchall()
        return [str(r[0]) for r in rows if r[1]]

    def breakdown(
        self, kind: str, snapshot_ids: Sequence[int], keys: Sequence[str]
    ) -> list[tuple[int, str, float, str]]:
        """(snapshot id, key, value for drawing, exact value) for the given snapshots and keys:
        one primary-key seek per (snapshot, key), read through the driver's cursor."""
        if not snapshot_ids or not keys:
            return []
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows: list[tuple[int, str, float, str]] = raw.execute(
                "SELECT snapshot_id, key, CAST(value AS REAL), value FROM snapshot_breakdown "
                "WHERE snapshot_id IN (SELECT value FROM json_each(?)) AND kind = ? "
                "AND key IN (SELECT value FROM json_each(?))",
                (json.dumps([int(i) for i in snapshot_ids]), kind, json.dumps(list(keys))),
            ).fetchall()
        return rows

    def symbols(self, where: Mapping[str, int]) -> dict[str, str]:
        """Symbols for legends: ``where`` maps each asset id to a snapshot that holds it (the
        holdings primary key starts with the snapshot, so each lookup reads one snapshot)."""
        found: dict[str, str] = {}
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            for asset, snapshot_id in where.items():
                row = raw.execute(
                    "SELECT symbol FROM snapshot_holdings WHERE snapshot_id = ? AND asset_id = ? "
                    "LIMIT 1",
                    (int(snapshot_id), asset),
                ).fetchone()
                if row is not None:
                    found[asset] = str(row[0])
        return found

    def snapshot_head(self, when: int, after: bool = False) -> tuple[int, int, str] | None:
        """(id, taken_at, currency) of the last snapshot at or before ``when`` (or with
        ``after``, the first at or after): one seek in ``ix_snapshots_timeline``."""
        if after:
            query = "SELECT id, taken_at, currency FROM snapshots WHERE taken_at >= ? "
            query += "ORDER BY taken_at, id LIMIT 1"
        else:
            query = "SELECT id, taken_at, currency FROM snapshots WHERE taken_at <= ? "
            query += "ORDER BY taken_at DESC, id DESC LIMIT 1"
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            head = raw.execute(query, (when,)).fetchone()
        return None if head is None else (int(head[0]), int(head[1]), str(head[2]))

    def holdings_of(self, snapshot_id: int) -> tuple[SnapshotHolding, ...]:
        """A snapshot's holdings, read through the driver's own cursor: a 10,000-holding
        snapshot is read for every "what changed", and SQLAlchemy's row objects doubled that
        cost (on a worker thread, but holding the interpreter lock the window needs)."""
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows = raw.execute(
                "SELECT wallet, asset_id, symbol, decimals, raw, price, value, state, as_of, "
                "position, is_spam FROM snapshot_holdings WHERE snapshot_id = ?",
                (snapshot_id,),
            ).fetchall()
        states = {s.value: s for s in SourceState}
        return tuple(
            SnapshotHolding(
                r[0], r[1], r[2], int(r[3]), int(r[4]),
                None if r[5] is None else Decimal(r[5]),
                None if r[6] is None else Decimal(r[6]),
                states.get(r[7]) or SourceState(r[7]), int(r[8]), str(r[9]), bool(r[10]),
            )
            for r in rows
        )  # fmt: skip

    def snapshot_near(self, when: int, after: bool = False) -> StoredSnapshot | None:
        """The last snapshot at or before ``when`` (or with ``after``, the first at or after),
        with its holdings."""
        head = self.snapshot_head(when, after)
        if head is None:
            return None
        snapshot_id, taken_at, currency = head
        return StoredSnapshot(snapshot_id, taken_at, currency, self.holdings_of(snapshot_id))
