"""Compound v3 rates and claimable rewards, EigenLayer queued withdrawals, through the real EVM
reader on anvil. Neither Comet nor EigenLayer publishes compiled contracts on npm, so these use
the test contracts of tests/contracts/LendYield.sol (Comet's and the DelegationManager's ABIs,
states set by the test) on top of the DeFi test world."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.eigenlayer import BEACON_STRATEGY
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from app.domain.rates import RateSide, wad_per_second_to_apy
from tests.integration.defi.world import E18, WALLETS, DefiWorld, deploy, new, populate, tx
from tests.integration.evm.anvil import MULTICALL3, running

pytestmark = pytest.mark.integration
UTIL = 8 * E18 // 10  # 80 % utilisation
PER_UTIL = 2_000_000_000  # supply rate per unit of utilisation, per second (1e18)
BORROW_BASE = 300_000_000


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[DefiWorld, dict[str, str]]]:
    for node in running(31341):
        w = populate(deploy(node))
        extra: dict[str, str] = {}
        usdc = w.token["USDC"]
        extra["comet"] = new(node, "TestCometYield", ["address", "address", "uint256"],
                             [usdc, "0x00000000000000000000000000000000000FEED1", 10**8])  # fmt: skip
        tx(node, extra["comet"], "addAsset(address,address,uint8,uint64,uint64,uint256)",
           w.token["WETH"], "0x00000000000000000000000000000000000FEED2", 18,
           83 * E18 // 100, 90 * E18 // 100, 3000 * 10**8)  # fmt: skip
        tx(node, extra["comet"], "setRates(uint256,uint64,uint64)", UTIL, PER_UTIL, BORROW_BASE)
        tx(node, extra["comet"], "setSupply(address,uint256)", WALLETS["healthy"], 1000 * 10**6)
        tx(node, extra["comet"], "setBorrow(address,uint256)", WALLETS["borrower"], 3000 * 10**6)
        tx(node, extra["comet"], "setCollateral(address,address,uint128)", WALLETS["borrower"],
           w.token["WETH"], 2 * E18)  # fmt: skip
        extra["comp"] = new(node, "TestToken", ["string", "string", "uint8"], ["COMP", "COMP", 18])
        extra["rewards"] = new(node, "TestCometRewards")
        tx(node, extra["rewards"], "setReward(address,address)", extra["comet"], extra["comp"])
        tx(node, extra["rewards"], "setOwed(address,address,uint256)", extra["comet"],
           WALLETS["healthy"], 123 * E18 // 100)  # fmt: skip
        extra["delegation"] = new(node, "TestDelegationManager")
        tx(node, extra["delegation"], "queue(address,address[],uint256[])", WALLETS["restaker"],
           [w.strategies["rETH"], BEACON_STRATEGY], [2 * E18, 16 * E18])  # fmt: skip
        tx(node, extra["delegation"], "queue(address,address[],uint256[])", WALLETS["restaker"],
           [w.strategies["stETH"]], [E18 // 2])  # fmt: skip
        yield w, extra


def _toml(w: DefiWorld, extra: dict[str, str], rewards: str | None = None) -> str:
    c = str(w.chain)
    return w.defi_toml(comet=extra["comet"]).replace(
        f'comet = "{extra["comet"]}"',
        f'comet = "{extra["comet"]}"\nrewards = "{rewards or extra["rewards"]}"',
    ).replace(
        f'eigenpod_manager = "{w.pod_manager}"',
        f'eigenpod_manager = "{w.pod_manager}"\ndelegation_manager = "{extra["delegation"]}"',
    ) + f'\n[[token]]\nchain = "{c}"\naddress = "{extra["comp"]}"\nsymbol = "COMP"\n' \
        f'decimals = 18\nprice_id = "coingecko:compound-governance-token"\n'  # fmt: skip


def _read(w: DefiWorld, tmp_path: Path, toml: str, url: str | None = None) -> ChainReadResult:
    override = tmp_path / "defi.toml"
    override.write_text(toml)
    spec = ChainSpec(w.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60,
                     (url or w.node.url,), multicall3=MULTICALL3)  # fmt: skip
    tokens = w.token_list()
    sources = build_sources(w.chain, load_config(override), tokens, EvmReader.native_info_of(spec))

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens,
                           positions=sources)  # fmt: skip
        try:
            return await reader.read_balances(
                [Wallet(a, AddressFamily.EVM) for a in WALLETS.values()]
            )
        finally:
            await reader.aclose()

    return asyncio.run(go())


def _of(result: ChainReadResult, who: str) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for b in result.balances:
        if b.wallet.address.lower() == WALLETS[who].lower() and b.position:
            k = (b.asset.symbol, b.position.split(":")[0] + ":" + b.position.rsplit(":", 1)[-1])
            out[k] = out.get(k, 0) + b.raw
    return out


def test_comet_rates_and_rewards(world: tuple[DefiWorld, dict[str, str]], tmp_path: Path) -> None:
    w, extra = world
    result = _read(w, tmp_path, _toml(w, extra))
    assert result.state is SourceState.OK
    rates = {r.side: r for r in result.rates if r.protocol == "compound-v3"}
    supply_per_second = UTIL * PER_UTIL // E18  # what getSupplyRate(getUtilization()) answers
    borrow_per_second = BORROW_BASE + UTIL * PER_UTIL // E18 * 2
    assert rates[RateSide.SUPPLY].apy == wad_per_second_to_apy(supply_per_second)[0]  # type: ignore[index]
    assert rates[RateSide.BORROW].apy == wad_per_second_to_apy(borrow_per_second)[0]  # type: ignore[index]
    assert rates[RateSide.SUPPLY].position == f"compound-v3:{extra['comet']}:supplied"
    assert Decimal("0.04") < rates[RateSide.SUPPLY].apy < Decimal("0.06")
    assert _of(result, "healthy")[("COMP", "compound-v3:rewards")] == 123 * E18 // 100
    assert ("COMP", "compound-v3:rewards") not in _of(result, "borrower")  # nothing owed


def test_rewards_contract_that_reverts_costs_only_rewards(
    world: tuple[DefiWorld, dict[str, str]], tmp_path: Path
) -> None:
    w, extra = world
    broken = new(w.node, "TestCometRewards")  # no reward configured for the comet: reverts
    result = _read(w, tmp_path, _toml(w, extra, rewards=broken))
    assert result.state is SourceState.OK
    failures = [f for f in result.failures if "Compound v3 rewards" in f.reason]
    assert len(failures) == len(WALLETS)
    assert _of(result, "healthy")[("USDC", "compound-v3:supplied")] == 1000 * 10**6


def test_eigenlayer_queued_withdrawals_stay_in_the_net_worth(
    world: tuple[DefiWorld, dict[str, str]], tmp_path: Path
) -> None:
    w, extra = world
    result = _read(w, tmp_path, _toml(w, extra))
    held = _of(result, "restaker")
    assert held[("rETH", "eigenlayer:withdrawing")] == 2 * E18 * 11 // 10  # strategy's own view
    assert held[("stETH", "eigenlayer:withdrawing")] == E18 // 2
    assert held[("ETH", "eigenlayer:withdrawing")] == 16 * E18  # beacon-chain ETH, in wei
    assert held[("rETH", "eigenlayer:restaked")] == E18 * 11 // 10  # deposits are still there
    assert not [f for f in result.failures if "EigenLayer" in f.reason]


def test_delegation_manager_answering_garbage(
    world: tuple[DefiWorld, dict[str, str]], tmp_path: Path
) -> None:
    w, extra = world
    garbage = "0x00000000000000000000000000000000000BAD01"
    # Answers every call with 64 bytes whose first word is an impossible array offset.
    w.node.rpc("anvil_setCode", garbage, "0x7f" + "ff" * 32 + "600052" + "60406000f3")
    toml = _toml(w, extra).replace(extra["delegation"], garbage)
    result = _read(w, tmp_path, toml)
    assert result.state is SourceState.OK
    failures = [f for f in result.failures if "queued withdrawals" in f.reason]
    assert len(failures) == len(WALLETS)
    assert all("garbage" in f.reason for f in failures)
    assert _of(result, "restaker")[("rETH", "eigenlayer:restaked")] == E18 * 11 // 10
