"""The Bitcoin history source: each watched wallet's past as Movements and Fees.

For every transaction touching a wallet (its addresses found with the gap limit): the satoshis
paid to its addresses minus those its inputs spent, and the fee when the wallet sent it (every
input its own). The fee is a :class:`~app.domain.onchain.Fee` of its own, as gas is on EVM
chains: the movement's delta leaves it out, so the movements and fees of a wallet add up to its
balance change. A transaction with inputs of others too (a coinjoin, a payjoin) moves the net
amount and records no fee: who paid it is not knowable from the chain.

The cursor is the chain tip at the scan; the next scan reads again from ``CONFIRMATIONS``
blocks below it (re-org safety), replacing what it stored from there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

from app.chains.bitcoin.reader import make_backend, scan_wallet
from app.chains.bitcoin.scan import Backend
from app.chains.bitcoin.servers import BitcoinSettings
from app.domain.errors import ChainfolioError
from app.domain.model import Wallet
from app.domain.onchain import Fee, Movement, MovementKind, ScanBatch, ScanRequest

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.domain.chains import ChainSpec
    from app.domain.onchain import HistorySource
    from app.storage.bitcoin_store import SqlBitcoinStore

log = logging.getLogger(__name__)

CONFIRMATIONS = 6


class BitcoinHistorySource:
    def __init__(
        self,
        chain: str,
        asset: str,
        backend: Backend,
        wallets: Callable[[], Sequence[Wallet]],
        gap_limit: int,
        store: SqlBitcoinStore | None = None,
    ) -> None:
        self._chain = chain
        self._asset = asset
        self._backend = backend
        self._wallets = wallets
        self._gap = gap_limit
        self._store = store

    @property
    def chain(self) -> str:
        return self._chain

    @property
    def requests(self) -> int:
        return self._backend.requests

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]:
        known = {w.address: w for w in self._wallets()}
        for done, request in enumerate(requests, start=1):
            wallet = known.get(request.wallet)
            if wallet is None:
                raise ChainfolioError("This Bitcoin wallet is no longer in your wallets.")
            yield await self._scan_one(wallet, request.cursor, done, len(requests))

    async def _scan_one(
        self, wallet: Wallet, cursor: str | None, done: int, total: int
    ) -> ScanBatch:
        start = 0
        if cursor:
            try:
                start = max(0, int(cursor) - CONFIRMATIONS + 1)
            except ValueError:
                start = 0  # a cursor of another form: read everything again
        tip = await self._backend.tip()
        _deriver, found = await scan_wallet(
            wallet, self._backend, self._gap, self._store, balances=False
        )
        views = await self._backend.history(found.used_items(), start)
        movements: list[Movement] = []
        fees: list[Fee] = []
        for view in views:
            fee = view.fee or 0
            delta = view.received - view.spent + fee
            if delta:
                movements.append(
                    Movement(
                        self._chain,
                        view.txid,
                        view.height,
                        view.ts,
                        wallet.address,
                        self._asset,
                        delta,
                        MovementKind.NATIVE,
                        view.counterparty,
                    )
                )
            if fee > 0:
                fees.append(
                    Fee(
                        self._chain,
                        view.txid,
                        view.height,
                        view.ts,
                        wallet.address,
                        self._asset,
                        fee,
                    )
                )
        log.info(
            "Bitcoin history of wallet %s: %d transactions from block %d (%d requests so far)",
            wallet.id,
            len(views),
            start,
            self._backend.requests,
        )
        return ScanBatch(
            self._chain,
            tuple(movements),
            tuple(fees),
            cursors={wallet.address: str(max(tip, max((v.height for v in views), default=0)))},
            reread_from={wallet.address: start},
            done=done,
            total=total,
        )


def create_history_source(
    spec: ChainSpec, ctx: ReaderContext, wallets: Callable[[], Sequence[Wallet]]
) -> HistorySource:
    """The history source of the Bitcoin network ``spec`` (Electrum server or Esplora, as the
    settings say), for the wallets ``wallets()`` lists (their extended keys are looked up by
    address)."""
    from app.storage.bitcoin_store import SqlBitcoinStore

    cfg = BitcoinSettings.of(ctx.settings)
    return BitcoinHistorySource(
        str(spec.chain_id),
        str(spec.native_asset),
        make_backend(spec, cfg),
        wallets,
        cfg.gap_limit,
        SqlBitcoinStore(ctx.engine),
    )
