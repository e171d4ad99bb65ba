"""The shipped Uniswap addresses: EIP-55 spelled, equal to their cited records, on every
built-in chain where Uniswap v3 is deployed."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.chains.evm.tokens import curated_tokens
from app.chains.registry import load_builtin
from app.defi.registry import build_sources, load_config
from app.defi.uniswap_v2 import UniswapV2
from app.defi.uniswap_v3 import UniswapV3
from app.domain.addresses import to_checksum_address
from app.domain.balances import AssetInfo, AssetKind
from app.domain.chains import ChainFamily
from app.domain.ids import AssetId

ROOT = Path(__file__).resolve().parents[3]
SDK_CORE = "Uniswap/sdks sdks/sdk-core/src/addresses.ts"
THIRD_PARTY = "third-party copy of sdk-core addresses.ts (LINEA_ADDRESSES / SCROLL_ADDRESSES)"

# chain -> (position manager, factory, source)
V3 = {
    "eip155:1": ("0xC36442b4a4522E871399CD717aBDD847Ab11FE88", "0x1F98431c8aD98523631AE4a59f267346ea31F984", SDK_CORE),
    "eip155:10": ("0xC36442b4a4522E871399CD717aBDD847Ab11FE88", "0x1F98431c8aD98523631AE4a59f267346ea31F984", SDK_CORE),
    "eip155:42161": ("0xC36442b4a4522E871399CD717aBDD847Ab11FE88", "0x1F98431c8aD98523631AE4a59f267346ea31F984", SDK_CORE),
    "eip155:137": ("0xC36442b4a4522E871399CD717aBDD847Ab11FE88", "0x1F98431c8aD98523631AE4a59f267346ea31F984", SDK_CORE),
    "eip155:8453": ("0x03a520b32C04BF3bEEf7BEb72E919cf822Ed34f1", "0x33128a8fC17869897dcE68Ed026d694621f6FDfD", SDK_CORE),
    "eip155:56": ("0x7b8A01B39D58278b5DE7e48c8449c9f4F5170613", "0xdB1d10011AD0Ff90774D0C6Bb92e5C5c8b4461F7", SDK_CORE),
    "eip155:43114": ("0x655C406EBFa14EE2006250925e54ec43AD184f8B", "0x740b1c1de25031C31FF4fC9A62f554A55cdC1baD", SDK_CORE),
    "eip155:324": ("0x0616e5762c1E7Dc3723c50663dF10a162D690a86", "0x8FdA5a7a8dCA67BBcDd10F02Fa0649A937215422", SDK_CORE),
    "eip155:59144": ("0x4615C383F85D0a2BbED973d83ccecf5CB7121463", "0x31FAfd4889FA1269F7a13A66eE0fB458f27D72A9", THIRD_PARTY),
    "eip155:534352": ("0xB39002E4033b162fAc607fc3471E205FA2aE5967", "0x70C62C8b8e801124A4Aa81ce07b637A3e83cb919", THIRD_PARTY),
}  # fmt: skip
# chain -> factory (sdk-core V2_FACTORY_ADDRESSES)
V2 = {
    "eip155:1": "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
    "eip155:10": "0x0c3c1c532F1e39EdF36BE9Fe0bE1410313E074Bf",
    "eip155:42161": "0xf1D7CC64Fb4452F05c498126312eBE29f30Fbcf9",
    "eip155:137": "0x9e5A52f57b3038F1B8EeE45F28b3C1967e22799C",
    "eip155:8453": "0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6",
    "eip155:56": "0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6",
    "eip155:43114": "0x9e5A52f57b3038F1B8EeE45F28b3C1967e22799C",
}
NOT_DEPLOYED = {"eip155:100"}  # Gnosis: no Uniswap v3 in Uniswap's records


def shipped() -> dict[str, list[dict[str, object]]]:
    data = tomllib.loads((ROOT / "resources" / "defi.toml").read_text())
    return {k: data.get(k, []) for k in ("uniswap_v3", "uniswap_v2")}


def test_every_uniswap_address_is_eip55_and_matches_its_cited_record() -> None:
    data = shipped()
    v3 = {str(t["chain"]): t for t in data["uniswap_v3"]}
    assert set(v3) == set(V3)
    for chain, (npm, factory, source) in V3.items():
        entry = v3[chain]
        for text, want in ((entry["position_manager"], npm), (entry["factory"], factory)):
            assert text == to_checksum_address(str(text)), (chain, text, source)
            assert text == want, (chain, text, source)
    assert v3["eip155:324"].get("zksync") is True  # its pools have their own CREATE2 rule
    v2 = {str(t["chain"]): t for t in data["uniswap_v2"]}
    assert set(v2) == set(V2)
    for chain, factory in V2.items():
        text = v2[chain]["factory"]
        assert text == to_checksum_address(str(text)) == factory, (chain, SDK_CORE)


def test_every_builtin_evm_chain_with_uniswap_v3_reads_it() -> None:
    evm = {str(c.chain_id) for c in load_builtin() if c.family is ChainFamily.EVM}
    assert evm - NOT_DEPLOYED == set(V3)
    config = load_config(None)
    for spec in load_builtin():
        if str(spec.chain_id) not in V3:
            continue
        native = AssetInfo(AssetId.native(spec.chain_id, 60), "ETH", "Ether", 18, AssetKind.NATIVE)
        sources = build_sources(spec.chain_id, config, curated_tokens(spec.chain_id), native)
        assert any(isinstance(s, UniswapV3) for s in sources), spec.chain_id
        if str(spec.chain_id) in V2:  # every base symbol is in the chain's token list
            (v2,) = [s for s in sources if isinstance(s, UniswapV2)]
            bases = {str(b) for t in config.of("uniswap_v2", spec.chain_id) for b in t["bases"]}
            pairs = len(bases) * (len(bases) - 1) // 2
            assert len(v2.covers()) >= pairs, spec.chain_id


def test_pendle_oracle_is_eip55_and_the_one_pendle_deploys_everywhere() -> None:
    import json

    from app.defi.pendle import PY_LP_ORACLE

    assert to_checksum_address(PY_LP_ORACLE) == PY_LP_ORACLE
    deployments = ROOT / "node_modules" / "@pendle" / "core-v2" / "deployments"
    if not deployments.exists():
        return  # the npm test tools are not installed: the constant's form is still checked
    for chain in ("1", "10", "56", "8453", "42161"):  # source: deployments/<chain>-core.json
        data = json.loads((deployments / f"{chain}-core.json").read_text())
        assert data["pyYtLpOracle"] == PY_LP_ORACLE, chain
