"""Solana chain reader: SOL, SPL Token / Token-2022 and native stake over batched JSON-RPC."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from app.chains.solana.mints import MintCache
from app.chains.solana.pace import PUBLIC_LIMITS, Limits, PaceBook
from app.chains.solana.reader import SolanaReader
from app.chains.solana.rpc import DEFAULT_CONCURRENCY, BatchClient

__all__ = ["SolanaReader", "create_reader"]

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.domain.chains import ChainSpec
    from app.domain.ports import ChainReader

_T = TypeVar("_T")


def _opt(ctx: ReaderContext, key: str, default: float) -> float:
    value = ctx.options.get(key, default)
    return float(value) if isinstance(value, int | float) else default


def _kept(ctx: ReaderContext, name: str, kind: type[_T]) -> _T:
    """The object of ``kind`` this reader context keeps for the session under ``name``."""
    found = ctx.session.get(name)
    if not isinstance(found, kind):
        found = ctx.session[name] = kind()
    return found


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    """Options (``ctx.options``): ``solana.batch_size``, ``solana.rate_total``,
    ``solana.rate_per_method``, ``solana.rate_window`` (the public endpoints' limits),
    ``solana.timeout``, ``solana.retries``, ``solana.backoff``, ``solana.concurrency``.

    Each endpoint's pace and the mint accounts already read are kept in ``ctx.session``, so
    what one refresh learnt serves the next ones of the same process."""
    public = Limits(
        total=int(_opt(ctx, "solana.rate_total", PUBLIC_LIMITS.total)),
        per_method=int(_opt(ctx, "solana.rate_per_method", PUBLIC_LIMITS.per_method)),
        window=_opt(ctx, "solana.rate_window", PUBLIC_LIMITS.window),
    )
    pace = ctx.session.get("solana.pace")
    if not isinstance(pace, PaceBook):
        pace = ctx.session["solana.pace"] = PaceBook(public)
    client = BatchClient(
        spec.rpc_urls,
        batch_size=int(_opt(ctx, "solana.batch_size", 100)),
        pace=pace,
        timeout=_opt(ctx, "solana.timeout", 20.0),
        retries=int(_opt(ctx, "solana.retries", 4)),
        backoff=_opt(ctx, "solana.backoff", 0.5),
        concurrency=int(_opt(ctx, "solana.concurrency", DEFAULT_CONCURRENCY)),
    )
    from app.storage.token_store import TokenStore

    stored = TokenStore(ctx.engine).list(spec.chain_id)  # user-added tokens are respected
    cache = _kept(ctx, f"solana.mints:{spec.chain_id}", MintCache)
    from app.chains.solana.marginfi import AccountMemory

    lending = _kept(ctx, f"solana.marginfi:{spec.chain_id}", AccountMemory)
    return SolanaReader(spec, client, stored=stored, cache=cache, lending=lending)
