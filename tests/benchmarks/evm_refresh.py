"""Benchmark: two anvil chains, 100 wallets x 200 tokens, 50 ms latency per HTTP request.

Measures in one run (a) the product's refresh (BalanceService + EvmReader), (b) a naive web3.py
reader (one balanceOf call per balance, gathered) and (c) the floor: raw aggregate3 chunks sent
concurrently with eth-abi over one keep-alive httpx client. Prints JSON.

For a fair comparison the floor sends exactly the chunks the product plans: the same byte and gas
budgets (``MAX_BYTES``, ``GAS_CAP``, the product's defaults) through ``chunking.split``, and the
same fixed-layout aggregate3 codec (``calls.encode_aggregate3``, byte-identical to eth-abi's and
tested against it), so the ratio measures the product's own overhead, not a codec difference.
A second floor, ``floor_eth_abi``, encodes and decodes with eth-abi, as the issue first described.

The naive reader makes three HTTP requests per balance (120k for the full size), so by default it
runs on the first ``--naive-wallets`` wallets and its time is also given scaled per balance.
Run: .venv/bin/python -m tests.benchmarks.evm_refresh [--wallets 100 --tokens 200 --repeats 5]
Each reader is timed --repeats times after one untimed warm-up pass; the median is reported.

DeFi: afterwards the same wallets get positions in all four protocols (the test contracts of
tests/contracts/Defi.sol: Aave v3, Compound v3, Lido, EigenLayer) and the product reads them
with the balances (``product_with_positions``). Its HTTP requests are checked against the
balances-only figure plus one round: the protocol calls known up front ride in the balance
chunks, the dependent ones (Aave reserves, EigenLayer strategies, Comet collateral) go out
together in a second round. ``defi`` in the JSON gives both counts per chain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
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
from tests.integration.defi import world as defi
from tests.integration.evm.anvil import ARTIFACTS, MULTICALL3, Anvil
from tests.integration.evm.proxy import FaultyProxy

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


async def floor(
    urls: list[str], tokens: dict[str, list[str]], wallets: list[str], eth_abi: bool = False
) -> int:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=32)) as client:

        async def chunk(url: str, part: list[RawCall]) -> int:
            encode_fn = calls.encode_aggregate3_reference if eth_abi else calls.encode_aggregate3
            decode_fn = calls.decode_aggregate3_reference if eth_abi else calls.decode_aggregate3
            data = encode_fn([(c.target, c.data) for c in part])
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                    "params": [{"to": MULTICALL3, "data": "0x" + data.hex()}, "latest"]}  # fmt: skip
            reply = (await client.post(url, json=body)).json()
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
    name: str, proxies: list[FaultyProxy], fn: Callable[[], Awaitable[int]], repeats: int = 1
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallets", type=int, default=100)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--naive-wallets", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per reader (median)")
    args = ap.parse_args()
    wallets = [("0x" + keccak(str(i).encode()).hex()[-40:]) for i in range(args.wallets)]
    wallets = [checksum(w) for w in wallets]
    nodes = [Anvil(31337), Anvil(31338)]
    proxies: list[FaultyProxy] = []
    try:
        t0 = time.perf_counter()
        raw_tokens = {
            str(ChainId.evm(n.chain_id)): setup_chain(n, wallets, args.tokens) for n in nodes
        }
        setup_s = time.perf_counter() - t0
        proxies = [FaultyProxy(n.url, latency=args.latency_ms / 1000) for n in nodes]
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
        # Untimed warm-up, so whichever reader runs first does not pay for the nodes' cold state.
        asyncio.run(floor(urls, raw_tokens, wallets))
        r = args.repeats
        a = measure("product", proxies, lambda: product(specs, infos, ws), r)
        c = measure("floor", proxies, lambda: floor(urls, raw_tokens, wallets), r)
        d = measure("floor_eth_abi", proxies, lambda: floor(urls, raw_tokens, wallets, True), r)
        b = measure(
            "naive_web3", proxies, lambda: naive(urls, raw_tokens, wallets[: args.naive_wallets])
        )
        t1 = time.perf_counter()
        sources: dict[str, list[PositionSource]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n, spec in zip(nodes, specs, strict=True):
                toml = setup_defi(n, wallets, Path(tmp))
                chain = str(spec.chain_id)
                sources[chain] = build_sources(spec.chain_id, load_config(toml), infos[chain],
                                               EvmReader.native_info_of(spec))  # fmt: skip
        defi_setup_s = time.perf_counter() - t1
        per_chain: dict[str, Any] = {}
        e = measure("product_with_positions", proxies,
                    lambda: product_with_positions(specs, infos, ws, sources, per_chain), r)  # fmt: skip
        balances_only = a["http_requests"] / len(nodes)
        for figures in per_chain.values():
            first, *later = figures["round_requests"]
            figures["balances_only_http_requests"] = balances_only
            figures["first_round_extra_requests"] = first - balances_only
            # The claim: positions cost the balances' requests plus one more round trip.
            figures["within_balances_plus_one_round"] = len(later) <= 1 and figures[
                "http_requests"
            ] <= balances_only + sum(later)
        defi_report = {
            "wallets_with_positions": args.wallets, "protocols": 4, "setup_s": round(defi_setup_s, 1),
            "product_balances_only": a, "product_with_positions": e, "per_chain": per_chain,
            "extra_wall_s": round(e["wall_s"] - a["wall_s"], 3),
        }  # fmt: skip
        full = args.wallets * (args.tokens + 1) * len(nodes)
        b["estimated_full_wall_s"] = round(b["s_per_balance"] * full, 1)
        report = {
            "chains": len(nodes), "repeats": args.repeats, "wallets": args.wallets, "tokens": args.tokens,
            "balances_per_refresh": full, "latency_ms": args.latency_ms, "setup_s": round(setup_s, 1),
            "product": a, "floor": c, "floor_eth_abi": d, "naive_web3": b,
            "product_vs_floor": round(a["wall_s"] / c["wall_s"], 2),
            "product_vs_floor_eth_abi": round(a["wall_s"] / d["wall_s"], 2),
            "naive_vs_product_per_balance": round(b["s_per_balance"] / a["s_per_balance"], 1),
            "product_http_requests_per_chain": a["http_requests"] / len(nodes),
            "defi": defi_report,
        }  # fmt: skip
        print(json.dumps(report, indent=2))
    finally:
        for p in proxies:
            p.stop()
        for n in nodes:
            n.stop()


def checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(address))


if __name__ == "__main__":
    main()
