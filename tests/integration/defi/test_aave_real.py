"""Aave v3 (and Spark Lend, the same code) against the real Aave contracts from npm on anvil
(tests/integration/defi/aave_world.py): amounts, rates and claimable rewards compared with the
contracts' own views, and what happens when the rewards contract misbehaves."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.evm.tokens import erc20_asset_id
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.model import Wallet
from app.domain.rates import RateSide, ray_apr_to_apy
from tests.integration.defi.aave_world import AaveWorld, deploy_aave, encode_call, installed
from tests.integration.defi.lend_world import E18, eth_call
from tests.integration.evm.anvil import MULTICALL3, running

pytestmark = pytest.mark.integration

SUPPLIER = "0x3000000000000000000000000000000000000001"
BORROWER = "0x3000000000000000000000000000000000000002"
NOBODY = "0x3000000000000000000000000000000000000003"
WALLETS = [SUPPLIER, BORROWER, NOBODY]


@pytest.fixture(scope="module")
def aave() -> Iterator[AaveWorld]:
    if not installed():
        pytest.skip("@aave/core-v3 and @aave/periphery-v3 not installed: run npm install")
    for node in running(31343):
        w = deploy_aave(node)
        w.supply(SUPPLIER, "USDC", 100_000 * 10**6)
        w.supply(BORROWER, "WETH", 10 * E18)
        w.borrow(BORROWER, "USDC", 12_000 * 10**6)
        node.rpc("evm_increaseTime", 30 * 86400)
        node.rpc("evm_mine")
        yield w


def _word(raw: bytes, i: int) -> int:
    return int.from_bytes(raw[32 * i : 32 * (i + 1)], "big")


def _read(w: AaveWorld, tmp_path: Path, *, table: str = "aave_v3",
          incentives: str | None = None) -> ChainReadResult:  # fmt: skip
    chain = ChainId.evm(w.node.chain_id)
    override = tmp_path / "defi.toml"
    override.write_text(
        f'[[{table}]]\nchain = "{chain}"\npool = "{w.pool}"\n'
        f'addresses_provider = "{w.provider}"\nincentives = "{incentives or w.rewards}"\n'
    )
    spec = ChainSpec(chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (w.node.url,),
                     multicall3=MULTICALL3)  # fmt: skip
    # The chain's token list knows WETH, USDC and the aTokens; the reward token it does not
    # know is read from the chain (round 2).
    tokens = [
        AssetInfo(erc20_asset_id(chain, w.token["WETH"]), "WETH", "Wrapped Ether", 18),
        AssetInfo(erc20_asset_id(chain, w.token["USDC"]), "USDC", "USD Coin", 6),
        AssetInfo(erc20_asset_id(chain, w.atoken["USDC"]), "aUSDC", "Aave USDC", 6),
    ]
    sources = build_sources(chain, load_config(override), tokens, EvmReader.native_info_of(spec))

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens,
                           positions=sources)  # fmt: skip
        try:
            return await reader.read_balances([Wallet(a, AddressFamily.EVM) for a in WALLETS])
        finally:
            await reader.aclose()

    return asyncio.run(go())


def _held(result: ChainReadResult, who: str) -> dict[tuple[str, str], int]:
    return {
        (b.asset.symbol, b.position): b.raw
        for b in result.balances
        if b.wallet.address.lower() == who.lower() and b.position
    }


def _balance(w: AaveWorld, token: str, who: str) -> int:
    return _word(w.view(token, "AToken", "balanceOf", who), 0)


def test_amounts_are_the_tokens_own_balances(aave: AaveWorld, tmp_path: Path) -> None:
    result = _read(aave, tmp_path)
    assert result.state is SourceState.OK
    assert not result.failures, result.failures
    supplied = _held(result, SUPPLIER)[("USDC", "aave-v3:supplied")]
    assert supplied == _balance(aave, aave.atoken["USDC"], SUPPLIER)
    assert supplied > 100_000 * 10**6  # a month of interest
    borrower = _held(result, BORROWER)
    assert borrower[("USDC", "aave-v3:borrowed")] == -_balance(aave, aave.vdebt["USDC"], BORROWER)
    assert borrower[("WETH", "aave-v3:supplied")] == _balance(aave, aave.atoken["WETH"], BORROWER)
    # aUSDC is in the token list, and is counted once: as the position
    assert not [b for b in result.balances if b.asset.symbol == "aUSDC"]
    (account,) = [a for a in result.accounts if a.wallet.lower().endswith(BORROWER.lower())]
    data = aave.view(aave.pool, "Pool", "getUserAccountData", BORROWER)
    assert account.health_factor == Decimal(_word(data, 5)) / E18
    assert account.liquidation_threshold == Decimal("0.825")


def test_rates_are_the_pools_current_rates_compounded(aave: AaveWorld, tmp_path: Path) -> None:
    result = _read(aave, tmp_path)
    rates = {(r.asset_id.rsplit(":", 1)[-1], r.side): r for r in result.rates}
    reserve = aave.view(aave.pool, "Pool", "getReserveData", aave.token["USDC"])
    liquidity, variable = _word(reserve, 2), _word(reserve, 4)  # the Pool's own ReserveData
    supply = rates[(aave.token["USDC"], RateSide.SUPPLY)]
    borrow = rates[(aave.token["USDC"], RateSide.BORROW)]
    assert (supply.apy, supply.apr) == ray_apr_to_apy(liquidity)
    assert (borrow.apy, borrow.apr) == ray_apr_to_apy(variable)
    assert supply.position == "aave-v3:supplied" and borrow.position == "aave-v3:borrowed"
    # The strategy's curve: 12 % utilisation of an 80 %-optimal 4 % slope is 0.6 % APR, and
    # suppliers get it times the utilisation (no reserve factor set).
    assert abs(borrow.apr - Decimal("0.006")) < Decimal("1e-12")  # type: ignore[operator]
    assert abs(supply.apr - Decimal("0.006") * Decimal("0.12")) < Decimal("1e-12")  # type: ignore[operator]
    assert supply.apy > supply.apr  # type: ignore[operator]
    # WETH is supplied but not borrowed by anyone: a zero supply rate, and no borrow rate
    # (nobody holds that side).
    assert rates[(aave.token["WETH"], RateSide.SUPPLY)].apy == 0
    assert (aave.token["WETH"], RateSide.BORROW) not in rates


def test_rewards_are_what_claiming_would_pay(aave: AaveWorld, tmp_path: Path) -> None:
    result = _read(aave, tmp_path)
    assets = [aave.atoken["USDC"], aave.vdebt["USDC"], aave.atoken["WETH"], aave.vdebt["WETH"]]
    for who in (SUPPLIER, BORROWER):
        claim = eth_call(aave.node, aave.rewards,
                         encode_call("RewardsController", "claimAllRewardsToSelf", assets), who)  # fmt: skip
        # (address[] rewards, uint256[] amounts): one reward token
        paid = _word(claim, 5)  # head (2 offsets), rewards (length, 1 item), amounts (length, 1)
        held = _held(result, who)
        assert held[("RWD", "aave-v3:rewards")] == paid
        assert paid > 0
    # 30 days x 0.001 RWD/s on aUSDC, all of it the supplier's: 2,592 RWD
    assert Decimal(_held(result, SUPPLIER)[("RWD", "aave-v3:rewards")]) / E18 > 2590
    assert ("RWD", "aave-v3:rewards") not in _held(result, NOBODY)
    assert result.extra["rounds"] == "3"  # rewards need the aToken addresses of round 2


def test_spark_is_read_by_the_same_code_under_its_own_name(aave: AaveWorld, tmp_path: Path) -> None:
    result = _read(aave, tmp_path, table="spark")
    held = _held(result, SUPPLIER)
    assert ("USDC", "spark:supplied") in held and ("USDC", "aave-v3:supplied") not in held
    assert {a.protocol for a in result.accounts} == {"spark"}
    assert {r.protocol for r in result.rates} == {"spark"}


def test_a_rewards_contract_answering_garbage_costs_only_the_rewards(
    aave: AaveWorld, tmp_path: Path
) -> None:
    garbage = "0x00000000000000000000000000000000000BAD02"
    aave.node.rpc("anvil_setCode", garbage, "0x7f" + "ff" * 32 + "600052" + "60406000f3")
    result = _read(aave, tmp_path, incentives=garbage)
    assert result.state is SourceState.OK
    held = _held(result, SUPPLIER)
    assert held[("USDC", "aave-v3:supplied")] == _balance(aave, aave.atoken["USDC"], SUPPLIER)
    assert not [k for k in held if k[1] == "aave-v3:rewards"]
    assert result.rates  # the rates do not depend on the rewards contract
