"""PySide6's per-import check, made lighter (app/ui/pyside_hook.py): the same answer for every
module, no source kept in linecache, and PySide's own check for what has no ``.py`` file."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path
from types import ModuleType

import pytest

import app.ui  # noqa: F401  (imports PySide6 and lightens its hook)
from app.ui.pyside_hook import lighten, uses_pyside

feature = sys.modules["shibokensupport.feature"]


def test_the_window_package_replaces_pysides_check_once() -> None:
    check = feature._mod_uses_pyside
    assert getattr(check, "lightened", False) is True
    assert lighten() is False  # already done: not wrapped twice
    assert feature._mod_uses_pyside is check


def test_same_answer_as_pysides_own_check_for_every_module_loaded() -> None:
    original = feature._mod_uses_pyside.original
    with_source = [
        m
        for m in list(sys.modules.values())
        if isinstance(m, ModuleType) and str(getattr(m, "__file__", "")).endswith(".py")
    ]
    assert len(with_source) > 200
    differ = [m.__name__ for m in with_source if uses_pyside(m, original) != original(m)]
    assert differ == []
    # Both answers occur: the window's own modules use PySide, the standard library does not.
    assert uses_pyside(sys.modules["app.ui.pyside_hook"], original) is True
    assert uses_pyside(linecache, original) is False


def test_a_new_import_is_judged_without_keeping_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cf_hook_qt.py").write_text("import PySide6.QtCore\nVALUE = 1\n")
    (tmp_path / "cf_hook_plain.py").write_text("VALUE = 2\n" + "# filler\n" * 5000)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        qt, plain = (
            __import__("cf_hook_qt"),
            __import__("cf_hook_plain"),
        )  # as an import statement does
        assert (qt.VALUE, plain.VALUE) == (1, 2)
        # What PySide recorded: "uses PySide" (0) and "ignore this module" (-1).
        assert feature.pyside_feature_dict.get("cf_hook_qt") == 0
        assert feature.pyside_feature_dict.get("cf_hook_plain") == -1
        assert str(tmp_path / "cf_hook_plain.py") not in linecache.cache
        assert str(tmp_path / "cf_hook_qt.py") not in linecache.cache
    finally:
        for name in ("cf_hook_qt", "cf_hook_plain"):
            sys.modules.pop(name, None)
            feature.pyside_feature_dict.pop(name, None)


def test_modules_without_a_readable_py_file_go_to_pysides_check(tmp_path: Path) -> None:
    asked: list[str] = []

    def fallback(module: ModuleType) -> bool:
        asked.append(module.__name__)
        return False

    gone = ModuleType("cf_gone")
    gone.__file__ = str(tmp_path / "missing.py")
    extension = ModuleType("cf_ext")
    extension.__file__ = str(tmp_path / "cf_ext.cpython-313-x86_64-linux-gnu.so")
    builtin = ModuleType("cf_builtin")  # no __file__ at all
    assert [uses_pyside(m, fallback) for m in (gone, extension, builtin)] == [False] * 3
    assert asked == ["cf_gone", "cf_ext", "cf_builtin"]


def test_nothing_is_replaced_when_pyside_has_no_such_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "shibokensupport.feature")
    assert lighten() is False
    stand_in = ModuleType("shibokensupport.feature")
    monkeypatch.setitem(sys.modules, "shibokensupport.feature", stand_in)
    assert lighten() is False
    assert not hasattr(stand_in, "_mod_uses_pyside")
