"""GUI-thread cost of the holdings view with 10,000 holdings (prints JSON).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/holdings_view.py [ROWS]

Each figure is the median of several runs of the GUI thread's CPU time (``time.thread_time``:
other processes on a shared machine do not inflate it), in milliseconds, including the event
processing that follows (layout and paint of the visible rows). ``prepare_ms`` is the row preparation that
``HoldingsPage.show_snapshot_async`` runs in a worker thread; ``show_ms`` what the GUI thread
then does; ``show_sync_ms`` both on the GUI thread (``show_snapshot``).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.ui.holdings_page import HoldingsPage
from app.ui.models.holdings_data import Column, GroupBy, build_portfolio

CHAINS = ["eip155:1", "eip155:10", "eip155:137", "eip155:8453", "eip155:42161"]
POSITIONS = ["", "", "", "aave-v3:supplied", "aave-v3:borrowed", "lido:staked"]


def synthetic(rows: int, taken_at: int, price_scale: Decimal, seed: int) -> Snapshot:
    rnd = random.Random(seed)
    holdings = []
    for i in range(rows):
        chain = CHAINS[i % len(CHAINS)]
        raw = rnd.randrange(10**15, 10**21)
        position = POSITIONS[i % len(POSITIONS)]
        if position.endswith("borrowed"):
            raw = -raw
        price = Decimal(rnd.randrange(1, 10**7)) / 100 * price_scale
        holdings.append(
            SnapshotHolding(
                f"{chain}:0x{i % 40:040x}", f"{chain}/erc20:0x{i:040x}", f"TOK{i % 900}", 18,
                raw, price, Decimal(f"{raw}e-18") * price,
                SourceState.STALE if chain == "eip155:137" else SourceState.OK, taken_at,
                position, i % 97 == 0,
            )
        )  # fmt: skip
    sources = tuple(
        SourceStatus(c, SourceState.STALE if c == "eip155:137" else SourceState.OK, None, taken_at)
        for c in CHAINS
    )
    return Snapshot(taken_at, "USD", tuple(holdings), sources)


def median_ms(
    app: QApplication,
    action: Callable[[], object],
    runs: int = 7,
    setup: Callable[[], object] | None = None,
) -> float:
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
            app.processEvents()
        start = time.thread_time()
        action()
        app.processEvents()
        times.append((time.thread_time() - start) * 1000)
    return round(statistics.median(times), 1)


def main(rows: int = 10_000) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    now = int(time.time())
    latest = synthetic(rows, now, Decimal(1), 1)
    baseline = synthetic(rows, now - 86_400, Decimal("0.97"), 1)
    names = {c: c for c in CHAINS}
    page = HoldingsPage()
    page.resize(1100, 700)
    page.show()
    app.processEvents()
    portfolio = build_portfolio(latest, names, {}, baseline)
    result = {
        "rows": rows,
        "prepare_ms": median_ms(app, lambda: build_portfolio(latest, names, {}, baseline)),
        "show_ms": median_ms(app, lambda: page.show_portfolio(portfolio, names)),
        "show_sync_ms": median_ms(
            app, lambda: page.show_snapshot(latest, names, {}, baseline=baseline)
        ),
        "filter_keystroke_ms": median_ms(
            app, lambda: page.filter.setText("tok1" if page.filter.text() != "tok1" else "tok2")
        ),
    }
    page.filter.clear()
    page.hide_small.setChecked(False)
    result["sort_amount_ms"] = median_ms(
        app,
        lambda: page.model.sort(Column.AMOUNT, Qt.SortOrder.AscendingOrder),
        setup=lambda: page.model.sort(Column.VALUE, Qt.SortOrder.DescendingOrder),
    )
    for key in (GroupBy.PROTOCOL, GroupBy.ASSET):
        result[f"group_{key.value}_ms"] = median_ms(
            app,
            lambda key=key: page.set_group_by(key),  # type: ignore[misc]
            setup=lambda: page.set_group_by(GroupBy.NONE),
        )
    result["expand_all_ms"] = median_ms(
        app, page.tree.expandAll, runs=3, setup=page.tree.collapseAll
    )
    page.set_group_by(GroupBy.PROTOCOL)
    result["grouped_show_ms"] = median_ms(app, lambda: page.show_portfolio(portfolio, names))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
