"""The ``--postgres`` part of ``tests/benchmarks/history.py``: the same uncompacted history (5
years hourly x 200 holdings) on a real PostgreSQL server started for the run (Debian's
``postgresql``, durable settings: fsync on, synchronous commit), and the two figures the issue
asks for, next to SQLite's from the same run: writing one snapshot through
``SqlSnapshotStore.write`` (with its NOTIFY) and the all-time net-worth timeline.

Set-up loads the rows with COPY (the fastest bulk path), built by the same code as the SQLite
set-up, and checks a sample snapshot reads back equal through the store.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

from app.domain.snapshot import Snapshot
from app.services.history import HistoryService
from app.storage.history_store import SqlHistoryStore, breakdown_rows
from app.storage.postgres import open_postgres
from app.storage.snapshot_store import SqlSnapshotStore
from tests.benchmarks.holding_rows import ROW_COLUMNS, HoldingRows

HOUR = 3600


def _copy_rows(engine: Any, snapshots: Iterator[Snapshot]) -> int:
    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        sid = 0
        with con.cursor() as cur:
            with (
                cur.copy(
                    "COPY snapshots (id, taken_at, currency, total, stale_total, sources) "
                    "FROM STDIN"
                ) as heads,  # fmt: skip
            ):
                buffered: list[Snapshot] = []
                for snap in snapshots:
                    sid += 1
                    sources = json.dumps([{"source": s.source, "state": s.state.value,
                                           "reason": s.reason, "as_of": s.as_of}
                                          for s in snap.sources])  # fmt: skip
                    heads.write_row((sid, snap.taken_at, snap.currency, str(snap.total),
                                     str(snap.stale_total), sources))  # fmt: skip
                    buffered.append(snap)
            numbered = HoldingRows()  # holding_texts + snapshot_rows, as the store writes them
            with cur.copy(f"COPY snapshot_rows ({ROW_COLUMNS}) FROM STDIN") as rows:
                for i, snap in enumerate(buffered, 1):
                    for row in numbered.rows(i, snap.holdings):
                        rows.write_row(row)
            with cur.copy("COPY holding_texts (id, text) FROM STDIN") as known:
                for row in numbered.new_texts():
                    known.write_row(row)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('holding_texts', 'id'), %s)",
                (max(len(numbered.texts), 1),),
            )
            with cur.copy(
                "COPY snapshot_breakdown (snapshot_id, kind, key, value) FROM STDIN"
            ) as sums:
                for i, snap in enumerate(buffered, 1):
                    for r in breakdown_rows(i, snap.holdings):
                        sums.write_row((r["snapshot_id"], r["kind"], r["key"], r["value"]))
            cur.execute("SELECT setval(pg_get_serial_sequence('snapshots', 'id'), %s)", (sid,))
            cur.execute("ANALYZE")
        con.commit()
        return sid
    finally:
        raw.close()


def run(portfolio: Any, times: list[int], sqlite_figures: dict[str, Any]) -> dict[str, Any]:
    from tests.benchmarks.history import PIXELS, stats, timed
    from tests.support.postgres import PASSWORD, start_server

    server = start_server(durable=True)
    try:
        engine = open_postgres(server.url(server.create_database()), PASSWORD)
        t0 = time.perf_counter()
        n = _copy_rows(engine, portfolio.snapshots(times))
        setup_s = time.perf_counter() - t0
        probe = times[len(times) // 2]
        expected = next(portfolio.snapshots([probe]))
        stored = SqlSnapshotStore(engine).at_or_before(probe)
        assert stored is not None and stored.taken_at == probe
        equal = {h.key: h for h in stored.holdings} == {h.key: h for h in expected.holdings}
        store = SqlSnapshotStore(engine)
        last = times[-1]
        writes: list[float] = []
        for snap in portfolio.snapshots([last + HOUR * k for k in range(1, 41)]):
            t = time.perf_counter()
            store.write(snap)
            writes.append((time.perf_counter() - t) * 1000)
        writes = writes[1:]  # the first write also opens the connection
        write = stats(writes) | {"p90_ms": round(sorted(writes)[int(len(writes) * 0.9)], 2)}
        service = HistoryService(SqlHistoryStore(engine))
        first, newest = service.span() or (0, 0)

        def all_time() -> None:
            service.net_worth().visible(first, newest, 3 * PIXELS)

        timeline = timed(all_time)
        with engine.connect() as con:
            size = con.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        engine.dispose()
        return {
            "server": "PostgreSQL (Debian package), fsync on, on this machine, over TCP",
            "snapshots": n,
            "setup_s": round(setup_s, 1),
            "db_size_mb": round(int(size or 0) / 2**20, 1),
            "sample_snapshot_reads_back_equal": equal,
            "write_one_snapshot": write,
            "all_time_timeline": timeline,
            "sqlite_same_run": {
                "write_one_snapshot": sqlite_figures.get("write_one_snapshot"),
                "all_time_timeline": sqlite_figures.get("all_time_timeline"),
            },
        }
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
