"""Benchmark: 100 wallets with positions in EVERY EVM protocol Chainfolio reads, on one anvil
chain. Prints JSON.

One node holds both benchmark worlds: the lending one of ``lend_refresh`` (real Aave v3 with
rewards, the same market read as Spark, real Morpho Blue, a Sky savings vault, Compound v3 with
rates and rewards, Lido, EigenLayer with queued withdrawals) and the AMM one of
``defi_refresh`` (real Uniswap v3 NFTs and Uniswap v2 LP tokens, a real Pendle market's PT, YT
and LP). Every wallet holds a position in each, plus ``--tokens`` plain ERC-20s in the list.
Two reads through the product's EvmReader, each timed ``--repeats`` times after a warm-up
(median): ``balances_only`` and ``with_positions``. Target: the balance round plus two at most.
Run: .venv/bin/python -m tests.benchmarks.every_protocol [--wallets 100 --repeats 5]
"""

from __future__ import annotations

import argparse
import json
import time

from app.chains.evm.tokens import erc20_asset_id
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from tests.benchmarks import lend_refresh
from tests.benchmarks.position_reads import measure
from tests.integration.defi import amm_world, pendle_world
from tests.integration.evm.anvil import MULTICALL3, Anvil

E18 = 10**18


def add_amm(node: Anvil, wallets: list[str]) -> tuple[str, list[AssetInfo]]:
    """Uniswap v3 and v2 positions and Pendle PT/YT/LP for every wallet (as defi_refresh)."""
    amm = amm_world.deploy(node)
    pendle = pendle_world.deploy(node)
    lp = pendle.balance(pendle.market, node.sender)
    for w in wallets:
        pendle.transfer(pendle.pt, w, E18)
        pendle.transfer(pendle.yt, w, 2 * E18)
        pendle.transfer(pendle.market, w, lp // (2 * len(wallets)))
    for i, w in enumerate(wallets):
        spread = 60 * (1 + i % 20)
        amm.mint_position("TKA", "TKB", -spread, spread, 10**20, 10**20, w)
        amm.add_liquidity("TKA", "TKB", E18, 10**6, w)
    amm.swap("TKA", "TKB", 10**19)
    amm.swap("TKB", "TKA", 5 * 10**18)
    return amm.defi_toml() + pendle.defi_toml(), [amm.info("TKA"), amm.info("TKB")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200, help="plain tokens in the list")
    args = parser.parse_args()
    node = Anvil(31346)
    try:
        addresses = [lend_refresh.wallet(i) for i in range(args.wallets)]
        t_setup = time.perf_counter()
        lend_toml, tokens = lend_refresh.populate(node, addresses)
        amm_toml, amm_tokens = add_amm(node, addresses)
        tokens += amm_tokens
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
        figures = measure(spec, tokens, wallets, lend_toml + amm_toml, args.repeats)
        print(json.dumps({
            "wallets": args.wallets, "tokens_in_list": len(tokens), "setup_s": round(setup_s, 1),
            "repeats": args.repeats, **figures,
        }, indent=2))  # fmt: skip
    finally:
        node.stop()


if __name__ == "__main__":
    main()
