"""The curated token list of an EVM chain (``resources/tokens/<chain>.toml``) as AssetInfo."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.domain.addresses import to_checksum_address
from app.domain.balances import AssetInfo, AssetKind
from app.domain.ids import AssetId, ChainId
from app.domain.text import clean_text

TOKENS_DIR = Path(__file__).resolve().parents[3] / "resources" / "tokens"


def erc20_asset_id(chain: ChainId, address: str) -> AssetId:
    return AssetId(chain, "erc20", to_checksum_address(address))


def curated_tokens(chain: ChainId, directory: Path = TOKENS_DIR) -> list[AssetInfo]:
    path = directory / f"{chain.namespace}-{chain.reference}.toml"
    if not path.exists():
        return []
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [
        AssetInfo(
            asset_id=erc20_asset_id(chain, t["address"]),
            symbol=clean_text(str(t["symbol"]), 16),
            name=clean_text(str(t["name"]), 64),
            decimals=int(t["decimals"]),
            kind=AssetKind.TOKEN,
            price_id=t.get("price_id"),
        )
        for t in data.get("token", [])
    ]
