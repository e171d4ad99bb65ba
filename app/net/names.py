"""Failing fast when no name resolves: the network is down, not one host.

Offline, or on a network whose DNS server does not answer (Wi-Fi with no way out), every
request first waits for its name lookup to fail, and a lookup that goes unanswered takes 5 s
and more. A refresh retries each chain's URLs with backoff, so those waits added up to 12 s
here, and up to a chain's whole time limit where every lookup times out, before the window
could say "No network connection".

So the egress keeps a short memory of failed lookups: once names of several different hosts
have failed to resolve and none has resolved since, the network is taken to be down and a
request to any other name fails at once, for a few seconds. One name that does not resolve (a
typo in a custom RPC URL) is not enough, and any request that reaches a host clears the
memory. Addresses that need no lookup (IP literals, ``localhost``: a node on this computer)
are never failed this way. Through a proxy the proxy resolves names, and this is not used.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

# getaddrinfo's answers that mean "this name could not be resolved" (not "refused")
_NAME_ERRORS = frozenset(
    code
    for code in (
        getattr(socket, "EAI_NONAME", None),
        getattr(socket, "EAI_AGAIN", None),
        getattr(socket, "EAI_FAIL", None),
        getattr(socket, "EAI_NODATA", None),
    )
    if code is not None
)

NO_NAMES = "No name could be resolved: there is no network connection"


def needs_lookup(host: str) -> bool:
    """Whether reaching ``host`` (a URL's host name, no port) starts with a DNS lookup: not
    for an IP address or localhost."""
    import ipaddress  # here: the egress is built at start-up, before any request

    bare = host.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return True
    return False


def is_name_error(exc: BaseException) -> bool:
    """Whether ``exc`` (an httpx error, say) was caused by a name that did not resolve."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror) and current.errno in _NAME_ERRORS:
            return True
        current = current.__cause__ or current.__context__
    return False


class NameFailures:
    """Which names failed to resolve lately, shared by every client of the process."""

    def __init__(
        self,
        *,
        hosts: int = 3,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``hosts`` different names failing within ``window`` seconds, with no request
        reaching a host meanwhile, mean the network is down."""
        self._hosts = hosts
        self._window = window
        self._clock = clock
        self._failed: dict[str, float] = {}  # host -> when its lookup last failed
        self._lock = threading.Lock()  # clients live on more than one event loop

    def failed(self, host: str) -> None:
        with self._lock:
            self._failed[host.lower()] = self._clock()

    def reached(self) -> None:
        """A request reached a host: names resolve (or were not needed); forget the rest."""
        if self._failed:
            with self._lock:
                self._failed.clear()

    def down(self, host: str) -> bool:
        """Whether a request to ``host`` should fail without a lookup: enough other names
        failed within the window and nothing was reached since."""
        if not self._failed or not needs_lookup(host):
            return False
        with self._lock:
            since = self._clock() - self._window
            for name in [n for n, at in self._failed.items() if at < since]:
                del self._failed[name]
            return len(self._failed) >= self._hosts
