"""Benchmark: does the window stay responsive while the Transactions and Performance tabs work
on a ledger of 50,000 transactions (10 years, 500 assets; the ledger benchmark's data)?

Set-up (not timed): a data directory with the synthetic ledger of ``tests/benchmarks/ledger.py``
imported through ``LedgerService`` and 10 years of daily prices for 50 of its coins. Then the real
main window (``MainWindow.attach`` on the real ``AppContext``) on a qasync loop, with a 10 ms
QTimer heartbeat recording the gap between ticks (a stall is a gap minus the period), through:

- ``idle``: one second of nothing (this machine's baseline);
- ``transactions_open``: the Transactions tab shown until its 50,000 rows are in the table
  (read, display rows, sort, all in worker threads);
- ``transactions_sort`` / ``transactions_filter``: a sort by amount, then a free-text filter;
- ``performance_open``: the Performance tab shown until P&L and the returns of the whole ledger
  and of each account are on screen;
- ``method_switch``: FIFO → average cost until the new P&L is shown;
- ``presets``: the five return presets clicked one after another (no wait between), until the
  last one's figures are shown.

Reported per phase: the worst stall and the time until the result was on screen. Target: worst
stall < 50 ms. Prints JSON with the machine's load (it is shared).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.benchmarks.ledger_window
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from tests.benchmarks.ledger import ACCOUNTS, DAY, make_assets, make_csv

TARGET_STALL_MS = 50.0


def seed(folder: Path, n_tx: int, n_assets: int) -> Any:
    from app.bootstrap import bootstrap
    from app.config import Paths
    from app.storage.price_store import SqlBackfillStore

    now = int(time.time())
    assets = make_assets(n_assets)
    text, walks = make_csv(n_tx, assets, now)
    paths = Paths.resolve(folder / "data")
    paths.ensure()
    ctx = bootstrap(paths)
    history = SqlBackfillStore(ctx.engine)
    for a in [a for a in assets if "/" in a][:50]:
        history.save_history(a, [(d * DAY, Decimal(f"{p:.6f}")) for d, p in walks[a]], "bench")
    for name in ACCOUNTS:
        ctx.ledger.add_account(name)
    result = ctx.ledger.import_csv(text)
    assert result.ok and result.added == n_tx, result.errors[:3]
    return ctx


class Heartbeat:
    """The 10 ms tick, and every garbage collection (generation, ms, thread) as it happens."""

    def __init__(self) -> None:
        import gc
        import threading

        from PySide6.QtCore import QTimer

        self.collections: list[tuple[int, int, float, bool]] = []  # (tick, gen, ms, gui thread)
        self._gc_start = 0.0
        gui = threading.get_ident()

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                self._gc_start = time.perf_counter()
            else:
                ms = (time.perf_counter() - self._gc_start) * 1000
                here = threading.get_ident() == gui
                self.collections.append((len(self.gaps), info["generation"], ms, here))

        gc.callbacks.append(on_gc)
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def trace(self, late_s: float = 0.03) -> None:
        """Name the code behind each stall: a watcher thread samples every thread's stack
        whenever the heartbeat is more than ``late_s`` late (``--trace-stalls``)."""
        import threading
        import traceback

        self.traces: dict[str, int] = {}

        def watch() -> None:
            while self.timer.isActive():
                time.sleep(0.005)
                if time.perf_counter() - self._last > late_s:
                    for ident, frame in sys._current_frames().items():
                        if ident == threading.get_ident():
                            continue
                        top = traceback.extract_stack(frame)[-3:]
                        where = " < ".join(f"{f.name}:{f.lineno}" for f in reversed(top))
                        self.traces[where] = self.traces.get(where, 0) + 1

        threading.Thread(target=watch, daemon=True).start()

    def mark(self) -> int:
        return len(self.gaps)

    def worst_gc(self, since: int) -> dict[str, Any]:
        found = [c for c in self.collections if c[0] >= since]
        worst = max(found, key=lambda c: c[2], default=None)
        return {
            "collections": len(found),
            "full": sum(1 for c in found if c[1] == 2),
            "longest_ms": round(worst[2], 1) if worst else 0.0,
        }

    def worst_ms(self, since: int) -> float:
        gaps = self.gaps[since:]
        return round(max((g - 0.010 for g in gaps), default=0.0) * 1000, 1)


def signal_future(signal: Any) -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fire(*_args: object) -> None:
        if not future.done():
            future.set_result(None)

    signal.connect(fire)
    return future


async def measure(window: Any, beat: Heartbeat) -> dict[str, Any]:
    from PySide6.QtCore import Qt

    from app.ui.models.ledger_models import TxColumn

    out: dict[str, Any] = {}

    async def phase(name: str, start: Any, *signals: Any) -> None:
        futures = [signal_future(s) for s in signals]
        mark, t0 = beat.mark(), time.perf_counter()
        start()
        await asyncio.wait_for(asyncio.gather(*futures), 120)
        await asyncio.sleep(0.05)  # the paint after the result
        out[name] = {
            "result_s": round(time.perf_counter() - t0, 3),
            "worst_stall_ms": beat.worst_ms(mark),
            "gc": beat.worst_gc(mark),
        }

    mark = beat.mark()
    await asyncio.sleep(1.0)
    out["idle"] = {"worst_stall_ms": beat.worst_ms(mark)}
    ledger, perf = window.ledger_page, window.performance_page
    await phase("transactions_open", lambda: window.tabs.setCurrentWidget(ledger), ledger.arranged)
    out["transactions_open"]["rows"] = ledger.model.rowCount()
    await phase(
        "transactions_sort",
        lambda: ledger.table.sortByColumn(TxColumn.AMOUNT, Qt.SortOrder.DescendingOrder),
        ledger.arranged,
    )
    await phase("transactions_filter", lambda: ledger.text_filter.setText("sell"), ledger.arranged)
    await phase(
        "performance_open",
        lambda: window.tabs.setCurrentWidget(perf),
        perf.pnl_loaded,
        perf.returns_loaded,
    )
    out["performance_open"]["pnl_rows"] = perf.pnl_model.rowCount()
    await phase(
        "method_switch",
        lambda: perf.method.setCurrentIndex(perf.method.findData("average")),
        perf.pnl_loaded,
    )

    def presets() -> None:
        for key in ("1m", "3m", "ytd", "1y", "all"):
            perf.set_preset(key)

    await phase("presets", presets, perf.returns_loaded)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--trace-stalls", action="store_true")
    parser.add_argument(
        "--no-freeze", action="store_true", help="skip the gc.freeze() the app does at start-up"
    )
    args = parser.parse_args(argv)

    import qasync
    from PySide6 import __version__ as qt_version
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ledger-window-") as tmp:
        t0 = time.perf_counter()
        ctx = seed(Path(tmp), args.transactions, args.assets)
        seed_s = time.perf_counter() - t0
        qapp = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow(TaskRunner())
        window.attach(ctx)
        window.resize(1366, 768)
        window.show()
        if not args.no_freeze:
            import gc

            gc.collect()
            gc.freeze()  # as the app does after its warm-up (app.ui.application.warm_up)
        result: dict[str, Any] = {}

        async def run() -> None:
            beat = Heartbeat()
            if args.trace_stalls:
                beat.trace()
            await asyncio.sleep(0.5)
            result.update(await measure(window, beat))
            beat.timer.stop()
            if args.trace_stalls:
                top = sorted(beat.traces.items(), key=lambda kv: -kv[1])[:25]
                result["stall_traces"] = dict(top)

        asyncio.run(run(), loop_factory=qasync.QEventLoop)
        window.hide()
        ctx.close()
        del qapp
    worst = max(p["worst_stall_ms"] for k, p in result.items() if k not in ("idle", "stall_traces"))
    print(
        json.dumps(
            {
                "transactions": args.transactions,
                "assets": args.assets,
                "seed_s": round(seed_s, 1),
                "phases": result,
                "worst_stall_ms": worst,
                "target_stall_ms": TARGET_STALL_MS,
                "within_target": worst < TARGET_STALL_MS,
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "qt": qt_version,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
