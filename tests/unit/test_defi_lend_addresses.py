"""Every address in resources/defi.toml is in EIP-55 form, and the lending deployments match the
protocols' own records:

- Aave v3: ``@aave-dao/aave-address-book`` 4.68.1 (npm, pinned in package.json): each
  ``[[aave_v3]]`` entry is one library of ``src/AaveV3<Market>.sol`` (POOL,
  POOL_ADDRESSES_PROVIDER, DEFAULT_INCENTIVES_CONTROLLER) whose ``CHAIN_ID`` (dist/*.js) is the
  entry's chain.
- Compound v3: compound-finance/comet ``deployments/<network>/<market>/roots.json`` (copied with
  its commit to tests/data/defi/comet_roots.json): every comet and its CometRewards.
- Spark Lend, sDAI/sUSDS and Morpho Blue: sparkdotfi/spark-address-registry (copied with its
  commit to tests/data/defi/spark_registry.json); a Morpho market id is keccak256 of the market's
  parameters, recomputed here.
- EigenLayer: Layr-Labs/eigenlayer-contracts README's mainnet table
  (tests/data/defi/eigenlayer_deployments.json).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_hash.auto import keccak

from app.domain.addresses import to_checksum_address

ROOT = Path(__file__).resolve().parents[2]
DEFI = ROOT / "resources" / "defi.toml"
DATA = ROOT / "tests" / "data" / "defi"
BOOK = ROOT / "node_modules" / "@aave-dao" / "aave-address-book"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")
COMET_NETWORKS = {
    "mainnet": "eip155:1", "base": "eip155:8453", "arbitrum": "eip155:42161",
    "optimism": "eip155:10", "polygon": "eip155:137", "linea": "eip155:59144",
    "scroll": "eip155:534352",
}  # fmt: skip


def _config() -> dict[str, Any]:
    with DEFI.open("rb") as fh:
        return tomllib.load(fh)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def test_every_address_in_the_defi_file_is_eip55() -> None:
    addresses = [s for s in _strings(_config()) if ADDRESS.fullmatch(s)]
    assert len(addresses) > 100
    wrong = [a for a in addresses if a != to_checksum_address(a)]
    assert not wrong, f"not in EIP-55 form: {wrong}"


def _address_book() -> dict[str, dict[str, str]]:
    """Market library name -> its constants (and "CHAIN_ID") from the npm package."""
    if not BOOK.exists():
        pytest.skip("@aave-dao/aave-address-book not installed: run npm install")
    markets: dict[str, dict[str, str]] = {}
    for sol in (BOOK / "src").glob("AaveV3*.sol"):
        text = sol.read_text()
        found = dict(
            re.findall(
                r"(POOL|POOL_ADDRESSES_PROVIDER|DEFAULT_INCENTIVES_CONTROLLER)\s*=\s*"
                r"(?:I\w+\()?\s*(0x[0-9a-fA-F]{40})",
                text,
            )
        )
        js = BOOK / "dist" / f"{sol.stem}.js"
        chain = re.search(r"CHAIN_ID = (\d+);", js.read_text()) if js.exists() else None
        if "POOL" in found and chain:
            found["CHAIN_ID"] = chain.group(1)
            markets[sol.stem] = found
    return markets


def test_aave_markets_are_the_address_books() -> None:
    book = _address_book()
    by_pool = {(m["CHAIN_ID"], m["POOL"]): (name, m) for name, m in book.items()}
    entries = _config()["aave_v3"]
    names: list[str] = []
    for t in entries:
        chain = t["chain"].split(":")[1]
        assert (chain, t["pool"]) in by_pool, f"{t['pool']} is no Aave v3 pool of chain {chain}"
        name, market = by_pool[(chain, t["pool"])]
        names.append(name)
        assert t["addresses_provider"] == market["POOL_ADDRESSES_PROVIDER"], name
        assert t.get("incentives") == market["DEFAULT_INCENTIVES_CONTROLLER"], name
    for wanted in ("AaveV3EthereumEtherFi", "AaveV3EthereumHorizon", "AaveV3Gnosis",
                   "AaveV3BNB", "AaveV3Linea", "AaveV3Scroll", "AaveV3ZkSync"):  # fmt: skip
        assert wanted in names


def test_compound_markets_and_rewards_are_comets_deployment_records() -> None:
    roots = json.loads((DATA / "comet_roots.json").read_text())["roots"]
    known = {
        (COMET_NETWORKS[net.split("/")[0]], r["comet"]): r.get("rewards")
        for net, r in roots.items()
        if net.split("/")[0] in COMET_NETWORKS
    }
    entries = _config()["compound_v3"]
    for t in entries:
        assert (t["chain"], t["comet"]) in known, f"{t['comet']} is in no roots.json"
        assert t["rewards"] == known[(t["chain"], t["comet"])]
    comets = {(t["chain"], t["comet"]) for t in entries}
    for net in ("base/usds", "base/aero", "linea/usdc", "linea/weth", "scroll/usdc"):
        chain = COMET_NETWORKS[net.split("/")[0]]
        assert (chain, roots[net]["comet"]) in comets, net


def test_spark_sky_and_morpho_are_sparks_registry() -> None:
    files = json.loads((DATA / "spark_registry.json").read_text())["files"]
    eth, lend, base = files["src/Ethereum.sol"], files["src/SparkLend.sol"], files["src/Base.sol"]
    config = _config()
    spark = {t["chain"]: t for t in config["spark"]}
    for chain, registry in (("eip155:1", lend), ("eip155:100", files["src/Gnosis.sol"])):
        t = spark[chain]
        assert (t["pool"], t["addresses_provider"], t["incentives"]) == (
            registry["POOL"], registry["POOL_ADDRESSES_PROVIDER"], registry["INCENTIVES"]
        )  # fmt: skip
    vaults = {t["vault"]: t for t in config["sky"]}
    assert vaults[eth["SUSDS"]]["underlying"] == eth["USDS"]
    assert vaults[eth["SUSDS"]]["rate_contract"] == eth["SUSDS"]
    assert vaults[eth["SDAI"]]["underlying"] == eth["DAI"]
    assert vaults[eth["SDAI"]]["rate_contract"] == eth["POT"]
    oracles = {v for k, v in base.items() if k.startswith("MORPHO_") and k.endswith("_ORACLE")}
    for t in config["morpho_blue"]:
        assert t["morpho"] == base["MORPHO"] == eth["MORPHO"]
        loan, collateral, oracle, irm, lltv = t["params"]
        assert oracle in oracles and irm == base["MORPHO_DEFAULT_IRM"]
        digest = keccak(encode(["(address,address,address,address,uint256)"],
                               [(loan, collateral, oracle, irm, int(lltv))]))  # fmt: skip
        assert t["market"] == "0x" + digest.hex()


def test_eigenlayer_is_the_deployment_table() -> None:
    mainnet = json.loads((DATA / "eigenlayer_deployments.json").read_text())["mainnet"]
    (t,) = _config()["eigenlayer"]
    assert t["strategy_manager"] == mainnet["StrategyManager"]
    assert t["eigenpod_manager"] == mainnet["EigenPodManager"]
    assert t["delegation_manager"] == mainnet["DelegationManager"]


def test_tokens_named_after_the_address_book_are_its_underlyings() -> None:
    """``[[token]]`` entries whose comment cites the address book carry its ``*_UNDERLYING``."""
    if not BOOK.exists():
        pytest.skip("@aave-dao/aave-address-book not installed: run npm install")
    underlying: dict[str, set[str]] = {}  # the same name on every chain it is listed on
    for sol in (BOOK / "src").glob("AaveV3*.sol"):
        for name, address in re.findall(r"(\w+_UNDERLYING) = (0x[0-9a-fA-F]{40})", sol.read_text()):
            underlying.setdefault(name, set()).add(address)
    cited = re.findall(r'address = "(0x[0-9a-fA-F]{40})"\s+# address book (\w+_UNDERLYING)',
                       DEFI.read_text())  # fmt: skip
    assert len(cited) >= 5
    for address, name in cited:
        assert address in underlying[name], name
