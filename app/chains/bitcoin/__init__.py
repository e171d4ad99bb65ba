"""Bitcoin watch-only reader and history source: addresses derived locally from extended public
keys and descriptors (:mod:`app.domain.bitcoin`), balances and history from the person's own
Electrum server (batched JSON-RPC over TCP/TLS) or an Esplora HTTP API. Servers only ever see
addresses or script hashes, never the extended key.

Kept light: ``app.config`` imports :mod:`app.chains.bitcoin.settings` at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.domain.chains import ChainSpec
    from app.domain.ports import ChainReader

__all__ = ["create_reader"]


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    from app.chains.bitcoin.reader import build_reader

    return build_reader(spec, ctx)
