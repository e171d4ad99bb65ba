"""The Bitcoin chain reader: every watched Bitcoin wallet's balance in one refresh.

Each wallet's receive and change chains are walked with the gap limit (starting from the
addresses the last scan found used), all wallets at once over one Electrum connection or one
Esplora client. A server that cannot be reached fails the Bitcoin source (the refresh keeps its
last good holdings, marked stale); a stored key that no longer reads fails only its wallet.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.chains.bitcoin.electrum import BitcoinServerError, ElectrumClient
from app.chains.bitcoin.esplora import EsploraClient
from app.chains.bitcoin.scan import Backend, Discovery, ElectrumBackend, EsploraBackend, discover
from app.chains.bitcoin.servers import BitcoinSettings
from app.domain.addresses import AddressFamily
from app.domain.balances import (
    AssetInfo,
    Balance,
    CallFailure,
    ChainReadResult,
    SourceState,
)
from app.domain.balances import (
    native_info as native_asset_info,
)
from app.domain.bitcoin import Deriver, WatchKey, parse_bitcoin, shorten_key
from app.domain.chains import ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import AccountId
from app.domain.model import Wallet
from app.logging_setup import register_secret

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.storage.bitcoin_store import SqlBitcoinStore

log = logging.getLogger(__name__)


def native_info(spec: ChainSpec) -> AssetInfo:
    return native_asset_info(spec, coin_fallback=True)


def make_backend(spec: ChainSpec, cfg: BitcoinSettings) -> Backend:
    """The person's Electrum server when one is set, else the network's Esplora URLs."""
    if cfg.electrum is not None:
        return ElectrumBackend(
            ElectrumClient(
                cfg.electrum,
                timeout=cfg.request_timeout,
                batch_size=cfg.batch_size,
                verify_tls=cfg.verify_tls,
            )
        )
    return EsploraBackend(
        EsploraClient(
            spec.rpc_urls, timeout=cfg.request_timeout, concurrency=cfg.esplora_concurrency
        )
    )


def watch_key(wallet: Wallet) -> WatchKey:
    """The key of a stored Bitcoin wallet (its extended key or descriptor, else its address).

    The key is private (not secret): from here on no log line carries it, nor any extended key
    inside it, even by accident."""
    if wallet.watch is not None:
        register_secret(wallet.watch)
        for found in re.findall(r"[xyzXYZ]pub[1-9A-HJ-NP-Za-km-z]{100,}", wallet.watch):
            register_secret(found)
    try:
        return parse_bitcoin(wallet.watch or wallet.address)
    except ChainfolioError:
        raise ChainfolioError(
            f"The stored Bitcoin wallet {shorten_key(wallet.watch or wallet.address)} cannot be "
            "read any more: remove it and add it again."
        ) from None


async def scan_wallet(
    wallet: Wallet,
    backend: Backend,
    gap: int,
    store: SqlBitcoinStore | None,
    *,
    balances: bool = True,
) -> tuple[Deriver, Discovery]:
    """Discover one wallet's used addresses (from its cache), and update the cache."""
    from app.storage.bitcoin_store import CachedAddress

    deriver = Deriver(watch_key(wallet))
    cached = []
    keep_cache = store is not None and wallet.id is not None and wallet.watch is not None
    if keep_cache:
        assert store is not None and wallet.id is not None
        cached = await asyncio.to_thread(store.addresses, wallet.id)
        for c in cached:
            deriver.remember(c.branch, c.index, c.address)
    found = await discover(
        deriver, backend, gap, [(c.branch, c.index) for c in cached if c.used], balances=balances
    )
    if keep_cache:
        assert store is not None and wallet.id is not None
        rows = [
            CachedAddress(b, i, d.address, (b, i) in found.used)
            for (b, i), d in sorted(found.asked.items())
        ]
        await asyncio.to_thread(store.save_addresses, wallet.id, rows)
    return deriver, found


class BitcoinReader:
    def __init__(
        self,
        spec: ChainSpec,
        backend: Backend,
        gap_limit: int,
        store: SqlBitcoinStore | None = None,
    ) -> None:
        self._spec = spec
        self._backend = backend
        self._gap = gap_limit
        self._store = store
        self._native = native_info(spec)
        self._done: dict[str, Balance | None] = {}
        self._asked: list[Wallet] = []
        self._covered: dict[str, Wallet] = {}  # address -> the key wallet that found it used

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    @property
    def requests(self) -> int:
        return self._backend.requests

    def _account(self, wallet: Wallet) -> AccountId:
        return AccountId(self._spec.chain_id, wallet.address)

    async def _read(self, wallet: Wallet) -> Balance | CallFailure | None:
        try:
            _deriver, found = await scan_wallet(wallet, self._backend, self._gap, self._store)
        except BitcoinServerError:
            raise
        except ChainfolioError as exc:
            self._done[wallet.address] = None
            return CallFailure(self._account(wallet), self._spec.native_asset, str(exc), "BTC")
        if wallet.watch is not None:
            for item in found.used.values():
                self._covered.setdefault(item.address, wallet)
        total = found.total
        balance = Balance(self._account(wallet), self._native, total) if total else None
        self._done[wallet.address] = balance
        return balance

    def _counted_twice(self, wallet: Wallet) -> bool:
        owner = self._covered.get(wallet.address)
        return wallet.watch is None and owner is not None and owner is not wallet

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        mine = [w for w in wallets if w.family is AddressFamily.BITCOIN]
        self._asked = mine
        self._done = {}
        self._covered = {}
        try:
            results = list(await asyncio.gather(*(self._read(w) for w in mine)))
        except BitcoinServerError as exc:
            log.info("Bitcoin read failed (%s): %s", self._backend.where, exc)
            return ChainReadResult(
                self._spec.chain_id,
                SourceState.FAILED,
                error=str(exc),
                http_requests=self._backend.requests,
            )
        # A single address that is also one of a watched key's addresses: its coins are counted
        # once, in the key's wallet, and the address says so instead of adding them again.
        for i, wallet in enumerate(mine):
            if self._counted_twice(wallet):
                owner = self._covered[wallet.address]
                results[i] = CallFailure(
                    self._account(wallet),
                    self._spec.native_asset,
                    f"This address belongs to the wallet {owner.display_name}: its coins are "
                    "counted there, not twice.",
                    "BTC",
                )
        balances = tuple(r for r in results if isinstance(r, Balance))
        failures = tuple(r for r in results if isinstance(r, CallFailure))
        return ChainReadResult(
            self._spec.chain_id,
            SourceState.OK,
            balances=balances,
            failures=failures,
            http_requests=self._backend.requests,
            extra={"server": self._backend.where},
        )

    def partial_result(self) -> ChainReadResult | None:
        if not self._done:
            return None
        twice = {w.address for w in self._asked if self._counted_twice(w)}
        balances = tuple(b for a, b in self._done.items() if b is not None and a not in twice)
        unread = tuple(self._account(w) for w in self._asked if w.address not in self._done)
        return ChainReadResult(
            self._spec.chain_id,
            SourceState.OK,
            balances=balances,
            http_requests=self._backend.requests,
            unread=unread,
        )

    async def aclose(self) -> None:
        await self._backend.aclose()


def build_reader(spec: ChainSpec, ctx: ReaderContext) -> BitcoinReader:
    from app.storage.bitcoin_store import SqlBitcoinStore

    cfg = BitcoinSettings.of(ctx.settings)
    return BitcoinReader(spec, make_backend(spec, cfg), cfg.gap_limit, SqlBitcoinStore(ctx.engine))
