from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.single_instance import SingleInstance


def test_second_instance_brings_first_forward(qtbot: QtBot, tmp_path: Path) -> None:
    first = SingleInstance(tmp_path)
    assert not first.notify_running(timeout_ms=100)
    assert first.listen()
    second = SingleInstance(tmp_path)
    with qtbot.waitSignal(first.activated, timeout=5000):
        assert second.notify_running()
    other_dir = SingleInstance(tmp_path / "other")
    assert not other_dir.notify_running(timeout_ms=100)
    first.close()
    assert not SingleInstance(tmp_path).notify_running(timeout_ms=100)
