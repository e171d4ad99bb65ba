"""Chains as data: what the app needs to know about a network to read it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from app.domain.ids import AssetId, ChainId


class ChainFamily(enum.StrEnum):
    EVM = "evm"
    SOLANA = "solana"
    BITCOIN = "bitcoin"


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """One network. Built from ``resources/chains.toml`` plus the user's overrides."""

    chain_id: ChainId
    name: str
    family: ChainFamily
    native_symbol: str
    native_name: str
    native_decimals: int
    native_slip44: int
    rpc_urls: tuple[str, ...]
    explorer_url: str = ""
    multicall3: str | None = None
    # Price-API ids: {"coingecko": "ethereum", "defillama": "ethereum", "coingecko_native": "ethereum"}
    price_ids: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    custom: bool = False

    @property
    def native_asset(self) -> AssetId:
        return AssetId.native(self.chain_id, self.native_slip44)
