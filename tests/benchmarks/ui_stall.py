"""Benchmark: how long the window's thread stalls while it shows years of history and a refresh
runs against local servers.

Set-up (not timed): a data directory with 5 years of snapshots as retention leaves them (every
snapshot for 7 days, hourly for 90 days, daily before that), 200 holdings each, and a latest
snapshot of 10,000 holdings (100 wallets x 100 assets); an anvil node with those 100 wallets
holding ETH and 99 tokens; a local DefiLlama-format price server.

Measured, in one process with the real window and the qasync loop: a 10 ms QTimer heartbeat
records the gap between ticks. A stall is a gap minus the 10 ms period. Phases:
- ``warm_up``: just after start-up, while a worker thread imports the chain and chart libraries
  (reported on its own; not counted in the worst stall of the steady phases);
- ``idle``: the window open, nothing happening (the baseline of this machine and run);
- ``show``: the 10,000-row snapshot put into the holdings view;
- ``first_refresh`` / ``refresh``: Refresh now, against anvil + the price server, until the
  snapshot is saved (the first one of a session also imports the chain libraries);
- ``timeline``: the timeline zoomed through every range button (when the window has one), with
  the time of each re-render.
Targets: worst stall < 50 ms; timeline re-render on zoom < 30 ms.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.ui_stall [--holdings 10000]
Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

HOUR, DAY = 3600, 86400
PERIOD_MS = 10


def history_times(now: int, years: int) -> list[int]:
    """Snapshot times as the retention rule leaves them after ``years`` of 15-minute refreshes."""
    times = list(range(now - years * 365 * DAY, now - 90 * DAY, DAY))
    times += list(range(now - 90 * DAY, now - 7 * DAY, HOUR))
    times += list(range(now - 7 * DAY, now - 900, 900))
    return times


def seed_history(db: Path, wallets: list[str], now: int, years: int, per_snapshot: int) -> int:
    """Bulk rows straight into SQLite (set-up only; the product writes through its store), with
    the per-snapshot breakdown sums the store would write."""
    from app.domain.balances import SourceState
    from app.domain.snapshot import SnapshotHolding
    from app.storage.history_store import breakdown_rows

    times = history_times(now, years)
    con = sqlite3.connect(db)
    assets = [f"eip155:{1 + i % 3}/erc20:0x{i:040x}" for i in range(1, per_snapshot + 1)]
    with con:
        for n, t in enumerate(times):
            growth = Decimal(1) + Decimal(n) / Decimal(len(times))
            holdings = [
                SnapshotHolding(
                    wallets[i % len(wallets)], a, f"T{i}", 18, 10**18, 100 * growth,
                    100 * growth, SourceState.OK, t,
                )
                for i, a in enumerate(assets)
            ]  # fmt: skip
            cur = con.execute(
                "INSERT INTO snapshots (taken_at, currency, total, stale_total, sources) "
                "VALUES (?, 'USD', ?, '0', '[]')",
                (t, str(Decimal(per_snapshot) * 100 * growth)),
            )
            sid = int(cur.lastrowid or 0)
            con.executemany(
                "INSERT INTO snapshot_holdings (snapshot_id, wallet, asset_id, position, symbol, "
                "decimals, raw, price, value, state, as_of, is_spam) "
                "VALUES (?, ?, ?, '', ?, 18, ?, ?, ?, 'ok', ?, 0)",
                [
                    (sid, h.wallet, h.asset_id, h.symbol, str(h.raw), str(h.price),
                     str(h.value), t)
                    for h in holdings
                ],
            )  # fmt: skip
            con.executemany(
                "INSERT INTO snapshot_breakdown (snapshot_id, kind, key, value) "
                "VALUES (:snapshot_id, :kind, :key, :value)",
                breakdown_rows(sid, holdings),
            )
    con.close()
    return len(times)


class StallTracer:
    """``--trace-stalls``: a watcher thread samples the GUI thread's stack whenever the heartbeat
    is late by more than 30 ms, to name what stalls it. Off by default (it costs a little)."""

    def __init__(self, beat: Heartbeat) -> None:
        import collections
        import threading

        self.beat = beat
        self.main = threading.get_ident()
        self.samples: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        import gc

        self._gc_start = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        took = (time.perf_counter() - self._gc_start) * 1000
        if took > 10:
            self.samples[f"[{self.beat.phase}] gc generation {info['generation']} >10 ms"] += 1

    def _watch(self) -> None:
        import sys
        import threading
        import traceback

        while not self._stop.wait(0.005):
            if not self.beat.timer.isActive():
                continue
            if (time.perf_counter() - self.beat.last) * 1000 < PERIOD_MS + 30:
                continue
            frames = sys._current_frames()
            frame = frames.get(self.main)
            if frame is None:
                continue
            for ident, other in frames.items():  # what else holds the GIL meanwhile?
                if ident in (self.main, threading.get_ident()):
                    continue
                inner = [
                    f
                    for f in traceback.extract_stack(other)
                    if "/app/" in f.filename or "site-packages" in f.filename
                ]
                if inner:
                    where = " <- ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(inner[-3:])
                    )
                    self.samples[f"[{self.beat.phase}] (worker) {where}"] += 1
            stack = traceback.extract_stack(frame)
            ours = [f for f in stack if "/app/" in f.filename or "site-packages" in f.filename]
            key = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(ours[-6:])
            )
            self.samples[f"[{self.beat.phase}] {key}"] += 1

    def report(self, top: int = 12) -> list[dict[str, Any]]:
        self._stop.set()
        return [{"samples": n, "stack": k} for k, n in self.samples.most_common(top)]


class Heartbeat:
    """Records the gaps between 10 ms timer ticks, per named phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(PERIOD_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.gaps: list[float] = []
        self.phase = ""

    def _tick(self) -> None:
        t = time.perf_counter()
        self.gaps.append((t - self.last) * 1000)
        self.last = t

    def start(self, phase: str) -> None:
        self.phase = phase
        self.gaps = []
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        gaps = self.gaps or [0.0]
        stalls = [max(0.0, g - PERIOD_MS) for g in gaps]
        return {
            "ticks": len(self.gaps),
            "worst_stall_ms": round(max(stalls), 1),
            "p99_stall_ms": round(sorted(stalls)[int(len(stalls) * 0.99)], 1),
            "median_gap_ms": round(statistics.median(gaps), 1),
        }


async def until(
    predicate: Callable[[], bool], status: Callable[[], str], timeout: float = 120.0
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark phase did not finish: {status()}")
        await asyncio.sleep(0.01)


async def run_phases(app: Any, args: argparse.Namespace, setup: dict[str, Any]) -> dict[str, Any]:
    from app.storage.snapshot_store import SqlSnapshotStore

    beat = Heartbeat()
    tracer = StallTracer(beat) if args.trace_stalls else None
    window = app.window
    results: dict[str, Any] = {}

    # Right after start-up a worker thread imports the chain and chart libraries: the window
    # stays responsive but shares the interpreter lock with it. Measured on its own.
    warm = getattr(app, "_warm_up", None)
    if warm is not None:
        beat.start("warm_up")
        started = time.perf_counter()
        await until(lambda: not warm.is_alive(), lambda: "warm-up did not finish")
        results["warm_up"] = beat.stop()
        results["warm_up"]["wall_s"] = round(time.perf_counter() - started, 2)

    beat.start("idle")
    await asyncio.sleep(1.0)
    results["idle"] = beat.stop()

    assert app.context is not None
    store = SqlSnapshotStore(app.context.engine)
    loaded = await asyncio.to_thread(store.latest)
    beat.start("show")
    window.show_snapshot(loaded)
    await asyncio.sleep(0.3)
    results["show"] = beat.stop()
    results["show"]["rows"] = 0 if loaded is None else len(loaded.holdings)

    # The first refresh of a session also imports the chain and price libraries; the second
    # is what every later refresh costs.
    shown = [0]
    window.holdings_page.shown.connect(lambda: shown.__setitem__(0, shown[0] + 1))
    for phase in ("first_refresh", "refresh"):
        # Done when the new snapshot's rows are on screen (the page says so).
        before = shown[0]
        beat.start(phase)
        started = time.perf_counter()
        window.refresh_now()
        await until(
            lambda b=before: shown[0] > b and not window.refresher.running,  # type: ignore[misc]
            lambda: window.statusBar().currentMessage(),
        )
        results[phase] = beat.stop()
        results[phase]["wall_s"] = round(time.perf_counter() - started, 2)

    timeline = getattr(window, "timeline_page", None)
    if timeline is not None and hasattr(timeline, "range_buttons"):
        renders: list[float] = []
        beat.start("timeline_open")
        window.tabs.setCurrentWidget(timeline)  # the page reads its history when first shown
        await until(lambda: timeline.net_worth is not None, lambda: "timeline did not load")
        results["timeline_open"] = beat.stop()
        beat.start("timeline")
        for _ in range(args.zoom_rounds):
            for button in timeline.range_buttons():
                t0 = time.perf_counter()
                button.click()
                app.qapp.processEvents()
                renders.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.05)
        results["timeline"] = beat.stop()
        results["timeline"]["worst_render_ms"] = round(max(renders), 1)
        results["timeline"]["median_render_ms"] = round(statistics.median(renders), 1)
    if tracer is not None:
        results["stall_stacks"] = tracer.report()
    worst = max(
        r["worst_stall_ms"]
        for k, r in results.items()
        if k not in ("idle", "warm_up", "stall_stacks")
    )
    results["summary"] = {
        "worst_stall_ms": worst,
        "target_stall_ms": 50,
        "idle_worst_stall_ms": results["idle"]["worst_stall_ms"],
        "warm_up_worst_stall_ms": results.get("warm_up", {}).get("worst_stall_ms"),
        "timeline_worst_render_ms": results.get("timeline", {}).get("worst_render_ms"),
        "target_render_ms": 30,
        **setup,
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=99)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--history-holdings", type=int, default=200)
    parser.add_argument("--zoom-rounds", type=int, default=3)
    parser.add_argument("--trace-stalls", action="store_true", help="name the stalling code")
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.bootstrap import bootstrap
    from app.cli import main as cli
    from app.config import Paths, Settings
    from app.domain.balances import AssetInfo
    from app.domain.ids import AssetId
    from app.storage.token_store import TokenStore
    from app.ui.application import ChainfolioApp, make_qapplication
    from tests.benchmarks.evm_refresh import checksum, setup_chain
    from tests.integration.evm.anvil import MULTICALL3, Anvil
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    tmp = Path(tempfile.mkdtemp(prefix="chainfolio-bench-"))
    node = Anvil(31337)
    wallets = [checksum(f"0x{i + 1:040x}") for i in range(args.wallets)]
    tokens = setup_chain(node, wallets, args.tokens)
    llama = FakeDefiLlama(prices={})
    with serve_in_thread(llama) as url:
        quiet = open(os.devnull, "w")  # noqa: SIM115
        base = ["--data-dir", str(tmp)]
        cli([*base, "networks", "add", "31337", "Local", "ETH", node.url,
             "--multicall3", MULTICALL3], stdout=quiet)  # fmt: skip
        from app.chains.registry import ChainRegistry
        from tests.support.fakes import MemorySecrets

        defaults = ChainRegistry(
            Paths.resolve(tmp).config_dir / "networks.toml", MemorySecrets()
        ).all()
        for spec in defaults:  # only the local node: no test reaches the internet
            if spec.chain_id.reference != "31337":
                cli([*base, "networks", "disable", str(spec.chain_id)], stdout=quiet)
        cli([*base, "config", "set", "prices.defillama.url", url], stdout=quiet)
        cli([*base, "config", "set", "prices.order", "defillama"], stdout=quiet)
        cli([*base, "config", "set", "refresh.auto", "false"], stdout=quiet)
        ctx = bootstrap(Paths.resolve(tmp))
        store = TokenStore(ctx.engine)
        for i, t in enumerate(tokens):
            asset = AssetId.parse(f"eip155:31337/erc20:{t.lower()}")
            store.upsert(AssetInfo(asset, f"T{i}", f"Token {i}", 18), "user")
        for w in wallets:
            asyncio.run(ctx.wallets.add(w))
        ctx.close()
        now = int(time.time())
        db = Paths.resolve(tmp).database
        n_snapshots = seed_history(
            db, [f"eip155:31337:{w}" for w in wallets], now - 3600, args.years,
            args.history_holdings,
        )  # fmt: skip
        # The latest snapshot: a refresh of every wallet, priced, written through the product.
        cli([*base, "refresh", "--once"], stdout=quiet)
        setup = {
            "history_snapshots": n_snapshots,
            "history_holdings_each": args.history_holdings,
            "holdings_rows": args.wallets * (args.tokens + 1),
            "db_mib": round(db.stat().st_size / 2**20, 1),
        }

        paths = Paths.resolve(tmp)
        settings = Settings.load(paths.settings_file)
        qapp = make_qapplication(["ui_stall"])
        if not isinstance(qapp, QApplication):
            raise SystemExit("no QApplication")
        app = ChainfolioApp(qapp, paths, settings)

        async def scenario() -> dict[str, Any]:
            app.window.resize(1100, 700)
            app.window.show()
            qapp.processEvents()
            app.start()  # opens the data; the schedule stays off (refresh.auto is false)
            if app.context is None:
                raise SystemExit("cannot open data")
            try:
                return await run_phases(app, args, setup)
            finally:
                await app.shutdown()

        results = asyncio.run(scenario(), loop_factory=qasync.QEventLoop)
    node.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
