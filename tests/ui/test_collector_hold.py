"""The window's hold on the garbage collector (app/ui/collector.py): one hold at a time, the
collector back on the next loop turn, after a time limit, and when the window is deleted."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

import app.ui.collector as collector
from app.ui.collector import CollectorHold


@pytest.fixture(autouse=True)
def _collector_back_on() -> object:
    assert gc.isenabled()
    yield
    gc.enable()


def test_held_until_released_on_the_next_loop_turn(qtbot: QtBot) -> None:
    hold = CollectorHold()
    hold.hold()
    hold.hold()  # a second refresh's start while held: still one hold
    assert hold.held and not gc.isenabled()
    hold.release_soon()
    assert not gc.isenabled()  # not inside the caller: on the next turn
    qtbot.waitUntil(gc.isenabled, timeout=2_000)
    assert not hold.held
    hold.release_soon()  # nothing held: nothing to do
    hold.release()
    assert gc.isenabled()


def test_released_after_the_time_limit(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "LONGEST_MS", 50)
    hold = CollectorHold()
    hold.hold()
    assert not gc.isenabled()
    qtbot.waitUntil(gc.isenabled, timeout=2_000)  # rows never shown: it runs anyway
    assert not hold.held


def test_released_when_its_window_is_deleted(qtbot: QtBot) -> None:
    parent = QObject()
    hold = CollectorHold(parent)
    hold.hold()
    assert not gc.isenabled()
    del hold
    parent.deleteLater()
    qtbot.waitUntil(gc.isenabled, timeout=2_000)
