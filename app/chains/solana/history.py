"""Solana wallet history: ``getSignaturesForAddress`` pages, then ``getTransaction`` batches.

What is scanned. A wallet's own signature list misses the transfers that only touch its token
accounts (an incoming SPL transfer names the sender, the source and the destination token
accounts, not the wallet), so each wallet is scanned as its address plus every token account it
owns: those ``getTokenAccountsByOwner`` lists today (both token programs) and those its own
transactions show it owning (closed ones included). Every transaction found is read once
(jsonParsed, ``maxSupportedTransactionVersion`` 0, commitment finalized, in JSON-RPC batches
sent concurrently through the endpoint's pace: :mod:`app.chains.solana.pace`, so a user's own
node is not held to the public endpoint's limits) and turned into the wallet's movements and fee
by :mod:`app.chains.solana.history_tx`. Finalized blocks do not re-org: ``reread_from`` stays
empty.

Rounds. Each round asks every address still being paged for one page (``limit`` signatures,
newest first, ``before`` the oldest one reached, ``until`` the newest one of the previous scan),
reads the transactions of those pages, and yields one :class:`ScanBatch` per wallet that is
complete for it: its movements and fees of those pages and its new cursor. A transaction listed
by two of a wallet's addresses is given again with the same keys (``Movement.key``): the store
de-duplicates. ``done``/``total`` count signatures; ``total`` grows while pages keep coming.

Cursor text (per wallet, opaque to everyone else)::

    sol1 <address>:<top>:<before>:<until> <address>:<top>:<before>:<until> …

one field group per scanned address (the wallet first, then its token accounts), empty fields
allowed, base58 text only:

- ``top``: the newest signature this address's current pass started from.
- ``before``: set while the pass is under way: signatures older than it (and newer than
  ``until``) are still to be read. A scan stopped mid-way resumes paging from here.
- ``until``: the ``top`` of the previous, finished pass (empty on the first pass: read to the
  address's first transaction).
- A finished pass is ``<address>:<top>::``; the next scan reads only signatures newer than
  ``top``. ``<address>:::`` (never read, or nothing found) reads everything.

A cursor that does not parse is dropped with a warning: the wallet is read again from the start,
which re-gives movements with the same keys and loses nothing.

Faults: an RPC node that does not answer, an error reply, or a signature the node lists but
whose transaction it will not return raises :class:`HistoryError` (a ``ChainfolioError``) with a
sentence a person can read; batches already yielded stay valid. A transaction whose reply is
malformed or hostile is skipped, with the reason in the log and a sentence in the wallet's
batch ``notes`` (that wallet's history lacks it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from solders.signature import Signature

from app.chains.solana.history_tx import BadTx, TxInfo, wallet_view
from app.chains.solana.mints import TOKEN_2022_PROGRAM, TOKEN_PROGRAM
from app.chains.solana.pace import PUBLIC_LIMITS, Limits, PaceBook
from app.chains.solana.rpc import DEFAULT_CONCURRENCY, BatchClient, Call, CallResult
from app.domain.chains import ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId
from app.domain.onchain import Fee, Movement, ScanBatch, ScanRequest
from app.domain.outcome import plain_reason

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext

log = logging.getLogger(__name__)

CURSOR_VERSION = "sol1"
PAGE_LIMIT = 1000  # the most getSignaturesForAddress returns per call
# Signatures whose transactions one round reads before it yields (bounds memory; a wallet's
# pages are never split across rounds).
ROUND_SIGNATURES = 5_000
_VIEW_CACHE = 50_000  # (signature, wallet) views kept for a transaction listed again
_TX_CONFIG = {
    "encoding": "jsonParsed",
    "maxSupportedTransactionVersion": 0,
    "commitment": "finalized",
}


class HistoryError(ChainfolioError):
    """The history of a Solana wallet could not be read; the text is for a person."""


@dataclass
class AddressState:
    """Where the paging of one address stands (see the module docstring)."""

    top: str | None = None
    before: str | None = None
    until: str | None = None
    active: bool = False

    def text(self, address: str) -> str:
        return f"{address}:{self.top or ''}:{self.before or ''}:{self.until or ''}"


@dataclass
class WalletState:
    wallet: str
    addresses: dict[str, AddressState] = field(default_factory=dict)

    def cursor(self) -> str:
        parts = [s.text(a) for a, s in self.addresses.items()]
        return " ".join([CURSOR_VERSION, *parts])


def _sig_ok(text: str) -> bool:
    try:
        Signature.from_string(text)
    except ValueError:
        return False
    return True


def _address_ok(text: str) -> bool:
    from app.chains.solana.replies import _checked_key

    try:
        _checked_key(text)
    except ValueError:
        return False
    return True


def parse_cursor(wallet: str, text: str | None) -> WalletState:
    """The paging state a cursor names; a fresh state for None or text that does not parse."""
    state = WalletState(wallet, {wallet: AddressState()})
    if not text:
        return state
    fields = text.split(" ")
    found: dict[str, AddressState] = {}
    ok = fields[0] == CURSOR_VERSION
    for group in fields[1:] if ok else ():
        parts = group.split(":")
        if len(parts) != 4 or not _address_ok(parts[0]):
            ok = False
            break
        sigs = [p or None for p in parts[1:]]
        if any(s is not None and not _sig_ok(s) for s in sigs):
            ok = False
            break
        top, before, until = sigs
        if before is not None and top is None:
            ok = False
            break
        found[parts[0]] = AddressState(top, before, until)
    if not ok or wallet not in found:
        log.warning("unreadable Solana history cursor for %s: reading it again", wallet)
        return state
    state.addresses = {wallet: found.pop(wallet), **found}
    return state


def _start_pass(state: AddressState) -> None:
    """Begins this scan's paging of an address: resume a pass under way, or start a new one
    that stops at the last pass's top."""
    if state.before is None:
        state.until, state.top = state.top, None
    state.active = True


@dataclass(frozen=True, slots=True)
class _Sig:
    signature: str
    slot: int
    block_time: int | None


def _named(tx: object) -> set[str] | None:
    """Addresses a transaction names (account keys, token owners); None if its shape is odd,
    then every wallet looks at it (and the check there says what is wrong)."""
    try:
        keys = tx["transaction"]["message"]["accountKeys"]  # type: ignore[index]
        out = {k["pubkey"] if isinstance(k, dict) else k for k in keys}
        meta = tx["meta"]  # type: ignore[index]
        for name in ("preTokenBalances", "postTokenBalances"):
            out.update(b.get("owner") for b in meta.get(name) or [])
        loaded = meta.get("loadedAddresses") or {}
        out.update(loaded.get("writable", []), loaded.get("readonly", []))
    except (KeyError, TypeError, AttributeError):
        return None
    return {k for k in out if isinstance(k, str)}


def parse_page(result: CallResult) -> list[_Sig]:
    """A ``getSignaturesForAddress`` page. Raises HistoryError: a page cannot be skipped."""
    if result.result is None:
        raise HistoryError(f"the node refused the signature list ({result.error}).")
    try:
        items = msgspec.json.decode(bytes(result.result))
    except msgspec.DecodeError:
        items = None
    if not isinstance(items, list):
        raise HistoryError("the node sent a signature list that is not readable.")
    out = []
    for item in items:
        sig = item.get("signature") if isinstance(item, dict) else None
        slot = item.get("slot") if isinstance(item, dict) else None
        if not isinstance(sig, str) or not _sig_ok(sig) or type(slot) is not int or slot < 0:
            raise HistoryError("the node sent a signature list that is not readable.")
        bt = item.get("blockTime")
        out.append(_Sig(sig, slot, bt if type(bt) is int and bt >= 0 else None))
    return out


class SolanaHistorySource:
    """``HistorySource`` for one Solana cluster. Holds one batch client; ``aclose`` it."""

    def __init__(
        self,
        spec: ChainSpec,
        client: BatchClient,
        *,
        page_limit: int = PAGE_LIMIT,
        round_signatures: int = ROUND_SIGNATURES,
    ) -> None:
        self._spec = spec
        self._client = client
        self._limit = max(1, min(page_limit, PAGE_LIMIT))
        self._round = max(1, round_signatures)
        self._views: dict[tuple[str, str], TxInfo | None] = {}
        self.skipped: list[tuple[str, str]] = []  # (signature, reason) left out, for tests/logs

    @property
    def chain(self) -> str:
        return str(self._spec.chain_id)

    @property
    def http_requests(self) -> int:
        return self._client.http_requests

    async def aclose(self) -> None:
        await self._client.aclose()

    def _asset(self, mint: str) -> str:
        return str(AssetId(self._spec.chain_id, "token", mint))

    async def _call(
        self,
        calls: Sequence[Call],
        doing: str,
        handle: Callable[[int, list[CallResult]], None] | None = None,
    ) -> list[CallResult]:
        """Every call's result; ``handle(offset, results)`` runs for each answered batch as it
        lands, while the others are still on the wire. Raises HistoryError when a batch went
        unanswered after every retry."""
        results: list[CallResult] = [CallResult(None, "not sent")] * len(calls)
        failed: list[str] = []

        def keep(offset: int, part: list[CallResult]) -> None:
            results[offset : offset + len(part)] = part
            failed.extend(r.error or "no reply" for r in part if r.batch_failed)
            if handle is not None and not failed:
                handle(offset, part)

        if calls:
            await self._client.call_each(calls, keep)
        if failed:
            reason = plain_reason(failed[0]).rstrip(".")
            log.info("Solana history: %s failed: %s", doing, failed[0])
            raise HistoryError(f"{self._spec.name}: {doing} failed: {reason}.")
        return results

    async def scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]:
        for r in requests:
            if not _address_ok(r.wallet):
                raise HistoryError(f"{r.wallet[:60]!r} is not a Solana address.")
        wallets = {r.wallet: parse_cursor(r.wallet, r.cursor) for r in requests}
        await self._add_token_accounts(list(wallets.values()))
        for w in wallets.values():
            for st in w.addresses.values():
                _start_pass(st)
        done = listed = 0
        while True:
            active = [
                (w, a, st) for w in wallets.values() for a, st in w.addresses.items() if st.active
            ]
            if not active:
                return
            calls = [
                Call("getSignaturesForAddress", [a, self._page_params(st)]) for _, a, st in active
            ]
            results = await self._call(calls, "reading the signature list")
            pages: dict[str, list[tuple[str, AddressState, list[_Sig]]]] = {}
            for (w, a, st), result in zip(active, results, strict=True):
                try:
                    page = parse_page(result)
                except HistoryError as exc:
                    raise HistoryError(f"{self._spec.name}: {exc}") from None
                pages.setdefault(w.wallet, []).append((a, st, page))
            listed += sum(len(p) for got in pages.values() for _, _, p in got)
            order = list(pages)
            while order:
                group: list[str] = []
                size = 0
                while order and (not group or size + self._count(pages[order[0]]) <= self._round):
                    size += self._count(pages[order[0]])
                    group.append(order.pop(0))
                views = await self._read_transactions(group, pages, wallets)
                for wallet in group:
                    batch = self._batch(wallets[wallet], pages[wallet], views)
                    done += self._count(pages[wallet])
                    still = sum(
                        1 for w in wallets.values() for s in w.addresses.values() if s.active
                    )
                    yield ScanBatch(
                        chain=self.chain,
                        movements=batch[0],
                        fees=batch[1],
                        cursors={wallet: wallets[wallet].cursor()},
                        done=done,
                        total=max(listed, done) + still * self._limit,
                        notes=batch[2],
                    )

    @staticmethod
    def _count(got: list[tuple[str, AddressState, list[_Sig]]]) -> int:
        return sum(len(p) for _, _, p in got)

    def _page_params(self, st: AddressState) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self._limit, "commitment": "finalized"}
        if st.before:
            params["before"] = st.before
        if st.until:
            params["until"] = st.until
        return params

    async def _add_token_accounts(self, wallets: list[WalletState]) -> None:
        """Adds the token accounts each wallet owns today (any balance) to its addresses."""
        calls = []
        for w in wallets:
            for program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
                config = {"encoding": "base64", "dataSlice": {"offset": 0, "length": 0},
                          "commitment": "finalized"}  # fmt: skip
                calls.append(
                    Call("getTokenAccountsByOwner", [w.wallet, {"programId": program}, config])
                )
        results = await self._call(calls, "listing the token accounts")
        for i, result in enumerate(results):
            w = wallets[i // 2]
            try:
                keys = self._keys_of(result)
            except HistoryError as exc:
                raise HistoryError(f"{self._spec.name}: {exc}") from None
            for key in keys:
                w.addresses.setdefault(key, AddressState())

    @staticmethod
    def _keys_of(result: CallResult) -> list[str]:
        if result.result is None:
            raise HistoryError(f"the node refused the token account list ({result.error}).")
        try:
            value = msgspec.json.decode(bytes(result.result))["value"]
            keys = [str(item["pubkey"]) for item in value]
        except (msgspec.DecodeError, KeyError, TypeError) as exc:
            raise HistoryError("the node sent a token account list that is not readable.") from exc
        if not all(_address_ok(k) for k in keys):
            raise HistoryError("the node sent a token account list that is not readable.")
        return keys

    async def _read_transactions(
        self,
        group: list[str],
        pages: Mapping[str, list[tuple[str, AddressState, list[_Sig]]]],
        wallets: Mapping[str, WalletState],
    ) -> dict[tuple[str, str], TxInfo | None]:
        """The view of every transaction of the group's pages for the wallet that listed it
        (None: skipped). Transactions not viewed before are read and viewed for every scanned
        wallet they name, so a transfer between two tracked wallets is read once."""
        out: dict[tuple[str, str], TxInfo | None] = {}
        wanted: dict[str, _Sig] = {}
        for wallet in group:
            for _, _, page in pages[wallet]:
                for s in page:
                    key = (s.signature, wallet)
                    if key in self._views:
                        out[key] = self._views[key]
                    else:
                        wanted.setdefault(s.signature, s)
        sigs = list(wanted.values())
        listed_by: dict[str, set[str]] = {}
        for wallet in group:
            for _, _, page in pages[wallet]:
                for s in page:
                    listed_by.setdefault(s.signature, set()).add(wallet)

        def handle(offset: int, part: list[CallResult]) -> None:
            for s, result in zip(sigs[offset : offset + len(part)], part, strict=True):
                views = self._view(s, result, wallets, listed_by.get(s.signature, set()))
                for wallet in listed_by.get(s.signature, ()):
                    out[(s.signature, wallet)] = views.get(wallet)
                for wallet, view in views.items():
                    self._remember((s.signature, wallet), view)

        calls = [Call("getTransaction", [s.signature, _TX_CONFIG]) for s in sigs]
        await self._call(calls, "reading the transactions", handle)
        return out

    def _view(
        self,
        s: _Sig,
        result: CallResult,
        wallets: Mapping[str, WalletState],
        listed_by: set[str],
    ) -> dict[str, TxInfo | None]:
        """The transaction's view for each wallet it names (those that listed it at least)."""
        if result.result is None:
            raise HistoryError(
                f"{self._spec.name}: the node did not return transaction {s.signature} "
                f"({result.error}); try again later, or use a node that keeps full history."
            )
        try:
            tx = msgspec.json.decode(bytes(result.result))
        except msgspec.DecodeError:
            tx = msgspec.UNSET
        if tx is None:
            raise HistoryError(
                f"{self._spec.name}: the node lists transaction {s.signature} but does not "
                "return it; use a node that keeps full history."
            )
        named = _named(tx)
        native = str(self._spec.native_asset)
        views: dict[str, TxInfo | None] = {}
        for w in wallets.values():
            if w.wallet not in listed_by and named is not None and named.isdisjoint(w.addresses):
                continue
            try:
                if tx is msgspec.UNSET:
                    raise BadTx("the reply is not JSON")
                views[w.wallet] = wallet_view(
                    tx,
                    chain=self.chain,
                    signature=s.signature,
                    wallet=w.wallet,
                    native=native,
                    token_asset=self._asset,
                    known_token_accounts=w.addresses.keys(),
                    fallback_time=s.block_time,
                )
            except BadTx as exc:
                self.skipped.append((s.signature, str(exc)))
                log.warning("Solana history: skipped transaction %s: %s", s.signature, exc)
                return dict.fromkeys({*listed_by, *views})
        return views

    def _remember(self, key: tuple[str, str], view: TxInfo | None) -> None:
        if len(self._views) >= _VIEW_CACHE:
            self._views.pop(next(iter(self._views)))
        self._views[key] = view

    def _batch(
        self,
        w: WalletState,
        got: list[tuple[str, AddressState, list[_Sig]]],
        views: Mapping[tuple[str, str], TxInfo | None],
    ) -> tuple[tuple[Movement, ...], tuple[Fee, ...], tuple[str, ...]]:
        """The wallet's movements, fees and notes of its pages this round; advances its
        cursor."""
        movements: dict[str, Movement] = {}
        fees: dict[str, Fee] = {}
        skipped: dict[str, None] = {}
        for _address, st, page in got:
            for s in page:
                view = views[(s.signature, w.wallet)]
                if view is None:
                    skipped[s.signature] = None  # the reason is in the log
                    continue
                for m in view.movements:
                    movements.setdefault(m.key, m)
                if view.fee is not None:
                    fees.setdefault(s.signature, view.fee)
                for account in view.token_accounts:
                    if account not in w.addresses:
                        w.addresses[account] = AddressState(active=True)
            if page:
                st.top = st.top or page[0].signature
                st.before = page[-1].signature
            if len(page) < self._limit:  # the pass reached ``until`` or the first transaction
                st.before = None
                if st.top is None:
                    st.top = st.until
                st.until = None
                st.active = False
        notes: tuple[str, ...] = ()
        if skipped:
            n = len(skipped)
            first = ", ".join(list(skipped)[:3]) + (", …" if n > 3 else "")
            notes = (
                f"{self._spec.name}: {n} transaction{'s' if n != 1 else ''} of {w.wallet} "
                f"could not be checked and {'were' if n != 1 else 'was'} left out ({first}).",
            )
        return tuple(movements.values()), tuple(fees.values()), notes


def solana_history_source(
    spec: ChainSpec, ctx: ReaderContext | None = None, *, client: BatchClient | None = None
) -> SolanaHistorySource:
    """The Solana history source for ``spec``. With a reader context, the endpoints' pace is the
    one the balance reader keeps for the session (``ctx.session["solana.pace"]``) and the same
    options apply (``solana.batch_size``, ``solana.timeout``, ``solana.retries``,
    ``solana.backoff``, ``solana.concurrency``, the ``solana.rate_*`` public limits), plus
    ``solana.history_page`` (signatures per page, at most 1000)."""
    options: Mapping[str, object] = ctx.options if ctx is not None else {}

    def opt(key: str, default: float) -> float:
        value = options.get(key, default)
        return float(value) if isinstance(value, int | float) else default

    if client is None:
        pace: PaceBook | None = None
        if ctx is not None:
            found = ctx.session.get("solana.pace")
            if isinstance(found, PaceBook):
                pace = found
            else:
                public = Limits(
                    total=int(opt("solana.rate_total", PUBLIC_LIMITS.total)),
                    per_method=int(opt("solana.rate_per_method", PUBLIC_LIMITS.per_method)),
                    window=opt("solana.rate_window", PUBLIC_LIMITS.window),
                )
                pace = PaceBook(public)
                ctx.session["solana.pace"] = pace
        client = BatchClient(
            spec.rpc_urls,
            batch_size=int(opt("solana.batch_size", 100)),
            pace=pace,
            timeout=opt("solana.timeout", 20.0),
            retries=int(opt("solana.retries", 4)),
            backoff=opt("solana.backoff", 0.5),
            concurrency=int(opt("solana.concurrency", DEFAULT_CONCURRENCY)),
        )
    page = int(opt("solana.history_page", PAGE_LIMIT))
    return SolanaHistorySource(spec, client, page_limit=page)
