"""A test hook for the end-to-end test: CHAINFOLIO_TRAY_PROBE=1.

Prints one line per event to stdout (tray state, each refresh outcome with the tray tooltip and
the window's total) and obeys one-word commands on stdin, so a test can drive the real app
through its own actions and wait on lines instead of sleeping:

- ``state``: print whether the window and the tray icon are visible, and the icon's geometry
- ``close``: close the window as the person would (hides to the tray when there is one)
- ``refresh``: trigger Refresh now (the tray's action when there is a tray)
- ``quit``: trigger Quit (the tray's action when there is a tray): the one shutdown path
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QSocketNotifier

if TYPE_CHECKING:
    from app.services.scheduler import RefreshOutcome
    from app.ui.application import ChainfolioApp


def _say(line: str) -> None:
    print(line.replace("\n", " | "), flush=True)


def install_probe(app: ChainfolioApp) -> None:
    """Call after the scheduler exists and before it starts."""
    assert app.scheduler is not None
    tray = app.tray
    window = app.window

    def state() -> None:
        if tray is None:
            _say(f"state window={int(window.isVisible())} tray=0")
            return
        g = tray.icon.geometry()
        _say(
            f"state window={int(window.isVisible())} tray=1 tray-visible={int(tray.icon.isVisible())}"
            f" tray-geometry={g.width()}x{g.height()}+{g.x()}+{g.y()}"
        )

    shown_after_refresh = [False]

    def outcome(o: RefreshOutcome) -> None:
        snap = o.snapshot
        _say(
            f"refreshed ok={int(o.ok)} failures={o.failures} error={o.error or ''}"
            f" snapshot={snap.id if snap else ''} total={snap.total if snap else ''}"
        )
        if snap is None:
            _say(f"window-total={window.holdings_page.total_label.text()}")
        else:  # the window prepares its rows off the GUI thread: report once they are shown
            shown_after_refresh[0] = True
        if tray is not None:
            _say(f"tooltip={tray.tooltip}")

    def shown() -> None:
        if shown_after_refresh[0]:
            shown_after_refresh[0] = False
            _say(f"window-total={window.holdings_page.total_label.text()}")

    window.holdings_page.shown.connect(shown)

    def close() -> None:
        window.close()
        state()

    commands = {
        "state": state,
        "close": close,
        "refresh": (tray.act_refresh if tray else window.act_refresh).trigger,
        "quit": (tray.act_quit if tray else window.act_quit).trigger,
    }
    buffer = b""
    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read, window)

    def readable() -> None:
        nonlocal buffer
        chunk = os.read(sys.stdin.fileno(), 4096)
        if not chunk:
            notifier.setEnabled(False)  # stdin closed
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = commands.get(line.decode().strip())
            if command is not None:
                command()

    notifier.activated.connect(readable)
    app.scheduler.subscribe(on_outcome=outcome)
    _say(f"probe pid={os.getpid()} tray={int(tray is not None)}")
