"""Benchmark: Solana refresh of 200 wallets x 20 token accounts behind 50 ms of latency.

The local JSON-RPC server (real SVM, tests/support/solana_rpc.py) runs in a child process so
that peak memory (tracemalloc) is the reader's own. The batched reader and a naive reader (one
HTTP request per RPC call, same pacing and concurrency) are measured in the same run.
Each reader runs twice: once under tracemalloc for peak memory, once untraced for timings.
Prints one JSON object. Run: ``.venv/bin/python -m tests.benchmarks.solana_refresh``.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing as mp
import sys
import time
import tracemalloc
from typing import Any

WALLETS = 200
TOKENS_PER_WALLET = 20
LATENCY = 0.05
BATCH = 100
CONCURRENCY = 8
# Pacing for the local endpoint: generous enough that the limiter never needs to wait, so the
# figures show round trips; public-endpoint pacing (100 / 10 s, 40 per method) is the default.
RATE_TOTAL, RATE_PER_METHOD, RATE_WINDOW = 100_000, 100_000, 1.0


def _serve(ready: Any, stop: Any, wallets_out: Any) -> None:
    from solders.pubkey import Pubkey

    from tests.support.solana_rpc import TOKEN_2022_PROGRAM, SolanaRpcServer

    server = SolanaRpcServer()
    mints = [Pubkey.new_unique() for _ in range(TOKENS_PER_WALLET)]
    for i, m in enumerate(mints):
        server.add_mint(m, 6) if i % 4 else server.add_mint(m, 6, TOKEN_2022_PROGRAM)
    owners = []
    for w in range(WALLETS):
        owner = Pubkey.new_unique()
        owners.append(str(owner))
        server.fund(owner, 1_000_000_000 + w)
        for i, m in enumerate(mints):
            program = TOKEN_2022_PROGRAM if i % 4 == 0 else None
            if program is None:
                server.add_token_account(owner, m, 1_000 + i)
            else:
                server.add_token_account(owner, m, 1_000 + i, program)
        if w % 10 == 0:
            server.add_stake(owner, owner, 2_000_000_000)
    server.latency = LATENCY
    server.start()
    wallets_out.put((server.url, owners))
    ready.set()
    stop.wait()
    wallets_out.put(server.http_requests)
    server.stop()


async def _measure(url: str, owners: list[str], batch: int, trace: bool) -> dict[str, Any]:
    from app.chains.solana.reader import SolanaReader
    from app.chains.solana.rpc import BatchClient, RateLimiter
    from app.domain.addresses import AddressFamily
    from app.domain.chains import ChainFamily, ChainSpec
    from app.domain.ids import ChainId
    from app.domain.model import Wallet

    spec = ChainSpec(
        chain_id=ChainId.parse("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
        name="Solana",
        family=ChainFamily.SOLANA,
        native_symbol="SOL",
        native_name="Solana",
        native_decimals=9,
        native_slip44=501,
        rpc_urls=(url,),
    )
    wallets = [Wallet(address=o, family=AddressFamily.SOLANA) for o in owners]
    client = BatchClient(
        [url],
        batch_size=batch,
        limiter=RateLimiter(RATE_TOTAL, RATE_PER_METHOD, RATE_WINDOW),
        concurrency=CONCURRENCY,
        timeout=60.0,
    )
    reader = SolanaReader(spec, client)
    if trace:
        tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    result = await reader.read_balances(wallets)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    await reader.aclose()
    tokens = sum(1 for b in result.balances if b.asset.kind.value == "token")
    return {
        "state": result.state.value,
        "http_requests": result.http_requests,
        "wall_s": round(wall, 3),
        "client_cpu_s": round(cpu, 3),
        "peak_mem_mib": round(peak / 2**20, 1),
        "token_balances": tokens,
        "balances": len(result.balances),
        "failures": len(result.failures),
    }


def main() -> int:
    ctx = mp.get_context("spawn")
    ready, stop, q = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_serve, args=(ready, stop, q), daemon=True)
    proc.start()
    url, owners = q.get(timeout=300)
    ready.wait(60)
    # First run of each traces memory (tracemalloc slows allocation); the second gives timings.
    batched_mem = asyncio.run(_measure(url, owners, BATCH, trace=True))
    batched = asyncio.run(_measure(url, owners, BATCH, trace=False))
    naive_mem = asyncio.run(_measure(url, owners, 1, trace=True))
    naive = asyncio.run(_measure(url, owners, 1, trace=False))
    batched["peak_mem_mib"] = batched_mem["peak_mem_mib"]
    naive["peak_mem_mib"] = naive_mem["peak_mem_mib"]
    stop.set()
    server_requests = q.get(timeout=60)
    proc.join(30)
    round1 = math.ceil(WALLETS / 100) + 4 * WALLETS
    round2 = 1  # one getMultipleAccounts for the (unlisted) mints
    target_requests = math.ceil(round1 / BATCH) + math.ceil(round2 / BATCH)
    waves = math.ceil(math.ceil(round1 / BATCH) / CONCURRENCY) + 1
    out = {
        "wallets": WALLETS,
        "token_accounts_per_wallet": TOKENS_PER_WALLET,
        "latency_ms": int(LATENCY * 1000),
        "batch_size": BATCH,
        "concurrency": CONCURRENCY,
        "rpc_calls": round1 + round2,
        "target_http_requests": target_requests,
        "round_trips_needed": waves,
        "target_wall_s_3_round_trips": round(3 * LATENCY, 3),
        "batched": batched,
        "naive_one_request_per_call": naive,
        "server_http_requests_total": server_requests,
        "speedup": round(naive["wall_s"] / batched["wall_s"], 1) if batched["wall_s"] else None,
    }
    print(json.dumps(out, indent=2))
    ok = batched["state"] == "ok" and batched["http_requests"] <= target_requests
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
