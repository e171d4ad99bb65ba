"""The window's refresh through the one pipeline: truthful failure, live settings, no start-up
race. Real app object, real database and registry, a real anvil node; every network that is
not anvil points at a local port where nothing listens (no test reaches the internet).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.chains.registry import ChainRegistry
from app.config import Paths, Settings
from app.domain.addresses import AddressFamily
from app.domain.outcome import RefreshStatus
from app.services.scheduler import RETRY_BASE_SECONDS, RefreshOutcome
from app.ui.application import ChainfolioApp
from tests.integration.evm.anvil import Anvil, running
from tests.support.fakes import MemorySecrets
from tests.support.net import free_port

CHAIN_ID = 31_778
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    yield from running(CHAIN_ID, multicall=False)


def offline_setup(data_dir: Path, *, enabled: bool = True) -> Paths:
    """Every built-in network at a dead local port (or disabled); prices nowhere either."""
    paths = Paths.resolve(data_dir)
    paths.ensure()
    dead = f"http://127.0.0.1:{free_port()}"
    registry = ChainRegistry(paths.config_dir / "networks.toml", MemorySecrets())
    for spec in registry.all():
        registry.set_rpc(str(spec.chain_id), [dead])
        if not enabled:
            registry.set_enabled(str(spec.chain_id), False)
    settings = Settings.load(paths.settings_file)
    settings.set("prices.coingecko.url", dead)
    settings.set("prices.defillama.url", dead)
    settings.save()
    return paths


def start(qapp, paths: Paths) -> ChainfolioApp:  # type: ignore[no-untyped-def]
    app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file), tray=False)
    assert app.open_data() and app.context is not None
    app.context.secrets = MemorySecrets()  # type: ignore[assignment]
    return app


def refresh(qtbot: QtBot, app: ChainfolioApp) -> RefreshOutcome:
    assert app.scheduler is not None
    outcomes: list[RefreshOutcome] = []
    app.scheduler.subscribe(on_outcome=outcomes.append)
    app.window.refresh_now()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=60_000)
    return outcomes[0]


def shutdown(qtbot: QtBot, app: ChainfolioApp) -> None:
    task = asyncio.ensure_future(app.shutdown())
    qtbot.waitUntil(task.done, timeout=20_000)


def test_every_chain_unreachable_says_so_stores_nothing_and_backs_off(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, offline_setup(data_dir))
    assert app.context is not None and app.scheduler is not None
    wallet_task = asyncio.ensure_future(app.context.wallets.add(WALLET, "Main", ""))
    qtbot.waitUntil(wallet_task.done, timeout=10_000)
    outcome = refresh(qtbot, app)

    assert not outcome.ok and outcome.snapshot is None and outcome.failures == 1
    assert outcome.result is not None and outcome.result.status is RefreshStatus.FAILED
    evm_chains = len([c for c in app.context.networks.enabled() if c.family.value == "evm"])
    assert f"No network connection: {evm_chains} chains unreachable" in outcome.result.summary
    assert "Solana" not in outcome.result.summary  # no Solana wallet: not read, not counted
    status = app.window.statusBar().currentMessage()
    assert status.startswith("Refresh failed.") and "unreachable" in status
    banner = app.window.holdings_page.summary.stale_warning
    assert "could not read anything" in banner and "unreachable" in banner
    for text in (status, banner, outcome.result.summary):
        assert "Error" not in text and "Exception" not in text
    assert app.context.snapshots.count() == 0  # no fake zero in history
    state = app.scheduler.state
    assert state.failures == 1 and state.next_run_at is not None
    assert abs(state.next_run_at - (app.scheduler._anchor + RETRY_BASE_SECONDS)) < 1
    # The status bar follows the scheduler's published state, a loop turn after the outcome.
    qtbot.waitUntil(lambda: "Retrying" in app.window.schedule_label.text(), timeout=5_000)
    shutdown(qtbot, app)


@pytest.mark.integration
def test_a_network_added_in_settings_is_read_by_the_next_refresh(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, anvil: Anvil
) -> None:  # type: ignore[no-untyped-def]
    app = start(qapp, offline_setup(data_dir, enabled=False))
    assert app.context is not None
    task = asyncio.ensure_future(app.context.wallets.add(anvil.sender, "Anvil", ""))
    qtbot.waitUntil(task.done, timeout=10_000)
    first = refresh(qtbot, app)
    assert first.result is not None and first.result.chains == ()  # nothing enabled yet

    dialog = app.window.open_settings()
    assert dialog is not None
    tab = dialog.networks_tab  # type: ignore[attr-defined]
    values = {"name": "Local anvil", "chain_id": str(CHAIN_ID), "urls": anvil.url}
    for key, text in {**values, "symbol": "LETH", "decimals": "18"}.items():
        tab.fields[key].setText(text)
    tab.add_network_button.click()
    qtbot.waitUntil(lambda: "Added" in tab.custom_feedback.text(), timeout=10_000)
    dialog.save()  # type: ignore[attr-defined]

    second = refresh(qtbot, app)
    assert second.result is not None
    assert [c.chain for c in second.result.chains] == [f"eip155:{CHAIN_ID}"]
    assert second.ok and second.snapshot is not None
    [held] = [h for h in second.snapshot.holdings if h.chain == f"eip155:{CHAIN_ID}"]
    assert held.raw == int(anvil.rpc("eth_getBalance", anvil.sender, "latest"), 16)
    assert [w.family for w in app.context.wallets.list()] == [AddressFamily.EVM]
    shutdown(qtbot, app)


def test_refresh_waits_for_the_warm_up_imports(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The first refresh never imports the chain libraries while the warm-up thread does."""
    import threading

    import app.ui.application as application

    release = threading.Event()
    monkeypatch.setattr(application, "warm_up", lambda: release.wait(30))
    app = start(qapp, offline_setup(data_dir, enabled=False))
    assert app.context is not None and app.scheduler is not None
    calls: list[str] = []
    real = app.context.refresh.refresh

    async def counting() -> object:
        calls.append("refresh")
        return await real()

    monkeypatch.setattr(app.context.refresh, "refresh", counting)
    app._warmed = asyncio.ensure_future(asyncio.to_thread(application.warm_up))
    outcomes: list[RefreshOutcome] = []
    app.scheduler.subscribe(on_outcome=outcomes.append)
    app.window.refresh_now()
    qtbot.wait(200)  # the refresh is asked for, and must not start while the imports run
    assert calls == [] and outcomes == []
    release.set()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=20_000)
    assert calls == ["refresh"]
    shutdown(qtbot, app)


@pytest.mark.integration
def test_start_and_refresh_at_once_repeatedly(tmp_path: Path) -> None:
    """A fresh process refreshes the moment it starts, while its warm-up imports run: never
    a half-imported module (seen once in seven starts before the two were ordered)."""
    from app.cli import main as cli

    data = tmp_path / "data"
    offline_setup(data)
    assert cli(["--data-dir", str(data), "wallets", "add", WALLET]) == 0
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CHAINFOLIO_TRAY_PROBE="1")
    for _ in range(4):
        proc = _run_until_refreshed(data, env)
        assert "refreshed ok=0" in proc, proc
        assert "cannot import" not in proc and "partially initialized" not in proc
        assert "No network connection" in proc
    log = (data / "logs" / "chainfolio.log").read_text()
    assert "partially initialized" not in log


def _run_until_refreshed(data: Path, env: dict[str, str]) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    seen: list[str] = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("probe "):
                proc.stdin.write("refresh\n")  # and at once a second ask: it joins
                proc.stdin.flush()
            if line.startswith("refreshed "):
                proc.stdin.write("quit\n")
                proc.stdin.flush()
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return "".join(seen)


@pytest.mark.integration
def test_no_database_query_runs_on_the_window_thread_during_a_refresh(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, anvil: Anvil
) -> None:  # type: ignore[no-untyped-def]
    """Every query of a refresh (wallets, tokens, prices, snapshot write, steps) runs in a
    worker thread: a query on the window's thread would stall it with thousands of rows."""
    import threading

    from sqlalchemy import event

    app = start(qapp, offline_setup(data_dir, enabled=False))
    assert app.context is not None and app.scheduler is not None
    app.context.networks.add(CHAIN_ID, "Local anvil", "LETH", [anvil.url])
    task = asyncio.ensure_future(app.context.wallets.add(anvil.sender, "Anvil", ""))
    qtbot.waitUntil(task.done, timeout=10_000)
    qtbot.waitUntil(lambda: "latest" not in app.tasks._keyed, timeout=10_000)
    window_thread = threading.get_ident()
    on_window: list[str] = []
    refreshing = [False]

    def watch(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if refreshing[0] and threading.get_ident() == window_thread:
            on_window.append(statement.split("\n")[0][:80])

    event.listen(app.context.engine, "before_cursor_execute", watch)
    app.context.refresh.subscribe(lambda e: refreshing.__setitem__(0, e.stage != "done"))
    refreshing[0] = True
    outcome = refresh(qtbot, app)
    assert outcome.ok and outcome.snapshot is not None, outcome.error
    assert on_window == []
    shutdown(qtbot, app)


@pytest.mark.integration
def test_the_collector_runs_once_the_refreshed_rows_are_on_screen(
    qapp, qtbot: QtBot, qasync_loop, data_dir: Path, anvil: Anvil
) -> None:  # type: ignore[no-untyped-def]
    """The collector's pass over a refresh's objects waits until its rows are shown (it ran
    between the stored snapshot and the rows before), then runs; after a failed refresh it runs
    on the next loop turn."""
    import gc

    paths = offline_setup(data_dir, enabled=False)
    ChainRegistry(paths.config_dir / "networks.toml", MemorySecrets()).add(
        CHAIN_ID, "Local anvil", "LETH", [anvil.url]
    )
    app = start(qapp, paths)
    assert app.context is not None and app.scheduler is not None
    task = asyncio.ensure_future(app.context.wallets.add(anvil.sender, "Anvil", ""))
    qtbot.waitUntil(task.done, timeout=10_000)
    assert gc.isenabled()
    at_outcome: list[bool] = []
    app.scheduler.subscribe(on_outcome=lambda _outcome: at_outcome.append(gc.isenabled()))
    outcome = refresh(qtbot, app)
    assert outcome.ok and outcome.snapshot is not None
    assert at_outcome == [False]  # the window has not shown the rows yet
    rows = app.window.holdings_ready
    assert rows is not None
    qtbot.waitUntil(rows.done, timeout=10_000)
    assert rows.result() is True and app.window.holdings_page.portfolio.rows
    qtbot.waitUntil(gc.isenabled, timeout=2_000)
    assert not app.window.collector.held

    # Nothing read: no rows to wait for, the collector runs at once.
    ChainRegistry(paths.config_dir / "networks.toml", MemorySecrets()).set_rpc(
        f"eip155:{CHAIN_ID}", [f"http://127.0.0.1:{free_port()}"]
    )
    app.context.settings_changed(["networks"])
    failed = refresh(qtbot, app)
    assert failed.result is not None and failed.result.status is not RefreshStatus.OK
    qtbot.waitUntil(gc.isenabled, timeout=2_000)
    shutdown(qtbot, app)
