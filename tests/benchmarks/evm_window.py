"""The window's part of tests/benchmarks/evm_refresh.py, run there as a fresh child process.

Opens the real window (ChainfolioApp, offscreen, qasync loop) on a data directory that
``evm_refresh`` set up through the command line, with default settings: the scheduler's own
start-up refresh runs first (timed from ``start()``, it includes the warm-up imports), then
``window.refresh_now()`` is timed ``--repeats`` times up to the scheduler's outcome (and up to the
holdings page showing the new rows). Every holding read is checked against what set-up wrote.
Prints one JSON object. Kept apart from evm_refresh so the window's process imports only what
the app itself imports.

Run by evm_refresh: python -m tests.benchmarks.evm_window --data-dir D --expected FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Expected = dict[tuple[str, str, str], int]


def expected_raws(wallets: list[str], tokens: dict[str, list[str]]) -> Expected:
    """(CAIP-2 chain, wallet, token address or "native") -> raw amount, as set-up wrote them
    (tests/benchmarks/evm_refresh.py ``setup_chain``)."""
    out: Expected = {}
    for chain, addresses in tokens.items():
        for wi, w in enumerate(wallets):
            out[(chain, w.lower(), "native")] = 10**18 + wi
            for ti, t in enumerate(addresses):
                out[(chain, w.lower(), t.lower())] = (wi + 1) * 10**18 + ti
    return out


def check(found: Iterable[tuple[str, str, int]], expected: Expected) -> dict[str, Any]:
    """``found``: (CAIP-10 wallet, CAIP-19 asset, raw). Exact when every expected holding is
    there once with its raw amount and nothing else is."""
    seen: dict[tuple[str, str, str], int] = {}
    extra = 0
    for wallet, asset, raw in found:
        chain, _, address = wallet.rpartition(":")
        ref = "native" if "/slip44:" in asset else asset.rsplit(":", 1)[1].lower()
        key = (chain, address.lower(), ref)
        if key not in expected or key in seen:
            extra += 1
        seen[key] = raw
    wrong = sum(1 for k, raw in seen.items() if k in expected and raw != expected[k])
    missing = sum(1 for k in expected if k not in seen)
    return {
        "holdings": len(seen),
        "expected": len(expected),
        "wrong": wrong,
        "missing": missing,
        "extra": extra,
        "exact": wrong == missing == extra == 0,
    }


async def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the window did not {what} within {timeout:.0f} s")
        await asyncio.sleep(0.005)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--expected", type=Path, required=True, help="JSON: wallets and tokens")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")

    import PySide6.QtWidgets  # noqa: F401  (before qasync, so it picks PySide6)
    import qasync

    from app.config import Paths, Settings
    from app.services.scheduler import RefreshOutcome
    from app.ui.application import ChainfolioApp, make_qapplication

    spec = json.loads(args.expected.read_text())
    expected = expected_raws(spec["wallets"], spec["tokens"])
    paths = Paths.resolve(args.data_dir)
    qapp = make_qapplication(["evm_window"])
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)

    def holdings(outcome: RefreshOutcome) -> dict[str, Any]:
        assert outcome.result is not None, outcome.error
        found = (
            (str(b.wallet), str(b.asset.asset_id), b.raw)
            for r in outcome.result.results
            for b in r.balances
        )
        figures = check(found, expected)
        figures["status"] = outcome.result.status.value
        figures["stored"] = outcome.result.stored
        return figures

    async def scenario() -> dict[str, Any]:
        window = app.window
        window.resize(1100, 700)
        window.show()
        qapp.processEvents()
        outcomes: list[tuple[float, RefreshOutcome]] = []
        shown: list[float] = []
        window.holdings_page.shown.connect(lambda: shown.append(time.perf_counter()))
        t0 = time.perf_counter()
        app.start()  # default settings: the scheduler refreshes at once
        assert app.opened is not None and await app.opened, "cannot open the data directory"
        scheduler, refresher = app.scheduler, window.refresher
        assert scheduler is not None and refresher is not None, "cannot open the data directory"
        scheduler.subscribe(on_outcome=lambda o: outcomes.append((time.perf_counter(), o)))
        try:
            await _until(lambda: bool(outcomes), 900, "finish its start-up refresh")
            first = {"wall_s": round(outcomes[0][0] - t0, 3), **holdings(outcomes[0][1])}
            walls: list[float] = []
            to_rows: list[float] = []
            checks: list[dict[str, Any]] = []
            for _ in range(args.repeats):
                await asyncio.sleep(1.0)  # the window settles (rows shown, steps done)
                await _until(lambda: not refresher.running, 60, "go idle")
                n, rows = len(outcomes), len(shown)
                started = time.perf_counter()
                window.refresh_now()
                await _until(lambda n=n: len(outcomes) > n, 900, "report the refresh")  # type: ignore[misc]
                walls.append(outcomes[n][0] - started)
                await _until(lambda r=rows: len(shown) > r, 120, "show the new rows")  # type: ignore[misc]
                to_rows.append(shown[rows] - started)
                # Checked once the rows are on screen: the check runs on the window's thread
                # (40,200 holdings, ~0.1 s) and would otherwise hold the rows back.
                checks.append(holdings(outcomes[n][1]))
            return {
                "start_up_refresh": first,
                "walls_s": [round(w, 3) for w in walls],
                "wall_s": round(statistics.median(walls), 3),
                "to_rows_shown_s": round(statistics.median(to_rows), 3),
                "holdings": checks[-1],
                "all_exact": first["exact"] and all(c["exact"] for c in checks),
            }
        finally:
            await app.shutdown()

    result = asyncio.run(scenario(), loop_factory=qasync.QEventLoop)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
