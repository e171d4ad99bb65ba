"""The desktop GUI: the only package allowed to import PySide6, qasync and pyqtgraph."""

import PySide6.QtCore  # noqa: F401  (installs PySide's import hook, made lighter below)

from app.ui.pyside_hook import lighten

lighten()
