"""The tray icon's menu and tooltip, close-to-tray with its one-time hint, and the no-tray path.

The offscreen platform has no system tray, so the tray is forced on or off through
``ChainfolioApp(tray=...)``; the menu actions and the tooltip are real Qt objects all the same.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap import AppContext
from app.config import Paths, Settings
from app.domain.balances import SourceState
from app.domain.errors import ChainfolioError
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.services.day_change import DayChange, day_change
from app.services.refresh import RefreshResult
from app.services.scheduler import RefreshOutcome, RefreshScheduler, ScheduleState
from app.ui.application import ChainfolioApp
from app.ui.main_window import MainWindow
from app.ui.tasks import TaskRunner
from app.ui.tray import Tray, format_change, tooltip_text
from tests.support.fakes import stored

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
T0 = 1_700_000_000


def snapshot(taken_at: int, eth: str, state: SourceState = SourceState.OK) -> Snapshot:
    value = Decimal(eth) * 2000
    holding = SnapshotHolding(
        f"eip155:1:{ADDR}", "eip155:1/slip44:60", "ETH", 18, int(Decimal(eth) * 10**18),
        Decimal(2000), value, state, taken_at,
    )  # fmt: skip
    return Snapshot(taken_at, "USD", (holding,), (SourceStatus("eip155:1", state, None, taken_at),))


class Notes:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def __call__(self, title: str, text: str, warning: bool = False) -> None:
        self.messages.append((title, text))


def make_tray(qtbot: QtBot) -> tuple[MainWindow, Tray]:
    window = MainWindow(TaskRunner())
    qtbot.addWidget(window)
    tray = Tray(window.act_refresh, window.act_pause, window.act_quit, window.isVisible)
    return window, tray


def test_day_change_and_tooltip() -> None:
    now, before = snapshot(T0 + 86_400, "1.5"), snapshot(T0, "1.2")
    change = day_change(now, before)
    assert change == DayChange(Decimal("600.0"), Decimal(25), T0)
    assert day_change(now, None) is None
    assert day_change(snapshot(T0 + 3 * 86_400, "1"), before) is None  # not a 24 h change
    text = tooltip_text(now, change, None, now=T0 + 86_400)
    assert text.splitlines()[:3] == [
        "Chainfolio",
        "Total: 3,000.00 USD",
        "24 h: +600.00 USD (+25.00 %)",
    ]
    assert format_change(day_change(before, snapshot(T0 - 86_400, "2")), "USD") == (
        "24 h: -1,600.00 USD (-40.00 %)"
    )
    assert format_change(None, "USD") == "24 h: —"
    paused = ScheduleState(True, True, False, None, 3)
    lines = tooltip_text(snapshot(T0, "1", SourceState.STALE), None, paused).splitlines()
    assert "(part stale)" in lines[3]
    assert lines[4:] == ["Last 3 refreshes failed", "Auto-refresh paused"]
    assert tooltip_text(None, None, None) == "Chainfolio\nNo refresh yet"


def test_menu_actions(qtbot: QtBot, context: AppContext, qasync_loop: object) -> None:
    window, tray = make_tray(qtbot)
    texts = [a.text() for a in tray.menu.actions()]
    assert texts == ["&Refresh now", "Show window", "&Pause auto-refresh", "", "&Quit"]
    calls: list[int] = []

    async def refresh() -> RefreshResult:
        calls.append(1)
        return stored(snapshot(T0, "1.5"))

    class Refresher:  # only what the window asks of the refresh service
        running = False

        def subscribe(self, _listener: object) -> None:
            pass

    window.set_refresher(Refresher(), {"eip155:1": "Ethereum"})  # type: ignore[arg-type]
    scheduler = RefreshScheduler(refresh, lambda: 15, lambda: True)
    window.set_scheduler(scheduler)
    window.show()
    window.attach(context)

    # Refresh now from the tray runs through the scheduler and updates the window.
    outcomes: list[RefreshOutcome] = []
    scheduler.subscribe(on_outcome=outcomes.append)
    assert tray.act_refresh.isEnabled()
    tray.act_refresh.trigger()
    qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=5000)
    assert calls == [1] and outcomes[0].ok
    qtbot.waitUntil(lambda: window.holdings_page.total_label.text() == "3,000.00 USD", timeout=5000)

    # Pause is one state: the tray's item is the window's action.
    tray.act_pause.trigger()
    assert scheduler.paused and window.act_pause.isChecked()
    assert window.schedule_label.text() == "Auto-refresh paused"
    window.act_pause.trigger()
    assert not scheduler.paused and not tray.act_pause.isChecked()
    assert window.schedule_label.text() == "Next refresh in 15 min"
    scheduler.pause()  # from the scheduler's side, the check mark follows
    assert tray.act_pause.isChecked()

    # Show/Hide says what it will do, and asks the app to do it.
    tray.update_toggle()
    assert tray.act_toggle.text() == "Hide window"
    with qtbot.waitSignal(tray.toggle_window_requested, timeout=1000):
        tray.act_toggle.trigger()
    window.hide()
    tray.update_toggle()
    assert tray.act_toggle.text() == "Show window"

    with qtbot.waitSignal(window.quit_requested, timeout=1000):
        tray.act_quit.trigger()
    tray.hide()


def test_notifies_once_per_failure_streak(qtbot: QtBot) -> None:
    _window, tray = make_tray(qtbot)
    notes = Notes()
    tray.notify = notes  # type: ignore[method-assign]
    fail = [RefreshOutcome(None, "node down", n) for n in range(1, 6)]
    assert [tray.report(o, 3) for o in fail] == [False, False, True, False, False]
    assert notes.messages[0][0] == "Chainfolio cannot refresh"
    assert "3 times in a row: node down" in notes.messages[0][1]
    assert not tray.report(RefreshOutcome(snapshot(T0, "1"), None, 0), 3)
    assert [tray.report(o, 3) for o in fail[:3]] == [False, False, True]  # a new streak
    assert len(notes.messages) == 2
    assert not any(tray.report(o, 0) for o in fail)  # 0: never


def app_with(qapp: object, data_dir: Path, tray: bool) -> ChainfolioApp:
    paths = Paths.resolve(data_dir)
    paths.ensure()
    return ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=tray)  # type: ignore[arg-type]


def test_close_hides_to_tray_and_says_so_once(qtbot: QtBot, qapp: object, data_dir: Path) -> None:
    app = app_with(qapp, data_dir, tray=True)
    assert app.tray is not None and app.tray.icon.isVisible()
    notes = Notes()
    app.tray.notify = notes  # type: ignore[method-assign]
    qtbot.addWidget(app.window)
    quits: list[bool] = []
    app.window.quit_requested.connect(lambda: quits.append(True))
    app.show_window()
    app.window.close()
    assert not app.window.isVisible() and not quits
    assert [t for t, _ in notes.messages] == ["Chainfolio is still running"]
    assert Settings.load(app.paths.settings_file).get("ui.tray_hint_shown")
    app.toggle_window()  # a click on the icon brings it back
    assert app.window.isVisible()
    app.window.close()
    assert len(notes.messages) == 1  # only the first time
    # Close-to-tray off: closing quits even with a tray.
    app.settings.set("ui.close_to_tray", False)
    app.show_window()
    app.window.close()
    assert quits == [True]
    asyncio.run(app.shutdown())
    assert not app.tray.icon.isVisible()  # the shutdown path hides the icon


def test_without_a_tray_closing_quits(qtbot: QtBot, qapp: object, data_dir: Path) -> None:
    app = app_with(qapp, data_dir, tray=False)
    assert app.tray is None
    qtbot.addWidget(app.window)
    app.show_window()
    with qtbot.waitSignal(app.window.quit_requested, timeout=1000):
        app.window.close()
    assert app._quitting and not app.window.isVisible()
    asyncio.run(app.shutdown())


def test_app_wires_scheduler_tray_and_settings(
    qtbot: QtBot, qapp: object, data_dir: Path, qasync_loop: object
) -> None:
    """With data open: the tray shows the stored total at once, failures notify, settings
    changes reach the scheduler."""
    from app.storage.database import open_database
    from app.storage.snapshot_store import SqlSnapshotStore

    paths = Paths.resolve(data_dir)
    engine = open_database(paths.database, paths.backups_dir)
    store = SqlSnapshotStore(engine)
    store.write(snapshot(T0, "1.0"))
    latest = snapshot(T0 + 86_400 + 60, "1.1")
    store.write(latest)
    engine.dispose()
    app = app_with(qapp, data_dir, tray=True)
    qtbot.addWidget(app.window)
    assert app.open_data() and app.scheduler is not None and app.tray is not None
    qtbot.waitUntil(lambda: "24 h: +200.00 USD (+10.00 %)" in app.tray.tooltip, timeout=5000)
    assert "Total: 2,200.00 USD" in app.tray.tooltip

    notes = Notes()
    app.tray.notify = notes  # type: ignore[method-assign]
    app.settings.set("refresh.notify_after_failures", 2)

    async def failing() -> RefreshResult:
        raise ChainfolioError("the node is down")

    app.scheduler._refresh = failing
    for _ in range(2):
        task = app.tasks.run(app.scheduler.refresh_now())
        qtbot.waitUntil(task.done, timeout=5000)
    assert [t for t, _ in notes.messages] == ["Chainfolio cannot refresh"]
    assert "Last 2 refreshes failed" in app.tray.tooltip
    assert app.window.schedule_label.text() == "Retrying in 2 min after 2 failures"

    app.settings.set("refresh.auto", False)
    app.on_settings_changed(["refresh.auto"])
    assert app.window.schedule_label.text() == "Automatic refresh off"
    assert not app.window.act_pause.isEnabled()
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=5000)


@pytest.fixture(autouse=True)
def _no_real_tray_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offscreen has no notification service; make sure nothing tries a real one."""
    monkeypatch.setattr(Tray, "notify", Notes())


def test_refresh_checks_alert_rules_and_notifies_from_the_tray(
    qtbot: QtBot, qapp: object, data_dir: Path, qasync_loop: object
) -> None:
    """The window has Risk and Alerts tabs; a refresh whose price crosses a rule's level
    notifies once from the tray and lists the alert."""
    from app.domain.alerts import AlertKind
    from app.storage.database import open_database
    from app.storage.snapshot_store import SqlSnapshotStore

    paths = Paths.resolve(data_dir)
    engine = open_database(paths.database, paths.backups_dir)
    SqlSnapshotStore(engine).write(snapshot(T0 - 900, "1.0"))  # ETH is held: a known asset
    engine.dispose()
    app = app_with(qapp, data_dir, tray=True)
    qtbot.addWidget(app.window)
    assert app.open_data() and app.scheduler is not None and app.tray is not None
    tabs = [app.window.tabs.tabText(i) for i in range(app.window.tabs.count())]
    assert {"Portfolio", "Risk", "Alerts", "Wallets"} <= set(tabs)
    page = app.window.alerts_page
    assert page is not None
    page.service.add(AlertKind.PRICE_ABOVE, "1500", asset="eip155:1/slip44:60", currency="USD")
    page.reload()
    notes = Notes()
    app.tray.notify = notes  # type: ignore[method-assign]
    refreshed = iter([snapshot(T0, "1.0"), snapshot(T0 + 900, "1.0")])
    assert app.context is not None
    steps = {r.name: r.step for r in app.context.refresh._steps}

    async def refresh() -> RefreshResult:
        # The pipeline's own alerts step, as a real refresh runs it after its snapshot:
        # no window code checks the rules.
        result = stored(next(refreshed))
        await steps["alerts"](result)
        return result

    app.scheduler._refresh = refresh
    for _ in range(2):  # the second refresh is the same crossing: no second notification
        task = app.tasks.run(app.scheduler.refresh_now())
        qtbot.waitUntil(task.done, timeout=5000)
    assert len(notes.messages) == 1 and "ETH" in notes.messages[0][0] + notes.messages[0][1]
    assert page.events_model.rowCount() == 1
    # The Timeline tab reads the stored history when shown (the refreshes here are fakes, so
    # it shows the one snapshot written before start-up).
    app.window.show()
    timeline = app.window.timeline_page
    with qtbot.waitSignal(timeline.net_worth_loaded, timeout=5000):
        app.window.tabs.setCurrentWidget(timeline)
    assert timeline.net_worth is not None and len(timeline.net_worth) == 1
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=5000)
