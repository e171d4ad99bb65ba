"""Same-run A/B of the whole refresh path between an earlier commit and this working tree.

This machine's speed drifts by 40 % and more during a day, so two benchmark runs hours apart
cannot tell what a change did. Here both trees run against the same two anvil nodes (behind the
same latency proxies) and the same local price servers, their cold processes alternating:

- ``--base REV`` is checked out into a temporary git worktree; this working tree is "new".
- The data directory is set up through the base's own command line as a user would (networks,
  wallets, 400 tokens, price URLs); "new" gets a copy and upgrades it on its first, untimed run
  (a newer schema opens an older database, not the other way round).
- Per round: ``refresh --once --json --no-prices`` and ``refresh --once --json`` (priced,
  stored) on each side, every output checked holding by holding; then, unless ``--window-runs
  0``, the real window's ``refresh_now()`` (``tests/benchmarks/evm_window.py`` of each tree):
  ``window`` to the refresh's outcome, ``window_rows_shown`` to the new rows on screen.
- ``--priced-tokens``: every token is added with a price id (a CoinGecko id) that the local
  price servers answer, as most of a person's holdings have a price; the priced documents are
  then also checked to value every token balance. Without it the tokens have no price (the
  figures of ``evm_refresh``).

Prints one JSON object: per path the medians, every wall, and the change.

Run: .venv/bin/python -m tests.benchmarks.evm_ab --base aac85cc [--runs 6] [--window-runs 2]
     [--priced-tokens]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak

from tests.benchmarks.evm_refresh import (
    checksum,
    compile_app,
    machine,
    setup_chain,
    timed_process,
)
from tests.benchmarks.evm_window import check, expected_raws
from tests.integration.evm.anvil import MULTICALL3, ROOT, Anvil, stop_all
from tests.integration.evm.proxy import FaultyProxy
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, serve_in_thread

# Set-up through a tree's own CLI, in one process (its ``main(argv, stdout=...)``).
SETUP = """
import io, json, sys
from app.cli import main
data, plan = sys.argv[1], json.load(sys.stdin)
def run(*argv):
    out = io.StringIO()
    if main(["--data-dir", data, *argv], stdout=out):
        raise SystemExit(f"chainfolio {' '.join(argv[:3])} failed")
    return out.getvalue()
for spec in json.loads(run("networks", "list", "--json")):
    if spec["enabled"]:
        run("networks", "disable", spec["chain"])
for argv in plan:
    run(*argv)
"""


def _run(root: Path, argv: list[str], stdin: str | None = None) -> tuple[float, str]:
    """Wall seconds and stdout of one fresh process of ``root``'s tree."""
    wall, _cpu, out = timed_process(argv, root, stdin)
    return wall, out


def _exact(
    document: str, expected: dict[tuple[str, str, str], int], *, valued: bool = False
) -> bool:
    """Every holding read with its raw amount; with ``valued``, every token balance valued."""
    doc = json.loads(document)
    balances = [b for c in doc["chains"] for b in c["balances"]]
    found = ((b["wallet"], b["asset"], int(b["raw"])) for b in balances)
    if not check(found, expected)["exact"]:
        return False
    tokens = [b for b in balances if "/erc20:" in b["asset"]]
    return not valued or all(b.get("value") is not None for b in tokens)


def _figures(base: list[float], new: list[float]) -> dict[str, Any]:
    b, n = statistics.median(base), statistics.median(new)
    return {
        "base_s": round(b, 3),
        "new_s": round(n, 3),
        "change_pct": round((n - b) / b * 100, 1),
        "base_walls_s": [round(w, 3) for w in base],
        "new_walls_s": [round(w, 3) for w in new],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    ap.add_argument("--runs", type=int, default=6, help="cold processes per side and path")
    ap.add_argument("--window-runs", type=int, default=2, help="window processes per side")
    ap.add_argument("--wallets", type=int, default=100)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--priced-tokens", action="store_true", help="every token has a price")
    args = ap.parse_args()
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the windows' children: no display needed
    work = Path(tempfile.mkdtemp(prefix="chainfolio-evm-ab-"))
    base_root = work / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base_root), args.base], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    roots = {"base": base_root, "new": ROOT}
    wallets = [checksum("0x" + keccak(str(i).encode()).hex()[-40:]) for i in range(args.wallets)]
    nodes = [Anvil(31337), Anvil(31338)]
    proxies: list[FaultyProxy] = []
    try:
        tokens = {f"eip155:{n.chain_id}": setup_chain(n, wallets, args.tokens) for n in nodes}
        proxies = [FaultyProxy(n.url) for n in nodes]
        for p in proxies:
            p.latency = args.latency_ms / 1000
        expected = expected_raws(wallets, tokens)
        expected_file = work / "expected.json"
        expected_file.write_text(json.dumps({"wallets": wallets, "tokens": tokens}))
        for root in roots.values():
            compile_app(root)
        price_ids: dict[tuple[str, str], str] = {}
        if args.priced_tokens:
            for chain, addresses in tokens.items():
                for i, address in enumerate(addresses):
                    price_ids[(chain, address)] = f"bench-{chain.split(':')[1]}-{i}"
        coin_prices = {pid: 1 + (n % 997) / 13 for n, pid in enumerate(price_ids.values())}
        llama_prices = {f"coingecko:{pid}": p for pid, p in coin_prices.items()}
        with (
            serve_in_thread(FakeDefiLlama(prices=llama_prices)) as llama,
            serve_in_thread(FakeCoinGecko(prices=coin_prices), "/api/v3") as coingecko,
        ):
            plan = [
                ["networks", "add", str(n.chain_id), f"Bench {n.chain_id}", "ETH", p.url,
                 "--multicall3", MULTICALL3]
                for n, p in zip(nodes, proxies, strict=True)
            ]  # fmt: skip
            plan += [["wallets", "add", w] for w in wallets]
            plan += [
                ["tokens", "add", c, t]
                + (["--price-id", price_ids[(c, t)]] if (c, t) in price_ids else [])
                for c, ts in tokens.items()
                for t in ts
            ]
            plan += [["config", "set", "prices.coingecko.url", coingecko],
                     ["config", "set", "prices.defillama.url", llama]]  # fmt: skip
            data = {"base": work / "data-base", "new": work / "data-new"}
            _run(base_root, [sys.executable, "-c", SETUP, str(data["base"])], json.dumps(plan))
            shutil.copytree(data["base"], data["new"])
            refresh = [sys.executable, "-m", "app", "--data-dir"]
            for side, root in roots.items():  # untimed: "new" upgrades its copy here
                _run(root, [*refresh, str(data[side]), "refresh", "--once", "--json"])
            walls: dict[str, dict[str, list[float]]] = {}
            exact = True
            for _ in range(args.runs):
                for path, extra in (("no_prices", ["--no-prices"]), ("priced", [])):
                    for side, root in roots.items():
                        argv = [*refresh, str(data[side]), "refresh", "--once", "--json", *extra]
                        wall, out = _run(root, argv)
                        valued = args.priced_tokens and path == "priced"
                        exact = exact and _exact(out, expected, valued=valued)
                        walls.setdefault(path, {}).setdefault(side, []).append(wall)
            for _ in range(args.window_runs):
                for side, root in roots.items():
                    argv = [sys.executable, "-m", "tests.benchmarks.evm_window", "--data-dir",
                            str(data[side]), "--expected", str(expected_file)]  # fmt: skip
                    result = json.loads(_run(root, argv)[1].strip().splitlines()[-1])
                    exact = exact and bool(result["all_exact"])
                    walls.setdefault("window", {}).setdefault(side, []).extend(result["walls_s"])
                    # The same refreshes up to the new rows on screen (a median per process).
                    rows = walls.setdefault("window_rows_shown", {}).setdefault(side, [])
                    rows.append(result["to_rows_shown_s"])
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        report = {
            "base": args.base,
            "new": f"working tree at {head}",
            "balances_per_refresh": len(expected),
            "latency_ms": args.latency_ms,
            "priced_tokens": args.priced_tokens,
            "runs": args.runs,
            "all_exact": exact,
            "machine": machine(),
            "paths": {path: _figures(w["base"], w["new"]) for path, w in walls.items()},
        }
        print(json.dumps(report, indent=2))
    finally:
        stop_all(proxies, nodes)
        subprocess.run(["git", "worktree", "remove", "--force", str(base_root)], cwd=ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
