"""The curated token lists in resources/tokens/: one per EVM chain, well-formed facts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app.chains.evm.tokens import TOKENS_DIR, curated_tokens
from app.chains.registry import load_builtin
from app.domain.addresses import to_checksum_address
from app.domain.chains import ChainFamily
from app.domain.ids import ChainId

EVM_CHAINS = [s.chain_id for s in load_builtin() if s.family is ChainFamily.EVM]
FILES = sorted(TOKENS_DIR.glob("eip155-*.toml"))
HEX40 = re.compile(r"0x[0-9a-fA-F]{40}")


def test_every_evm_chain_has_a_list_and_every_list_a_chain() -> None:
    assert len(EVM_CHAINS) >= 11
    names = {p.stem for p in FILES}
    assert names == {f"{c.namespace}-{c.reference}" for c in EVM_CHAINS}
    for chain in EVM_CHAINS:
        assert curated_tokens(chain), f"{chain} has an empty token list"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_token_list_is_well_formed(path: Path) -> None:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    assert set(data) == {"token"}
    seen: set[str] = set()
    for t in data["token"]:
        assert set(t) == {"address", "symbol", "name", "decimals", "price_id"}, t
        addr = t["address"]
        assert HEX40.fullmatch(addr), addr
        assert to_checksum_address(addr) == addr, f"{addr} is not EIP-55 checksummed"
        assert addr.lower() not in seen, f"{addr} listed twice"
        seen.add(addr.lower())
        assert isinstance(t["decimals"], int) and 0 <= t["decimals"] <= 36
        assert 0 < len(t["symbol"]) <= 16 and t["symbol"].isprintable()
        assert 0 < len(t["name"]) <= 64 and t["name"].isprintable()
        assert re.fullmatch(r"coingecko:[a-z0-9-]+", t["price_id"]), t["price_id"]


def test_curated_tokens_load_as_assets() -> None:
    chain = ChainId.evm(42161)
    tokens = {t.symbol: t for t in curated_tokens(chain)}
    usdc = tokens["USDC"]
    assert str(usdc.asset_id) == "eip155:42161/erc20:0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
    assert (usdc.decimals, usdc.price_id) == (6, "coingecko:usd-coin")
    assert curated_tokens(ChainId.evm(56))[0].decimals == 18  # BNB Chain's USDT has 18
