"""Benchmark: a zpub with 1,000 used addresses behind 50 ms of latency per request.

The local Electrum-protocol server (tests/support/bitcoin_fakes.py, real raw transactions) runs
in a child process, so its Python work does not share the client's GIL; every message it
receives (one batch of requests, or one request) is answered 50 ms after it arrived. The wallet
has 700 used receive addresses and 300 used change addresses (each funded once), then nothing.

Measured, each a fresh reader:

- ``electrum_first_scan``: no address cache: the gap-limit walk finds the used addresses in
  growing windows, then asks the balances of the used ones;
- ``electrum_next_scan``: with the cache the first scan left (every known used address and the
  gap beyond it asked in the first round, balances in the same round);
- ``electrum_history``: the history source over the same wallet (histories, raw transactions,
  block headers);
- ``esplora_first_scan``: the same wallet through an Esplora server with the same latency per
  HTTP request (no batches in that API: one request per address, 8 in flight).

For each: JSON-RPC requests (or HTTP requests), writes (round trips of batches), wall time, and
``one_by_one_floor_s``: what the same requests would cost sent one at a time (requests x 50 ms).
Prints one JSON object; exits 1 when a scan finds a wrong balance or the Electrum first scan
takes 10 s or more.

    .venv/bin/python tests/benchmarks/bitcoin_scan.py
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LATENCY = 0.05
RECEIVE_USED = 700
CHANGE_USED = 300
ZPUB = (
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf3"
    "1mGDtKsAYz2oz2AGutZYs"
)


def build_chain():  # type: ignore[no-untyped-def]
    from app.domain.bitcoin import CHANGE, RECEIVE, Deriver, parse_bitcoin
    from tests.support.bitcoin_fakes import FakeChain

    d = Deriver(parse_bitcoin(ZPUB))
    chain = FakeChain(tip=900_000)
    height = 800_000
    for branch, count in ((RECEIVE, RECEIVE_USED), (CHANGE, CHANGE_USED)):
        for i in range(count):
            height += 1
            chain.fund(d.derive(branch, i).script, 10_000 + i, height)
    return chain


def expected_total() -> int:
    return sum(10_000 + i for i in range(RECEIVE_USED)) + sum(
        10_000 + i for i in range(CHANGE_USED)
    )


def serve(kind: str) -> None:
    """Child process: serve the chain, print the address, run until stdin closes."""
    from tests.support.bitcoin_fakes import ElectrumFake, EsploraFake

    chain = build_chain()
    if kind == "esplora":
        fake = EsploraFake(chain, latency=LATENCY)
        with fake.running() as url:
            print(url, flush=True)
            sys.stdin.read()
        return

    async def main() -> None:
        server = await ElectrumFake(chain, latency=LATENCY).start()
        print(server.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.stop()

    asyncio.run(main())


class Child:
    def __init__(self, kind: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()  # the server is ready once it says this

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def figures(requests: int, writes: int | None, seconds: float, ok: bool) -> dict[str, object]:
    return {
        "requests": requests,
        "writes": writes,
        "wall_s": round(seconds, 3),
        "one_by_one_floor_s": round(requests * LATENCY, 1),
        "balance_ok": ok,
    }


async def electrum_runs(url: str) -> dict[str, object]:
    from app.chains.bitcoin.electrum import ElectrumClient
    from app.chains.bitcoin.history import BitcoinHistorySource
    from app.chains.bitcoin.scan import ElectrumBackend, discover
    from app.chains.bitcoin.servers import parse_electrum_server
    from app.domain.addresses import AddressFamily
    from app.domain.bitcoin import BITCOIN_CHAIN, BTC_ASSET, Deriver, parse_bitcoin
    from app.domain.model import Wallet
    from app.domain.onchain import ScanRequest

    server = parse_electrum_server(url)
    assert server is not None
    out: dict[str, object] = {}
    known: list[tuple[int, int]] = []
    for name in ("electrum_first_scan", "electrum_next_scan"):
        backend = ElectrumBackend(ElectrumClient(server, timeout=60, batch_size=100))
        deriver = Deriver(parse_bitcoin(ZPUB))
        started = time.perf_counter()
        found = await discover(deriver, backend, 20, known)
        seconds = time.perf_counter() - started
        out[name] = figures(
            backend.requests, backend.writes, seconds, found.total == expected_total()
        )
        known = list(found.used)
        await backend.aclose()
    key = parse_bitcoin(ZPUB)
    wallet = Wallet(key.first_address, AddressFamily.BITCOIN, watch=ZPUB)
    backend = ElectrumBackend(ElectrumClient(server, timeout=60, batch_size=100))
    source = BitcoinHistorySource(BITCOIN_CHAIN, BTC_ASSET, backend, lambda: [wallet], 20)
    started = time.perf_counter()
    batches = [b async for b in source.scan([ScanRequest(wallet.address)])]
    seconds = time.perf_counter() - started
    total = sum(m.delta for b in batches for m in b.movements)
    out["electrum_history"] = figures(
        backend.requests, backend.writes, seconds, total == expected_total()
    ) | {"movements": sum(len(b.movements) for b in batches)}
    await source.aclose()
    return out


async def esplora_run(url: str) -> dict[str, object]:
    from app.chains.bitcoin.esplora import EsploraClient
    from app.chains.bitcoin.scan import EsploraBackend, discover
    from app.domain.bitcoin import Deriver, parse_bitcoin

    backend = EsploraBackend(EsploraClient([url], timeout=60, concurrency=8))
    started = time.perf_counter()
    found = await discover(Deriver(parse_bitcoin(ZPUB)), backend, 20)
    seconds = time.perf_counter() - started
    await backend.aclose()
    return {
        "esplora_first_scan": figures(
            backend.requests, None, seconds, found.total == expected_total()
        )
    }


def main() -> int:
    result: dict[str, object] = {
        "used_addresses": RECEIVE_USED + CHANGE_USED,
        "latency_ms": int(LATENCY * 1000),
        "gap_limit": 20,
        "electrum_batch_size": 100,
    }
    child = Child("electrum")
    try:
        result.update(asyncio.run(electrum_runs(child.url)))
    finally:
        child.close()
    child = Child("esplora")
    try:
        result.update(asyncio.run(esplora_run(child.url)))
    finally:
        child.close()
    print(json.dumps(result, indent=2))
    runs = [v for v in result.values() if isinstance(v, dict)]
    first = result["electrum_first_scan"]
    assert isinstance(first, dict)
    bad = not all(r["balance_ok"] for r in runs) or float(first["wall_s"]) >= 10
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
