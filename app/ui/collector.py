"""The garbage collector's pass over a refresh's objects, run once its rows are on screen.

A refresh pauses the cyclic collector while it reads, values and stores 10,000s of holdings
(``app.domain.gc_pause``). When the pause ends, the first collection walks everything the
refresh left alive, the new snapshot's holdings included: 12-16 ms of the window's thread for
40,200 holdings, which ran between the stored snapshot and the window showing it, and again
among the new rows' own objects while the window prepared them.

The window holds the pause a little longer: from the refresh's start until its rows are on
screen (or it failed), then lets the collector run on the next turn of the event loop, when
nothing is waiting for it. The pass is not skipped: it runs once, after what the person waits
for, instead of before it. A timer ends the hold whatever happens (``LONGEST_MS``).
"""

from __future__ import annotations

import contextlib
from functools import partial

from PySide6.QtCore import QObject, QTimer

from app.domain.gc_pause import gc_paused

LONGEST_MS = 5000  # the collector runs again after this, rows shown or not


class CollectorHold(QObject):
    """Deleted with its parent (the window), it lets the collector run again."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # In a list the ``destroyed`` handler can close without this object's wrapper.
        self._pause: list[contextlib.ExitStack] = []
        self._limit = QTimer(self)
        self._limit.setSingleShot(True)
        self._limit.timeout.connect(self.release)
        self.destroyed.connect(partial(_close, self._pause))

    @property
    def held(self) -> bool:
        return bool(self._pause)

    def hold(self) -> None:
        """Keep the collector paused (a second call while held changes nothing)."""
        if self._pause:
            return
        pause = contextlib.ExitStack()
        pause.enter_context(gc_paused())
        self._pause.append(pause)
        self._limit.start(LONGEST_MS)

    def release_soon(self) -> None:
        """Let the collector run on the next turn of the event loop."""
        if self._pause:
            QTimer.singleShot(0, self, self.release)

    def release(self) -> None:
        self._limit.stop()
        _close(self._pause)


def _close(pause: list[contextlib.ExitStack], *_args: object) -> None:
    while pause:
        pause.pop().close()
