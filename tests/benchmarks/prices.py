"""Benchmark: valuing 2,000 distinct assets, batched service vs one request per asset.

Both runs use the same local DefiLlama/CoinGecko servers (127.0.0.1) in the same process. 1,500
assets are known to DefiLlama, the other 500 only to CoinGecko (fallback path). Prints JSON.

    .venv/bin/python -m tests.benchmarks.prices
"""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.domain.valuation import PricedAsset
from app.prices.coingecko import CoinGeckoSource
from app.prices.defillama import DefiLlamaSource
from app.services.prices import PriceService
from app.storage.database import open_database
from app.storage.price_store import SqlPriceStore
from tests.integration.prices.fakes import FakeCoinGecko, FakeDefiLlama, serve

N = 2000
ON_LLAMA = 1500
WALLET = AccountId.parse("eip155:1:0x00000000219ab540356cBB839Cbe05303d7705Fa")


async def bench(db_dir: Path) -> dict[str, object]:
    addresses = [f"0x{i + 1:040x}" for i in range(N)]
    llama = FakeDefiLlama(prices={f"ethereum:{a}": 1.25 for a in addresses[:ON_LLAMA]})
    cg = FakeCoinGecko(prices={f"ethereum:{a}": 2.5 for a in addresses[ON_LLAMA:]})
    assets = [AssetId.parse(f"eip155:1/erc20:{a}") for a in addresses]
    balances = [Balance(WALLET, AssetInfo(a, "T", "T", 0), 2) for a in assets]
    async with (
        serve(llama) as lurl,
        serve(cg, "/api/v3") as curl,
        httpx.AsyncClient(timeout=30) as http,
    ):
        engine = open_database(db_dir / "db.sqlite3", db_dir / "backups")
        svc = PriceService(
            SqlPriceStore(engine),
            [DefiLlamaSource(http, lurl), CoinGeckoSource(http, curl, curl, per_minute=60000)],
        )
        t0 = time.perf_counter()
        v = await svc.value(balances, "USD")
        batched_s = time.perf_counter() - t0
        assert v.total == Decimal(2) * (Decimal("1.25") * ON_LLAMA + Decimal("2.5") * 500)
        batched_requests = len(llama.log) + len(cg.log)
        engine.dispose()

        llama.log.clear()
        cg.log.clear()
        single_llama = DefiLlamaSource(http, lurl)
        single_cg = CoinGeckoSource(http, curl, curl, per_minute=60000)
        t0 = time.perf_counter()
        priced = 0
        for a in assets:
            answer = await single_llama.current_usd([PricedAsset(a)])
            if not answer.prices:
                answer = await single_cg.current_usd([PricedAsset(a)])
            priced += len(answer.prices)
        single_s = time.perf_counter() - t0
        assert priced == N
        single_requests = len(llama.log) + len(cg.log)
        single_cg_requests = len(cg.log)
    batched_cg_requests = v.requests.get("coingecko", 0)
    return {
        "assets": N,
        "batched": {
            "requests": batched_requests,
            "by_source": v.requests,
            "wall_seconds": round(batched_s, 3),
        },
        "one_request_per_asset": {
            "requests": single_requests,
            "wall_seconds": round(single_s, 3),
        },
        "request_ratio": round(single_requests / batched_requests, 1),
        "speedup": round(single_s / batched_s, 1),
        "coingecko_free_tier_minutes_at_30_per_min": {
            "batched": math.ceil(batched_cg_requests / 30),
            "one_request_per_asset": math.ceil(single_cg_requests / 30),
        },
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(bench(Path(tmp))), indent=2))


if __name__ == "__main__":
    main()
