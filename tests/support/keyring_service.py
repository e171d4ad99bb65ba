"""A private, real Secret Service for tests: own dbus-daemon + gnome-keyring-daemon.

Why private: reusing the developer's session bus would write into their real keyring. The bus
config has no service directories, so nothing is D-Bus-activated behind our back, and both
daemons are started by us and killed by pid at teardown (no stray daemons outlive the tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.net import wait_until

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
KEYRING_PASSWORD = b"chainfolio-test"


@dataclass
class SecretServiceSession:
    address: str
    env: dict[str, str]  # variables a subprocess needs to reach this Secret Service


def missing_tools() -> list[str]:
    return [t for t in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(t) is None]


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    try:
        with open_dbus_connection(bus=address) as conn:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
            return bool(reply.body[0])
    except (OSError, ConnectionError, TimeoutError):
        return False


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@contextmanager
def secret_service(root: Path) -> Iterator[SecretServiceSession]:
    """Start the daemons under ``root`` and set the process env to use them while inside."""
    home, data, runtime, sock = (root / n for n in ("home", "data", "runtime", "bus"))
    for d in (home, data, runtime, sock):
        d.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    config = root / "bus.conf"
    config.write_text(BUS_CONFIG.format(dir=sock))
    # --nofork: the bus is our child, so we can reap it (PID 1 in a container may not).
    bus = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    daemon: subprocess.Popen[bytes] | None = None
    saved: dict[str, str | None] = {}
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        env = {
            "DBUS_SESSION_BUS_ADDRESS": address,
            "HOME": str(home),
            "XDG_DATA_HOME": str(data),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        saved = {k: os.environ.get(k) for k in env}
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )
        assert daemon.stdin is not None
        daemon.stdin.write(KEYRING_PASSWORD)
        daemon.stdin.close()
        wait_until(lambda: _name_has_owner(address, "org.freedesktop.secrets"), timeout=20)
        os.environ.update(env)
        yield SecretServiceSession(address, env)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if daemon is not None:
            _stop(daemon)
        _stop(bus)
