"""From CAIP-19 asset ids to the ids each price API understands.

Kept here (not in chains.toml) because these ids are the price APIs' vocabulary. An asset's
``price_id`` ("coingecko:usd-coin": from a token list, or given by the person to a token or a
network's native coin, see :func:`app.domain.price_routing.parse_price_id`) wins, on any chain:
that is how holdings of a custom network are priced. Otherwise chain + contract address is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.ids import SOLANA_MAINNET, AssetId
from app.domain.price_routing import PRICE_ID_PREFIX

# EVM chain id -> (DefiLlama chain name, CoinGecko asset platform id)
EVM_PLATFORMS: dict[str, tuple[str, str]] = {
    "1": ("ethereum", "ethereum"),
    "8453": ("base", "base"),
    "42161": ("arbitrum", "arbitrum-one"),
    "10": ("optimism", "optimistic-ethereum"),
    "137": ("polygon", "polygon-pos"),
    "56": ("bsc", "binance-smart-chain"),
    "43114": ("avax", "avalanche"),
    "100": ("xdai", "xdai"),
    "59144": ("linea", "linea"),
    "534352": ("scroll", "scroll"),
    "324": ("era", "zksync"),
}

# Native coins: CAIP-2 chain -> CoinGecko coin id (DefiLlama accepts "coingecko:<id>" too).
NATIVE_COINS: dict[str, str] = {
    "eip155:1": "ethereum",
    "eip155:8453": "ethereum",
    "eip155:42161": "ethereum",
    "eip155:10": "ethereum",
    "eip155:59144": "ethereum",
    "eip155:534352": "ethereum",
    "eip155:324": "ethereum",
    "eip155:137": "polygon-ecosystem-token",
    "eip155:56": "binancecoin",
    "eip155:43114": "avalanche-2",
    "eip155:100": "xdai",
    SOLANA_MAINNET: "solana",
}


@dataclass(frozen=True, slots=True)
class PriceKeys:
    """How to ask each source about one asset. Any field may be None (source cannot price it)."""

    coingecko_id: str | None = None
    coingecko_platform: str | None = None
    contract: str | None = None  # as the APIs want it: lowercase EVM hex, Solana mint as-is
    defillama: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.coingecko_id or self.contract or self.defillama)


def price_keys(asset: AssetId, price_id: str | None = None) -> PriceKeys:
    """Map one asset; unknown chains give an empty PriceKeys (only a manual price can value it)."""
    chain = str(asset.chain)
    if price_id and price_id.startswith(PRICE_ID_PREFIX) and len(price_id) > len(PRICE_ID_PREFIX):
        cg = price_id.removeprefix(PRICE_ID_PREFIX)
        return PriceKeys(coingecko_id=cg, defillama=f"coingecko:{cg}")
    if asset.asset_namespace == "slip44":
        native = NATIVE_COINS.get(chain)
        return (
            PriceKeys(coingecko_id=native, defillama=f"coingecko:{native}")
            if native
            else PriceKeys()
        )
    if asset.chain.is_evm and asset.asset_namespace == "erc20":
        platform = EVM_PLATFORMS.get(asset.chain.reference)
        if platform is None:
            return PriceKeys()
        address = asset.asset_reference.lower()
        return PriceKeys(
            coingecko_platform=platform[1],
            contract=address,
            defillama=f"{platform[0]}:{address}",
        )
    if chain == SOLANA_MAINNET and asset.asset_namespace == "token":
        mint = asset.asset_reference
        return PriceKeys(coingecko_platform="solana", contract=mint, defillama=f"solana:{mint}")
    return PriceKeys()
