"""Benchmark: Solana refresh of 200 wallets x 20 token accounts behind 50 ms of latency.

The local JSON-RPC server (real SVM, tests/support/solana_rpc.py) runs in a child process, so
peak memory (tracemalloc) is the reader's own and the server's Python work does not share the
client's GIL. Three refreshes are measured in the same run:

- ``batched_first_refresh``: a fresh process; the 20 mints are outside the curated list, so the
  metadata round is needed and its calls are counted in ``rpc_calls``;
- ``batched_next_refresh``: a second refresh of the same process; every mint is known (mint
  cache), so there is no metadata round;
- ``naive_one_request_per_call``: one HTTP request per RPC call, same pacing and concurrency.

The reader runs with the app's own batch concurrency (``DEFAULT_CONCURRENCY``), the naive reader
too. The server holds each request for the latency, then answers in arrival order, one at a time.

For each: HTTP requests and RPC calls as the server counted them, the target
``ceil(rpc_calls / batch size)``, wall time, the server's busy time (the seconds in which it was
building replies, latency excluded: the Python stand-in for a node shares the 2 cores), the
client's CPU time, the round trips the plan needs and their latency floor. Each batched refresh runs once under
tracemalloc for peak memory and five times untraced; the median is reported. Prints one JSON object; exits 1 if a batched
refresh misses the request target. Run: ``.venv/bin/python -m tests.benchmarks.solana_refresh``.
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
# Pacing for the local endpoint: generous enough that the limiter never needs to wait, so the
# figures show round trips; public-endpoint pacing (100 / 10 s, 40 per method) is the default.
RATE_TOTAL, RATE_PER_METHOD, RATE_WINDOW = 100_000, 100_000, 1.0
REPEATS = 5


def _serve(ready: Any, stop: Any, wallets_out: Any) -> None:
    from solders.pubkey import Pubkey

    from tests.support.solana_rpc import TOKEN_2022_PROGRAM, SolanaRpcServer

    server = SolanaRpcServer()
    server.set_epoch(700)
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
    server.stop()


def _stats(url: str, reset: bool = False) -> dict[str, Any]:
    import httpx

    reply = httpx.get(f"{url}/stats", params={"reset": "1"} if reset else None, timeout=10)
    return dict(reply.json())


async def _measure(
    url: str, owners: list[str], batch: int, cache: Any, trace: bool
) -> dict[str, Any]:
    from app.chains.solana.reader import SolanaReader
    from app.chains.solana.rpc import DEFAULT_CONCURRENCY, BatchClient, RateLimiter
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
        concurrency=DEFAULT_CONCURRENCY,
        timeout=60.0,
    )
    reader = SolanaReader(spec, client, cache=cache)
    await asyncio.to_thread(_stats, url, True)
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
    server = await asyncio.to_thread(_stats, url)
    tokens = sum(1 for b in result.balances if b.asset.kind.value == "token")
    return {
        "state": result.state.value,
        "http_requests": result.http_requests,
        "rpc_calls": server["rpc_calls"],
        "target_http_requests": math.ceil(server["rpc_calls"] / batch),
        "wall_s": round(wall, 3),
        "server_busy_s": round(server["processing_s"], 3),
        "wall_minus_server_busy_s": round(wall - server["processing_s"], 3),
        "client_cpu_s": round(cpu, 3),
        "peak_mem_mib": round(peak / 2**20, 1),
        "token_balances": tokens,
        "balances": len(result.balances),
        "failures": len(result.failures),
    }


def _runs(url: str, owners: list[str], batch: int, make_cache: Any, repeats: int) -> dict[str, Any]:
    """One traced run for peak memory, then ``repeats`` timed runs (each on its own copy of the
    cache); the timed run with the median wall time is reported, so a busy moment of this shared
    2-core machine does not decide the figure."""
    traced = asyncio.run(_measure(url, owners, batch, make_cache(), trace=True))
    timed = [
        asyncio.run(_measure(url, owners, batch, make_cache(), trace=False)) for _ in range(repeats)
    ]
    median = sorted(timed, key=lambda r: r["wall_s"])[len(timed) // 2]
    median["peak_mem_mib"] = traced["peak_mem_mib"]
    median["wall_s_all_runs"] = [r["wall_s"] for r in timed]
    return median


def main() -> int:
    from app.chains.solana.mints import MintCache
    from app.chains.solana.rpc import DEFAULT_CONCURRENCY

    ctx = mp.get_context("spawn")
    ready, stop, q = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_serve, args=(ready, stop, q), daemon=True)
    proc.start()
    url, owners = q.get(timeout=300)
    ready.wait(60)
    # A warm-up refresh fills the mint cache the "next refresh" runs start from.
    learnt = MintCache()
    asyncio.run(_measure(url, owners, BATCH, learnt, trace=False))

    first = _runs(url, owners, BATCH, MintCache, REPEATS)
    following = _runs(url, owners, BATCH, learnt.copy, REPEATS)
    naive = _runs(url, owners, 1, MintCache, 1)
    stop.set()
    proc.join(30)
    round1 = 1 + math.ceil(WALLETS / 100) + 4 * WALLETS  # epoch, SOL, 2 token + 2 stake / wallet
    # First refresh: round 1 sends only its full batches, the remainder rides with the metadata
    # round that depends on it. Later refresh: every batch of round 1 at once, no metadata round.
    first["round_trips_needed"] = math.ceil(round1 // BATCH / DEFAULT_CONCURRENCY) + 1
    following["round_trips_needed"] = math.ceil(math.ceil(round1 / BATCH) / DEFAULT_CONCURRENCY)
    out = {
        "wallets": WALLETS,
        "token_accounts_per_wallet": TOKENS_PER_WALLET,
        "latency_ms": int(LATENCY * 1000),
        "batch_size": BATCH,
        "concurrency": DEFAULT_CONCURRENCY,
        "target_wall_s_3_round_trips": round(3 * LATENCY, 3),
        "batched_first_refresh": first,
        "batched_next_refresh": following,
        "naive_one_request_per_call": naive,
        "speedup_first_refresh": round(naive["wall_s"] / first["wall_s"], 1),
    }
    for run in (first, following):
        run["latency_floor_s"] = round(run["round_trips_needed"] * LATENCY, 3)
        run["meets_request_target"] = run["http_requests"] <= run["target_http_requests"]
        run["meets_wall_target"] = run["wall_s"] <= 3 * LATENCY
        run["wall_minus_server_meets_wall_target"] = run["wall_minus_server_busy_s"] <= 3 * LATENCY
    print(json.dumps(out, indent=2))
    ok = all(r["state"] == "ok" and r["meets_request_target"] for r in (first, following))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
