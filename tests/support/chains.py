"""Chain specs for tests that need one without the registry's files."""

from __future__ import annotations

from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId

SOLANA_MAINNET = ChainId.parse("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")


def solana_spec(*urls: str) -> ChainSpec:
    """Solana mainnet-beta as the built-in list describes it, read from ``urls``."""
    return ChainSpec(
        chain_id=SOLANA_MAINNET,
        name="Solana",
        family=ChainFamily.SOLANA,
        native_symbol="SOL",
        native_name="Solana",
        native_decimals=9,
        native_slip44=501,
        rpc_urls=urls,
    )
