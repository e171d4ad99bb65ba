"""Benchmark: 100 wallets with positions in every lending protocol of the defi-lend work on one
anvil chain, read with their rates and rewards. Prints JSON.

Every wallet, on one node:
- Aave v3 (real contracts from ``@aave/core-v3`` / ``@aave/periphery-v3``, aave_world.py):
  supplies WETH, borrows USDC; the RewardsController pays on aUSDC and variable USDC debt.
  Spark Lend is the same market read again under ``[[spark]]`` (same code, its own keys).
- Morpho Blue (real, ``@morpho-org/morpho-blue``): supplies the loan token, posts collateral and
  borrows in one market.
- Sky savings: deposits into an ERC-4626 vault with ``ssr()`` (OpenZeppelin's ERC4626).
- Compound v3 with rates and rewards, EigenLayer with queued withdrawals (LendYield.sol, as
  neither is on npm) and Lido, on the DeFi test world.

``--tokens`` plain ERC-20s (default 200) are in the token list too. Two reads through the
product's EvmReader, each timed ``--repeats`` times after a warm-up (median): ``balances_only``
and ``with_positions``. Reported: HTTP requests and rounds per read and wall times. Target:
balances + 2 rounds at most (Aave's claimable rewards need the third round: their assets are
the aTokens the second round names).
Run: .venv/bin/python -m tests.benchmarks.lend_refresh [--wallets 100 --repeats 5]
"""

from __future__ import annotations

import argparse
import json
import time

from app.chains.evm.tokens import erc20_asset_id
from app.defi.abi import call_data
from app.defi.eigenlayer import BEACON_STRATEGY
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from tests.benchmarks.position_reads import measure
from tests.integration.defi import world
from tests.integration.defi.aave_world import deploy_aave
from tests.integration.defi.lend_world import deploy_morpho, deploy_vault, send_from
from tests.integration.evm.anvil import MULTICALL3, Anvil

E18 = 10**18


def wallet(i: int) -> str:
    return f"0x{0x4000000000000000000000000000000000000000 + i + 1:040x}"


def populate(node: Anvil, wallets: list[str]) -> tuple[str, list[AssetInfo]]:
    """Deploy and open every position; returns the defi.toml text and the token list."""
    chain = f"eip155:{node.chain_id}"
    aave = deploy_aave(node)
    morpho = deploy_morpho(node)
    lend = world.deploy(node)
    usds = node.deploy("TestToken", ["string", "string", "uint8"], ["USDS", "USDS", 18])
    vault = deploy_vault(node, usds, 10**27 + 1_547125957_863212448)
    comet = world.new(node, "TestCometYield", ["address", "address", "uint256"],
                      [lend.token["USDC"], "0x00000000000000000000000000000000000FEED1", 10**8])  # fmt: skip
    world.tx(node, comet, "addAsset(address,address,uint8,uint64,uint64,uint256)",
             lend.token["WETH"], "0x00000000000000000000000000000000000FEED2", 18,
             83 * E18 // 100, 90 * E18 // 100, 3000 * 10**8)  # fmt: skip
    world.tx(node, comet, "setRates(uint256,uint64,uint64)", 8 * E18 // 10, 2 * 10**9, 3 * 10**8)
    comp = node.deploy("TestToken", ["string", "string", "uint8"], ["COMP", "COMP", 18])
    rewards = world.new(node, "TestCometRewards")
    world.tx(node, rewards, "setReward(address,address)", comet, comp)
    delegation = world.new(node, "TestDelegationManager")
    for i, w in enumerate(wallets):
        aave.supply(w, "WETH", E18)
        aave.borrow(w, "USDC", 500 * 10**6) if i else aave.supply(w, "USDC", 10**6 * 10**6)
        morpho.supply(w, 1000 * 10**6)
        morpho.supply_collateral(w, E18)
        morpho.borrow(w, 500 * 10**6)
        node.send(usds, "0x" + call_data("mint(address,uint256)", w, 100 * E18).hex())
        send_from(node, w, usds, call_data("approve(address,uint256)", vault, 100 * E18))
        send_from(node, w, vault, call_data("deposit(uint256,address)", 100 * E18, w))
    with world.batched(node):
        for w in wallets:
            world.give_lido(lend, w, E18, E18)
            world.give_eigen(lend, w, E18, E18, 32 * E18)
            world.tx(node, delegation, "queue(address,address[],uint256[])", w,
                     [lend.strategies["rETH"], BEACON_STRATEGY], [E18, 8 * E18])  # fmt: skip
            world.tx(node, comet, "setSupply(address,uint256)", w, 1000 * 10**6)
            world.tx(node, rewards, "setOwed(address,address,uint256)", comet, w, E18)
    node.rpc("evm_increaseTime", 86400)
    node.rpc("evm_mine")
    toml = lend.defi_toml(comet=comet).replace(
        f'comet = "{comet}"', f'comet = "{comet}"\nrewards = "{rewards}"'
    ).replace(
        f'eigenpod_manager = "{lend.pod_manager}"',
        f'eigenpod_manager = "{lend.pod_manager}"\ndelegation_manager = "{delegation}"',
    )  # fmt: skip
    toml = toml.replace(f'[[aave_v3]]\nchain = "{chain}"\npool = "{lend.pool}"\n'
                        f'addresses_provider = "{lend.provider}"\n', "")  # the real Aave instead  # fmt: skip
    toml += f"""
[[aave_v3]]
chain = "{chain}"
pool = "{aave.pool}"
addresses_provider = "{aave.provider}"
incentives = "{aave.rewards}"

[[spark]]
chain = "{chain}"
pool = "{aave.pool}"
addresses_provider = "{aave.provider}"

[[morpho_blue]]
chain = "{chain}"
morpho = "{morpho.morpho}"
market = "{morpho.market_id}"

[[sky]]
chain = "{chain}"
vault = "{vault}"
underlying = "{usds}"
underlying_symbol = "USDS"
underlying_decimals = 18
rate_contract = "{vault}"

[[token]]
chain = "{chain}"
address = "{comp}"
symbol = "COMP"
decimals = 18
"""
    cid = lend.chain
    tokens = [
        *lend.token_list(),
        AssetInfo(erc20_asset_id(cid, aave.token["WETH"]), "WETH", "Wrapped Ether", 18),
        AssetInfo(erc20_asset_id(cid, aave.token["USDC"]), "USDC", "USD Coin", 6),
        AssetInfo(erc20_asset_id(cid, aave.token["RWD"]), "RWD", "Reward", 18),
        AssetInfo(erc20_asset_id(cid, morpho.loan), "mUSDC", "Loan token", 6),
        AssetInfo(erc20_asset_id(cid, morpho.collateral), "mWETH", "Collateral token", 18),
        AssetInfo(erc20_asset_id(cid, usds), "USDS", "USDS", 18),
    ]
    return toml, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200, help="plain tokens in the list")
    args = parser.parse_args()
    node = Anvil(31344)
    try:
        addresses = [wallet(i) for i in range(args.wallets)]
        t_setup = time.perf_counter()
        toml, tokens = populate(node, addresses)
        setup_s = time.perf_counter() - t_setup
        chain = tokens[0].asset_id.chain
        spec = ChainSpec(chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (node.url,),
                         multicall3=MULTICALL3)  # fmt: skip
        for i in range(args.tokens):
            address = node.deploy(
                "TestToken", ["string", "string", "uint8"], [f"P{i}", f"P{i}", 18]
            )
            tokens.append(AssetInfo(erc20_asset_id(chain, address), f"P{i}", f"Plain {i}", 18))
        wallets = [Wallet(a, AddressFamily.EVM) for a in addresses]
        figures = measure(spec, tokens, wallets, toml, args.repeats)
        print(json.dumps({
            "wallets": args.wallets, "tokens_in_list": len(tokens), "setup_s": round(setup_s, 1),
            "repeats": args.repeats, **figures,
        }, indent=2))  # fmt: skip
    finally:
        node.stop()


if __name__ == "__main__":
    main()
