"""Every lending protocol of the defi-lend work on one chain at once (the lend benchmark's world,
a few wallets): the read stays within the balances' round plus two, with no failure, every
protocol shows, and every rate the protocols quote comes back."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from app.domain.position_reads import PositionSource
from tests.benchmarks.lend_refresh import populate, wallet
from tests.integration.defi.aave_world import installed
from tests.integration.defi.lend_world import MORPHO_ARTIFACTS
from tests.integration.evm.anvil import MULTICALL3, running

pytestmark = pytest.mark.integration


async def _read(
    spec: ChainSpec, tokens: list[AssetInfo], sources: list[PositionSource], addresses: list[str]
) -> ChainReadResult:
    reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens, positions=sources)
    try:
        return await reader.read_balances([Wallet(a, AddressFamily.EVM) for a in addresses])
    finally:
        await reader.aclose()


def test_every_lending_protocol_in_three_rounds() -> None:
    if not installed() or not MORPHO_ARTIFACTS.exists():
        pytest.skip("protocol artifacts not installed: run npm install")
    for node in running(31346):
        addresses = [wallet(i) for i in range(3)]
        text, tokens = populate(node, addresses)
        chain = tokens[0].asset_id.chain
        spec = ChainSpec(chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (node.url,),
                         multicall3=MULTICALL3)  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            override = Path(tmp) / "defi.toml"
            override.write_text(text)
            sources = build_sources(
                chain, load_config(override), tokens, EvmReader.native_info_of(spec)
            )

        result = asyncio.run(_read(spec, tokens, sources, addresses))
        assert result.state is SourceState.OK and not result.failures, result.failures
        assert int(result.extra["rounds"]) <= 3
        protocols = {b.position.split(":", 1)[0] for b in result.balances if b.position}
        assert protocols == {"aave-v3", "spark", "compound-v3", "morpho-blue", "sky", "lido",
                             "eigenlayer"}  # fmt: skip
        kinds = {b.position.rsplit(":", 1)[-1] for b in result.balances if b.position}
        assert {"rewards", "withdrawing", "collateral", "borrowed", "supplied"} <= kinds
        assert {r.protocol for r in result.rates} == {"aave-v3", "spark", "compound-v3",
                                                      "morpho-blue", "sky"}  # fmt: skip
