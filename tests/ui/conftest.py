"""pytest-qt with one qasync loop for the whole session (see KNOWN-TRAPS: no waitSignal
inside coroutines; sync tests drive the loop by processing Qt events)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QApplication


@pytest.fixture
def qasync_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop that Qt's event processing drives (``already_running``).

    It registers itself as the running loop; that must be undone after the test, or every
    later ``asyncio.run`` in the session would refuse to start.
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    # asyncio.to_thread workers that end with the test: qasync's own executor runs QThreads,
    # and one still alive when Python exits aborts the process.
    pool = ThreadPoolExecutor(2)
    loop.set_default_executor(pool)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pool.shutdown(wait=True)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


@pytest.fixture
def context(data_dir: Path) -> Iterator[object]:
    from app.bootstrap import bootstrap
    from app.config import Paths

    ctx = bootstrap(Paths.resolve(data_dir))
    yield ctx
    ctx.close()
