"""The RPC URLs the person configured themselves (own-nodes-only mode allows only those hosts).

A URL is the person's when a custom network lists it, or when they set a built-in network's
URLs and it is not one of that network's public defaults.
"""

from __future__ import annotations

from app.chains.registry import ChainRegistry, load_builtin


def own_rpc_urls(registry: ChainRegistry) -> list[str]:
    defaults = {str(spec.chain_id): set(spec.rpc_urls) for spec in load_builtin()}
    return [
        url
        for spec in registry.all()
        for url in spec.rpc_urls
        if url not in defaults.get(str(spec.chain_id), set())
    ]
