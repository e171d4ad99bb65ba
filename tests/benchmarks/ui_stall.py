"""Benchmark: how long the window's thread stalls while it shows years of history and a refresh
runs against local servers, each phase repeated in fresh processes.

Set-up (once, not timed): a data directory with 5 years of snapshots as retention leaves them
(every snapshot for 7 days, hourly for 90 days, daily before that), 200 holdings each, and a
latest snapshot of 10,000 holdings (100 wallets x 100 assets); an anvil node with those 100
wallets holding ETH and 99 tokens; a local DefiLlama-format price server.

Then ``--runs`` times (default 5), each on a fresh copy of that directory:
- ``start_to_first_paint``: ``python -m app`` as a user starts it, process start to the first
  painted window (the product's own start-up probe);
- one process with the real window and the qasync loop, where a 10 ms QTimer heartbeat records
  the gap between ticks (a stall is a gap minus the period) and the GUI thread's CPU time,
  through these phases:
  ``warm_up`` (``app.start()`` opens the data in a worker thread and attaches it to the
  window, then a worker thread imports the chain and chart libraries; in the target like every
  other phase, with the ``start()`` call's own time),
  ``idle`` (the baseline of this machine and run), ``show`` (the 10,000-row snapshot put into
  the holdings view), ``first_refresh`` / ``refresh`` (Refresh now against anvil + the price
  server until the new rows are shown), ``timeline_open`` (the Timeline tab opened on 5 years
  of history while a refresh runs, until the chart and "what changed" are shown) and
  ``timeline`` (every range button, ``--zoom-rounds`` times, while refreshes keep running; a
  re-render is a click to the end of the chart's next paint).

Reported: per phase the median and the worst of the runs' worst stalls, and the median of the
re-renders of all runs with the worst of them; the machine (cores, CPU, Python, Qt) and its load.
Per phase also: the GUI thread's CPU time, ``os_wait_ms`` (how long that thread was ready to run
while the OS ran other processes, from Linux schedstat) and ``worst_stall_own_ms`` (the worst
stall less that wait: what this process caused on a shared machine), full garbage collections
and the longest one, and the modules first imported during the phase.
Targets: worst stall < 50 ms; re-render median < 16 ms (one frame at 60 Hz) and worst < 50 ms;
start to first paint < 1.0 s.

``--trace-stalls`` names the code behind each stall: a watcher thread samples the GUI thread's
stack whenever the heartbeat is more than 30 ms late (and what any busy worker runs meanwhile).
``--profile [PHASES]`` samples the GUI thread's stack every 2 ms in the named phases (default
``timeline``: both timeline phases), a profile of that thread alone (cProfile in Python 3.12+
also records the worker threads).

``--base REV`` makes it a same-run A/B: every run also starts the window of an earlier commit
(a temporary git worktree) on a fresh copy of the same data, alternating with this tree; the
earlier commit's figures are reported under ``base``. This machine's speed drifts by the hour,
so a change is judged on that, not on runs hours apart.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.ui_stall [--runs 5] [--base REV]
Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
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
    from tests.benchmarks.holding_rows import INSERT_ROWS, INSERT_TEXTS, HoldingRows

    con = sqlite3.connect(db)
    numbered = HoldingRows()  # holding_texts + snapshot_rows, as the store writes them
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
            con.executemany(INSERT_ROWS, numbered.rows(sid, holdings))
            con.executemany(INSERT_TEXTS, numbered.new_texts())
            con.executemany(
                "INSERT INTO snapshot_breakdown (snapshot_id, kind, key, value) "
                "VALUES (:snapshot_id, :kind, :key, :value)",
                breakdown_rows(sid, holdings),
            )
    con.close()
    return len(times)


IDLE_FRAMES = {"wait", "get", "_worker", "select", "acquire", "_wait_for_tstate_lock"}


def _stack(frame: Any) -> list[tuple[str, int, str]]:
    """(file, line, function) from the outermost frame in, without reading source lines."""
    out = []
    while frame is not None:
        out.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    out.reverse()
    return out


def _where(frames: list[tuple[str, int, str]], depth: int) -> str:
    return " <- ".join(f"{Path(f[0]).name}:{f[1]} {f[2]}" for f in reversed(frames[-depth:]))


class StallTracer:
    """``--trace-stalls``: a watcher thread samples the GUI thread's stack whenever the heartbeat
    is late by more than 30 ms, to name what stalls it, and the stack of every worker thread that
    is running code meanwhile (it competes for the interpreter lock). Full collections over 10 ms
    are counted too. Off by default (it costs a little)."""

    def __init__(self, beat: Heartbeat) -> None:
        import collections
        import gc
        import threading

        self.beat = beat
        self.main = threading.get_ident()
        self.samples: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        self._gc_start = 0.0
        gc.callbacks.append(self._gc)
        self.profile_phases: tuple[str, ...] = ()
        self.profile_total = self.profile_idle = 0
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.leaves: collections.Counter[str] = collections.Counter()

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        took = (time.perf_counter() - self._gc_start) * 1000
        if took > 10:
            self.samples[f"[{self.beat.phase}] gc generation {info['generation']} >10 ms"] += 1

    def _watch(self) -> None:
        import threading

        while not self._stop.wait(0.002):
            if not self.beat.timer.isActive():
                continue
            frames = sys._current_frames()
            frame = frames.get(self.main)
            if frame is None:
                continue
            stack = _stack(frame)
            if any(self.beat.phase.startswith(p) for p in self.profile_phases):
                self._profile(stack)
            if (time.perf_counter() - self.beat.last) * 1000 < PERIOD_MS + 30:
                continue
            for ident, other in frames.items():
                if ident in (self.main, threading.get_ident()):
                    continue
                work = _stack(other)
                if not work or work[-1][2] in IDLE_FRAMES:
                    continue  # a worker waiting for work holds no lock
                self.samples[f"[{self.beat.phase}] (worker) {_where(work, 4)}"] += 1
            ours = [f for f in stack if "/app/" in f[0] or "site-packages" in f[0]]
            self.samples[f"[{self.beat.phase}] {_where(ours, 6)}"] += 1

    def _profile(self, stack: list[tuple[str, int, str]]) -> None:
        """Sampling profile of the GUI thread: samples per function (inclusive) and per leaf."""
        self.profile_total += 1
        if stack and stack[-1][2] == "run_forever":
            self.profile_idle += 1  # in Qt's C++ event loop: idle, drawing, or waiting for the GIL
            return
        seen = set()
        for f in stack:
            name = f"[{self.beat.phase}] {Path(f[0]).name}:{f[2]}"
            if name not in seen:
                seen.add(name)
                self.inclusive[name] += 1
        self.leaves[f"[{self.beat.phase}] {_where(stack, 3)}"] += 1

    def report(self, top: int = 15) -> list[dict[str, Any]]:
        self._stop.set()
        return [{"samples": n, "stack": k} for k, n in self.samples.most_common(top)]

    def profile_report(self, top: int = 120) -> dict[str, Any]:
        return {
            "samples": self.profile_total,
            "in_qt_event_loop": self.profile_idle,
            "inclusive": [f"{n} {k}" for k, n in self.inclusive.most_common(top)],
            "leaves": [f"{n} {k}" for k, n in self.leaves.most_common(top)],
        }


def run_queue_ms() -> float:
    """How long this thread has waited for a CPU while ready to run (Linux schedstat), in ms;
    0 where the kernel does not say."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


class Heartbeat:
    """Records the gaps between 10 ms timer ticks and the GUI thread's CPU time, per phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(PERIOD_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.gaps: list[float] = []
        self.phase = ""
        self._cpu = 0.0
        self._wall = 0.0
        self._gc_started = 0.0
        self.gc_ms: list[float] = []
        import gc

        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        """Full collections (generation 2) stop every thread: counted per phase."""
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self.gc_ms.append((time.perf_counter() - self._gc_started) * 1000)

    def _tick(self) -> None:
        t = time.perf_counter()
        self.gaps.append((t - self.last) * 1000)
        self.last = t
        waited = run_queue_ms()
        self.os_waits.append(waited - self._waited)
        self._waited = waited
        cpu = time.thread_time()
        self.cpus.append((cpu - self._tick_cpu) * 1000)
        self._tick_cpu = cpu

    def start(self, phase: str) -> None:
        self.phase = phase
        self.gaps = []
        self.last = self._wall = time.perf_counter()
        self._cpu = time.thread_time()
        self._modules = set(sys.modules)
        self.gc_ms = []
        self.os_waits: list[float] = []
        self.cpus: list[float] = []
        self._waited = run_queue_ms()
        self._tick_cpu = self._cpu
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        cpu = (time.thread_time() - self._cpu) * 1000
        wall = (time.perf_counter() - self._wall) * 1000
        gaps = self.gaps or [0.0]
        stalls = [max(0.0, g - PERIOD_MS) for g in gaps]
        ours = [max(0.0, g - PERIOD_MS - w) for g, w in zip(self.gaps, self.os_waits, strict=True)]
        worst = max(range(len(self.gaps)), key=lambda i: self.gaps[i], default=None)
        # where the worst gap went: running on the GUI thread, waiting for a CPU, or neither
        # (waiting for the interpreter lock, which a worker thread or its collection holds)
        split = (
            {}
            if worst is None
            else {
                "gap_ms": round(self.gaps[worst], 1),
                "gui_cpu_ms": round(self.cpus[worst], 1),
                "os_wait_ms": round(self.os_waits[worst], 1),
                "rest_ms": round(self.gaps[worst] - self.cpus[worst] - self.os_waits[worst], 1),
            }
        )
        return {
            "ticks": len(self.gaps),
            "worst_stall_ms": round(max(stalls), 1),
            # the same without the time the GUI thread was ready but the OS ran something else
            # (other processes on a shared machine): the part of a stall this process caused
            "worst_stall_own_ms": round(max(ours, default=0.0), 1),
            "os_wait_ms": round(sum(self.os_waits)),
            "worst_gap_split": split,
            "p99_stall_ms": round(sorted(stalls)[int(len(stalls) * 0.99)], 1),
            "median_gap_ms": round(statistics.median(gaps), 1),
            "wall_ms": round(wall),
            "gui_cpu_ms": round(cpu),  # CPU time of the GUI thread during the phase
            "full_gc": len(self.gc_ms),
            "full_gc_worst_ms": round(max(self.gc_ms, default=0.0), 1),
            # first imported during the phase (by any thread): a first use pays for them
            "modules_imported": len(set(sys.modules) - self._modules),
            "packages_imported": sorted(
                {m.split(".")[0] for m in set(sys.modules) - self._modules}
            ),
        }


async def until(
    predicate: Callable[[], bool], status: Callable[[], str], timeout: float = 120.0
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark phase did not finish: {status()}")
        await asyncio.sleep(0.01)


class PaintClock:
    """When the timeline chart last finished painting (wraps pyqtgraph's GraphicsView paint, in
    this benchmark process only), so a re-render is measured from the click to the end of the
    paint that shows it, through the real event loop."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        self.painted: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        original = pg.GraphicsView.paintEvent
        clock = self

        def paint(view: Any, event: Any) -> Any:
            result = original(view, event)
            clock.painted[id(view)] = time.perf_counter()
            clock.cpu[id(view)] = time.thread_time()
            return result

        pg.GraphicsView.paintEvent = paint

    async def render(self, view: Any, action: Callable[[], None]) -> tuple[float, float]:
        """(wall ms, GUI-thread CPU ms) from ``action`` to the end of ``view``'s next paint."""
        t0, c0 = time.perf_counter(), time.thread_time()
        self.painted.pop(id(view), None)
        action()
        await until(lambda: id(view) in self.painted, lambda: "the chart did not repaint", 10)
        return (self.painted[id(view)] - t0) * 1000, (self.cpu[id(view)] - c0) * 1000


class Refresher:
    """Keeps a refresh running: starts the next one as soon as the last one is shown."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.started = 0
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            if not self.window.refresher.running:
                self.window.refresh_now()
                self.started += 1
            await asyncio.sleep(0.02)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await until(lambda: not self.window.refresher.running, lambda: "refresh did not end")


async def run_phases(app: Any, args: argparse.Namespace, first_paint_s: float) -> dict[str, Any]:
    from app.storage.snapshot_store import SqlSnapshotStore

    beat = Heartbeat()
    tracer = StallTracer(beat) if args.trace_stalls or args.profile else None
    if tracer is not None and args.profile:
        tracer.profile_phases = tuple(args.profile.split(","))
    window = app.window
    results: dict[str, Any] = {"show_to_first_paint_s": round(first_paint_s, 3)}

    # Right after start-up a worker thread imports the chain and chart libraries: the window
    # stays responsive but shares the interpreter lock with it. Measured on its own.
    beat.start("warm_up")
    t0, c0 = time.perf_counter(), time.thread_time()
    app.start()  # opens the data in a worker thread, attaches it, then starts the warm-up
    start_ms, start_cpu_ms = (time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000
    await until(lambda: app._warmed is not None, lambda: "warm-up did not start")
    await asyncio.gather(app._warmed, return_exceptions=True)
    results["warm_up"] = beat.stop()
    results["warm_up"]["start_call_ms"] = round(start_ms, 1)  # one stall, by itself
    results["warm_up"]["start_call_cpu_ms"] = round(start_cpu_ms, 1)

    beat.start("idle")
    await asyncio.sleep(1.0)
    results["idle"] = beat.stop()

    assert app.context is not None
    store = SqlSnapshotStore(app.context.engine)
    loaded = await asyncio.to_thread(store.latest)
    shown = [0]
    window.holdings_page.shown.connect(lambda: shown.__setitem__(0, shown[0] + 1))
    beat.start("show")
    window.show_snapshot(loaded)
    await until(lambda: shown[0] > 0, lambda: "rows were not shown")
    await asyncio.sleep(0.2)
    results["show"] = beat.stop()
    results["show"]["rows"] = 0 if loaded is None else len(loaded.holdings)

    # The first refresh of a session also imports the chain and price libraries; the second
    # is what every later refresh costs.
    for phase in ("first_refresh", "refresh"):
        # Done when the new snapshot's rows are on screen (the page says so).
        before = shown[0]
        beat.start(phase)
        window.refresh_now()
        await until(
            lambda b=before: shown[0] > b and not window.refresher.running,  # type: ignore[misc]
            lambda: window.statusBar().currentMessage(),
        )
        results[phase] = beat.stop()

    timeline = window.timeline_page
    refreshing = Refresher(window)
    refreshing.start()
    await until(lambda: window.refresher.running, lambda: "refresh did not start")
    clock = PaintClock()
    loaded_changes = [0]
    timeline.changes_loaded.connect(lambda: loaded_changes.__setitem__(0, loaded_changes[0] + 1))
    # the chart with data: the first paint after the history arrived (not the empty chart)
    opening = [True]
    timeline.net_worth_loaded.connect(lambda: opening[0] and clock.painted.clear())
    beat.start("timeline_open")
    opened = time.perf_counter()
    window.tabs.setCurrentWidget(timeline)  # the page reads its history when first shown
    switch_ms = (time.perf_counter() - opened) * 1000
    await until(lambda: timeline.net_worth is not None and timeline.plot is not None,
                lambda: "timeline did not load")  # fmt: skip
    await until(lambda: id(timeline.plot.widget) in clock.painted, lambda: "no chart painted")
    assert timeline.net_worth is not None and len(timeline.net_worth) > 1000
    chart_s = clock.painted[id(timeline.plot.widget)] - opened
    opening[0] = False
    await until(lambda: loaded_changes[0] > 0, lambda: "what changed did not load")
    await asyncio.sleep(0.3)
    results["timeline_open"] = beat.stop()
    results["timeline_open"]["to_chart_ms"] = round(chart_s * 1000)
    results["timeline_open"]["tab_switch_call_ms"] = round(switch_ms, 1)

    renders: list[float] = []
    render_cpu: list[float] = []
    beat.start("timeline")
    for _ in range(args.zoom_rounds):
        for button in timeline.range_buttons():
            wall, cpu = await clock.render(timeline.plot.widget, button.click)
            renders.append(wall)
            render_cpu.append(cpu)
            await asyncio.sleep(0.3)  # past the settle delay: the range's other reads run too
    results["timeline"] = beat.stop()
    await refreshing.stop()
    results["timeline"]["renders_ms"] = [round(r, 1) for r in renders]
    results["timeline"]["render_cpu_ms"] = [round(r, 1) for r in render_cpu]
    results["timeline"]["refreshes_during_timeline"] = refreshing.started
    if tracer is not None:
        results["stall_stacks"] = tracer.report()
        if args.profile:
            results["gui_profile"] = tracer.profile_report()
    return results


def run_child(args: argparse.Namespace) -> None:
    """One measured process: the window on the prepared data directory ``args.child``."""

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    paths = Paths.resolve(args.child)
    settings = Settings.load(paths.settings_file)
    qapp = make_qapplication(["ui_stall"])
    if not isinstance(qapp, QApplication):
        raise SystemExit("no QApplication")
    app = ChainfolioApp(qapp, paths, settings, tray=False)

    async def scenario() -> dict[str, Any]:
        painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        app.window.first_paint.connect(
            lambda: painted.done() or painted.set_result(time.perf_counter() - started)
        )
        app.window.resize(1100, 700)
        app.show_window()
        first_paint_s = await painted
        try:
            return await run_phases(app, args, first_paint_s)
        finally:
            await app.shutdown()

    results = asyncio.run(scenario(), loop_factory=qasync.QEventLoop)
    sys.__stdout__.write(json.dumps(results) + "\n")


def machine() -> dict[str, Any]:
    import platform

    import numpy
    import pyqtgraph
    import PySide6
    from PySide6.QtCore import qVersion

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "qt": qVersion(),
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": numpy.__version__,
        "qpa_platform": os.environ.get("QT_QPA_PLATFORM", ""),
    }


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 1),
        "worst": round(max(values), 1),
        "all": [round(v, 1) for v in values],
    }


def aggregate(runs: list[dict[str, Any]], starts: list[float]) -> dict[str, Any]:
    """Per phase: the median and the worst of the runs' worst stalls; re-renders pooled."""
    phases = [k for k, v in runs[0].items() if isinstance(v, dict) and "worst_stall_ms" in v]
    out: dict[str, Any] = {}
    for phase in phases:
        rows = [r[phase] for r in runs]
        out[phase] = {
            "worst_stall_ms": spread([r["worst_stall_ms"] for r in rows]),
            "worst_stall_own_ms": spread([r["worst_stall_own_ms"] for r in rows]),
            "median_gap_ms": round(statistics.median(r["median_gap_ms"] for r in rows), 1),
            "gui_cpu_ms": spread([r["gui_cpu_ms"] for r in rows]),
            "os_wait_ms": round(statistics.median(r["os_wait_ms"] for r in rows)),
            "full_gc_worst_ms": max(r["full_gc_worst_ms"] for r in rows),
            "wall_ms": round(statistics.median(r["wall_ms"] for r in rows)),
        }
    renders = [x for r in runs for x in r["timeline"]["renders_ms"]]
    render_cpu = [x for r in runs for x in r["timeline"]["render_cpu_ms"]]
    out["timeline"]["re_render_ms"] = {
        "median": round(statistics.median(renders), 1),
        "worst": round(max(renders), 1),
        "count": len(renders),
        "gui_cpu_median": round(statistics.median(render_cpu), 1),
        "gui_cpu_worst": round(max(render_cpu), 1),
    }
    out["timeline_open"]["to_chart_ms"] = spread([r["timeline_open"]["to_chart_ms"] for r in runs])
    out["start_to_first_paint_s"] = {
        "median": round(statistics.median(starts), 3),
        "worst": round(max(starts), 3),
        "all": [round(s, 3) for s in starts],
    }
    steady = [p for p in phases if p != "idle"]  # the warm-up is in the target too
    worst = max(out[p]["worst_stall_ms"]["worst"] for p in steady)
    timeline_worst = max(out[p]["worst_stall_ms"]["worst"] for p in ("timeline_open", "timeline"))
    out["summary"] = {
        "runs": len(runs),
        "worst_stall_ms_worst_of_runs": worst,
        "worst_stall_ms_median_of_runs": max(out[p]["worst_stall_ms"]["median"] for p in steady),
        "target_stall_ms": 50,
        "meets_stall_target": worst < 50,
        "timeline_worst_stall_ms": timeline_worst,
        "re_render_worst_ms": out["timeline"]["re_render_ms"]["worst"],
        "re_render_median_ms": out["timeline"]["re_render_ms"]["median"],
        "target_re_render_median_ms": 16,
        "meets_timeline_target": timeline_worst < 50
        and out["timeline"]["re_render_ms"]["worst"] < 50
        and out["timeline"]["re_render_ms"]["median"] < 16,
        "start_to_first_paint_median_s": out["start_to_first_paint_s"]["median"],
        "meets_start_target": out["start_to_first_paint_s"]["median"] < 1.0,
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=99)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--history-holdings", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes, each all phases")
    parser.add_argument("--zoom-rounds", type=int, default=3)
    parser.add_argument("--trace-stalls", action="store_true", help="name the stalling code")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="timeline",
        metavar="PHASES",
        help="sample the GUI thread in these phases (comma-separated prefixes; timeline)",
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="same-run A/B: also run every phase on this earlier commit (a temporary git "
        "worktree), alternating with this tree on the same data; its figures go under "
        '"base" (the data is set up by this tree: the base must open its schema)',
    )
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    import shutil
    import subprocess

    from app.bootstrap import bootstrap
    from app.cli import main as cli
    from app.config import Paths
    from app.domain.balances import AssetInfo
    from app.domain.ids import AssetId
    from app.storage.token_store import TokenStore
    from tests.benchmarks.evm_refresh import checksum, setup_chain
    from tests.benchmarks.startup import BASELINE, time_to_paint
    from tests.integration.evm.anvil import MULTICALL3, Anvil
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    root = Path(__file__).resolve().parents[2]
    tmp = Path(tempfile.mkdtemp(prefix="chainfolio-bench-"))
    roots = {"new": root}
    if args.base:
        roots["base"] = tmp / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(roots["base"]), args.base],
                       cwd=root, check=True, capture_output=True)  # fmt: skip
        (roots["base"] / "node_modules").symlink_to(root / "node_modules")  # the same anvil
    prepared = tmp / "prepared"
    node = Anvil(31337)
    wallets = [checksum(f"0x{i + 1:040x}") for i in range(args.wallets)]
    tokens = setup_chain(node, wallets, args.tokens)
    llama = FakeDefiLlama(prices={})
    load_before = os.getloadavg()
    try:
        with serve_in_thread(llama) as url:
            quiet = open(os.devnull, "w")  # noqa: SIM115
            base = ["--data-dir", str(prepared)]
            cli([*base, "networks", "add", "31337", "Local", "ETH", node.url,
                 "--multicall3", MULTICALL3], stdout=quiet)  # fmt: skip
            from app.chains.registry import ChainRegistry
            from tests.support.fakes import MemorySecrets

            defaults = ChainRegistry(
                Paths.resolve(prepared).config_dir / "networks.toml", MemorySecrets()
            ).all()
            for spec in defaults:  # only the local node: no test reaches the internet
                if spec.chain_id.reference != "31337":
                    cli([*base, "networks", "disable", str(spec.chain_id)], stdout=quiet)
            cli([*base, "config", "set", "prices.defillama.url", url], stdout=quiet)
            cli([*base, "config", "set", "prices.order", "defillama"], stdout=quiet)
            cli([*base, "config", "set", "refresh.auto", "false"], stdout=quiet)
            ctx = bootstrap(Paths.resolve(prepared))
            store = TokenStore(ctx.engine)
            for i, t in enumerate(tokens):
                asset = AssetId.parse(f"eip155:31337/erc20:{t.lower()}")
                store.upsert(AssetInfo(asset, f"T{i}", f"Token {i}", 18), "user")
            for w in wallets:
                asyncio.run(ctx.wallets.add(w))
            ctx.close()
            now = int(time.time())
            db = Paths.resolve(prepared).database
            n_snapshots = seed_history(
                db, [f"eip155:31337:{w}" for w in wallets], now - 3600, args.years,
                args.history_holdings,
            )  # fmt: skip
            # The latest snapshot: a refresh of every wallet, priced, written through the app.
            cli([*base, "refresh", "--once"], stdout=quiet)
            setup = {
                "history_snapshots": n_snapshots,
                "history_holdings_each": args.history_holdings,
                "holdings_rows": args.wallets * (args.tokens + 1),
                "db_mib": round(db.stat().st_size / 2**20, 1),
                "zoom_rounds": args.zoom_rounds,
            }
            env = dict(os.environ, QT_QPA_PLATFORM=os.environ["QT_QPA_PLATFORM"])
            runs: dict[str, list[dict[str, Any]]] = {side: [] for side in roots}
            starts: list[float] = []
            bare: list[float] = []
            for n in range(args.runs):
                run_dir = tmp / f"run-{n}"
                shutil.copytree(prepared, run_dir)
                app_cmd = [sys.executable, "-m", "app", "--data-dir", str(run_dir)]
                starts.append(time_to_paint(app_cmd, {**env, "CHAINFOLIO_STARTUP_PROBE": "1"}))
                bare.append(time_to_paint([sys.executable, "-c", BASELINE], env))
                shutil.rmtree(run_dir)
                for side, side_root in roots.items():  # alternating: the machine's drift
                    shutil.copytree(prepared, run_dir)
                    child = [sys.executable, "-m", "tests.benchmarks.ui_stall", "--child",
                             str(run_dir), "--zoom-rounds", str(args.zoom_rounds)]  # fmt: skip
                    if args.trace_stalls:
                        child.append("--trace-stalls")
                    if args.profile:
                        child += ["--profile", args.profile]
                    out = subprocess.run(child, env=env, cwd=side_root, stdout=subprocess.PIPE,
                                         text=True, check=True, timeout=600)  # fmt: skip
                    runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
                    shutil.rmtree(run_dir)
    finally:
        node.stop()
        if args.base:
            subprocess.run(["git", "worktree", "remove", "--force", str(roots["base"])],
                           cwd=root, capture_output=True)  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)
    results = aggregate(runs["new"], starts)
    if args.base:
        results["base"] = {"rev": args.base, **aggregate(runs["base"], starts)}
    results["start_to_first_paint_s"]["bare_qt_median"] = round(statistics.median(bare), 3)
    results["setup"] = setup
    results["machine"] = {
        **machine(),
        "load_avg_1min_before": round(load_before[0], 2),
        "load_avg_1min_after": round(os.getloadavg()[0], 2),
    }
    results["runs"] = runs["new"]  # each with its own stall_stacks under --trace-stalls
    if args.base:
        results["base"]["runs"] = runs["base"]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
