"""What the DeFi benchmarks share: two reads of the same wallets and token list through the
product's EvmReader (``balances_only`` with no position sources, ``with_positions`` with every
source of the chain from a defi.toml override), each timed ``repeats`` times after an untimed
warm-up, and the figures they report (requests, rounds, wall times, the ratio between them).
Target: the balance round plus two at most."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainSpec
from app.domain.model import Wallet
from app.domain.position_reads import PositionSource


async def read_once(
    spec: ChainSpec, tokens: list[AssetInfo], wallets: list[Wallet], sources: list[PositionSource]
) -> tuple[float, ChainReadResult]:
    reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens, positions=sources)
    try:
        t0 = time.perf_counter()
        result = await reader.read_balances(wallets)
        return time.perf_counter() - t0, result
    finally:
        await reader.aclose()


def measure(
    spec: ChainSpec, tokens: list[AssetInfo], wallets: list[Wallet], defi_toml: str, repeats: int
) -> dict[str, object]:
    """Both reads' figures, and how the one with positions compares."""
    with tempfile.TemporaryDirectory() as tmp:
        override = Path(tmp) / "defi.toml"
        override.write_text(defi_toml)
        config = load_config(override)

    def sources() -> list[PositionSource]:
        return build_sources(spec.chain_id, config, tokens, EvmReader.native_info_of(spec))

    def none() -> list[PositionSource]:
        return []

    figures: dict[str, dict[str, object]] = {}
    for name, make in (("balances_only", none), ("with_positions", sources)):
        times: list[float] = []
        result: ChainReadResult | None = None
        for _ in range(repeats + 1):  # the first pass warms up and is not timed
            elapsed, result = asyncio.run(read_once(spec, tokens, wallets, make()))
            times.append(elapsed)
        assert result is not None and result.state is SourceState.OK, result
        figures[name] = {
            "http_requests": result.http_requests,
            "rounds": int(result.extra.get("rounds", "1")),
            "round_requests": result.extra.get("round_requests", ""),
            "wall_s_median": round(statistics.median(times[1:]), 4),
            "wall_s_min": round(min(times[1:]), 4),
            "balances": len(result.balances),
            "positions": sum(1 for b in result.balances if b.position),
            "rates": len(result.rates),
            "failures": len(result.failures),
            "protocols": sorted(
                {b.position.split(":", 1)[0] for b in result.balances if b.position}
            ),
        }
    pos, bal = figures["with_positions"], figures["balances_only"]
    rounds, base = int(str(pos["rounds"])), int(str(bal["rounds"]))
    return {
        **figures,
        "extra_rounds": rounds - base,
        "wall_ratio": round(float(str(pos["wall_s_median"])) / float(str(bal["wall_s_median"])), 2),
        "target_met": rounds <= base + 2,
    }
