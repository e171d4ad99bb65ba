"""Timeline tab: lazy chart import, empty state, range buttons, breakdown selector, crosshair
text, "what changed" table (qtmodeltester), light/dark. History is written through the real
store into a real SQLite file; the page reads it in worker threads (qasync loop)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from app.domain.balances import SourceState
from app.domain.changes import AssetChange
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.history import HistoryService
from app.storage.database import open_database
from app.storage.history_store import SqlHistoryStore
from app.storage.snapshot_store import SqlSnapshotStore
from app.ui.models.changes_model import ChangeColumn, WhatChangedModel
from app.ui.timeline_page import TimelinePage, stamp

ROOT = Path(__file__).resolve().parents[2]
A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
NAMES = {"eip155:1": "Ethereum", "eip155:42161": "Arbitrum", A: "Ledger", B: "Hot wallet"}
HOUR, DAY = 3600, 86400
LAST = 1_767_225_600  # the newest snapshot
NOW = LAST + 120


def holding(address: str, asset: str, symbol: str, amount: str, price: str,
            position: str = "") -> SnapshotHolding:  # fmt: skip
    chain = asset.split("/")[0]
    raw = int(Decimal(amount).scaleb(18))
    return SnapshotHolding(f"{chain}:{address}", asset, symbol, 18, raw, Decimal(price),
                           Decimal(amount) * Decimal(price), SourceState.OK, 0, position)  # fmt: skip


def portfolio(t: int, step: int) -> Snapshot:
    eth = Decimal(2000) + Decimal(step % 50) * 7 if t != LAST else Decimal(2000)
    arb_amount = "100" if step < 200 else "150"  # bought 50 ARB four days before the end
    return Snapshot(t, "USD", (
        holding(A, "eip155:1/slip44:60", "ETH", "2", str(eth)),
        holding(B, "eip155:42161/slip44:60", "ETH", "0.5", str(eth)),
        holding(B, "eip155:42161/erc20:0x912CE59144191C1204E64559FE8253a0e49E6548", "ARB",
                arb_amount, "0.75"),
        holding(A, "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USDC", "-800",
                "1.0", "aave-v3:borrowed"),
    ), ())  # fmt: skip


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """400 days: every 5 days, then hourly for the last 8 days."""
    d = tmp_path_factory.mktemp("timeline")
    engine = open_database(d / "chainfolio.sqlite3", d / "backups")
    store = SqlSnapshotStore(engine)
    times = list(range(LAST - 400 * DAY, LAST - 8 * DAY, 5 * DAY))
    times += list(range(LAST - 8 * DAY, LAST + 1, HOUR))
    for step, t in enumerate(times):
        store.write(portfolio(t, step))
    yield engine
    engine.dispose()


@pytest.fixture
def qasync_loop(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """The shared loop, with worker threads that end with the test."""
    pool = ThreadPoolExecutor(2)
    qasync_loop.set_default_executor(pool)
    yield qasync_loop
    pool.shutdown()


def loaded_page(qtbot: QtBot, engine: Engine) -> TimelinePage:
    page = TimelinePage(clock=lambda: NOW)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    with qtbot.waitSignal(page.net_worth_loaded, timeout=10000):
        page.set_store(engine, "USD", NAMES)
    return page


def test_chart_library_is_imported_only_when_the_page_is_shown() -> None:
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from app.ui.timeline_page import TimelinePage\n"
        "page = TimelinePage()\n"
        "assert 'pyqtgraph' not in sys.modules and 'numpy' not in sys.modules\n"
        "page.show(); app.processEvents()\n"
        "assert 'pyqtgraph' in sys.modules and page.plot is not None\n"
        "print('ok')\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=60)  # fmt: skip
    assert out.stdout.strip() == "ok", out.stderr


def test_empty_history_shows_the_empty_state(qtbot: QtBot, qasync_loop: object,
                                             tmp_path: Path) -> None:  # fmt: skip
    engine = open_database(tmp_path / "empty.sqlite3", tmp_path / "backups")
    page = loaded_page(qtbot, engine)
    assert page.stack.currentWidget() is page.empty_label
    assert "No history yet" in page.empty_label.text()
    engine.dispose()


def test_hidden_page_reads_nothing_until_shown(qtbot: QtBot, qasync_loop: object,
                                               history: Engine) -> None:  # fmt: skip
    page = TimelinePage(clock=lambda: NOW)
    qtbot.addWidget(page)
    page.set_store(history, "USD", NAMES)
    page.reload()
    assert page.net_worth is None and page.plot is None
    with qtbot.waitSignal(page.net_worth_loaded, timeout=10000):
        page.show()
    assert page.net_worth is not None and len(page.net_worth) > 200


def test_range_buttons_set_the_visible_range(qtbot: QtBot, qasync_loop: object,
                                             history: Engine) -> None:  # fmt: skip
    page = loaded_page(qtbot, history)
    assert page.stack.currentIndex() == 1
    first = float(page.net_worth.times[0])  # type: ignore[union-attr]
    assert page.visible_range() == pytest.approx((first, LAST))
    assert page.range_button("all").isChecked()
    for key, seconds in (("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY), ("1y", 365 * DAY)):
        page.range_button(key).click()
        assert page.visible_range() == pytest.approx((NOW - seconds, NOW))
        assert page.range_button(key).isChecked()
    assert [b.text() for b in page.range_buttons()] == ["24 h", "7 d", "30 d", "1 y", "All"]
    assert page.plot is not None
    page.plot.view.setXRange(NOW - 3 * DAY, NOW - DAY, padding=0)  # the person zooms
    assert not any(b.isChecked() for b in page.range_buttons())
    x, _y = page.plot.total_curve.getData()
    assert x.min() <= NOW - 3 * DAY and x.max() >= NOW - DAY  # drawn to both edges


def test_crosshair_shows_time_and_exact_total(qtbot: QtBot, qasync_loop: object,
                                              tmp_path: Path) -> None:  # fmt: skip
    engine = open_database(tmp_path / "big.sqlite3", tmp_path / "backups")
    store = SqlSnapshotStore(engine)
    # 12345678901234567.89 has no exact float: a float path would print ...568.00
    for t, price in ((LAST - 2 * DAY, "1000"), (LAST - DAY, "12345678901234567.89"),
                     (LAST, "2000")):  # fmt: skip
        store.write(Snapshot(t, "USD", (holding(A, "eip155:1/slip44:60", "ETH", "1", price),), ()))
    page = loaded_page(qtbot, engine)
    assert page.plot is not None
    scene = page.plot.view.mapViewToScene(QPointF(LAST - DAY + 600, 1.0))
    page.plot.hover_scene(scene)
    expected = f"{stamp(LAST - DAY)}\nTotal 12,345,678,901,234,567.89 USD"
    assert page.plot.hover_text == expected
    assert page.readout.text() == expected.replace("\n", " · ")  # time · total
    assert page.plot.vline.isVisible() and page.plot.vline.value() == LAST - DAY
    page.plot.hover_scene(QPointF(-50, -50))  # outside the plot area
    assert page.plot.hover_text == "" and not page.plot.vline.isVisible()
    engine.dispose()


def test_breakdown_selector_draws_series_and_tooltip_values(qtbot: QtBot, qasync_loop: object,
                                                            history: Engine) -> None:  # fmt: skip
    page = loaded_page(qtbot, history)
    plot = page.plot
    assert plot is not None and not page.stacked_box.isEnabled()
    with qtbot.waitSignal(page.breakdown_loaded, timeout=10000):
        page.set_breakdown("chain")
    assert page.stacked_box.isEnabled()
    assert [label.text for _sample, label in plot.legend.items] == ["Ethereum", "Arbitrum"]
    assert len(plot._items) == 2  # a band per chain (Ethereum's debt is netted in its sum)
    assert all(i.opts["fillLevel"] == 0 for i in plot._items)  # stacked areas
    page.stacked_box.setChecked(False)  # lines instead of stacked areas
    assert len(plot._items) == 2 and all(i.opts["fillLevel"] is None for i in plot._items)
    text = page.value_text_at(LAST)
    # Ethereum: 2 ETH x 2000 - 800 USDC debt; Arbitrum: 0.5 ETH x 2000 + 150 ARB x 0.75
    assert text.splitlines() == [
        stamp(LAST),
        "Total 4,312.50 USD",
        "Ethereum 3,200.00 USD",
        "Arbitrum 1,112.50 USD",
    ]
    with qtbot.waitSignal(page.breakdown_loaded, timeout=10000):
        page.set_breakdown("asset")
    labels = [label.text for _sample, label in plot.legend.items]
    assert labels[:2] == ["ETH · Ethereum", "ETH · Arbitrum"] and "USDC · Ethereum" in labels
    page.stacked_box.setChecked(True)
    below = [i for i in plot._items if i.getData()[1].max() < 0]
    assert len(below) == 1 and below[0].getData()[1].min() == -800  # the debt, under zero
    assert plot.view.viewRange()[1][0] <= -800  # y fitted to the stack, the debt included
    with qtbot.waitSignal(page.breakdown_loaded, timeout=10000):
        page.set_breakdown("wallet")
    assert {label.text for _s, label in plot.legend.items} == {"Ledger", "Hot wallet"}
    page.set_breakdown("total")
    assert page.breakdown is None and not plot.legend.isVisible() and not plot._items
    assert page.value_text_at(LAST).splitlines() == [stamp(LAST), "Total 4,312.50 USD"]


def test_what_changed_follows_the_view_until_dates_are_picked(qtbot: QtBot, qasync_loop: object,
                                                              history: Engine) -> None:  # fmt: skip
    page = loaded_page(qtbot, history)
    service = HistoryService(SqlHistoryStore(history))
    expected = service.what_changed(NOW - 7 * DAY, NOW)
    page.range_button("7d").click()
    qtbot.waitUntil(lambda: page.comparison is not None
                    and page.comparison.before_time == expected.before_time, timeout=10000)  # fmt: skip
    model = page.changes_model
    assert [model.row_at(r) for r in range(model.rowCount())] == expected.rows
    assert page.comparison is not None and page.comparison.after_time == LAST
    summary = page.change_summary.text()
    assert summary.startswith(f"{stamp(expected.before_time or 0)} → {stamp(LAST)}")
    arb = next(r for r in expected.rows if r.symbol == "ARB")
    assert arb.quantity_effect == Decimal("37.50") and arb.price_effect == 0
    # the person picks a start date: the comparison stays there when the view moves
    with qtbot.waitSignal(page.changes_loaded, timeout=10000):
        page.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(LAST - 100 * DAY))
    assert page.comparison is not None and page.comparison.before_time is not None
    assert page.comparison.before_time <= LAST - 100 * DAY
    page.range_button("24h").click()
    assert page.from_edit.dateTime().toSecsSinceEpoch() == LAST - 100 * DAY
    with qtbot.waitSignal(page.changes_loaded, timeout=10000):
        page.visible_button.click()
    assert page.from_edit.dateTime().toSecsSinceEpoch() == NOW - DAY
    table_text = page.changes_proxy.index(0, ChangeColumn.ASSET).data()
    assert table_text == model.index(0, ChangeColumn.ASSET).data()  # |change| order kept


def changes() -> list[AssetChange]:
    return [
        AssetChange("eip155:1/slip44:60", "", "ETH", Decimal(2), Decimal("2.5"), Decimal(4000),
                    Decimal(5250), Decimal(200), Decimal(1050)),
        AssetChange("eip155:1/erc20:0x01", "aave-v3:borrowed", "<i>USDC</i>", Decimal(-1000),
                    Decimal(-1000), Decimal(-1000), Decimal(-1010), Decimal(-10), Decimal(0)),
    ]  # fmt: skip


def test_what_changed_model_passes_modeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = WhatChangedModel()
    model.set_changes(changes(), "USD", NAMES)
    qtmodeltester.check(model)
    row = [model.index(0, c).data() for c in ChangeColumn]
    assert row == ["ETH", "Ethereum", "Wallet", "4,000.00 USD", "5,250.00 USD", "+200.00 USD",
                   "+1,050.00 USD", "+1,250.00 USD"]  # fmt: skip
    assert model.index(1, ChangeColumn.ASSET).data() == "<i>USDC</i>"  # plain text, not markup
    assert model.index(1, ChangeColumn.POSITION).data() == "Aave v3 · Borrowed"  # as Portfolio
    assert model.index(1, ChangeColumn.PRICE_EFFECT).data() == "\u221210.00 USD"  # real minus
    assert model.index(0, ChangeColumn.BEFORE).data(3) == "2 ETH"  # tooltip: the amount
    assert model.index(0, ChangeColumn.CHANGE).data(3) == "1250 USD"  # tooltip: unrounded
    model.set_changes([], "USD", NAMES)
    qtmodeltester.check(model)


def test_chart_follows_a_dark_palette(qtbot: QtBot, qasync_loop: object,
                                      history: Engine) -> None:  # fmt: skip
    page = loaded_page(qtbot, history)
    assert page.plot is not None
    dark = QPalette(page.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    page.setPalette(dark)
    assert page.plot.widget.backgroundBrush().color() == QColor("#1e1e1e")
    assert page.plot.total_curve.opts["pen"].color() == QColor("#eeeeee")


def test_page_reads_in_worker_threads(qtbot: QtBot, qasync_loop: object, history: Engine) -> None:
    """The GUI thread never runs the queries: they run on the loop's executor."""
    import threading

    seen: list[str] = []
    service = HistoryService(SqlHistoryStore(history))
    real = service.net_worth

    def spy(*args: object) -> object:
        seen.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    service.net_worth = spy  # type: ignore[method-assign]
    page = TimelinePage(clock=lambda: NOW)
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.net_worth_loaded, timeout=10000):
        page.set_store(service, "USD", NAMES)
    assert seen and seen[0] != threading.main_thread().name


def test_range_switch_paints_once_with_y_fitted_to_the_range(qtbot: QtBot, qasync_loop: object,
                                                             history: Engine) -> None:  # fmt: skip
    """y follows the data in the new range at once, so the chart is painted once per click
    (pyqtgraph's own auto-range moved y during the paint and painted a second time)."""
    from PySide6.QtCore import QEvent, QObject

    page = loaded_page(qtbot, history)
    plot, nw = page.plot, page.net_worth
    assert plot is not None and nw is not None

    class Paints(QObject):
        count = 0

        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    qtbot.waitUntil(lambda: page.comparison is not None, timeout=10000)
    qtbot.wait(200)  # the what-changed table and its summary are laid out
    paints = Paints()
    plot.widget.viewport().installEventFilter(paints)
    for key in ("24h", "1y", "7d", "all"):
        paints.count = 0
        page.range_button(key).click()
        plot.stop_timers()  # no what-changed read (and new summary layout) after the click
        lo, hi = page.visible_range()  # type: ignore[misc]
        inside = nw.values[(nw.times >= lo) & (nw.times <= hi)]
        y_lo, y_hi = plot.view.viewRange()[1]
        assert y_lo <= inside.min() and y_hi >= inside.max()
        assert y_hi - y_lo <= 1.5 * (inside.max() - inside.min())  # fitted, not the old range
        qtbot.waitUntil(lambda: paints.count >= 1, timeout=5000)
        qtbot.wait(50)  # a second paint would be queued right behind the first
        assert paints.count == 1, key
    plot.widget.viewport().removeEventFilter(paints)


def test_reads_of_a_kind_run_one_at_a_time_and_the_latest_wins(qtbot: QtBot,
                                                               qasync_loop: object) -> None:  # fmt: skip
    """A read running in a thread cannot be stopped: requests meanwhile wait, the newest
    replaces older waiting ones, and the out-of-date result is dropped."""
    import threading

    from app.domain.errors import ChainfolioError
    from app.ui.timeline_reads import LatestReads

    failures: list[BaseException] = []
    reads = LatestReads(failures.append)
    gate = threading.Event()
    ran: list[str] = []
    got: list[str] = []

    def work(name: str, wait: bool = False) -> object:
        def run() -> str:
            ran.append(name)
            if wait:
                gate.wait(10)
            return name

        return run

    reads.run("changes", work("first", wait=True), got.append)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: ran == ["first"], timeout=5000)
    reads.run("changes", work("second"), got.append)  # type: ignore[arg-type]
    reads.run("changes", work("third"), got.append)  # type: ignore[arg-type]
    reads.run("net-worth", work("other kind"), got.append)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: got == ["other kind"], timeout=5000)  # other kinds run beside it
    assert ran == ["first", "other kind"] and reads.busy  # not started beside the first
    gate.set()
    qtbot.waitUntil(lambda: not reads.busy, timeout=5000)
    assert ran == ["first", "other kind", "third"]  # "second" was replaced while waiting
    assert got == ["other kind", "third"]  # the first one's result was out of date

    def broken() -> str:
        raise ChainfolioError("The history file cannot be read.")

    reads.run("changes", broken, got.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert str(failures[0]) == "The history file cannot be read." and not reads.busy


def test_a_read_asked_for_with_no_event_loop_running_waits_and_fails_nothing() -> None:
    """During quit a page may ask for a read after the loop has stopped: nothing starts,
    nothing is reported as a failed read (it was "no running event loop" in the log), and
    the request is kept for when reads run again."""
    from app.ui.timeline_reads import LatestReads

    failures: list[BaseException] = []
    got: list[str] = []
    reads = LatestReads(failures.append)
    reads.run("changes", lambda: "late", got.append)
    assert not reads.busy and failures == [] and got == []

    async def later() -> None:  # a loop again: the next request of the kind runs
        reads.run("changes", lambda: "next", got.append)
        while reads.busy:
            await asyncio.sleep(0.01)

    asyncio.run(later())
    assert got == ["next"] and failures == []


def test_what_changed_compares_each_pair_of_snapshots_once(tmp_path: Path) -> None:
    """Switching between ranges, or re-reading after a refresh, reads and compares only what
    is new; the results equal a fresh comparison."""
    engine = open_database(tmp_path / "c.sqlite3", tmp_path / "backups")
    snapshots = SqlSnapshotStore(engine)
    for step, t in enumerate((LAST - 2 * DAY, LAST - DAY, LAST)):
        snapshots.write(portfolio(t, step * 3))
    store = SqlHistoryStore(engine)
    read: list[int] = []
    real = store.holdings_of

    def spy(snapshot_id: int) -> tuple[SnapshotHolding, ...]:
        read.append(snapshot_id)
        return real(snapshot_id)

    store.holdings_of = spy  # type: ignore[method-assign]
    service = HistoryService(store)
    first = service.what_changed(LAST - 2 * DAY, LAST)
    assert service.what_changed(LAST - 2 * DAY + 60, LAST + 60) is first  # the same two
    assert len(read) == 2
    day = service.what_changed(LAST - DAY, LAST)
    assert len(read) == 3  # the newest snapshot's holdings were kept: only the start is read
    fresh = HistoryService(SqlHistoryStore(engine))
    assert day.rows == fresh.what_changed(LAST - DAY, LAST).rows and day.rows
    assert first.rows == fresh.what_changed(LAST - 2 * DAY, LAST).rows
    snapshots.write(portfolio(LAST + HOUR, 250))  # a refresh: a new snapshot, new holdings
    newer = service.what_changed(LAST - DAY, LAST + HOUR)
    assert newer.after_time == LAST + HOUR and len(read) == 5  # both read: a new pair
    assert service.what_changed(LAST - 2 * DAY, LAST + HOUR).rows and len(read) == 6
    assert newer.rows == fresh.what_changed(LAST - DAY, LAST + HOUR).rows
    engine.dispose()


def test_what_changed_columns_fit_their_header_and_values(qtbot: QtBot, qasync_loop: object,
                                                          history: Engine) -> None:  # fmt: skip
    from app.ui.timeline_page import FIT_ROWS

    page = loaded_page(qtbot, history)
    proxy = page.changes_proxy
    qtbot.waitUntil(lambda: proxy.rowCount() > 0, timeout=10000)
    header = page.changes_table.horizontalHeader()
    cells = page.changes_table.fontMetrics()
    for column in range(proxy.columnCount()):
        title = str(proxy.headerData(column, Qt.Orientation.Horizontal))
        texts = [str(proxy.index(r, column).data() or "") for r in range(min(FIT_ROWS,
                                                                              proxy.rowCount()))]  # fmt: skip
        assert header.sectionSize(column) > header.fontMetrics().horizontalAdvance(title)
        assert header.sectionSize(column) > max(cells.horizontalAdvance(t) for t in texts)
