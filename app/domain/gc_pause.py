"""Pausing Python's cyclic garbage collector around work that makes 10,000s of objects.

A refresh of 40,000 balances, a ledger report over 50,000 transactions, a big import: each
makes and drops 100,000s of small objects, and every collection they trigger walks them while
holding the interpreter lock (a window's refresh spent 23-45 ms of its 0.43 s in ~100 such
passes, timed by gc callbacks on tests/benchmarks/evm_window.py). Reference counting frees as it
goes; what is left in cycles is collected once the collector runs again.

Pauses nest and may overlap across threads: the collector runs again when the last one ends,
and only if it was running when the first one began (a command-line refresh turns it off for
good and keeps it off). The collector's switch is the process's own state, so this is too.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_resume = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
