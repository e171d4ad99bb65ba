"""A private X desktop for end-to-end tests: Xvfb on a free display, and a tray host (trayer).

Readiness is waited on, never slept for: Xvfb reports its display number through a pipe when it
accepts connections, and the tray is ready when someone owns the ``_NET_SYSTEM_TRAY_S0``
selection (asked through libX11 with ctypes, no extra packages).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from tests.support.net import wait_until

TOOLS = ("Xvfb", "trayer", "xwininfo", "xprop", "dbus-run-session")


def missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if ctypes.util.find_library("X11") is None:
        missing.append("libX11")
    return missing


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def xvfb(size: str = "1100x720x24") -> Iterator[str]:
    """Start Xvfb on a display it picks itself (-displayfd); yields ``":N"``."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    try:
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_end], [], [], 30)
            chunk = os.read(read_end, 16) if ready else b""
            if not chunk:
                raise RuntimeError("Xvfb did not start")
            number += chunk
        yield f":{int(number)}"
    finally:
        os.close(read_end)
        _stop(proc)


def tray_owned(display: str) -> bool:
    """True when a system tray manages the screen (the check Qt makes for isSystemTrayAvailable)."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        return False
    try:
        atom = x11.XInternAtom(dpy, b"_NET_SYSTEM_TRAY_S0", 0)
        return bool(x11.XGetSelectionOwner(dpy, atom))
    finally:
        x11.XCloseDisplay(dpy)


def _tray_up(display: str, proc: subprocess.Popen[bytes]) -> bool:
    """The tray is owned, or the tray host already gave up."""
    return tray_owned(display) or proc.poll() is not None


@contextmanager
def trayer(display: str, attempts: int = 3) -> Iterator[subprocess.Popen[bytes]]:
    """A tray host on ``display``. trayer now and then exits at once on a fresh server (seen
    once in a fresh-clone run); it is started again, up to ``attempts`` times."""
    for _ in range(attempts):
        proc = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
             "--height", "24", "--SetDockType", "false", "--SetPartialStrut", "false"],
            env=dict(os.environ, DISPLAY=display),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(partial(_tray_up, display, proc), 30, "the tray host")
        if proc.poll() is None:
            break
    else:
        raise RuntimeError(f"trayer exited {attempts} times")
    try:
        yield proc
    finally:
        _stop(proc)


def windows_docked_in_tray(display: str) -> list[str]:
    """Ids of the windows that trayer's panel holds (the docked tray icons and their sockets)."""
    out = subprocess.run(
        ["xwininfo", "-display", display, "-name", "panel", "-tree"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    return [line.split()[0] for line in out.splitlines() if line.strip().startswith("0x")]


def window_pid(display: str, window: str) -> int | None:
    out = subprocess.run(
        ["xprop", "-display", display, "-id", window, "_NET_WM_PID"],
        capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    _, _, value = out.partition(" = ")
    return int(value) if value.strip().isdigit() else None
