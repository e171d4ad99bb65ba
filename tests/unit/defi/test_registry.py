"""resources/defi.toml and the person's override file."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils.address import is_checksum_address

from app.defi.registry import PROTOCOLS, DefiConfigError, build_sources, load_config
from app.domain.balances import AssetInfo, AssetKind
from app.domain.ids import AssetId, ChainId

ETH = ChainId.evm(1)
NATIVE = AssetInfo(AssetId.native(ETH, 60), "ETH", "Ether", 18, AssetKind.NATIVE)
ADDRESS_FIELDS = ("pool", "addresses_provider", "comet", "steth", "wsteth", "strategy_manager",
                  "eigenpod_manager")  # fmt: skip


def test_shipped_file_covers_the_promised_chains_with_checksummed_addresses() -> None:
    config = load_config()
    aave = {c for c, rows in config.entries["aave_v3"].items() if rows}
    assert aave == {"eip155:1", "eip155:8453", "eip155:42161", "eip155:10", "eip155:137",
                    "eip155:43114", "eip155:100", "eip155:56", "eip155:59144", "eip155:534352",
                    "eip155:324"}  # fmt: skip
    comets = {c for c, rows in config.entries["compound_v3"].items() if rows}
    assert comets == {"eip155:1", "eip155:8453", "eip155:42161", "eip155:10", "eip155:137",
                      "eip155:59144", "eip155:534352"}  # fmt: skip
    assert set(config.entries["lido"]) == {"eip155:1"}
    assert set(config.entries["eigenlayer"]) == {"eip155:1"}
    for protocol in PROTOCOLS:
        for rows in config.entries[protocol].values():
            for row in rows:
                for name in ADDRESS_FIELDS:
                    if name in row:
                        assert is_checksum_address(row[name]), (protocol, name, row[name])
    for infos in config.tokens.values():
        assert all(is_checksum_address(t.asset_id.asset_reference) for t in infos)
    # One main Aave market per chain (its keys carry no market part).
    for chain, rows in config.entries["aave_v3"].items():
        assert sum(1 for r in rows if r.get("main", True)) == 1, chain


def test_every_shipped_chain_builds_its_sources() -> None:
    config = load_config()
    protocols = {s.protocol for s in build_sources(ETH, config, [], NATIVE)}
    assert protocols == {"aave-v3", "compound-v3", "lido", "eigenlayer", "uniswap-v3", "sky",
                         "spark"}  # fmt: skip
    base = build_sources(ChainId.evm(8453), config, [], NATIVE)
    assert {s.protocol for s in base} == {"aave-v3", "compound-v3", "uniswap-v3", "morpho-blue"}
    assert {s.protocol for s in build_sources(ChainId.evm(56), config, [], NATIVE)} == {
        "aave-v3", "uniswap-v3"
    }  # Uniswap v2's bases are symbols of the token list, here empty  # fmt: skip


def test_user_file_replaces_a_protocol_on_its_chains_only(tmp_path: Path) -> None:
    user = tmp_path / "defi.toml"
    pool = "0x1111111111111111111111111111111111111111"
    user.write_text(f"""
[[aave_v3]]
chain = "eip155:1"
pool = "{pool}"
addresses_provider = "0x2222222222222222222222222222222222222222"

[[token]]
chain = "eip155:1"
address = "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"
symbol = "stETH"
decimals = 18
price_id = "coingecko:mine"
""")
    config = load_config(user)
    assert [r["pool"] for r in config.of("aave_v3", ETH)] == [pool]
    assert config.of("aave_v3", ChainId.evm(8453))  # other chains keep the shipped entries
    assert config.of("compound_v3", ETH)  # other protocols too
    steth = [t for t in config.tokens["eip155:1"] if t.symbol == "stETH"]
    assert [t.price_id for t in steth] == ["coingecko:mine"]  # the person's entry wins


def test_a_missing_user_file_is_fine_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml").of("lido", ETH)
    bad = tmp_path / "defi.toml"
    bad.write_text("[[aave_v3]\n")
    with pytest.raises(DefiConfigError, match=r"cannot be read"):
        load_config(bad)
    bad.write_text('[[compound_v3]]\nchain = "eip155:1"\n')
    with pytest.raises(DefiConfigError, match=r"incomplete"):
        build_sources(ETH, load_config(bad), [], NATIVE)
