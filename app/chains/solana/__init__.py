"""Solana chain reader: SOL, SPL Token / Token-2022 and native stake over batched JSON-RPC."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.chains.solana.mints import MintCache
from app.chains.solana.reader import SolanaReader
from app.chains.solana.rpc import DEFAULT_CONCURRENCY, BatchClient, RateLimiter

__all__ = ["SolanaReader", "create_reader"]

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.domain.chains import ChainSpec
    from app.domain.ports import ChainReader

# Public mainnet limits: 100 requests / 10 s per IP, 40 per method.
DEFAULT_RATE_TOTAL = 100
DEFAULT_RATE_PER_METHOD = 40
DEFAULT_RATE_WINDOW = 10.0

# Mint accounts read by any refresh of this process, per chain: a reader lives for one refresh,
# the mints it learnt about serve the next ones (see app.chains.solana.mints).
_MINT_CACHES: dict[str, MintCache] = {}


def _opt(ctx: ReaderContext, key: str, default: float) -> float:
    value = ctx.options.get(key, default)
    return float(value) if isinstance(value, int | float) else default


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    """Options (``ctx.options``): ``solana.batch_size``, ``solana.rate_total``,
    ``solana.rate_per_method``, ``solana.rate_window``, ``solana.timeout``, ``solana.retries``,
    ``solana.backoff``, ``solana.concurrency``."""
    limiter = RateLimiter(
        total=int(_opt(ctx, "solana.rate_total", DEFAULT_RATE_TOTAL)),
        per_method=int(_opt(ctx, "solana.rate_per_method", DEFAULT_RATE_PER_METHOD)),
        window=_opt(ctx, "solana.rate_window", DEFAULT_RATE_WINDOW),
    )
    client = BatchClient(
        spec.rpc_urls,
        batch_size=int(_opt(ctx, "solana.batch_size", 100)),
        limiter=limiter,
        timeout=_opt(ctx, "solana.timeout", 20.0),
        retries=int(_opt(ctx, "solana.retries", 4)),
        backoff=_opt(ctx, "solana.backoff", 0.5),
        concurrency=int(_opt(ctx, "solana.concurrency", DEFAULT_CONCURRENCY)),
    )
    from app.storage.token_store import TokenStore

    stored = TokenStore(ctx.engine).list(spec.chain_id)  # user-added tokens are respected
    cache = _MINT_CACHES.setdefault(str(spec.chain_id), MintCache())
    return SolanaReader(spec, client, stored=stored, cache=cache)
