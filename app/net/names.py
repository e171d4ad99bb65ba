"""Failing fast when no name resolves: the network is down, not one host.

Offline, or on a network whose DNS server does not answer (Wi-Fi with no way out), every
request first waits for its name lookup to fail, and a lookup that goes unanswered takes 5 s
and more. A refresh retries each chain's URLs with backoff, so those waits added up to 12 s
here, and up to a chain's whole time limit where every lookup times out, before the window
could say "No network connection".

So the egress keeps a short memory of failed lookups: once the names of several different
hosts could not be looked up and nothing has been reached since, the network is taken to be
down and a request to any other name fails at once, for a few seconds. Only lookups that got
no answer count: a temporary failure (no name server reachable: what getaddrinfo says offline)
or a "no such name" that took seconds to come. A quick "no such name" is an answer, from a name
server that works: a typo in a custom RPC URL, or a DNS filter blocking a host, never makes the
rest fail. A connection attempt that timed out counts too (the lookup inside it may be what
never came: a silent name server takes 10 s a lookup). Any request that reaches a host clears
the memory. Addresses that need no lookup (IP literals, ``localhost``: a node on this
computer) are never failed this way. Through a proxy the proxy resolves names, and this is
not used.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

# getaddrinfo's answers when no name server answered at all
_UNANSWERED = frozenset(
    code
    for code in (getattr(socket, "EAI_AGAIN", None), getattr(socket, "EAI_FAIL", None))
    if code is not None
)
# ... and when one answered that there is no such name (or no address for it)
_NO_SUCH_NAME = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code is not None
)
SLOW_ANSWER = 1.0  # seconds: a "no such name" this slow came from a name server timing out

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


def unanswered_lookup(exc: BaseException, seconds: float) -> bool:
    """Whether ``exc`` (an httpx error, say), raised ``seconds`` after the request began, was
    a name lookup that got no answer: a temporary failure, or "no such name" after seconds."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            if current.errno in _UNANSWERED:
                return True
            return current.errno in _NO_SUCH_NAME and seconds >= SLOW_ANSWER
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
        reaching a host meanwhile, mean the network is down; it stays down (requests by name
        fail at once) until a request reaches a host or ``window`` seconds pass with no lookup
        failing. A lookup begun before that and failing later keeps it down: with a silent
        name server those come back 10 s apart."""
        self._hosts = hosts
        self._window = window
        self._clock = clock
        self._failed: dict[str, float] = {}  # host -> when its lookup last failed
        self._down = False
        self._last = 0.0  # when a lookup last failed
        self._lock = threading.Lock()  # clients live on more than one event loop

    def failed(self, host: str) -> None:
        with self._lock:
            now = self._last = self._clock()
            self._failed[host.lower()] = now
            since = now - self._window
            for name in [n for n, at in self._failed.items() if at < since]:
                del self._failed[name]
            if len(self._failed) >= self._hosts:
                self._down = True

    def reached(self) -> None:
        """A request reached a host: names resolve (or were not needed); forget the rest."""
        if self._failed or self._down:
            with self._lock:
                self._failed.clear()
                self._down = False

    def down(self, host: str) -> bool:
        """Whether a request to ``host`` should fail without a lookup."""
        if not self._down or not needs_lookup(host):
            return False
        with self._lock:
            if self._clock() - self._last < self._window:
                return True
            self._down = False  # no lookup has failed for a while: try again
            self._failed.clear()
            return False
