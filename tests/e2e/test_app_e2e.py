"""The whole desktop app, end to end: a real process under Xvfb with a tray host and a private
D-Bus session, refreshing from a local anvil node and a local price server.

The app runs with CHAINFOLIO_TRAY_PROBE=1 (app/ui/probe.py): it prints its tray state and each
refresh outcome, and obeys ``state`` / ``close`` / ``quit`` on stdin. The test waits on those
lines, checks the snapshot in the database, checks with xwininfo/xprop that the app's icon is
docked in the tray, closes the window (it hides to the tray and says so once), and quits through
the tray's Quit: exit code 0.
"""

from __future__ import annotations

import io
import os
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.desktop import missing_tools, trayer, window_pid, windows_docked_in_tray, xvfb
from tests.integration.evm.anvil import Anvil, running
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread
from tests.support.setup_cli import mainnet_only

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WALLET = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"


class Lines:
    """The app's stdout, line by line, read by a thread so waits can time out."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: io.TextIOBase) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, prefix: str, timeout: float = 90) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"the app exited before {prefix!r}; saw {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line


def fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split(" ")[1:] if "=" in part)


@pytest.fixture
def mainnet_anvil() -> Iterator[Anvil]:
    """Anvil answering as chain 1, so the built-in Ethereum network (and its price id) is used."""
    yield from running(1)


def prepare(data_dir: Path, anvil: Anvil, prices_url: str) -> None:
    """A fresh data dir set up through the CLI: one wallet, only Ethereum, pointed at anvil."""
    mainnet_only(data_dir, WALLET, anvil.url, prices_url, "Cold storage")


def test_app_refreshes_into_window_and_tray_then_quits_from_tray(
    tmp_path: Path, mainnet_anvil: Anvil
) -> None:
    if missing := missing_tools():
        pytest.skip(f"needs {', '.join(missing)} (packaging/bootstrap.sh setup installs them)")
    data_dir = tmp_path / "data"
    mainnet_anvil.set_native(WALLET, 15 * 10**17)  # 1.5 ETH
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000.0})
    with serve_in_thread(llama) as prices_url, xvfb() as display, trayer(display):
        prepare(data_dir, mainnet_anvil, prices_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
        env.update(
            DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_API="pyside6", CHAINFOLIO_TRAY_PROBE="1",
            PYTHONPATH=str(ROOT),
        )  # fmt: skip
        stderr = (tmp_path / "stderr.txt").open("w")
        app = subprocess.Popen(
            ["dbus-run-session", "--", sys.executable, "-m", "app", "--data-dir", str(data_dir)],
            env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True,
        )  # fmt: skip
        try:
            assert app.stdout is not None and app.stdin is not None
            lines = Lines(app.stdout)  # type: ignore[arg-type]
            probe = fields(lines.expect("probe "))
            assert probe["tray"] == "1", "the app did not find the tray host"

            # The first refresh runs at start-up, in the background.
            refreshed = fields(lines.expect("refreshed "))
            assert refreshed["ok"] == "1" and refreshed["failures"] == "0", lines.seen
            assert Decimal(refreshed["total"]) == Decimal(3000)
            tooltip = lines.expect("tooltip=")
            assert "Total: 3,000.00 USD" in tooltip
            # The window swaps the rows in once its worker has prepared them.
            assert "3,000.00" in lines.expect("window-total=")

            # The tray icon is a window of this app, docked in trayer's panel.
            app.stdin.write("state\n")
            app.stdin.flush()
            state = fields(lines.expect("state "))
            assert state["window"] == "1" and state["tray-visible"] == "1"
            width = int(state["tray-geometry"].split("x")[0])
            assert width > 0, state
            pids = {window_pid(display, w) for w in windows_docked_in_tray(display)}
            assert int(probe["pid"]) in pids

            # Closing the window hides it to the tray (the app keeps running) ...
            app.stdin.write("close\n")
            app.stdin.flush()
            assert fields(lines.expect("state "))["window"] == "0"
            settings = (data_dir / "settings.toml").read_text()
            assert "tray_hint_shown = true" in settings

            # ... and Quit in the tray menu ends it through the one shutdown path.
            app.stdin.write("quit\n")
            app.stdin.flush()
            assert app.wait(60) == 0, (tmp_path / "stderr.txt").read_text()
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
            stderr.close()

    con = sqlite3.connect(data_dir / "chainfolio.sqlite3")
    rows = con.execute("SELECT total, stale_total FROM snapshots").fetchall()
    holdings = con.execute("SELECT asset_id, raw, value FROM snapshot_holdings").fetchall()
    con.close()
    assert [(Decimal(t), Decimal(s)) for t, s in rows] == [(Decimal(3000), Decimal(0))]
    assert [(a, r, Decimal(v)) for a, r, v in holdings] == [
        ("eip155:1/slip44:60", str(15 * 10**17), Decimal(3000))
    ]
    log = (data_dir / "logs" / "chainfolio.log").read_text()
    assert "Chainfolio stopped" in log
