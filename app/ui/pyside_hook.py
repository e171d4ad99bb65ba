"""A lighter check in PySide6's import hook.

Importing PySide6 replaces ``__import__`` with a hook of its own (for its opt-in
``from __feature__ import snake_case``), and from then on every module imported is asked whether
it uses PySide: ``inspect.getsource(module)`` is searched for "PySide6". That reads, decodes and
splits the module's whole source and keeps its lines in ``linecache`` for the life of the
process. The window imports ~800 modules after PySide6 (numpy, pyqtgraph, httpx, the readers):
~0.1 s of CPU in the warm-up thread, which holds the interpreter lock against the window's
thread, and ~29 MB of source text kept for nothing (367,000 lines).

:func:`lighten` puts a check with the same answer in its place: the module's ``.py`` file is
read as bytes and searched for the same word, and nothing is kept. Modules without a ``.py``
file (extensions, built-ins, byte-code only) still go to PySide's own check. Chainfolio never
selects a feature, so the answer only decides which modules PySide ignores; it stays the same.
Should a PySide release move or drop the check, nothing is replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

_FEATURE_MODULE = "shibokensupport.feature"
_CHECK = "_mod_uses_pyside"


def uses_pyside(module: ModuleType, fallback: Callable[[ModuleType], Any]) -> bool:
    """Whether ``module``'s source names PySide6 (PySide's own question), from its file's bytes."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return bool(fallback(module))
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return bool(fallback(module))


def lighten() -> bool:
    """Replace PySide's per-import check (see the module docstring); True when replaced now."""
    feature = sys.modules.get(_FEATURE_MODULE)
    original = getattr(feature, _CHECK, None)
    if feature is None or not callable(original) or getattr(original, "lightened", False):
        return False

    def check(module: ModuleType) -> bool:
        return uses_pyside(module, original)

    check.lightened = True  # type: ignore[attr-defined]
    check.original = original  # type: ignore[attr-defined]
    setattr(feature, _CHECK, check)
    return True
