"""The privacy ledger's recorder: cheap on the request path, exact in the batch.

A request costs one tuple appended to a list (host, purpose, time, URL, body). Which watched
addresses a request revealed is worked out later, in the batch writer, off the event loop: the
URL and body are searched by value for every watched address (EVM case-insensitively, both as
``0x…`` text and as an ABI word inside calldata; other families as exact tokens). Bodies repeat
from one refresh to the next (the same wallets, the same calls), so a body already searched is
known by its digest and not searched again. Nothing but the host, the purpose, the time and the
matched addresses is kept: URLs (which may carry an API key) and bodies are dropped after the
search.

A request the app built from known parts may say what it carries (:class:`Reveals`, in the
request's ``REVEALS`` extension): the watched addresses its sender put in it, and the bytes of
everything else in it that could hold an address. Only those bytes and the URL are searched, not
the body: an aggregate3 multicall of 5,000 balance calls is 2 MB of hex whose only addresses are
its wallets and its token contracts (searching it took ~16 ms, about 0.17 s per 40,000-balance
refresh). With ``Recorder.check_reveals`` (the test suite turns it on) the whole body is searched
too and any difference from the declaration is kept in ``Recorder.undeclared``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from app.domain.privacy import Contact

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

FLUSH_AFTER_S = 3.0  # quiet time after the last request before a batch is written
FLUSH_AT = 5_000  # or this many pending requests, whichever comes first
_DIGESTS_KEPT = 4_096
SEARCH_AHEAD_BYTES = 65_536  # bodies searched as they leave, when ``search_ahead`` is on
AHEAD_FLUSH_AFTER_S = 0.05  # with ``search_ahead``: written while the replies are awaited

# A 0x-address as a JSON value or URL parameter, or an ABI-encoded address word (at least 24
# zeros, then the address without its own leading zeros: keyed by its first 16 hex digits). Each
# is collected by ``findall`` and the distinct values looked up (a 1.5 MB aggregate3 body holds
# some 20,000 zero runs but a few thousand distinct tails): no Python step per match. The tail is
# read ahead (up to 40 hex digits) without being consumed, so the next zero run is still seen.
_EVM_TEXT = re.compile(rb"0x([0-9a-f]{40})(?![0-9a-f])")
_EVM_WORD = re.compile(rb"0{24,}(?=([1-9a-f][0-9a-f]{15,39}))")
_TOKEN = re.compile(rb"[0-9A-Za-z]{25,120}")  # base58, bech32, xpubs (111)
_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")


REVEALS = "chainfolio.reveals"  # the httpx request extension a sender declares it in


@dataclass(frozen=True, slots=True)
class Reveals:
    """What a request carries, by construction: ``addresses`` (put in it by its sender, in any
    letter case) and ``rest`` (every other part of the body that could hold an address: call
    targets, calldata not built from a wallet; searched like a body)."""

    addresses: tuple[str, ...]
    rest: bytes = b""


class ContactSink(Protocol):
    def add_contacts(self, contacts: Sequence[Contact]) -> None: ...


class Matcher:
    """Finds the watched addresses in a request's bytes. An entry ``(value, address)`` is a
    value standing for an address (a Bitcoin script hash, which Electrum servers are sent):
    found as an exact token, it counts as that address."""

    def __init__(self, addresses: Iterable[str | tuple[str, str]]) -> None:
        self._evm: dict[bytes, str] = {}  # lowercase 40 hex -> address as the wallet list has it
        # first 16 hex digits after the leading zeros -> (all digits after them, address)
        self._evm_key: dict[bytes, list[tuple[bytes, str]]] = {}
        self._evm_short: list[tuple[bytes, str]] = []
        self._other: dict[bytes, str] = {}
        for address in addresses:
            if isinstance(address, tuple):
                self._other[address[0].encode()] = address[1]
            elif _HEX40.match(address):
                low = address[2:].lower().encode()
                self._evm[low] = address
                stripped = low.lstrip(b"0")
                if len(stripped) >= 16:
                    self._evm_key.setdefault(stripped[:16], []).append((stripped, address))
                else:  # 25+ leading zero digits (a vanity address): searched as an ABI word
                    self._evm_short.append((b"0" * 24 + low, address))
            else:
                self._other[address.encode()] = address

    def __bool__(self) -> bool:
        return bool(self._evm or self._other)

    def known(self, addresses: Iterable[str]) -> set[str]:
        """The watched addresses among ``addresses`` (declared by a request's sender)."""
        found: set[str] = set()
        for a in addresses:
            shown = self._evm.get(a[2:].lower().encode()) if _HEX40.match(a) else None
            if shown is None:
                shown = self._other.get(a.encode())
            if shown is not None:
                found.add(shown)
        return found

    def find(self, data: bytes) -> set[str]:
        found: set[str] = set()
        if self._evm:
            low = data.lower()
            evm = self._evm
            found.update(evm[t] for t in set(_EVM_TEXT.findall(low)) if t in evm)
            keyed = self._evm_key
            for tail in set(_EVM_WORD.findall(low)):
                candidates = keyed.get(tail[:16])
                if candidates:  # the word's zeros cover the address's own leading zeros
                    found.update(shown for rest, shown in candidates if tail.startswith(rest))
            found.update(shown for word, shown in self._evm_short if word in low)
        if self._other:
            found.update(self._other[t] for t in set(_TOKEN.findall(data)) if t in self._other)
        return found


# host, purpose, time, refused, URL, bytes to search, declared addresses (None: search the
# body), and with ``check_reveals`` the whole body of a declared request
_Pending = tuple[str, str, float, bool, str, bytes, tuple[str, ...] | None, bytes | None]


class Recorder:
    """Collects contacts and writes them to ``sink`` in batches (see the module docstring).

    ``watched`` gives the person's wallet addresses; it is asked at each batch, from the
    writer's thread."""

    check_reveals: ClassVar[bool] = False  # search declared bodies too (the test suite)
    undeclared: ClassVar[list[tuple[str, tuple[str, ...]]]] = []  # (purpose, addresses wrong)

    def __init__(
        self,
        sink: ContactSink | None,
        watched: Callable[[], Iterable[str | tuple[str, str]]],
        *,
        flush_after: float = FLUSH_AFTER_S,
    ) -> None:
        self._sink = sink
        self._watched = watched
        self._flush_after = flush_after
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._seen: OrderedDict[bytes, frozenset[str]] = OrderedDict()
        self._seen_for: frozenset[str | tuple[str, str]] = frozenset()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Future[None] | None = None
        self.failed_writes = 0
        # Search ahead (see ``sent``): large bodies waiting for a worker thread to search them.
        self.search_ahead = False
        self._ahead: list[tuple[str, bytes]] = []
        self._ahead_task: asyncio.Future[None] | None = None

    # --- the request path -------------------------------------------------------------
    def sent(
        self, host: str, purpose: str, url: str, body: bytes, reveals: Reveals | None = None
    ) -> None:
        """A request that reached ``host`` (its URL and body are searched in the batch; the
        body is kept by reference, never copied here). With ``reveals``, its declared addresses
        are taken and only ``reveals.rest`` is searched instead of the body.

        With ``search_ahead`` (a process that ends right after its work: ``refresh --once``),
        a large body is also searched at once in a worker thread, while the loop waits for
        the replies, instead of all at the end; the batch then finds it by its digest. The
        batch itself is written 50 ms after the last request instead of 3 s."""
        whole = body if reveals is not None and self.check_reveals else None
        declared = None if reveals is None else reveals.addresses
        if reveals is not None:
            body = reveals.rest
        self._add((host, purpose, time.time(), False, url, body, declared, whole))
        if self.search_ahead and len(body) >= SEARCH_AHEAD_BYTES:
            with self._lock:
                self._ahead.append((url, body))
            self._start_ahead()

    def refused(self, host: str, purpose: str) -> None:
        """An attempt refused before any connection (own-nodes-only)."""
        self._add((host, purpose, time.time(), True, "", b"", None, None))

    def _add(self, item: _Pending) -> None:
        with self._lock:
            self._pending.append(item)
            many = len(self._pending) >= FLUSH_AT
        self._schedule(now=many)

    def _schedule(self, now: bool = False) -> None:
        import asyncio  # loaded already by whoever sends requests; not at app start-up

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): written at the next flush() or close
        if self._timer is not None:
            self._timer.cancel()
        # A one-shot process (``search_ahead``) writes soon after its requests went out, in a
        # worker thread while it waits for the replies, rather than on its way out.
        quiet = min(self._flush_after, AHEAD_FLUSH_AFTER_S) if self.search_ahead else None
        delay = 0 if now else self._flush_after if quiet is None else quiet
        self._timer = loop.call_later(delay, self._start_flush, loop)

    def _start_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._task is None or self._task.done():
            self._task = loop.run_in_executor(None, self._flush_quietly)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # never let a bookkeeping fault reach the loop
            log.warning("could not write the privacy records", exc_info=True)

    async def aflush(self) -> None:
        """Write what is pending, from a worker thread."""
        import asyncio

        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await asyncio.to_thread(self.flush)

    @property
    def pending(self) -> int:
        return len(self._pending)

    # --- the batch ------------------------------------------------------------------------
    def flush(self) -> list[Contact]:
        """Search the pending requests for watched addresses and write them (synchronous)."""
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                self._ahead = []  # the batch searches whatever was not searched ahead
            if not batch:
                return []
            contacts = self._contacts(batch)
            if self._sink is not None:
                try:
                    self._sink.add_contacts(contacts)
                except Exception:
                    self.failed_writes += 1
                    log.warning("could not write %d privacy records", len(contacts), exc_info=True)
            return contacts

    def _contacts(self, batch: list[_Pending]) -> list[Contact]:
        matcher = self._matcher()
        out = []
        for host, purpose, at, refused, url, data, declared, whole in batch:
            found: frozenset[str] = frozenset()
            if (url or data) and matcher:
                found = self._found(matcher, url, data)
            if declared and matcher:
                found = found | matcher.known(declared)
            if whole is not None and matcher:
                self._check(matcher, purpose, whole, found)
            out.append(Contact(host, purpose, int(at), refused, tuple(sorted(found))))
        return out

    @staticmethod
    def _check(matcher: Matcher, purpose: str, body: bytes, found: frozenset[str]) -> None:
        """``check_reveals``: whether the sender's declaration (its addresses and the search of
        its ``rest``) is exactly what searching the whole body finds: a difference either way
        (an address missed, or one named that the body does not hold) is kept."""
        wrong = matcher.find(body) ^ found
        if wrong:
            log.error("a request for %s declared the wrong watched addresses", purpose)
            Recorder.undeclared.append((purpose, tuple(sorted(wrong))))

    def _matcher(self) -> Matcher:
        """The watched addresses as they are now (the writer's lock is held)."""
        try:
            watched = frozenset(self._watched())
        except Exception:
            log.warning("could not read the wallet list for the privacy ledger", exc_info=True)
            watched = frozenset()
        if watched != self._seen_for:
            self._seen.clear()
            self._seen_for = watched
        return Matcher(watched)

    def _found(self, matcher: Matcher, url: str, data: bytes) -> frozenset[str]:
        """What one request revealed, searched once per distinct URL and body (the writer's
        lock is held)."""
        import hashlib  # the batch writer's thread; not at app start-up

        text = url.encode()
        h = hashlib.blake2b(text, digest_size=16)
        h.update(b"\n")
        h.update(data)
        digest = h.digest()
        cached = self._seen.get(digest)
        if cached is None:
            cached = frozenset(matcher.find(text) | matcher.find(data))
            self._seen[digest] = cached
            if len(self._seen) > _DIGESTS_KEPT:
                self._seen.popitem(last=False)
        return cached

    # --- searching ahead ----------------------------------------------------------------
    def _start_ahead(self) -> None:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # searched by the batch, as without search-ahead
        if self._ahead_task is None or self._ahead_task.done():
            self._ahead_task = loop.run_in_executor(None, self._search_ahead_quietly)

    def _search_ahead_quietly(self) -> None:
        try:
            self._search_ahead()
        except Exception:  # the batch searches whatever was not searched here
            log.warning("could not search requests ahead for the privacy ledger", exc_info=True)

    def _search_ahead(self) -> None:
        """Search the large bodies sent so far and keep what they revealed by digest; the
        batch (under the same lock) then only hashes them. Records nothing itself."""
        with self._write_lock:
            matcher: Matcher | None = None
            while True:
                with self._lock:
                    items, self._ahead = self._ahead, []
                if not items:
                    return
                matcher = matcher or self._matcher()
                if not matcher:
                    return
                for url, data in items:
                    self._found(matcher, url, data)
