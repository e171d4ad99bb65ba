"""Benchmark: 100 wallets with positions in every protocol on one anvil chain. Prints JSON.

Every wallet gets, on one node:
- Uniswap v3: one position NFT minted through the real NonfungiblePositionManager (npm
  ``@uniswap/v3-periphery`` 1.4.4 over ``@uniswap/v3-core`` 1.0.1), with swaps through the real
  SwapRouter so that fees accrue; Uniswap v2: LP tokens from the real UniswapV2Router02
  (``@uniswap/v2-core`` / ``@uniswap/v2-periphery``). See tests/integration/defi/amm_world.py.
- Aave v3, Compound v3, Lido and EigenLayer positions on the test contracts of
  tests/contracts/Defi.sol (tests/integration/defi/world.py).
- Pendle: PT, YT and LP of one market, from Pendle's own artifacts (``@pendle/core-v2``
  6.11.0; tests/integration/defi/pendle_world.py), valued by its PY/LP oracle.
- Morpho Blue, Sky and Spark are in ``lend_refresh``; ``every_protocol`` reads both worlds on one
  chain.

The token list also holds ``--tokens`` plain ERC-20s (default 200), so the balance-only read
is a realistic one (100 wallets x ~210 tokens). Two reads of the same wallets and token list through the product's EvmReader, each timed
``--repeats`` times after a warm-up (median): ``balances_only`` (no position sources) and
``with_positions`` (every source of the chain from the defi.toml override). Reported: HTTP
requests and rounds per read, and wall times. Target: balances + 2 rounds at most.
Run: .venv/bin/python -m tests.benchmarks.defi_refresh [--wallets 100 --repeats 5]
"""

from __future__ import annotations

import argparse
import json
import time

from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AssetId
from app.domain.model import Wallet
from tests.benchmarks.position_reads import measure
from tests.integration.defi import amm_world, pendle_world, world
from tests.integration.evm.anvil import MULTICALL3, Anvil

E18 = 10**18


def wallet(i: int) -> str:
    return f"0x{0x3000000000000000000000000000000000000000 + i + 1:040x}"


def populate(
    node: Anvil, wallets: list[str]
) -> tuple[world.DefiWorld, amm_world.AmmWorld, pendle_world.PendleWorld]:
    lend = world.deploy(node)
    amm = amm_world.deploy(node)
    pendle = pendle_world.deploy(node)
    lp = pendle.balance(pendle.market, node.sender)
    for w in wallets:
        pendle.transfer(pendle.pt, w, E18)
        pendle.transfer(pendle.yt, w, 2 * E18)
        pendle.transfer(pendle.market, w, lp // (2 * len(wallets)))
    with world.batched(node):
        for i, w in enumerate(wallets):
            world.give_aave(lend, w, (i + 1) * E18, 1000 * 10**6,
                            (3_000 * 10**8 * (i + 1), 1000 * 10**8, 2 * E18))  # fmt: skip
            world.give_compound(lend, w, E18, 500 * 10**6, supply=0)
            world.give_lido(lend, w, E18, E18)
            world.give_eigen(lend, w, E18, E18, 32 * E18)
    for i, w in enumerate(wallets):
        spread = 60 * (1 + i % 20)
        amm.mint_position("TKA", "TKB", -spread, spread, 10**20, 10**20, w)
        amm.add_liquidity("TKA", "TKB", E18, 10**6, w)
    amm.swap("TKA", "TKB", 10**19)
    amm.swap("TKB", "TKA", 5 * 10**18)
    return lend, amm, pendle


def toml(lend: world.DefiWorld, amm: amm_world.AmmWorld, pendle: pendle_world.PendleWorld) -> str:
    return lend.defi_toml() + amm.defi_toml() + pendle.defi_toml()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wallets", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200, help="plain tokens in the list")
    args = parser.parse_args()
    node = Anvil(31340)
    try:
        addresses = [wallet(i) for i in range(args.wallets)]
        t_setup = time.perf_counter()
        lend, amm, pendle = populate(node, addresses)
        setup_s = time.perf_counter() - t_setup
        spec = ChainSpec(lend.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60,
                         (node.url,), multicall3=MULTICALL3)  # fmt: skip
        plain = [
            AssetInfo(AssetId(lend.chain, "erc20", amm_world.checksum(node.deploy(
                "TestToken", ["string", "string", "uint8"], [f"Plain {i}", f"P{i}", 18]))),
                f"P{i}", f"Plain {i}", 18)
            for i in range(args.tokens)
        ]  # fmt: skip
        tokens = [*lend.token_list(), amm.info("TKA"), amm.info("TKB"), *plain]
        wallets = [Wallet(a, AddressFamily.EVM) for a in addresses]
        figures = measure(spec, tokens, wallets, toml(lend, amm, pendle), args.repeats)
        print(json.dumps({
            "wallets": args.wallets, "tokens_in_list": len(tokens), "setup_s": round(setup_s, 1),
            "repeats": args.repeats, **figures,
        }, indent=2))  # fmt: skip
    finally:
        node.stop()


if __name__ == "__main__":
    main()
