"""The app icon and small status icons, from resources/ (SVG scales to every size)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from app.resources import resource_path


@cache
def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "chainfolio.svg")))
