"""EVM chain family: balances through Multicall3 over a shared JSON-RPC transport."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.defi.ports import PositionSource
    from app.domain.balances import AssetInfo
    from app.domain.chains import ChainSpec
    from app.domain.ports import ChainReader


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    from app.chains.evm.reader import EvmReader
    from app.chains.evm.tokens import curated_tokens
    from app.chains.http import JsonRpcTransport

    s = ctx.settings
    transport = JsonRpcTransport(
        spec.rpc_urls,
        timeout=s.get("chains.request_timeout_ms") / 1000,
        retries=s.get("chains.retries"),
    )
    tokens = ctx.options.get("tokens")
    if isinstance(tokens, list):
        token_list = list(tokens)
    else:
        from app.storage.token_store import TokenStore

        token_list = curated_tokens(spec.chain_id)
        known = {t.asset_id for t in token_list}
        token_list += [
            t for t in TokenStore(ctx.engine).list(spec.chain_id) if t.asset_id not in known
        ]
    reader = EvmReader(
        spec,
        transport,
        token_list,
        max_request_bytes=s.get("chains.max_request_bytes"),
        gas_cap=s.get("chains.multicall_gas_cap"),
        max_concurrency=s.get("chains.max_concurrency"),
        positions=_positions(spec, ctx, token_list),
    )
    return reader


def _positions(
    spec: ChainSpec, ctx: ReaderContext, tokens: list[AssetInfo]
) -> list[PositionSource]:
    """DeFi sources of the chain: ``resources/defi.toml`` overlaid with the person's own
    ``defi.toml`` beside settings.toml (tests point it at contracts on a local node)."""
    from app.chains.evm.reader import EvmReader
    from app.defi.registry import USER_FILE, build_sources, load_config

    if ctx.options.get("positions") is False:
        return []
    config = load_config(ctx.settings.path.parent / USER_FILE)
    native = EvmReader.native_info_of(spec)
    return build_sources(spec.chain_id, config, tokens, native)
