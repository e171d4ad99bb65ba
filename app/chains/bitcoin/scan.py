"""Finding a watch-only key's used addresses (gap limit) and reading their balances and history,
through an Electrum server or an Esplora API behind one small interface.

Discovery walks the receive and change chains together: each round asks about a window of
addresses at once (every address already known as used, and ``gap`` beyond the highest used
one); a window that came back all used grows to twice its size, so a wallet of 1,000 used
addresses takes a handful of rounds. A branch ends after ``gap`` unused addresses in a row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.chains.bitcoin.electrum import BitcoinServerError, ElectrumClient, header_time
from app.chains.bitcoin.esplora import EsploraClient
from app.domain.bitcoin import Derived, Deriver


@dataclass(frozen=True, slots=True)
class Probe:
    used: bool
    balance: int | None  # None: not asked
    history: tuple[tuple[str, int], ...] = ()  # (txid, height) where the server said it


@dataclass(frozen=True, slots=True)
class TxView:
    """One transaction as it touches one wallet (exact satoshis)."""

    txid: str
    height: int
    ts: int
    received: int  # outputs paying the wallet's addresses
    spent: int  # the wallet's outputs this transaction spent
    fee: int | None  # the whole fee, when every input was the wallet's
    counterparty: str | None = None


class Backend(Protocol):
    @property
    def requests(self) -> int: ...

    @property
    def where(self) -> str: ...

    async def probe(self, items: Sequence[Derived], balances: bool) -> list[Probe]: ...

    async def balances(self, items: Sequence[Derived]) -> list[int]: ...

    async def history(self, items: Sequence[Derived], from_height: int) -> list[TxView]: ...

    async def tip(self) -> int: ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------- discovery


@dataclass
class Discovery:
    """What a scan found: every derived address asked about, which were used, balances."""

    asked: dict[tuple[int, int], Derived] = field(default_factory=dict)
    used: dict[tuple[int, int], Derived] = field(default_factory=dict)
    balances: dict[tuple[int, int], int] = field(default_factory=dict)
    histories: dict[tuple[int, int], tuple[tuple[str, int], ...]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.balances.values())

    def used_items(self) -> list[Derived]:
        return [self.used[k] for k in sorted(self.used)]


async def discover(
    deriver: Deriver,
    backend: Backend,
    gap: int,
    known_used: Iterable[tuple[int, int]] = (),
    *,
    balances: bool = True,
) -> Discovery:
    """Find the used addresses of every branch (and their balances when ``balances``)."""
    found = Discovery()
    if not deriver.unbounded:
        items = [deriver.derive(b, 0) for b in range(deriver.branches)]
        probes = await backend.probe(items, balances)
        _record(found, items, probes)
        return found
    hints: dict[int, int] = {}
    for branch, index in known_used:
        hints[branch] = max(hints.get(branch, -1), index)
    await asyncio.gather(
        *(
            _walk(deriver, backend, gap, branch, hints.get(branch, -1), found, balances)
            for branch in range(deriver.branches)
        )
    )
    if balances:
        missing = [d for k, d in sorted(found.used.items()) if k not in found.balances]
        for item, value in zip(missing, await backend.balances(missing), strict=True):
            found.balances[item.branch, item.index] = value
    return found


async def _walk(
    deriver: Deriver,
    backend: Backend,
    gap: int,
    branch: int,
    hint: int,
    found: Discovery,
    balances: bool,
) -> None:
    start, end = 0, max(gap, hint + 1 + gap)
    highest = -1
    while True:
        items = await asyncio.to_thread(_derive_range, deriver, branch, start, end)
        # Addresses below the known highest used one were used before: their balances are
        # asked in the same round (an address once used stays used).
        probes = await backend.probe(items, balances and start <= hint)
        _record(found, items, probes)
        window_used = 0
        for item, probe in zip(items, probes, strict=True):
            if probe.used:
                highest = max(highest, item.index)
                window_used += 1
        if highest + 1 + gap <= end:
            return
        grow = (end - start) if window_used == end - start else 0
        start, end = end, highest + 1 + gap + grow


def _derive_range(deriver: Deriver, branch: int, start: int, end: int) -> list[Derived]:
    return [deriver.derive(branch, i) for i in range(start, end)]


def _record(found: Discovery, items: Sequence[Derived], probes: Sequence[Probe]) -> None:
    for item, probe in zip(items, probes, strict=True):
        key = (item.branch, item.index)
        found.asked[key] = item
        if probe.used:
            found.used[key] = item
            if probe.balance is not None:
                found.balances[key] = probe.balance
            if probe.history:
                found.histories[key] = probe.history


# ---------------------------------------------------------------- Electrum


class ElectrumBackend:
    def __init__(self, client: ElectrumClient) -> None:
        self._client = client
        self._times: dict[int, int] = {}

    @property
    def requests(self) -> int:
        return self._client.requests

    @property
    def writes(self) -> int:
        return self._client.writes

    @property
    def where(self) -> str:
        return f"{self._client.server.host}:{self._client.server.port}"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def probe(self, items: Sequence[Derived], balances: bool) -> list[Probe]:
        hashes = [d.scripthash for d in items]
        if balances:
            histories, amounts = await asyncio.gather(
                self._client.histories(hashes), self._client.balances(hashes)
            )
        else:
            histories, amounts = await self._client.histories(hashes), [None] * len(items)
        probes = []
        for history, amount in zip(histories, amounts, strict=True):
            pairs = tuple(
                (str(h["tx_hash"]), int(h.get("height", 0)))
                for h in history
                if isinstance(h.get("tx_hash"), str)
            )
            probes.append(Probe(bool(pairs), amount if pairs else (0 if balances else None), pairs))
        return probes

    async def balances(self, items: Sequence[Derived]) -> list[int]:
        return await self._client.balances([d.scripthash for d in items])

    async def tip(self) -> int:
        return await self._client.tip()

    async def history(self, items: Sequence[Derived], from_height: int) -> list[TxView]:
        histories = await self._client.histories([d.scripthash for d in items])
        heights: dict[str, int] = {}
        for history in histories:
            for h in history:
                if isinstance(h.get("tx_hash"), str):
                    heights[h["tx_hash"]] = int(h.get("height", 0))
        # The confirmed transactions from ``from_height`` on are reported; the wallet's own
        # earlier transactions they spend from are read too (their outputs give the amounts).
        reported = sorted(t for t, h in heights.items() if h > 0 and h >= from_height)
        parsed = await self._parsed(reported)
        parents = sorted(
            {vin.txid.hex() for tx in parsed.values() for vin in tx.vin}
            & heights.keys() - parsed.keys()
        )
        parsed.update(await self._parsed(parents))
        need = sorted({heights[t] for t in reported} - self._times.keys())
        for height, header in zip(need, await self._client.headers(need), strict=True):
            self._times[height] = header_time(header)
        return await asyncio.to_thread(_views, parsed, heights, reported, self._times, items)

    async def _parsed(self, txids: Sequence[str]) -> dict[str, Any]:
        raws = await self._client.transactions(txids)
        return await asyncio.to_thread(_parse_raw, txids, raws)  # CPU work off the loop


def _parse_raw(txids: Sequence[str], raws: Sequence[str]) -> dict[str, Any]:
    from embit.transaction import Transaction

    out = {}
    for txid, raw in zip(txids, raws, strict=True):
        try:
            tx = Transaction.from_string(raw)
        except Exception:
            raise BitcoinServerError(
                "The Electrum server sent a transaction that cannot be read."
            ) from None
        if tx.txid().hex() != txid:
            raise BitcoinServerError(
                "The Electrum server sent a transaction other than the one asked."
            )
        out[txid] = tx
    return out


def _views(
    parsed: dict[str, Any],
    heights: dict[str, int],
    reported: Sequence[str],
    times: dict[int, int],
    items: Sequence[Derived],
) -> list[TxView]:
    from embit.networks import NETWORKS

    own = {d.script for d in items}
    own_outputs: dict[tuple[str, int], int] = {}
    for txid, tx in parsed.items():
        for n, out in enumerate(tx.vout):
            if bytes(out.script_pubkey.data) in own:
                own_outputs[txid, n] = int(out.value)
    views = []
    for txid in sorted(reported, key=lambda t: (heights[t], t)):
        tx = parsed[txid]
        spent = 0
        all_own = True
        for vin in tx.vin:
            value = own_outputs.get((vin.txid.hex(), int(vin.vout)))
            if value is None:
                all_own = False
            else:
                spent += value
        received = 0
        counterparty = None
        for out in tx.vout:
            script = bytes(out.script_pubkey.data)
            if script in own:
                received += int(out.value)
            elif counterparty is None and spent:
                try:
                    counterparty = str(out.script_pubkey.address(NETWORKS["main"]))
                except Exception:
                    counterparty = None
        fee = spent - sum(int(o.value) for o in tx.vout) if spent and all_own else None
        if spent == 0 and received == 0:
            continue
        height = heights[txid]
        views.append(TxView(txid, height, times.get(height, 0), received, spent, fee, counterparty))
    return views


# ---------------------------------------------------------------- Esplora


class EsploraBackend:
    def __init__(self, client: EsploraClient) -> None:
        self._client = client

    @property
    def requests(self) -> int:
        return self._client.requests

    @property
    def where(self) -> str:
        return self._client.where

    async def aclose(self) -> None:
        await self._client.aclose()

    async def probe(self, items: Sequence[Derived], balances: bool) -> list[Probe]:
        answers = await asyncio.gather(*(self._client.address(d.address) for d in items))
        return [Probe(used, amount) for used, amount in answers]

    async def balances(self, items: Sequence[Derived]) -> list[int]:
        answers = await asyncio.gather(*(self._client.address(d.address) for d in items))
        return [amount for _, amount in answers]

    async def tip(self) -> int:
        return await self._client.tip()

    async def history(self, items: Sequence[Derived], from_height: int) -> list[TxView]:
        pages = await asyncio.gather(
            *(self._client.confirmed_txs(d.address, from_height) for d in items)
        )
        own = {d.address for d in items}
        seen: dict[str, dict[str, Any]] = {}
        for page in pages:
            for tx in page:
                if isinstance(tx.get("txid"), str):
                    seen[tx["txid"]] = tx
        views = []
        for tx in seen.values():
            status = tx.get("status") or {}
            height = int(status.get("block_height") or 0)
            if height < from_height:
                continue
            view = _view_from_esplora(tx, own, height, int(status.get("block_time") or 0))
            if view is not None:
                views.append(view)
        views.sort(key=lambda v: (v.height, v.txid))
        return views


def _sats(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BitcoinServerError("The Esplora server sent amounts that are not satoshis.")
    return value


def _view_from_esplora(tx: dict[str, Any], own: set[str], height: int, ts: int) -> TxView | None:
    spent = 0
    all_own = True
    incoming_from = None
    for vin in tx.get("vin") or []:
        prevout = vin.get("prevout") or {}
        if prevout.get("scriptpubkey_address") in own:
            spent += _sats(prevout.get("value"))
        else:
            all_own = False
            incoming_from = incoming_from or prevout.get("scriptpubkey_address")
    received = 0
    paid_to = None
    for out in tx.get("vout") or []:
        if out.get("scriptpubkey_address") in own:
            received += _sats(out.get("value"))
        else:
            paid_to = paid_to or out.get("scriptpubkey_address")
    if not spent and not received:
        return None
    fee = _sats(tx.get("fee", 0)) if spent and all_own else None
    counterparty = paid_to if spent else incoming_from
    return TxView(
        str(tx["txid"]),
        height,
        ts,
        received,
        spent,
        fee,
        counterparty if isinstance(counterparty, str) else None,
    )
