"""Benchmark: what asking for prices while the chains answer saves a refresh, in one run.

One anvil node answering as Ethereum behind a proxy adding ``--rpc-ms`` to every request, a
local DefiLlama-format server answering after ``--price-ms`` (a public price API's round trip
from a home connection), ``--wallets`` wallets x ``--tokens`` priced tokens, set up through the
command line as a user would (every other network disabled). The refresh is the one the window,
the tray and the scheduler run (``bootstrap(...).refresh``), with default settings, timed to
its outcome. Before each timed refresh the cached prices are made 15 minutes old (the default
refresh interval; prices are reused for 5), so every refresh asks the price server.

- ``early``: as shipped, the prices of what the previous refresh held are asked for while the
  node answers;
- ``after_read``: the same service with nothing remembered from the previous refresh, so the
  prices are asked for after the read, as before this change (and as a first refresh does).

The two alternate, ``--repeats`` each; medians. Every stored snapshot is checked: every
holding read, every one priced, the total exact.
Run: .venv/bin/python -m tests.benchmarks.early_prices [--wallets 10 --tokens 20 --rpc-ms 100
     --price-ms 400 --repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import text

from app.bootstrap import AppContext, bootstrap
from app.config import Paths, Settings
from tests.benchmarks.evm_refresh import checksum, setup_chain
from tests.integration.evm.anvil import Anvil, stop_all
from tests.integration.evm.proxy import FaultyProxy
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread
from tests.support.setup_cli import run_cli

ETH_PRICE, TOKEN_PRICE = Decimal(2000), Decimal("1.5")


def expected_total(wallets: int, tokens: int) -> Decimal:
    native = sum(10**18 + wi for wi in range(wallets))
    held = sum((wi + 1) * 10**18 + ti for wi in range(wallets) for ti in range(tokens))
    return (Decimal(native) * ETH_PRICE + Decimal(held) * TOKEN_PRICE).scaleb(-18)


async def timed(context: AppContext, early: bool) -> tuple[float, Any]:
    with context.engine.begin() as con:  # as if the default 15 minutes had passed
        con.execute(text("UPDATE prices SET fetched_at = fetched_at - 900"))
    if not early:
        context.refresh._held = []  # nothing remembered: priced after the read, as before
    started = time.perf_counter()
    result = await context.refresh.refresh()
    return time.perf_counter() - started, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallets", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=20)
    ap.add_argument("--rpc-ms", type=float, default=100)
    ap.add_argument("--price-ms", type=float, default=400)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    wallets = [checksum("0x" + keccak(str(i).encode()).hex()[-40:]) for i in range(args.wallets)]
    node = Anvil(1)
    proxy = FaultyProxy(node.url, latency=args.rpc_ms / 1000)
    try:
        tokens = setup_chain(node, wallets, args.tokens)
        prices: dict[str, Any] = {"coingecko:ethereum": float(ETH_PRICE)}
        prices.update({f"ethereum:{t.lower()}": float(TOKEN_PRICE) for t in tokens})
        llama = FakeDefiLlama(prices=prices, delay=args.price_ms / 1000)
        with tempfile.TemporaryDirectory() as tmp, serve_in_thread(llama) as prices_url:
            data = Path(tmp) / "data"
            run_cli(data, "wallets", "add", *wallets)
            for network in json.loads(run_cli(data, "networks", "list", "--json")):
                if network["enabled"] and network["chain"] != "eip155:1":
                    run_cli(data, "networks", "disable", network["chain"])
            run_cli(data, "networks", "set-rpc", "eip155:1", proxy.url)
            for t in tokens:
                run_cli(data, "tokens", "add", "eip155:1", t)
            run_cli(data, "config", "set", "prices.defillama.url", prices_url)
            run_cli(data, "config", "set", "prices.order", "defillama")
            paths = Paths.resolve(data)
            context = bootstrap(paths, Settings.load(paths.settings_file))
            total = expected_total(args.wallets, args.tokens)

            async def scenario() -> dict[str, Any]:
                walls: dict[str, list[float]] = {"early": [], "after_read": []}
                exact = True
                try:
                    await context.refresh.refresh()  # remembers what is held
                    for _ in range(args.repeats):
                        for name in ("after_read", "early"):
                            wall, result = await timed(context, name == "early")
                            walls[name].append(wall)
                            snap = result.snapshot
                            exact &= bool(
                                result.stored
                                and not result.price_errors
                                and snap is not None
                                and snap.total == total
                                and len(snap.holdings) == args.wallets * (args.tokens + 1)
                            )
                    await context.refresh.drain(30)
                finally:
                    await context.aclose()
                early, after = (statistics.median(walls[k]) for k in ("early", "after_read"))
                return {
                    "benchmark": "early_prices",
                    "wallets": args.wallets,
                    "tokens": args.tokens,
                    "rpc_ms": args.rpc_ms,
                    "price_ms": args.price_ms,
                    "repeats": args.repeats,
                    "after_read_s": round(after, 3),
                    "early_s": round(early, 3),
                    "saved_s": round(after - early, 3),
                    "early_vs_after_read": round(early / after, 2),
                    "walls_s": {k: [round(w, 3) for w in v] for k, v in walls.items()},
                    "all_exact": exact,
                }

            print(json.dumps(asyncio.run(scenario()), indent=2))
    finally:
        stop_all([proxy], [node])


if __name__ == "__main__":
    main()
