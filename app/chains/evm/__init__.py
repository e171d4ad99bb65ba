"""EVM chain family: balances and DeFi positions through Multicall3 over one JSON-RPC transport."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.chains.endpoints import EndpointMemory
    from app.chains.factory import ReaderContext
    from app.domain.balances import AssetInfo
    from app.domain.chains import ChainSpec
    from app.domain.ports import ChainReader
    from app.domain.position_reads import PositionSource

log = logging.getLogger(__name__)


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    from dataclasses import replace

    from app.chains.evm.reader import EvmReader
    from app.chains.evm.tokens import curated_tokens
    from app.chains.http import ChainCheck, JsonRpcTransport

    s = ctx.settings
    tokens = ctx.options.get("tokens")
    if isinstance(tokens, list):
        token_list = list(tokens)
    else:
        from app.storage.token_store import TokenStore

        stored = TokenStore(ctx.engine).list(spec.chain_id)
        own = {t.asset_id: t.price_id for t in stored if t.price_id}  # the person's price ids
        token_list = [
            replace(t, price_id=own[t.asset_id]) if t.asset_id in own else t
            for t in curated_tokens(spec.chain_id)
        ]
        known = {t.asset_id for t in token_list}
        token_list += [t for t in stored if t.asset_id not in known]
    positions = _positions(spec, ctx, token_list)
    transport = JsonRpcTransport(
        spec.rpc_urls,
        timeout=s.get("chains.request_timeout_ms") / 1000,
        retries=s.get("chains.retries"),
        chain_check=ChainCheck(int(spec.chain_id.reference), spec.name, _chain_names(ctx)),
        memory=_endpoints(ctx),
    )
    return EvmReader(
        spec,
        transport,
        token_list,
        max_request_bytes=s.get("chains.max_request_bytes"),
        gas_cap=s.get("chains.multicall_gas_cap"),
        max_concurrency=s.get("chains.max_concurrency"),
        positions=positions,
    )


def _endpoints(ctx: ReaderContext) -> EndpointMemory:
    """The session's memory of EVM endpoints (chain served, pace, chunk size): it outlives one
    refresh's readers because the reader context that holds it does."""
    from app.chains.endpoints import EndpointMemory

    found = ctx.session.get("evm.endpoints")
    if not isinstance(found, EndpointMemory):
        found = ctx.session["evm.endpoints"] = EndpointMemory()
    return found


def _chain_names(ctx: ReaderContext) -> dict[int, str]:
    """Names of the known EVM chains by id, to name the chain a wrong RPC URL serves."""
    found = ctx.session.get("evm.chain_names")
    if not isinstance(found, dict):
        from app.chains.registry import load_builtin
        from app.domain.chains import ChainFamily

        found = {
            int(c.chain_id.reference): c.name for c in load_builtin() if c.family is ChainFamily.EVM
        }
        ctx.session["evm.chain_names"] = found
    return found


def _positions(
    spec: ChainSpec, ctx: ReaderContext, tokens: list[AssetInfo]
) -> list[PositionSource]:
    """DeFi sources of the chain, from the builder the composition root put in
    ``ctx.options["evm.positions"]`` (``app.defi.registry.positions_for``): the chain adapters
    never import the protocol modules. No builder, or ``options["positions"] = False``: none."""
    from app.chains.evm.reader import EvmReader

    build = ctx.options.get("evm.positions")
    if ctx.options.get("positions") is False or not callable(build):
        return []
    native = EvmReader.native_info_of(spec)
    sources: list[PositionSource] = build(spec.chain_id, tokens, native, ctx.settings.path.parent)
    return sources
