"""Entry point of the GUI, kept tiny so ``chainfolio`` starts the window quickly."""

from __future__ import annotations

import os
import sys

from app.config import Paths, Settings
from app.logging_setup import setup_logging


def run_gui(data_dir: str | None, verbose: bool, qt_args: list[str]) -> int:
    os.environ.setdefault("QT_API", "pyside6")  # qasync must bind PySide6, not a PyQt
    paths = Paths.resolve(data_dir)
    try:
        paths.ensure()
    except OSError as exc:  # before Qt: the terminal (or the desktop's log) gets the sentence
        from app.domain.errors import os_error_sentence

        print(f"chainfolio: error: {os_error_sentence(exc) or exc}", file=sys.stderr)
        return 1
    settings = Settings.load(paths.settings_file)
    setup_logging(paths.log_dir, str(settings.get("log.level")), verbose)
    from app.ui.application import run

    return run(paths, settings, qt_args)
