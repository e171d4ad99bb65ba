"""Start Chainfolio at login on Linux through an XDG autostart entry (no Qt here).

Why a file: the freedesktop autostart spec is what every Linux desktop honours; the entry is
``$XDG_CONFIG_HOME/autostart/chainfolio.desktop`` (``~/.config/autostart`` by default). Only a
file carrying our marker is ever removed, so a hand-written entry is not deleted by mistake.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

FILE_NAME = "chainfolio.desktop"
MARKER = "X-Chainfolio-Autostart=true"
_EXEC_RESERVED = ('"', "`", "$", "\\")


def supported() -> bool:
    return sys.platform.startswith("linux")


def autostart_dir() -> Path:
    return Path(platformdirs.user_config_dir()) / "autostart"


def entry_path() -> Path:
    return autostart_dir() / FILE_NAME


def default_command() -> list[str]:
    """The command a login session runs: the frozen executable, or this Python with ``-m app``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "app"]


def _quote(arg: str) -> str:
    """Quote one argument per the Desktop Entry spec's Exec rules."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in _EXEC_RESERVED else c for c in arg)
    return f'"{escaped}"'.replace("%", "%%")


def desktop_entry(command: list[str]) -> str:
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Chainfolio",
            "Comment=Local-first crypto portfolio tracker",
            "Exec=" + " ".join(_quote(a) for a in command),
            "Icon=chainfolio",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            MARKER,
            "",
        ]
    )


def is_enabled() -> bool:
    path = entry_path()
    try:
        return MARKER in path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def enable(command: list[str] | None = None) -> Path:
    """Write the entry atomically; returns its path."""
    path = entry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    tmp.write_text(desktop_entry(command or default_command()), encoding="utf-8")
    tmp.replace(path)
    return path


def disable() -> bool:
    """Remove our entry; a file without our marker is left alone. True if one was removed."""
    if not is_enabled():
        return False
    entry_path().unlink(missing_ok=True)
    return True


def apply(wanted: bool) -> None:
    if wanted and not is_enabled():
        enable()
    elif not wanted:
        disable()
