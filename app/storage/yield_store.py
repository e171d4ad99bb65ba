"""A position's own raw amounts over time, read from the stored snapshots (for realised yield).

The snapshots of the window are sampled (at most ``max_points``, spread evenly, the first and
last always kept) and each position is read with point lookups on ``snapshot_holdings``'s
primary key (snapshot, wallet, asset, position): with 10,000s of holdings per snapshot a scan
of the window would take seconds, the lookups take milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, and_, select

from app.storage.tables import snapshot_holdings, snapshots

PositionKey = tuple[str, str, str]  # (wallet CAIP-10, asset CAIP-19, position key)


def _sample(rows: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    if len(rows) <= limit:
        return list(rows)
    step = (len(rows) - 1) / (limit - 1)
    picked = {round(i * step) for i in range(limit)}
    return [rows[i] for i in sorted(picked)]


class SqlYieldHistory:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def position_points(
        self, keys: Iterable[PositionKey], since: int, until: int, max_points: int = 120
    ) -> dict[PositionKey, list[tuple[int, int]]]:
        """``{key: [(taken_at, raw), ...]}`` in time order, for snapshots in [since, until]."""
        wanted = list(dict.fromkeys(keys))
        out: dict[PositionKey, list[tuple[int, int]]] = {k: [] for k in wanted}
        if not wanted:
            return out
        with self._engine.connect() as con:
            rows = con.execute(
                select(snapshots.c.id, snapshots.c.taken_at)
                .where(and_(snapshots.c.taken_at >= since, snapshots.c.taken_at <= until))
                .order_by(snapshots.c.taken_at, snapshots.c.id)
            ).fetchall()
            sampled = _sample([(int(r.id), int(r.taken_at)) for r in rows], max_points)
            when = dict(sampled)
            ids = list(when)
            if not ids:
                return out
            h = snapshot_holdings.c
            for key in wanted:
                wallet, asset, position = key
                found = con.execute(
                    select(h.snapshot_id, h.raw).where(
                        h.snapshot_id.in_(ids),
                        h.wallet == wallet,
                        h.asset_id == asset,
                        h.position == position,
                    )
                ).fetchall()
                out[key] = sorted((when[int(r.snapshot_id)], int(r.raw)) for r in found)
        return out
