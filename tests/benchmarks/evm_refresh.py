"""Benchmark: two anvil chains, 100 wallets x 200 tokens, at 0 and 50 ms latency per HTTP request.

Measures in one run (a) the product's refresh (BalanceService + EvmReader), (b) a naive web3.py
reader (one balanceOf call per balance, gathered) and (c) the floor: raw aggregate3 chunks sent
concurrently over one keep-alive httpx client, the bodies encoded and the replies decoded
with msgspec as the product does. Prints JSON.

For a fair comparison the floor sends exactly the chunks the product plans: the same byte and gas
budgets (``MAX_BYTES``, ``GAS_CAP``, the product's defaults) through ``chunking.split``, and the
same fixed-layout aggregate3 codec (``calls.encode_aggregate3``, byte-identical to eth-abi's and
tested against it), so the ratio measures the product's own overhead, not a codec difference.
A second floor, ``floor_eth_abi``, encodes and decodes with eth-abi, as the issue first described.

The naive reader makes three HTTP requests per balance (120k for the full size), so by default it
runs on the first ``--naive-wallets`` wallets and its time is also given scaled per balance.
Run: .venv/bin/python -m tests.benchmarks.evm_refresh [--wallets 100 --tokens 200 --repeats 5
     --latency-ms 0 50]
Each reader is timed --repeats times after one untimed warm-up pass; the median is reported.

DeFi: afterwards the same wallets get positions in all four protocols (the test contracts of
tests/contracts/Defi.sol: Aave v3, Compound v3, Lido, EigenLayer) and the product reads them
with the balances (``product_with_positions``). Its HTTP requests are checked against the
balances-only figure plus one round: the protocol calls known up front ride in the balance
chunks, the dependent ones (Aave reserves, EigenLayer strategies, Comet collateral) go out
together in a second round. ``defi`` in the JSON gives both counts per chain.

Whole path (``whole_path`` in the JSON, per latency): what a user waits for, with default
settings, against the floor measured in the same run at the same latency.
- A data directory set up through the command line as a user would: ``wallets add`` (all the
  addresses), ``tokens add`` (every token), ``networks add`` for the two nodes (through the
  latency proxies), every built-in network disabled, and ``prices.coingecko.url`` /
  ``prices.defillama.url`` pointing at local fake price servers (nothing reaches the internet).
- ``cold_cli_no_prices`` / ``cold_cli``: a fresh ``python -m app --data-dir D refresh --once
  --json [--no-prices]`` process, wall time to exit (median of ``--cli-repeats``); every
  holding in its JSON is checked against the raw amounts set-up wrote. ``start_up`` is the
  process's own start-up (``python -m app --version``; ``start_up_open_data`` also opens the
  data: ``wallets list --json``). Target: cold CLI <= 2 x floor + start-up.
- ``window``: a fresh process opens the real window (offscreen, qasync) on the same directory;
  after its start-up refresh, ``window.refresh_now()`` is timed to the refresh's outcome
  (tests/benchmarks/evm_window.py). Target: <= 1.5 x floor.
``--profile-dir DIR`` also runs each cold CLI once under cProfile and writes the top 25 by
cumulative and by own time to DIR (the JSON carries the top items).
Quick run: ... -m tests.benchmarks.evm_refresh --wallets 10 --tokens 20 --repeats 3 --no-defi
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.chains.evm import calls, chunking
from app.chains.evm.reader import EvmReader
from app.chains.evm.tokens import erc20_asset_id
from app.chains.http import JsonRpcTransport
from app.defi.ports import PositionSource
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.model import Wallet
from app.services.balances import BalanceService
from tests.benchmarks.evm_window import check, expected_raws
from tests.integration.defi import world as defi
from tests.integration.evm.anvil import ARTIFACTS, MULTICALL3, ROOT, Anvil, stop_all
from tests.integration.evm.proxy import FaultyProxy
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, serve_in_thread

MAX_BYTES = 1_500_000
GAS_CAP = 50_000_000


@dataclass(frozen=True, slots=True)
class RawCall:
    target: str
    data: bytes
    native: bool


def setup_chain(node: Anvil, wallets: list[str], n_tokens: int) -> list[str]:
    """Deploy the tokens once (one tx at a time), then write balances straight into storage."""
    tokens = [
        node.deploy("TestToken", ["string", "string", "uint8"], [f"T{i}", f"T{i}", 18])
        for i in range(n_tokens)
    ]
    batch: list[dict[str, Any]] = []
    for wi, w in enumerate(wallets):
        slot = "0x" + keccak(encode(["address", "uint256"], [w, 0])).hex()  # OZ _balances slot 0
        for ti, t in enumerate(tokens):
            value = "0x" + ((wi + 1) * 10**18 + ti).to_bytes(32, "big").hex()
            batch.append({"jsonrpc": "2.0", "id": len(batch), "method": "anvil_setStorageAt",
                          "params": [t, slot, value]})  # fmt: skip
            if len(batch) == 2000:
                node.http.post(node.url, json=batch).raise_for_status()
                batch = []
        node.set_native(w, 10**18 + wi)
    if batch:
        node.http.post(node.url, json=batch).raise_for_status()
    return tokens


async def product(
    specs: list[ChainSpec], tokens: dict[str, list[AssetInfo]], wallets: list[Wallet]
) -> int:
    def factory(spec: ChainSpec) -> EvmReader:
        return EvmReader(spec, JsonRpcTransport(spec.rpc_urls), tokens[str(spec.chain_id)],
                         max_request_bytes=MAX_BYTES, gas_cap=GAS_CAP,
                         max_concurrency=16)  # fmt: skip

    # Every run starts from the same budgets: each transport brings its own endpoint memory.
    results = await BalanceService(factory).refresh(specs, wallets)
    assert all(r.state is SourceState.OK and not r.failures for r in results), results[0].error
    return sum(len(r.balances) for r in results)


async def product_with_positions(
    specs: list[ChainSpec],
    tokens: dict[str, list[AssetInfo]],
    wallets: list[Wallet],
    sources: dict[str, list[PositionSource]],
    out: dict[str, Any],
) -> int:
    """The product's reader with the DeFi sources; per-chain requests and rounds into ``out``."""

    def factory(spec: ChainSpec) -> EvmReader:
        return EvmReader(spec, JsonRpcTransport(spec.rpc_urls), tokens[str(spec.chain_id)],
                         max_request_bytes=MAX_BYTES, gas_cap=GAS_CAP, max_concurrency=16,
                         positions=sources[str(spec.chain_id)])  # fmt: skip

    results = await BalanceService(factory).refresh(specs, wallets)
    assert all(r.state is SourceState.OK and not r.failures for r in results), results[0].failures
    for r in results:
        out[str(r.chain)] = {
            "http_requests": r.http_requests, "rounds": int(r.extra["rounds"]),
            "round_requests": [int(n) for n in r.extra["round_requests"].split(",")],
            "positions": sum(1 for b in r.balances if b.position),
            "lending_accounts": len(r.accounts),
        }  # fmt: skip
    return sum(len(r.balances) for r in results)


def setup_defi(node: Anvil, wallets: list[str], workdir: Path) -> Path:
    """Deploy the protocol test contracts and give every wallet a position in each protocol."""
    w = defi.deploy(node)
    e18 = defi.E18
    with defi.batched(node):
        _positions(w, wallets, e18)
    path = workdir / f"defi-{node.chain_id}.toml"
    path.write_text(w.defi_toml())
    return path


def _positions(w: defi.DefiWorld, wallets: list[str], e18: int) -> None:
    for i, address in enumerate(wallets):
        supplied = (i + 1) * e18
        defi.give_aave(w, address, supplied, 1000 * 10**6,
                       (3000 * (i + 1) * 10**8, 1000 * 10**8, 2 * e18))  # fmt: skip
        defi.give_compound(w, address, e18, 500 * 10**6)
        defi.give_lido(w, address, e18 + i, e18)
        defi.give_eigen(w, address, e18, e18, 32 * e18)


JSON = {"content-type": "application/json"}


async def floor(
    urls: list[str], tokens: dict[str, list[str]], wallets: list[str], eth_abi: bool = False
) -> int:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=32)) as client:

        async def chunk(url: str, part: list[RawCall]) -> int:
            encode_fn = calls.encode_aggregate3_reference if eth_abi else calls.encode_aggregate3
            decode_fn = calls.decode_aggregate3_reference if eth_abi else calls.decode_aggregate3
            data = encode_fn([(c.target, c.data) for c in part])
            # The body and reply as the product makes and reads them (msgspec, the calldata as
            # ready JSON text): the floor is never slower than the product at JSON.
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                    "params": [{"to": MULTICALL3, "data": calls.hex_json(data)}, "latest"]}  # fmt: skip
            sent = await client.post(url, content=msgspec.json.encode(body), headers=JSON)
            reply = msgspec.json.decode(sent.content)
            return len(decode_fn(bytes.fromhex(reply["result"][2:])))

        jobs = []
        for url, toks in zip(urls, tokens.values(), strict=True):
            plan: list[RawCall] = []
            for w in wallets:
                plan.append(RawCall(MULTICALL3, calls.get_eth_balance(w), True))
                plan.extend(RawCall(t, calls.balance_of(w), False) for t in toks)
            parts = chunking.split(plan, max_bytes=MAX_BYTES, gas_cap=GAS_CAP, max_calls=None)
            jobs += [chunk(url, part) for part in parts]
        return sum(await asyncio.gather(*jobs))


async def naive(urls: list[str], tokens: dict[str, list[str]], wallets: list[str]) -> int:
    from web3 import AsyncHTTPProvider, AsyncWeb3

    abi = ARTIFACTS["TestToken"]["abi"]
    jobs: list[Awaitable[int]] = []
    providers = []
    for url, toks in zip(urls, tokens.values(), strict=True):
        w3 = AsyncWeb3(AsyncHTTPProvider(url, request_kwargs={"timeout": 600}))
        providers.append(w3)
        for w in wallets:
            jobs.append(w3.eth.get_balance(AsyncWeb3.to_checksum_address(w)))
            for t in toks:
                c = w3.eth.contract(address=AsyncWeb3.to_checksum_address(t), abi=abi)
                jobs.append(c.functions.balanceOf(AsyncWeb3.to_checksum_address(w)).call())
    out = await asyncio.gather(*jobs)
    for w3 in providers:
        await w3.provider.disconnect()
    return len(out)


def measure(
    name: str,
    proxies: list[FaultyProxy],
    fn: Callable[[], Coroutine[Any, Any, int]],
    repeats: int = 1,
) -> dict[str, Any]:
    """Median wall time of ``repeats`` runs (HTTP requests counted on one run)."""
    walls: list[float] = []
    requests = 0
    n = 0
    for _ in range(repeats):
        before = sum(p.requests for p in proxies)
        t0 = time.perf_counter()
        n = asyncio.run(fn())
        walls.append(time.perf_counter() - t0)
        requests = sum(p.requests for p in proxies) - before
    wall = statistics.median(walls)
    tracemalloc.start()  # a second run for memory, so tracing does not skew the wall time
    asyncio.run(fn())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"name": name, "balances": n, "wall_s": round(wall, 3), "http_requests": requests,
            "peak_mem_mib": round(peak / 2**20, 2), "s_per_balance": wall / max(n, 1)}  # fmt: skip


# --- the whole path: a cold CLI process and the window -----------------------------------


def _cli(data: Path, *argv: str) -> str:
    """One command through the product's CLI entry point (set-up only; not timed)."""
    from app.cli import main as cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli(["--data-dir", str(data), *argv], stdout=out)
    if code:
        raise RuntimeError(f"chainfolio {' '.join(argv[:3])} failed: {err.getvalue().strip()}")
    return out.getvalue()


def setup_data_dir(
    data: Path, nodes: list[Anvil], urls: list[str], wallets: list[str],
    tokens: dict[str, list[str]], prices: tuple[str, str],
) -> float:  # fmt: skip
    """A user's data directory, set up through the command line; returns the seconds it took."""
    t0 = time.perf_counter()
    for spec in json.loads(_cli(data, "networks", "list", "--json")):
        if spec["enabled"]:
            _cli(data, "networks", "disable", spec["chain"])
    for n, url in zip(nodes, urls, strict=True):
        _cli(data, "networks", "add", str(n.chain_id), f"Bench {n.chain_id}", "ETH", url,
             "--multicall3", MULTICALL3)  # fmt: skip
    try:
        _cli(data, "wallets", "add", *wallets)  # several at once, where the CLI takes them
    except (SystemExit, RuntimeError):
        for w in wallets:
            _cli(data, "wallets", "add", w)
    for chain, addresses in tokens.items():
        for t in addresses:
            _cli(data, "tokens", "add", chain, t)
    _cli(data, "config", "set", "prices.coingecko.url", prices[0])
    _cli(data, "config", "set", "prices.defillama.url", prices[1])
    return time.perf_counter() - t0


PYCACHE = Path(tempfile.gettempdir()) / "chainfolio-bench-pycache"


def _env(root: Path = ROOT) -> dict[str, str]:
    """The child processes' environment: the modules of the tree at ``root``, no data-dir
    override, and byte-code cached as an installed app has it (outside the work tree; a
    PYTHONDONTWRITEBYTECODE in this shell would otherwise make every cold process compile the
    app's ~140 modules, ~0.5 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["PYTHONPATH"] = str(root)
    return env


def compile_app(root: Path = ROOT) -> None:
    """What installing does: byte-code for the app's modules (untimed)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "app")], cwd=root,
                   env=_env(root), check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def timed_process(
    argv: list[str], root: Path = ROOT, stdin: str | None = None
) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system) of one fresh process of the tree at ``root``, and
    its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, env=_env(root), input=stdin, capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv[3:])} exited {proc.returncode}: {proc.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.stdout


def _median(name: str, runs: list[tuple[float, float]], **extra: Any) -> dict[str, Any]:
    walls = [w for w, _ in runs]
    return {"name": name, "wall_s": round(statistics.median(walls), 3),
            "walls_s": [round(w, 3) for w in walls],
            "cpu_s": round(statistics.median(c for _, c in runs), 3), **extra}  # fmt: skip


def cold_cli(
    data: Path, expected: dict[tuple[str, str, str], int], repeats: int, priced: bool
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "app", "--data-dir", str(data), "refresh", "--once", "--json"]
    if not priced:
        argv.append("--no-prices")
    runs: list[tuple[float, float]] = []
    checks: list[dict[str, Any]] = []
    doc: dict[str, Any] = {}
    for _ in range(repeats):
        wall, cpu, out = timed_process(argv)
        runs.append((wall, cpu))
        doc = json.loads(out)
        found = (
            (b["wallet"], b["asset"], int(b["raw"])) for c in doc["chains"] for b in c["balances"]
        )
        checks.append(check(found, expected))
    extra: dict[str, Any] = {
        "status": doc["status"],
        "http_requests": sum(c["http_requests"] for c in doc["chains"]),
        "holdings": checks[-1],
        "all_exact": all(c["exact"] for c in checks),
    }
    if priced:
        extra["stored"] = doc["snapshot"] is not None
        extra["valued"] = sum(1 for c in doc["chains"] for b in c["balances"] if b["value"])
    return _median("cold_cli" if priced else "cold_cli_no_prices", runs, **extra)


def start_up(data: Path, repeats: int) -> tuple[dict[str, Any], dict[str, Any]]:
    bare = [timed_process([sys.executable, "-m", "app", "--version"])[:2] for _ in range(repeats)]
    argv = [sys.executable, "-m", "app", "--data-dir", str(data), "wallets", "list", "--json"]
    opened = [timed_process(argv)[:2] for _ in range(repeats)]
    return _median("start_up", bare), _median("start_up_open_data", opened)


def in_window(data: Path, expected_file: Path, repeats: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "tests.benchmarks.evm_window", "--data-dir", str(data),
            "--expected", str(expected_file), "--repeats", str(repeats)]  # fmt: skip
    env_before = os.environ.get("QT_QPA_PLATFORM")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        _, cpu, out = timed_process(argv)
    finally:
        if env_before is None:
            os.environ.pop("QT_QPA_PLATFORM", None)
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    figures["process_cpu_s"] = round(cpu, 3)
    return {"name": "window", **figures}


def profile_cli(data: Path, out_dir: Path, tag: str, priced: bool) -> dict[str, Any]:
    """One cold CLI run under cProfile: top 25 by cumulative and own time to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats_file = out_dir / f"cli-{tag}.pstats"
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats_file), "-m", "app",
            "--data-dir", str(data), "refresh", "--once", "--json"]  # fmt: skip
    if not priced:
        argv.append("--no-prices")
    wall, cpu, _ = timed_process(argv)
    text = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=text)
    for key in ("cumulative", "tottime"):
        stats.sort_stats(key).print_stats(25)
    (out_dir / f"cli-{tag}.txt").write_text(text.getvalue())
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = [
        (tt, ct, f"{Path(f).name}:{line} {fn}") for (f, line, fn), (_, _, tt, ct, _) in raw.items()
    ]
    top = sorted(rows, reverse=True)[:12]
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "file": str(stats_file),
            "top_tottime": [{"own_s": round(t, 3), "cum_s": round(c, 3), "fn": n} for t, c, n in top]}  # fmt: skip


def whole_path(
    args: argparse.Namespace, data: Path, expected_file: Path,
    expected: dict[tuple[str, str, str], int], floor_s: float, tag: str,
) -> dict[str, Any]:  # fmt: skip
    r = args.cli_repeats
    compile_app()
    bare, opened = start_up(data, r)
    no_prices = cold_cli(data, expected, r, priced=False)
    priced = cold_cli(data, expected, r, priced=True)
    window = in_window(data, expected_file, r)
    startup_s = bare["wall_s"]
    for fig in (no_prices, priced):
        fig["vs_floor"] = round(fig["wall_s"] / floor_s, 2)
        fig["target_s"] = round(2 * floor_s + startup_s, 3)  # 2 x floor + start-up
        fig["target_met"] = fig["wall_s"] <= fig["target_s"]
        fig["minus_start_up_vs_floor"] = round((fig["wall_s"] - startup_s) / floor_s, 2)
    window["vs_floor"] = round(window["wall_s"] / floor_s, 2)
    window["target_s"] = round(1.5 * floor_s, 3)
    window["target_met"] = window["wall_s"] <= window["target_s"]
    report: dict[str, Any] = {
        "floor_s": floor_s, "start_up": bare, "start_up_open_data": opened,
        "cold_cli_no_prices": no_prices, "cold_cli": priced, "window": window,
        "all_exact": no_prices["all_exact"] and priced["all_exact"] and window["all_exact"],
    }  # fmt: skip
    if args.profile_dir:
        report["profile"] = {
            "cold_cli_no_prices": profile_cli(data, args.profile_dir, f"{tag}-no-prices", False),
            "cold_cli": profile_cli(data, args.profile_dir, f"{tag}-priced", True),
        }
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallets", type=int, default=100)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--latency-ms", "--latency", type=float, nargs="+", default=[0.0, 50.0],
                    help="one figure set per latency (ms added to every HTTP request)")  # fmt: skip
    ap.add_argument("--naive-wallets", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per reader (median)")
    ap.add_argument("--cli-repeats", type=int, default=3, help="cold processes per figure")
    ap.add_argument("--no-defi", action="store_true", help="skip the DeFi positions part")
    ap.add_argument("--no-whole-path", action="store_true", help="readers and floor only")
    ap.add_argument("--profile-dir", type=Path, help="also profile each cold CLI once")
    args = ap.parse_args()
    wallets = [("0x" + keccak(str(i).encode()).hex()[-40:]) for i in range(args.wallets)]
    wallets = [checksum(w) for w in wallets]
    nodes = [Anvil(31337), Anvil(31338)]
    proxies: list[FaultyProxy] = []
    work = Path(tempfile.mkdtemp(prefix="chainfolio-evm-bench-"))
    try:
        t0 = time.perf_counter()
        raw_tokens = {
            str(ChainId.evm(n.chain_id)): setup_chain(n, wallets, args.tokens) for n in nodes
        }
        setup_s = time.perf_counter() - t0
        proxies = [FaultyProxy(n.url) for n in nodes]  # latency set per figure set below
        urls = [p.url for p in proxies]
        specs = [
            ChainSpec(
                ChainId.evm(n.chain_id),
                f"Bench {n.chain_id}",
                ChainFamily.EVM,
                "ETH",
                "Ether",
                18,
                60,
                (u,),
                multicall3=MULTICALL3,
            )
            for n, u in zip(nodes, urls, strict=True)
        ]
        infos = {c: [AssetInfo(erc20_asset_id(ChainId.parse(c), t), "T", "T", 18) for t in ts]
                 for c, ts in raw_tokens.items()}  # fmt: skip
        ws = [Wallet(w, AddressFamily.EVM) for w in wallets]
        expected = expected_raws(wallets, raw_tokens)
        expected_file = work / "expected.json"
        expected_file.write_text(json.dumps({"wallets": wallets, "tokens": raw_tokens}))
        data = work / "data"
        prices = FakeDefiLlama(prices={}), FakeCoinGecko(prices={})
        with (
            serve_in_thread(prices[0]) as llama_url,
            serve_in_thread(prices[1], "/api/v3") as cg_url,
        ):
            data_setup_s = 0.0
            if not args.no_whole_path:
                data_setup_s = setup_data_dir(
                    data, nodes, urls, wallets, raw_tokens, (cg_url, llama_url)
                )
            r = args.repeats
            per_latency: dict[str, Any] = {}
            for latency in args.latency_ms:
                for p in proxies:
                    p.latency = latency / 1000
                # Untimed warm-up, so whichever reader runs first does not pay for cold nodes.
                asyncio.run(floor(urls, raw_tokens, wallets))
                a = measure("product", proxies, lambda: product(specs, infos, ws), r)
                c = measure("floor", proxies, lambda: floor(urls, raw_tokens, wallets), r)
                d = measure(
                    "floor_eth_abi", proxies, lambda: floor(urls, raw_tokens, wallets, True), r
                )
                b = measure(
                    "naive_web3", proxies,
                    lambda: naive(urls, raw_tokens, wallets[: args.naive_wallets]),
                )  # fmt: skip
                full = args.wallets * (args.tokens + 1) * len(nodes)
                b["estimated_full_wall_s"] = round(b["s_per_balance"] * full, 1)
                figures: dict[str, Any] = {
                    "latency_ms": latency, "product": a, "floor": c, "floor_eth_abi": d, "naive_web3": b,
                    "product_vs_floor": round(a["wall_s"] / c["wall_s"], 2),
                    "product_vs_floor_eth_abi": round(a["wall_s"] / d["wall_s"], 2),
                    "naive_vs_product_per_balance": round(b["s_per_balance"] / a["s_per_balance"], 1),
                    "product_http_requests_per_chain": a["http_requests"] / len(nodes),
                }  # fmt: skip
                if not args.no_whole_path:
                    tag = f"{args.wallets}x{args.tokens}-{latency:g}ms"
                    figures["whole_path"] = whole_path(
                        args, data, expected_file, expected, c["wall_s"], tag
                    )
                per_latency[f"{latency:g}ms"] = figures
        report: dict[str, Any] = {
            "chains": len(nodes), "repeats": args.repeats, "cli_repeats": args.cli_repeats,
            "wallets": args.wallets, "tokens": args.tokens,
            "balances_per_refresh": args.wallets * (args.tokens + 1) * len(nodes),
            "setup_s": round(setup_s, 1), "data_dir_setup_s": round(data_setup_s, 1),
            "machine": machine(), "bytecode": "cached, as installed (PYTHONPYCACHEPREFIX)",
            "latencies": per_latency,
        }  # fmt: skip
        if not args.no_defi:
            # Last, at the last latency: the positions change what the wallets hold.
            report["defi"] = defi_part(args, nodes, specs, infos, ws, proxies, a, work)
        report["summary"] = summary(per_latency)
        print(json.dumps(report, indent=2))
    finally:
        stop_all(proxies, nodes)


def defi_part(
    args: argparse.Namespace, nodes: list[Anvil], specs: list[ChainSpec],
    infos: dict[str, list[AssetInfo]], ws: list[Wallet], proxies: list[FaultyProxy],
    a: dict[str, Any], work: Path,
) -> dict[str, Any]:  # fmt: skip
    t1 = time.perf_counter()
    sources: dict[str, list[PositionSource]] = {}
    for n, spec in zip(nodes, specs, strict=True):
        toml = setup_defi(n, [w.address for w in ws], work)
        chain = str(spec.chain_id)
        sources[chain] = build_sources(spec.chain_id, load_config(toml), infos[chain],
                                       EvmReader.native_info_of(spec))  # fmt: skip
    defi_setup_s = time.perf_counter() - t1
    per_chain: dict[str, Any] = {}
    e = measure("product_with_positions", proxies,
                lambda: product_with_positions(specs, infos, ws, sources, per_chain),
                args.repeats)  # fmt: skip
    balances_only = a["http_requests"] / len(nodes)
    for figures in per_chain.values():
        first, *later = figures["round_requests"]
        figures["balances_only_http_requests"] = balances_only
        figures["first_round_extra_requests"] = first - balances_only
        # The claim: positions cost the balances' requests plus one more round trip.
        figures["within_balances_plus_one_round"] = len(later) <= 1 and figures[
            "http_requests"
        ] <= balances_only + sum(later)
    return {
        "latency_ms": args.latency_ms[-1],
        "wallets_with_positions": args.wallets, "protocols": 4, "setup_s": round(defi_setup_s, 1),
        "product_balances_only": a, "product_with_positions": e, "per_chain": per_chain,
        "extra_wall_s": round(e["wall_s"] - a["wall_s"], 3),
    }  # fmt: skip


def summary(per_latency: dict[str, Any]) -> dict[str, Any]:
    """Each whole-path figure, its ratio to the floor of the same latency and its target."""
    out: dict[str, Any] = {}
    for key, figures in per_latency.items():
        line: dict[str, Any] = {"floor_s": figures["floor"]["wall_s"],
                                "product_reader_s": figures["product"]["wall_s"],
                                "product_reader_vs_floor": figures["product_vs_floor"]}  # fmt: skip
        whole = figures.get("whole_path")
        if whole:
            line["start_up_s"] = whole["start_up"]["wall_s"]
            for name in ("cold_cli_no_prices", "cold_cli", "window"):
                fig = whole[name]
                line[name] = {k: fig[k] for k in ("wall_s", "vs_floor", "target_s", "target_met")}
            line["all_exact"] = whole["all_exact"]
        out[key] = line
    return out


def machine() -> dict[str, Any]:
    import platform

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2)}  # fmt: skip


def checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(address))


if __name__ == "__main__":
    main()
