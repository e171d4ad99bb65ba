"""The Timeline before the first snapshot: the part rebuilt from the scanned on-chain history is
drawn dashed in its own colour with a legend word, the crosshair says "Reconstructed" there, the
gap to the first snapshot is drawn and said (never closed), "All" reaches back to it, the read
runs in a worker thread, and a portfolio's timeline has none."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.domain.balances import SourceState
from app.domain.onchain_timeline import Reconstruction
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.history import NetWorth
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from app.ui.timeline_page import TimelinePage

DAY = 86_400
FIRST = 1_750_000_000
NOW = FIRST + 10 * DAY
ETH = "eip155:1/slip44:60"


@pytest.fixture
def qasync_loop(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    pool = ThreadPoolExecutor(2)
    qasync_loop.set_default_executor(pool)
    yield qasync_loop
    pool.shutdown()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    store = SqlSnapshotStore(eng)
    for i in range(10):
        t = FIRST + i * DAY
        h = SnapshotHolding(f"eip155:1:0x{'1' * 40}", ETH, "ETH", 18, 3 * 10**18, Decimal(2000),
                            Decimal(6000), SourceState.OK, t)  # fmt: skip
        store.write(Snapshot(t, "USD", (h,), ()))
    yield eng
    eng.dispose()


def rebuilt() -> Reconstruction:
    times = (*(FIRST - (30 - d) * DAY + DAY - 1 for d in range(30)), FIRST)
    values = tuple(Decimal(4000 + d) for d in range(31))
    return Reconstruction(times, values, tuple(v + 2000 for v in values), "USD", FIRST,
                          Decimal(6000), (), ())  # fmt: skip


def test_rebuilt_part_is_dashed_marked_and_the_gap_shown(
    qtbot: QtBot, qasync_loop: object, engine: Engine
) -> None:
    threads: list[str] = []

    def read() -> Reconstruction:
        threads.append(threading.current_thread().name)
        return rebuilt()

    page = TimelinePage(clock=lambda: NOW)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    page.set_reconstruction(read, reload=False)
    page.set_store(engine, "USD", {})
    qtbot.waitUntil(lambda: page.reconstruction is not None and page.net_worth is not None,
                    timeout=10_000)  # fmt: skip
    qtbot.waitUntil(lambda: page.plot is not None and page.plot.reconstruction is not None,
                    timeout=10_000)  # fmt: skip
    assert threads and threading.main_thread().name not in threads  # read in a worker
    plot = page.plot
    assert plot is not None
    assert plot.recon_curve.isVisible()
    assert plot.recon_curve.opts["pen"].style() == Qt.PenStyle.DashLine
    labels = [label.text for _sample, label in plot.recon_legend.items]
    assert labels == ["Reconstructed from on-chain history", "Gap to the first snapshot"]
    # the gap: from the rebuilt 4,030 up to the observed 6,000 at the first snapshot
    assert plot.gap_curve.isVisible()
    assert list(plot.gap_curve.getData()[1]) == [4030.0, 6000.0]
    assert plot.gap_label.toPlainText() == "gap +1,970.00 USD"
    assert page.recon_note.isVisible() and "+1,970.00 USD" in page.recon_note.text()
    assert page.recon_note.textFormat() == Qt.TextFormat.PlainText
    # "All" shows the rebuilt part too
    page.set_range("all")
    lo, _hi = plot.x_range()
    assert lo <= rebuilt().times[0]
    # the crosshair names the rebuilt value as such
    t = float(FIRST - 10 * DAY)
    plot.hover_scene(plot.view.mapViewToScene(QPointF(t, 4020.0)))
    assert plot.hover_text.splitlines()[1] == "Reconstructed 4,019.00 USD"
    assert "Walked back from the first snapshot 6,019.00 USD" in plot.hover_text
    # a portfolio's timeline draws no rebuilt part
    page.set_total(lambda: NetWorth(*_one_point()))
    assert page.reconstruction is None and not plot.recon_curve.isVisible()
    assert not page.recon_note.isVisible()


def _one_point() -> tuple[object, object, object, list[str]]:
    import numpy as np

    return (np.asarray([1]), np.asarray([FIRST]), np.asarray([1.0]), ["1"])
