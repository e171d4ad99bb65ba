"""Benchmark: the EVM history scan of 20 wallets on 2 chains x 10,000 blocks, 5,000 ERC-20
transfers per chain, behind a local proxy adding 50 ms to every HTTP request. Prints JSON.

Each chain is a real anvil node: a ``TransferEmitter`` (tests/contracts/HistoryWorld.sol) emits
the transfers in 500 transactions of 10, spread over the blocks (``anvil_mine`` between them);
every transfer has a tracked wallet on at least one side (40% out, 40% in, 20% between two
tracked wallets), the others are 50 outsiders. ``--native N`` adds N native sends from tracked
wallets per chain (their traces, receipts and fees are then read too).

Measured in the same run, at the same latency:
- ``product``: ``EvmHistorySource.scan`` of both chains concurrently, a fresh session memory
  each run (nothing learned beforehand: the node's range limits are found by refusals).
  ``product_warm``: the same with the session's memory of the previous runs (spans learned).
  The movements of every run are checked exactly against the world.
- ``floor``: the fewest plain ``eth_getLogs`` requests that fetch the same logs: per chain one
  request with the wallets in topic 1 and one with them in topic 2 over the whole range (the
  node here has no range limit), all four sent concurrently over one keep-alive client, each
  reply parsed as JSON (the logs fetched, with nothing made of them yet).
Reports HTTP requests, wall time (median of ``--repeats``, product and floor alternating) and
the ratio product / floor (also of the best runs: the machine may be shared). Target: <= 2x.

Run: .venv/bin/python -m tests.benchmarks.history_scan [--wallets 20 --blocks 10000
     --transfers 5000 --latency-ms 50 --repeats 3 --native 0]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from app.chains.evm.history import evm_history_source
from app.chains.evm.history_replies import TRANSFER_TOPIC
from app.chains.evm.ranges import RangeMemory
from app.chains.evm.tokens import erc20_asset_id
from app.defi.abi import call_data, checksum
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.onchain import ScanRequest
from tests.integration.evm.anvil import ANVIL, ARTIFACTS, Anvil, stop_all
from tests.support.net import free_port, wait_until

PER_TX = 10
Key = tuple[str, str, int, str, int]  # wallet, asset, delta, counterparty, block


def _wallets(n: int, prefix: str) -> list[str]:
    return [checksum("0x" + prefix + f"{i + 1:036x}") for i in range(n)]


def build_chain(node: Anvil, wallets: list[str], blocks: int, transfers: int, native: int,
                seed: int) -> Counter[Key]:  # fmt: skip
    """Emit the transfers; return the movements the tracked wallets must see."""
    rng = random.Random(seed)
    outsiders = _wallets(50, "3000")
    emitter = checksum(node.deploy("TransferEmitter"))
    asset = str(erc20_asset_id(ChainId.evm(node.chain_id), emitter))
    txs = max(1, transfers // PER_TX)
    gap = max(0, blocks // (txs + native) - 1)
    tracked = set(wallets)
    want: Counter[Key] = Counter()
    for t in range(txs):
        src, dst = [], []
        for _ in range(PER_TX):
            roll = rng.random()
            if roll < 0.4:
                pair = (rng.choice(wallets), rng.choice(outsiders))
            elif roll < 0.8:
                pair = (rng.choice(outsiders), rng.choice(wallets))
            else:
                pair = (rng.choice(wallets), rng.choice(wallets))
            src.append(pair[0])
            dst.append(pair[1])
        value = 10**18 + t * 1000
        receipt = node.send(
            emitter,
            "0x" + call_data("emitMany(address[],address[],uint256)", src, dst, value).hex(),
        )
        block = int(receipt["blockNumber"], 16)
        for i, (s, d) in enumerate(zip(src, dst, strict=True)):
            if s in tracked:
                want[(s, asset, -(value + i), d, block)] += 1
            if d in tracked:
                want[(d, asset, value + i, s, block)] += 1
        if gap:
            node.rpc("anvil_mine", hex(gap))
    native_asset = f"eip155:{node.chain_id}/slip44:60"
    for n in range(native):
        sender, to = wallets[n % len(wallets)], outsiders[n % len(outsiders)]
        node.rpc("anvil_setBalance", sender, hex(10**20))
        node.rpc("anvil_impersonateAccount", sender)
        h = node.rpc("eth_sendTransaction", {"from": sender, "to": to, "value": hex(10**15 + n),
                                              "gas": hex(21000)})  # fmt: skip
        sent: dict[str, Any] | None = None
        while not sent:  # automine: at once, or within a few polls
            sent = node.rpc("eth_getTransactionReceipt", h)
        want[(sender, native_asset, -(10**15 + n), to, int(sent["blockNumber"], 16))] += 1
        if gap:
            node.rpc("anvil_mine", hex(gap))
    head = int(node.rpc("eth_blockNumber"), 16)
    if head < blocks:
        node.rpc("anvil_mine", hex(blocks - head))
    return want


class StateAnvil(Anvil):
    """An anvil node started from a state file (blocks, receipts and traces included)."""

    def __init__(self, chain_id: int, state: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.chain_id = chain_id
        self.proc = subprocess.Popen(
            [str(ANVIL), "--port", str(self.port), "--host", "127.0.0.1", "--chain-id",
             str(chain_id), "--silent", "--load-state", str(state)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.http = httpx.Client(timeout=60)
        wait_until(self._ready, 120, "anvil to load its state")
        self.sender = self.rpc("eth_accounts")[0]


class OutOfProcessProxy:
    """The latency proxy in a process of its own, so its JSON work never competes with the
    scan (or the floor) for this process's interpreter lock, as a real network would not."""

    def __init__(self, upstream: str, latency: float) -> None:
        code = (
            "import sys\n"
            "from tests.integration.evm.history_proxy import HistoryProxy\n"
            f"p = HistoryProxy({upstream!r}, latency={latency!r})\n"
            "print(p.url, flush=True)\n"
            "sys.stdin.read()\n"
            "p.stop()\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=str(Path(__file__).resolve().parents[2]),
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError("the latency proxy did not start")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "chainfolio-bench"


def world(chain_id: int, wallets: list[str], args: argparse.Namespace, seed: int
          ) -> tuple[Anvil, Counter[Key], bool]:  # fmt: skip
    """The chain's node and the movements it must give. Mining 10,000 blocks costs anvil
    minutes (each block costs more than the one before), so a built chain is kept as an anvil
    state file in the user's cache directory, keyed by the parameters and the contract code,
    and later runs load it in a second."""
    code = hashlib.sha256(ARTIFACTS["TransferEmitter"]["bytecode"].encode()).hexdigest()[:12]
    key = f"history-{chain_id}-w{len(wallets)}-b{args.blocks}-t{args.transfers}-n{args.native}-s{seed}-{code}"
    state, expected = _cache_dir() / f"{key}.state.json", _cache_dir() / f"{key}.want.json"
    if state.exists() and expected.exists():
        rows = json.loads(expected.read_text())
        want: Counter[Key] = Counter({tuple(r[0]): r[1] for r in rows})
        return StateAnvil(chain_id, state), want, True
    node = Anvil(chain_id)
    want = build_chain(node, wallets, args.blocks, args.transfers, args.native, seed)
    dumped = node.rpc("anvil_dumpState")
    _cache_dir().mkdir(parents=True, exist_ok=True)
    state.write_bytes(gzip.decompress(bytes.fromhex(dumped[2:])))
    expected.write_text(json.dumps([[list(k), v] for k, v in want.items()]))
    return node, want, False


async def product(
    specs: list[ChainSpec], wallets: list[str], memories: list[RangeMemory]
) -> tuple[float, int, list[Any]]:
    sources = [
        evm_history_source(s, list(s.rpc_urls), memory=m)
        for s, m in zip(specs, memories, strict=True)
    ]
    requests = [ScanRequest(w) for w in wallets]

    async def one(src: Any) -> list[Any]:
        return [b async for b in src.scan(requests)]

    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(s) for s in sources))
    wall = time.perf_counter() - t0
    count = sum(s.requests for s in sources)
    for s in sources:
        await s.aclose()
    return wall, count, results


async def floor(urls: list[str], wallets: list[str], head: int) -> tuple[float, int, int]:
    topics = ["0x" + "0" * 24 + w[2:].lower() for w in wallets]
    bodies = []
    for side in (1, 2):
        t: list[Any] = [TRANSFER_TOPIC, None, None]
        t[side] = topics
        bodies.append({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
                       "params": [{"fromBlock": "0x0", "toBlock": hex(head), "topics": t}]})  # fmt: skip
    async with httpx.AsyncClient(timeout=120) as client:
        await client.post(
            urls[0], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        )  # fmt: skip  (connection warm, like ours)
        t0 = time.perf_counter()

        async def fetch(url: str, body: dict[str, Any]) -> list[Any]:
            reply = await client.post(url, json=body)
            result: list[Any] = reply.json()["result"]  # fetched = parsed, as any reader must
            return result

        replies = await asyncio.gather(*(fetch(u, b) for u in urls for b in bodies))
        wall = time.perf_counter() - t0
    logs = sum(len(r) for r in replies)
    return wall, len(replies), logs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallets", type=int, default=20)
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--transfers", type=int, default=5_000)
    ap.add_argument("--native", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    wallets = _wallets(args.wallets, "2000")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        built = list(pool.map(lambda i: world(31_501 + i, wallets, args, i), range(2)))
    setup = time.perf_counter() - t0
    nodes = [b[0] for b in built]
    wants = [b[1] for b in built]
    proxies: list[OutOfProcessProxy] = []
    try:
        proxies = [OutOfProcessProxy(n.url, args.latency_ms / 1000) for n in nodes]
        specs = [
            ChainSpec(ChainId.evm(n.chain_id), f"Chain {n.chain_id}", ChainFamily.EVM, "ETH",
                      "Ether", 18, 60, (p.url,))
            for n, p in zip(nodes, proxies, strict=True)
        ]  # fmt: skip
        heads = [int(n.rpc("eth_blockNumber"), 16) for n in nodes]
        runs: dict[str, list[float]] = {"product": [], "product_warm": [], "floor": []}
        counts: dict[str, int] = {}
        logs_total = 0
        session = [RangeMemory() for _ in specs]
        for _ in range(args.repeats):
            wall, count, results = asyncio.run(
                product(specs, wallets, [RangeMemory() for _ in specs])
            )
            runs["product"].append(wall)
            counts["product"] = count
            wall, count, warm = asyncio.run(product(specs, wallets, session))
            runs["product_warm"].append(wall)
            counts["product_warm"] = count
            for want, batches in zip(wants * 2, results + warm, strict=True):
                got: Counter[Key] = Counter(
                    (m.wallet, m.asset, m.delta, m.counterparty or "", m.block)
                    for b in batches for m in b.movements
                )  # fmt: skip
                assert got == want, "the scan's movements differ from the world's"
            fwall, fcount, logs_total = asyncio.run(floor([p.url for p in proxies], wallets,
                                                          max(heads)))  # fmt: skip
            runs["floor"].append(fwall)
            counts["floor"] = fcount
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(json.dumps({
            "wallets": args.wallets, "chains": 2, "blocks_per_chain": heads,
            "transfers_per_chain": args.transfers, "native_per_chain": args.native,
            "movements_checked": sum(sum(w.values()) for w in wants),
            "floor_logs_fetched": logs_total, "latency_ms": args.latency_ms,
            "setup_s": round(setup, 1), "setup_from_cache": all(b[2] for b in built),
            "repeats": args.repeats,
            "product": {"requests": counts["product"], "wall_s": round(med["product"], 3),
                        "runs_s": [round(x, 3) for x in runs["product"]]},
            "product_warm": {"requests": counts["product_warm"],
                             "wall_s": round(med["product_warm"], 3),
                             "runs_s": [round(x, 3) for x in runs["product_warm"]]},
            "floor": {"requests": counts["floor"], "wall_s": round(med["floor"], 3),
                      "runs_s": [round(x, 3) for x in runs["floor"]]},
            "ratio_wall": round(med["product"] / med["floor"], 2),
            "ratio_wall_best": round(min(runs["product"]) / min(runs["floor"]), 2),
            "ratio_wall_warm": round(med["product_warm"] / med["floor"], 2),
            "ratio_requests": round(counts["product"] / counts["floor"], 2),
            "target_ratio": 2.0,
        }, indent=1))  # fmt: skip
    finally:
        stop_all(proxies, nodes)


if __name__ == "__main__":
    main()
