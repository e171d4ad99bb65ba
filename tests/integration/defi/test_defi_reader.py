"""DeFi positions through the real EVM reader against the test protocol contracts on anvil."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from tests.integration.defi.world import E18, WALLETS, DefiWorld, new
from tests.integration.evm.anvil import MULTICALL3

pytestmark = pytest.mark.integration


def _spec(world: DefiWorld, multicall: bool = True) -> ChainSpec:
    return ChainSpec(
        world.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (world.node.url,),
        multicall3=MULTICALL3 if multicall else None,
    )  # fmt: skip


def read(
    world: DefiWorld,
    tmp_path: Path,
    *,
    toml: str | None = None,
    multicall: bool = True,
    tokens: list[AssetInfo] | None = None,
) -> ChainReadResult:
    override = tmp_path / "defi.toml"
    override.write_text(toml if toml is not None else world.defi_toml())
    spec = _spec(world, multicall)
    token_list = world.token_list() if tokens is None else tokens
    sources = build_sources(
        spec.chain_id, load_config(override), token_list, EvmReader.native_info_of(spec)
    )
    wallets = [Wallet(a, AddressFamily.EVM) for a in WALLETS.values()]

    async def go() -> ChainReadResult:
        reader = EvmReader(
            spec, JsonRpcTransport(spec.rpc_urls, retries=0), token_list, positions=sources
        )
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def holdings(result: ChainReadResult, who: str) -> dict[tuple[str, str], int]:
    address = WALLETS[who]
    return {
        (b.asset.symbol, b.position): b.raw for b in result.balances if b.wallet.address == address
    }


def test_every_protocol_in_two_round_trips(defi_world: DefiWorld, tmp_path: Path) -> None:
    w = defi_world
    result = read(w, tmp_path)
    assert result.state is SourceState.OK
    assert result.failures == ()
    # Round 1 carries the balances and every call known up front; round 2 the dependent ones.
    assert result.http_requests == 2 and result.extra["rounds"] == "2"
    comet = w.comet
    assert holdings(result, "healthy") == {
        ("ETH", ""): 0,
        ("WETH", ""): E18,  # a plain wallet balance stays
        ("WETH", "aave-v3:supplied"): 10 * E18,
        ("USDC", "aave-v3:borrowed"): -5000 * 10**6,  # a debt is negative
        ("USDC", f"compound-v3:{comet}:supplied"): 1000 * 10**6,
    }  # the aWETH and Comet receipt tokens in the token list are not counted again
    assert holdings(result, "risky") == {
        ("ETH", ""): 0,
        ("WETH", "aave-v3:supplied"): E18,
        ("USDC", "aave-v3:borrowed"): -2_357_142_857,
    }
    assert holdings(result, "borrower") == {
        ("ETH", ""): 0,
        ("WETH", f"compound-v3:{comet}:collateral"): 2 * E18,
        ("USDC", f"compound-v3:{comet}:borrowed"): -3000 * 10**6,
    }
    wst = w.token["wstETH"]
    assert holdings(result, "staker") == {
        ("ETH", ""): 0,
        ("stETH", "lido:staked"): 5 * E18,
        ("stETH", f"lido:{wst}:staked"): 24 * E18 // 10,  # 2 wstETH x 1.2 stETH
    }
    assert holdings(result, "restaker") == {
        ("ETH", ""): 0,
        ("ETH", "eigenlayer:restaked"): 32 * E18,  # beacon-chain ETH through an EigenPod
        ("stETH", "eigenlayer:restaked"): 3 * E18,
        ("rETH", "eigenlayer:restaked"): 11 * E18 // 10,
    }
    assert holdings(result, "nobody") == {("ETH", ""): 0}
    staked = next(b for b in result.balances if b.position == "lido:staked")
    assert staked.asset.price_id == "coingecko:staked-ether"  # valued as stETH


def test_lending_accounts(defi_world: DefiWorld, tmp_path: Path) -> None:
    w = defi_world
    result = read(w, tmp_path)
    accounts = {(a.wallet.rsplit(":", 1)[1], a.protocol): a for a in result.accounts}
    assert set(accounts) == {
        (WALLETS["healthy"], "aave-v3"),
        (WALLETS["risky"], "aave-v3"),
        (WALLETS["borrower"], "compound-v3"),
    }  # a Comet supplier without collateral or debt has no account to watch
    weth, usdc = (str(w.info(s).asset_id) for s in ("WETH", "USDC"))
    healthy = accounts[(WALLETS["healthy"], "aave-v3")]
    assert healthy.health_factor == Decimal("4.95")
    assert (healthy.collateral, healthy.debt) == (Decimal(30000), Decimal(5000))
    assert healthy.liquidation_threshold == Decimal("0.825")
    assert healthy.market == w.pool and healthy.chain == str(w.chain)
    assert healthy.collateral_assets == (weth,) and healthy.debt_assets == (usdc,)
    assert accounts[(WALLETS["risky"], "aave-v3")].health_factor == Decimal("1.05")
    comp = accounts[(WALLETS["borrower"], "compound-v3")]
    assert comp.market == w.comet
    assert (comp.collateral, comp.debt) == (Decimal(6000), Decimal(3000))  # in USDC
    assert comp.liquidation_threshold == Decimal("0.9")
    assert comp.health_factor == Decimal("1.8")
    assert comp.collateral_assets == (weth,) and comp.debt_assets == (usdc,)


def test_a_reverting_protocol_is_a_call_failure_not_a_failed_chain(
    defi_world: DefiWorld, tmp_path: Path
) -> None:
    w = defi_world
    broken = new(w.node, "RevertingProtocol")
    result = read(w, tmp_path, toml=w.defi_toml(comet=broken))
    assert result.state is SourceState.OK
    assert {f.wallet.address for f in result.failures} == set(WALLETS.values())
    assert all("Compound v3" in f.reason and "reverted" in f.reason for f in result.failures)
    assert not any(b.position.startswith("compound-v3") for b in result.balances)
    # Everything else is still there.
    assert holdings(result, "risky")[("WETH", "aave-v3:supplied")] == E18
    assert holdings(result, "restaker")[("ETH", "eigenlayer:restaked")] == 32 * E18
    assert {a.protocol for a in result.accounts} == {"aave-v3"}


def test_unknown_tokens_are_read_from_the_chain(defi_world: DefiWorld, tmp_path: Path) -> None:
    """Without defi.toml's token entries, rETH (an EigenLayer strategy token) is in no list: its
    metadata takes one more round; stETH falls back to Lido's own description."""
    w = defi_world
    result = read(w, tmp_path, toml=w.defi_toml(tokens=False))
    assert result.state is SourceState.OK and result.failures == ()
    assert result.extra["rounds"] == "3" and result.http_requests == 3
    restaked = {b.asset.symbol: b for b in result.balances if b.position == "eigenlayer:restaked"}
    assert restaked["rETH"].raw == 11 * E18 // 10 and restaked["rETH"].asset.decimals == 18
    assert restaked["stETH"].asset.price_id == "coingecko:staked-ether"


def test_json_rpc_batch_fallback_reads_positions_too(defi_world: DefiWorld, tmp_path: Path) -> None:
    w = defi_world
    with_multicall = read(w, tmp_path)
    batched = read(w, tmp_path, multicall=False)
    assert batched.state is SourceState.OK and batched.failures == ()
    key = lambda r: sorted((str(b.wallet), str(b.asset.asset_id), b.position, b.raw)  # noqa: E731
                           for b in r.balances)  # fmt: skip
    assert key(batched) == key(with_multicall)
    assert batched.accounts == with_multicall.accounts
