"""One way out: every outbound HTTP request of the app goes through this package.

Adapters (chains, prices, ENS, explorers, the command line) get their ``httpx.AsyncClient``
from :func:`client`, naming what it is for (``"rpc"``, ``"prices"``, ``"fx"``, ``"ens"``,
``"explorer"``…). The client's transport (``app.net.transport``) applies the one
:class:`Egress` the composition root installed: the proxy (SOCKS5 with per-host stream
isolation, or HTTP), own-nodes-only, and the privacy ledger's :class:`Recorder`. A test may
install its own. Nothing else in the app builds an httpx client (a test checks it).

This module imports no httpx: the composition root installs the egress at start-up for free.
"""

from __future__ import annotations

import contextvars
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.net.names import NameFailures
from app.net.policy import NetPolicy, host_of
from app.net.recorder import Recorder

if TYPE_CHECKING:
    import asyncio

    import httpx

__all__ = [
    "Egress",
    "NetPolicy",
    "Recorder",
    "client",
    "current",
    "host_of",
    "install",
    "with_lookup_threads",
]


@dataclass
class Egress:
    """The policy in force and the recorder; ``policy`` is read on every request. ``names``:
    which names failed to resolve lately (see :mod:`app.net.names`)."""

    policy: NetPolicy = field(default_factory=NetPolicy)
    recorder: Recorder | None = None
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    names: NameFailures = field(default_factory=NameFailures)

    def credentials(self, host: str, tag: str = "") -> tuple[str, str]:
        from app.net.transport import isolation_credentials

        return isolation_credentials(self.salt, f"{host}\n{tag}" if tag else host)


_current = Egress()

# The isolation tag of the work running now (a wallet, for unlinkable reads): requests made
# under different tags never share a connection, and through SOCKS get different credentials.
isolation: contextvars.ContextVar[str] = contextvars.ContextVar("chainfolio_isolation", default="")


def install(egress: Egress) -> Egress:
    """Make ``egress`` the one every client built from now on (and every live one) uses."""
    global _current
    previous, _current = _current, egress
    return previous


def current() -> Egress:
    return _current


class _Live:
    """Stands for "whatever egress is installed", so clients built before a test or the
    composition root installs one still follow it."""

    def __getattr__(self, name: str) -> object:
        return getattr(_current, name)


def client(
    purpose: str,
    *,
    timeout: float | httpx.Timeout,
    limits: httpx.Limits | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient whose every request goes through the installed egress."""
    from app.net.transport import build_client

    return build_client(_Live(), purpose, timeout=timeout, limits=limits, headers=headers)  # type: ignore[arg-type]


LOOKUP_THREADS = 32


def with_lookup_threads(loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    """``loop`` with a default executor of :data:`LOOKUP_THREADS` threads, for the loops that
    refresh. Every name lookup (httpx, through anyio, asks ``loop.getaddrinfo``) blocks one
    of those threads, and asyncio's own default has six on two cores: where the name server
    does not answer (10 s a lookup), the first round of a dozen chains' lookups queued behind
    each other and two chains waited out their 45 s limit. With a thread each they all fail
    within the one lookup's time, and :mod:`app.net.names` fails the rest at once."""
    from concurrent.futures import ThreadPoolExecutor

    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="chainfolio")
    )
    return loop
