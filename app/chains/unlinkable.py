"""Unlinkable reads: each wallet read in its own requests, over its own connections.

A batched read puts every wallet of a chain into the same requests, so the node learns that
they belong together. With ``net.unlinkable_reads`` on, :class:`PerWalletReader` reads one
wallet at a time with a fresh reader (its own client and connections) under its own isolation
tag (``app.net.isolation``: through SOCKS, its own credentials, so its own Tor circuit), and
merges the results. The cost is stated next to the setting: :func:`request_cost`.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from app import net
from app.domain.addresses import AddressFamily
from app.domain.balances import ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AccountId
from app.domain.model import Wallet
from app.domain.ports import ChainReader

_FAMILY = {ChainFamily.EVM: AddressFamily.EVM, ChainFamily.SOLANA: AddressFamily.SOLANA}


class PerWalletReader:
    """Implements ChainReader by reading each wallet alone (see the module docstring)."""

    def __init__(self, spec: ChainSpec, build: Callable[[], ChainReader]) -> None:
        self._spec = spec
        self._build = build
        self._salt = os.urandom(8).hex()
        self._done: list[ChainReadResult] = []
        self._pending: list[Wallet] = []

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        self._done, self._pending = [], list(wallets)
        results: list[tuple[Wallet, ChainReadResult]] = []
        for wallet in wallets:  # one after the other: no two wallets' requests at once
            result = await asyncio.create_task(self._one(wallet), context=self._context(wallet))
            results.append((wallet, result))
            self._pending.remove(wallet)
            if result.state is SourceState.OK:
                self._done.append(result)
        return merge(self._spec, results)

    def _context(self, wallet: Wallet) -> contextvars.Context:
        ctx = contextvars.copy_context()
        ctx.run(net.isolation.set, f"{self._salt}:{wallet.address}")
        return ctx

    async def _one(self, wallet: Wallet) -> ChainReadResult:
        reader = self._build()
        try:
            return await reader.read_balances([wallet])
        finally:
            await reader.aclose()

    def partial_result(self) -> ChainReadResult | None:
        if not self._done:
            return None
        unread = tuple(AccountId(self._spec.chain_id, w.address) for w in self._pending)
        merged = merge(self._spec, [(None, r) for r in self._done])
        return replace(merged, unread=tuple(dict.fromkeys((*merged.unread, *unread))))

    async def aclose(self) -> None:
        return None


def merge(
    spec: ChainSpec, results: Sequence[tuple[Wallet | None, ChainReadResult]]
) -> ChainReadResult:
    """One chain result from per-wallet ones: a wallet that failed is unread (its last good
    holdings are carried over as stale); all failed, the chain failed."""
    ok = [r for _w, r in results if r.state is SourceState.OK]
    requests = sum(r.http_requests for _w, r in results)
    if results and not ok:
        first = results[0][1]
        return ChainReadResult(spec.chain_id, SourceState.FAILED, error=first.error,
                               http_requests=requests)  # fmt: skip
    unread = [u for r in ok for u in r.unread]
    unread += [
        AccountId(spec.chain_id, w.address)
        for w, r in results
        if w is not None and r.state is not SourceState.OK
    ]
    return ChainReadResult(
        spec.chain_id, SourceState.OK,
        tuple(b for r in ok for b in r.balances), tuple(f for r in ok for f in r.failures),
        http_requests=requests, accounts=tuple(a for r in ok for a in r.accounts),
        unread=tuple(dict.fromkeys(unread)), rates=tuple(x for r in ok for x in r.rates),
        extra={"unlinkable": "1", "wallets": str(len(results))},
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Cost:
    batched: int  # requests of one refresh now (at least one per chain read)
    unlinkable: int  # with each wallet read alone
    chains: int

    def sentence(self) -> str:
        if not self.chains:
            return "No chain has a wallet to read yet, so this costs nothing now."
        return (
            f"Now a refresh sends about {self.batched} balance requests ({self.chains} "
            f"{'chain' if self.chains == 1 else 'chains'}, wallets batched together); with "
            f"unlinkable reads about {self.unlinkable}, one per wallet on each chain, each over "
            "its own connection."
        )


def request_cost(enabled: Sequence[ChainSpec], wallets: Mapping[AddressFamily, int]) -> Cost:
    """Balance requests of one refresh (DeFi rounds aside): batched, a chain's wallets share its
    requests (one, more only for very many wallets); unlinkable, each wallet has its own."""
    batched = unlinkable = chains = 0
    for spec in enabled:
        n = (
            wallets.get(_FAMILY.get(spec.family, AddressFamily.EVM), 0)
            if spec.family in _FAMILY
            else 0
        )
        if n == 0:
            continue
        chains += 1
        batched += max(1, -(-n // 200))  # ~200 wallets' calls fit one request's budget
        unlinkable += n
    return Cost(batched, unlinkable, chains)


def create_reader(spec: ChainSpec, ctx: object, unlinkable: bool) -> ChainReader:
    """The reader of ``spec``: batched, or per wallet when unlinkable reads are on."""
    from app.chains.factory import ReaderContext
    from app.chains.factory import create_reader as batched

    assert isinstance(ctx, ReaderContext)
    if not unlinkable:
        return batched(spec, ctx)
    return PerWalletReader(spec, lambda: batched(spec, ctx))
