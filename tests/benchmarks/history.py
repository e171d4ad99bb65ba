"""Benchmark: five years of hourly snapshots x 200 holdings, and the timeline's queries on it.

Two databases, built the same way:

- ``uncompacted``: every hourly snapshot of 5 years (~43,800 snapshots, ~8.8 M holdings rows),
  the issue's worst case (what the file would hold without retention);
- ``retention``: what the retention rule keeps of the same history (every snapshot for 7 days,
  hourly for 90 days, daily before), ~3,900 snapshots; ``compact()`` is run to prove it.

The synthetic portfolio: 8 wallets (6 EVM, 2 Solana) on 11 chains, 100 assets priced by hourly
random walks (stablecoins pinned near 1), Aave supplies and debts, a few spam tokens, amounts
changing now and then. Set-up writes in bulk (one transaction per few hundred snapshots) but
builds every row with the store's own code (``breakdown_rows``, the same columns as
``SqlSnapshotStore.write``) and checks a sample snapshot reads back equal through the store.
Measured: writing ONE snapshot through ``SqlSnapshotStore.write``, and each query the timeline
makes, each against a baseline measured in the same run. Times are the median of 5 runs after
a warm-up (the OS file cache is warm, as it is for a running app). Prints JSON.

    .venv/bin/python -m tests.benchmarks.history [--years 5] [--holdings 200] [--dir DIR]
        [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.balances import SourceState
from app.domain.changes import what_changed
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import exact_arithmetic
from app.services.history import HistoryService
from app.storage import snapshot_store as snapshot_store_module
from app.storage.database import open_database
from app.storage.history_store import SqlHistoryStore, breakdown_rows
from app.storage.snapshot_store import KEEP_ALL_SECONDS, KEEP_HOURLY_SECONDS, SqlSnapshotStore
from tests.benchmarks.holding_rows import INSERT_ROWS, INSERT_TEXTS, HoldingRows

HOUR, DAY = 3600, 86400
NOW = 1_767_225_600  # 2026-01-01T00:00Z: fixed, so every run builds the same history
PIXELS = 1200  # plot width the timeline downsamples to
TARGET_WRITE_MS, TARGET_QUERY_MS = 20, 100
EVM_CHAINS = ["eip155:1", "eip155:8453", "eip155:42161", "eip155:10", "eip155:137", "eip155:56",
              "eip155:43114", "eip155:100", "eip155:59144", "eip155:534352"]  # fmt: skip
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
EVM_WALLETS = [f"0x{(0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED * (i + 3)) % 2**160:040x}"
               for i in range(6)]  # fmt: skip
SOL_WALLETS = ["4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
               "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"]  # fmt: skip
# symbol, decimals, start price, hourly volatility (stablecoins barely move)
TOKENS = [("USDC", 6, 1.0, 0.0002), ("USDT", 6, 1.0, 0.0002), ("DAI", 18, 1.0, 0.0003),
          ("WBTC", 8, 30000.0, 0.006), ("LINK", 18, 14.0, 0.01), ("UNI", 18, 6.0, 0.011),
          ("AAVE", 18, 90.0, 0.011), ("ARB", 18, 1.1, 0.013)]  # fmt: skip
SPL = [("USDC", 6, 1.0, 0.0002), ("JUP", 6, 0.8, 0.014), ("BONK", 5, 0.00002, 0.02),
       ("JTO", 9, 2.5, 0.013), ("PYTH", 6, 0.4, 0.013), ("WIF", 6, 1.5, 0.02),
       ("RAY", 6, 1.8, 0.014), ("ORCA", 6, 3.0, 0.012), ("mSOL", 9, 110.0, 0.009)]  # fmt: skip


class Portfolio:
    """The 200 holdings and their price walks, generated once from a fixed seed."""

    def __init__(self, n_holdings: int, first_hour: int, hours: int, seed: int = 42) -> None:
        self.first_hour = first_hour
        rng = np.random.default_rng(seed)
        self.rng = rng
        assets: list[tuple[str, str, int, str]] = []  # asset id, symbol, decimals, price key
        for chain in EVM_CHAINS:
            assets.append((f"{chain}/slip44:60", "ETH", 18, "ETH"))
            for k, (symbol, decimals, _p, _v) in enumerate(TOKENS):
                address = f"0x{(k + 1) * 0x1111 + int(chain.split(':')[1]):040x}"
                assets.append((f"{chain}/erc20:{address}", symbol, decimals, symbol))
        assets.append((f"{SOLANA}/slip44:501", "SOL", 9, "SOL"))
        for k, (symbol, decimals, _p, _v) in enumerate(SPL):
            assets.append((f"{SOLANA}/token:Mint{k:040d}", symbol, decimals, "S" + symbol))
        specs = {"ETH": (2000.0, 0.009), "SOL": (100.0, 0.012), "SPAM": (5.0, 0.05)}
        specs |= {s: (p, v) for s, _d, p, v in TOKENS}
        specs |= {"S" + s: (p, v) for s, _d, p, v in SPL}
        self.price_text: dict[str, list[str]] = {}
        self.price: dict[str, list[Decimal]] = {}
        for key, (start, vol) in specs.items():
            walk = start * np.exp(np.cumsum(rng.normal(0, vol, hours)))
            if vol < 0.001:  # a stablecoin: mean-reverting around 1
                walk = 1.0 + rng.normal(0, vol, hours)
            texts = [f"{p:.8g}" for p in walk]
            self.price_text[key] = texts
            self.price[key] = [Decimal(t) for t in texts]
        keys: set[tuple[str, str, str]] = set()
        self.holdings: list[tuple[str, str, str, int, str, str, bool]] = []
        while len(self.holdings) < n_holdings:
            asset, symbol, decimals, pkey = assets[int(rng.integers(len(assets)))]
            chain = asset.split("/")[0]
            address = (SOL_WALLETS if chain == SOLANA else EVM_WALLETS)[
                int(rng.integers(2 if chain == SOLANA else 6))
            ]
            roll = rng.random()
            position = ""
            if chain != SOLANA and roll < 0.10:
                position = "aave-v3:supplied"
            elif chain != SOLANA and roll < 0.13:
                position = "aave-v3:borrowed"
            spam = len(self.holdings) % 40 == 39  # 5 spam tokens in 200
            if spam:
                asset = f"{chain}/erc20:0x{len(self.holdings):040x}" if chain != SOLANA else \
                    f"{SOLANA}/token:Spam{len(self.holdings):036d}"  # fmt: skip
                symbol, decimals, pkey, position = "CLAIM-REWARD.xyz", 0, "SPAM", ""
            key = (f"{chain}:{address}", asset, position)
            if key in keys:
                continue
            keys.add(key)
            self.holdings.append((key[0], asset, symbol, decimals, position, pkey, spam))
        # starting raw amounts worth roughly 50..20,000 each; debts negative
        self.raws: list[int] = []
        for _w, _a, _s, decimals, position, pkey, _spam in self.holdings:
            worth = float(np.exp(rng.uniform(np.log(50), np.log(20000))))
            raw = int(worth / float(self.price[pkey][0]) * 10**decimals) + 1
            self.raws.append(-raw // 4 if position.endswith("borrowed") else raw)

    def snapshots(self, times: list[int]) -> Iterator[Snapshot]:
        """One Snapshot per time; amounts change for ~2 holdings a day (buys, sells, rewards)."""
        raws = list(self.raws)
        amounts = [Decimal(r).scaleb(-h[3]) for r, h in zip(raws, self.holdings, strict=True)]
        hours = {t: (t - self.first_hour) // HOUR for t in times}
        rng = np.random.default_rng(7)
        last_hour = -1
        for t in times:
            hour = hours[t]
            for _ in range(hour - last_hour):
                if rng.random() < 0.08:
                    i = int(rng.integers(len(raws)))
                    raws[i] = max(1, int(raws[i] * rng.uniform(0.5, 1.8))) * (
                        1 if raws[i] > 0 else -1
                    )
                    amounts[i] = Decimal(raws[i]).scaleb(-self.holdings[i][3])
            last_hour = hour
            rows = []
            with exact_arithmetic():
                for i, (wallet, asset, symbol, decimals, position, pkey, spam) in enumerate(
                    self.holdings
                ):
                    price = self.price[pkey][hour]
                    rows.append(SnapshotHolding(wallet, asset, symbol, decimals, raws[i], price,
                                                amounts[i] * price, SourceState.OK, t, position,
                                                spam))  # fmt: skip
            chains = sorted({h.chain for h in rows})
            yield Snapshot(t, "USD", tuple(rows),
                           tuple(SourceStatus(c, SourceState.OK, None, t) for c in chains))  # fmt: skip


def bulk_write(db: Path, snapshots: Iterator[Snapshot], batch: int = 250) -> int:
    """Set-up only: the rows ``SqlSnapshotStore.write`` would write, many snapshots per commit."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    sid = 0
    heads: list[tuple[Any, ...]] = []
    rows: list[tuple[Any, ...]] = []
    sums: list[tuple[Any, ...]] = []
    numbered = HoldingRows()  # holding_texts + snapshot_rows, as the store writes them

    def flush() -> None:
        with con:
            con.executemany("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?)", heads)
            con.executemany(INSERT_TEXTS, numbered.new_texts())
            con.executemany(INSERT_ROWS, rows)
            con.executemany("INSERT INTO snapshot_breakdown VALUES (?, ?, ?, ?)", sums)
        heads.clear()
        rows.clear()
        sums.clear()

    for snap in snapshots:
        sid += 1
        sources = json.dumps([{"source": s.source, "state": s.state.value, "reason": s.reason,
                               "as_of": s.as_of} for s in snap.sources])  # fmt: skip
        heads.append((sid, snap.taken_at, snap.currency, str(snap.total), str(snap.stale_total),
                      sources))  # fmt: skip
        rows.extend(numbered.rows(sid, snap.holdings))
        sums.extend((r["snapshot_id"], r["kind"], r["key"], r["value"])
                    for r in breakdown_rows(sid, snap.holdings))  # fmt: skip
        if sid % batch == 0:
            flush()
    flush()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return sid


def timed(fn: Callable[[], object], runs: int = 7) -> dict[str, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return stats(samples)


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure(engine: Any, portfolio: Portfolio, last_time: int) -> dict[str, Any]:
    store = SqlSnapshotStore(engine)
    service = HistoryService(SqlHistoryStore(engine))
    first, last = service.span() or (0, 0)
    out: dict[str, Any] = {}

    def entry(name: str, target: float, ours: dict[str, float], base: dict[str, float],
              how: str) -> None:  # fmt: skip
        out[name] = {**ours, "target_ms": target, "meets_target": ours["median_ms"] < target,
                     "baseline": {**base, "what": how}}  # fmt: skip

    # --- write one snapshot through the real store (breakdown rows included) ----------------
    from sqlalchemy import text

    extra = list(portfolio.snapshots([last_time + HOUR * k for k in range(1, 81)]))
    writes_new: list[float] = []
    writes_old: list[float] = []
    for snap in extra[:40]:
        t0 = time.perf_counter()
        store.write(snap)
        writes_new.append((time.perf_counter() - t0) * 1000)
    # baseline: the write as schema 0006 did it, holdings with their (asset, snapshot) index
    # and no breakdown rows
    with engine.begin() as con:
        con.execute(text("CREATE INDEX ix_snapshot_holdings_asset "
                         "ON snapshot_rows (asset_ref, snapshot_id)"))  # fmt: skip
    original = snapshot_store_module.breakdown_rows
    snapshot_store_module.breakdown_rows = lambda _sid, _h: []  # type: ignore[assignment]
    try:
        for snap in extra[40:]:
            t0 = time.perf_counter()
            store.write(snap)
            writes_old.append((time.perf_counter() - t0) * 1000)
    finally:
        snapshot_store_module.breakdown_rows = original
    with engine.begin() as con:  # leave the history as it was built
        con.execute(text("DROP INDEX ix_snapshot_holdings_asset"))
        con.execute(text("DELETE FROM snapshots WHERE taken_at > :t"), {"t": last_time})

    def write_stats(samples: list[float]) -> dict[str, float]:
        samples = samples[1:]  # the first write also opens the connection
        p90 = sorted(samples)[int(len(samples) * 0.9)]
        return stats(samples) | {"p90_ms": round(p90, 2), "writes": len(samples)}

    entry("write_one_snapshot", TARGET_WRITE_MS, write_stats(writes_new), write_stats(writes_old),
          "schema 0006: the same write without breakdown rows but with the holdings "
          "(asset_id, snapshot_id) index that 0007 drops")  # fmt: skip

    # --- net worth ------------------------------------------------------------------------
    def all_time() -> None:
        nw = service.net_worth()
        nw.visible(first, last, 3 * PIXELS)

    def month() -> None:
        nw = service.net_worth(last - 30 * DAY, last)
        nw.visible(last - 30 * DAY, last, 3 * PIXELS)

    entry("all_time_timeline", TARGET_QUERY_MS, timed(all_time), timed(lambda: store.totals()),
          "SqlSnapshotStore.totals(): every point as (int, Decimal), not downsampled")  # fmt: skip
    entry("30_day_timeline", TARGET_QUERY_MS, timed(month),
          timed(lambda: store.totals(last - 30 * DAY, last)),
          "SqlSnapshotStore.totals() for 30 days")  # fmt: skip
    nw_all = service.net_worth()
    out["zoom_redraw_downsample"] = timed(lambda: nw_all.visible(first, last, 3 * PIXELS), 20)
    out["zoom_redraw_downsample"]["points_in"] = len(nw_all)
    out["zoom_redraw_downsample"]["points_out"] = len(nw_all.visible(first, last, 3 * PIXELS)[0])

    # --- breakdown ------------------------------------------------------------------------
    def breakdown(kind: str, lo: float, hi: float) -> Callable[[], object]:
        return lambda: service.breakdown(kind, lo, hi, buckets=PIXELS, net_worth=nw_all)

    def from_holdings(lo: float, hi: float) -> Callable[[], object]:
        """Baseline: the same picked snapshots, summed from their holdings rows in SQL."""
        from sqlalchemy import text

        def run() -> object:
            b = service.breakdown("asset", lo, hi, buckets=PIXELS, net_worth=nw_all, top=0)
            ids = json.dumps([int(i) for i in b.ids])
            with engine.connect() as con:
                return con.execute(text(
                    "SELECT snapshot_id, asset_id, sum(CAST(value AS REAL)) FROM snapshot_holdings "
                    "WHERE snapshot_id IN (SELECT value FROM json_each(:ids)) AND NOT is_spam "
                    "GROUP BY snapshot_id, asset_id"), {"ids": ids}).fetchall()  # fmt: skip

        return run

    entry("breakdown_by_asset_all_time", TARGET_QUERY_MS, timed(breakdown("asset", first, last)),
          timed(from_holdings(first, last), 3),
          "same snapshots, grouped from snapshot_holdings (no aggregate table)")  # fmt: skip
    entry("breakdown_by_chain_all_time", TARGET_QUERY_MS, timed(breakdown("chain", first, last)),
          timed(from_holdings(first, last), 3),
          "same snapshots, grouped from snapshot_holdings (no aggregate table)")  # fmt: skip
    entry("breakdown_by_wallet_30_day", TARGET_QUERY_MS,
          timed(breakdown("wallet", last - 30 * DAY, last)),
          timed(from_holdings(last - 30 * DAY, last), 3),
          "same snapshots, grouped from snapshot_holdings (no aggregate table)")  # fmt: skip
    sample = service.breakdown("asset", first, last, buckets=PIXELS, net_worth=nw_all)
    out["breakdown_by_asset_all_time"]["points"] = len(sample.times)
    out["breakdown_by_asset_all_time"]["series"] = len(sample.series)

    # --- what changed over a year ---------------------------------------------------------
    year_ago = max(first, last - 365 * DAY)

    def year_old_api() -> object:
        before = store.at_or_before(year_ago)
        after = store.at_or_before(last)
        assert before is not None and after is not None
        return what_changed(before.holdings, after.holdings)

    entry("what_changed_1_year", TARGET_QUERY_MS,
          timed(lambda: service.what_changed(year_ago, last)), timed(year_old_api),
          "SqlSnapshotStore.at_or_before() twice (full snapshots with accounts) + the same math")  # fmt: skip
    rows = service.what_changed(year_ago, last).rows
    with exact_arithmetic():
        assert all(r.price_effect + r.quantity_effect == r.change for r in rows)
    out["what_changed_1_year"]["rows"] = len(rows)
    return out


def retention_times(hourly: list[int], now: int) -> list[int]:
    """What compact(now) keeps of hourly snapshots (checked against the store below)."""
    kept: dict[int, int] = {}
    for t in hourly:
        if t >= now - KEEP_ALL_SECONDS:
            kept[t] = t
        elif t >= now - KEEP_HOURLY_SECONDS:
            kept[t // HOUR] = t
        else:
            kept[-1 - t // DAY] = t
    return sorted(kept.values())


def build(
    db_dir: Path, name: str, portfolio: Portfolio, times: list[int]
) -> tuple[Any, dict[str, Any]]:
    path = db_dir / f"{name}.sqlite3"
    engine = open_database(path, db_dir / "backups")
    t0 = time.perf_counter()
    n = bulk_write(path, portfolio.snapshots(times))
    setup_s = time.perf_counter() - t0
    os.sync()  # let the OS write the new file out now, not while the queries are timed
    # the bulk rows are what the store writes: a sample reads back equal through the store
    probe = times[len(times) // 2]
    expected = next(portfolio.snapshots([probe]))
    stored = SqlSnapshotStore(engine).at_or_before(probe)
    assert stored is not None and stored.taken_at == probe
    totals = SqlHistoryStore(engine).totals(probe, probe)
    stored_total = totals.totals[0]
    removed = SqlSnapshotStore(engine).compact(NOW) if name == "retention" else None
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        holdings = con.execute("SELECT count(*) FROM snapshot_holdings").fetchone()[0]
        sums = con.execute("SELECT count(*) FROM snapshot_breakdown").fetchone()[0]
        try:
            sizes = dict(
                con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
            )
        except sqlite3.Error:
            sizes = {}
    info: dict[str, Any] = {
        "snapshots": n,
        "holdings_rows": holdings,
        "breakdown_rows": sums,
        "db_size_mb": round(path.stat().st_size / 2**20, 1),
        "setup_s": round(setup_s, 1),
        "sample_snapshot_reads_back_equal": {h.key: h for h in stored.holdings}
        == {h.key: h for h in expected.holdings}
        and stored_total == str(expected.total),
    }
    if sizes:
        info["breakdown_table_mb"] = round(sizes.get("snapshot_breakdown", 0) / 2**20, 1)
    if removed is not None:
        info["compact_removed"] = removed  # 0: the built history is exactly what retention keeps
    return engine, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--holdings", type=int, default=200)
    parser.add_argument("--dir", type=Path, help="where to build the (temporary) databases")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also build the uncompacted history on a PostgreSQL server started for the run and "
        "time the snapshot write and the all-time timeline there (tests/benchmarks/"
        "history_postgres.py)",
    )
    args = parser.parse_args()
    start = NOW - args.years * 365 * DAY
    hourly = list(range(start, NOW, HOUR))
    portfolio = Portfolio(args.holdings, start, len(hourly) + 100)  # + the timed writes
    report: dict[str, Any] = {"years": args.years, "holdings_per_snapshot": args.holdings,
                              "pixels": PIXELS}  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        for name, times in (("retention", retention_times(hourly, NOW)), ("uncompacted", hourly)):
            engine, info = build(root, name, portfolio, times)
            info |= measure(engine, portfolio, times[-1])
            engine.dispose()
            report[name] = info
    if args.postgres:
        from tests.benchmarks import history_postgres

        report["postgres"] = history_postgres.run(portfolio, hourly, report["uncompacted"])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
