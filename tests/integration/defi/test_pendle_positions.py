"""Pendle PT, YT and LP positions through the real EVM reader, against Pendle's own contracts on
anvil (pendle_world.py): values from the market's PY/LP oracle, the implied APY from the
market's own state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from app.domain.rates import RateSide
from tests.integration.defi.pendle_world import E18, PendleWorld, deploy
from tests.integration.evm.anvil import MULTICALL3, running

pytestmark = pytest.mark.integration

WALLETS = {
    "pt": "0x4000000000000000000000000000000000000001",
    "yt": "0x4000000000000000000000000000000000000002",
    "lp": "0x4000000000000000000000000000000000000003",
    "all": "0x4000000000000000000000000000000000000004",
    "nobody": "0x4000000000000000000000000000000000000005",
}
YEAR = 365 * 86_400


@pytest.fixture(scope="module")
def pendle() -> Iterator[PendleWorld]:
    for node in running(31341):
        w = deploy(node)
        w.transfer(w.pt, WALLETS["pt"], 100 * E18)
        w.transfer(w.yt, WALLETS["yt"], 70 * E18)
        lp = w.balance(w.market, node.sender)
        w.transfer(w.market, WALLETS["lp"], lp * 2 // 5)
        w.transfer(w.pt, WALLETS["all"], 3 * E18)
        w.transfer(w.yt, WALLETS["all"], 5 * E18)
        w.transfer(w.market, WALLETS["all"], lp // 10)
        yield w


def read(w: PendleWorld, tmp_path: Path, toml: str) -> ChainReadResult:
    override = tmp_path / "defi.toml"
    override.write_text(toml)
    spec = ChainSpec(w.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (w.node.url,),
                     multicall3=MULTICALL3)  # fmt: skip
    sources = build_sources(
        spec.chain_id, load_config(override), [], EvmReader.native_info_of(spec)
    )
    wallets = [Wallet(a, AddressFamily.EVM) for a in WALLETS.values()]

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), [], positions=sources)
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def positions(result: ChainReadResult, who: str) -> dict[str, int]:
    return {
        b.position: b.raw
        for b in result.balances
        if b.wallet.address == WALLETS[who] and b.position
    }


def expected(w: PendleWorld, who: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind, token, oracle in (("principal", w.pt, "Pt"), ("yield", w.yt, "Yt"),
                                ("liquidity", w.market, "Lp")):  # fmt: skip
        amount = w.balance(token, WALLETS[who])
        if amount:
            out[f"pendle:{w.market}:{kind}"] = amount * w.rate(oracle) // E18
    return out


def test_values_come_from_pendles_own_oracle(pendle: PendleWorld, tmp_path: Path) -> None:
    w = pendle
    result = read(w, tmp_path, w.defi_toml())
    assert result.state is SourceState.OK and result.failures == ()
    assert result.extra["rounds"] == "3"  # market + oracle, PT/YT + SY asset, asset metadata
    for who in ("pt", "yt", "lp", "all"):
        want = expected(w, who)
        assert want and positions(result, who) == want, who
    assert positions(result, "nobody") == {}
    # Valued in the SY's asset, whose metadata was read on chain; PT/YT/LP are not also plain.
    (asset,) = {b.asset.asset_id.asset_reference for b in result.balances if b.position}
    assert asset == w.asset
    # A PT is worth less than the asset before expiry; PT + YT make one asset.
    assert 0 < w.rate("Pt") < E18 and w.rate("Pt") + w.rate("Yt") == E18


def test_implied_apy_is_the_markets_own(pendle: PendleWorld, tmp_path: Path) -> None:
    w = pendle
    result = read(w, tmp_path, w.defi_toml())
    (rate,) = result.rates
    assert rate.side is RateSide.FIXED and rate.protocol == "pendle"
    assert rate.position == f"pendle:{w.market}:principal"
    assert rate.asset_id.endswith(w.asset)
    ln = w.ln_implied_rate()
    with localcontext() as ctx:
        ctx.prec = 60
        assert rate.apy == (Decimal(ln) / E18).exp() - 1
        # The same rate prices the PT: 1 / e^(ln x time to expiry / year), as the oracle does.
        now = int(w.node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        pt = 1 / (Decimal(ln) / E18 * (w.expiry - now) / YEAR).exp()
        assert abs(pt - Decimal(w.rate("Pt")) / E18) < Decimal("1e-9")
    assert Decimal("0.01") < rate.apy < Decimal("1")


def test_a_broken_oracle_is_a_failure_not_a_value(pendle: PendleWorld, tmp_path: Path) -> None:
    w = pendle
    toml = w.defi_toml().replace(w.oracle, w.sy)  # a contract without the oracle's functions
    result = read(w, tmp_path, toml)
    assert result.state is SourceState.OK
    assert not [b for b in result.balances if b.position]
    assert {f.wallet.address for f in result.failures} == {
        WALLETS[k] for k in ("pt", "yt", "lp", "all")
    }
    assert all("oracle gave no rate" in f.reason for f in result.failures)


def test_a_twap_longer_than_the_markets_buffer_fails_cleanly(
    pendle: PendleWorld, tmp_path: Path
) -> None:
    w = pendle
    result = read(w, tmp_path, w.defi_toml(duration=3600))
    assert result.state is SourceState.OK
    assert result.failures and not [b for b in result.balances if b.position]


def test_after_expiry_pt_is_the_asset_and_yt_is_worth_nothing(
    pendle: PendleWorld, tmp_path: Path
) -> None:
    """Last in the module: it moves the chain past the market's expiry."""
    w = pendle
    w.node.rpc("evm_setNextBlockTimestamp", hex(w.expiry + 86_400))
    w.node.rpc("evm_mine")
    result = read(w, tmp_path, w.defi_toml())
    assert result.failures == ()
    assert positions(result, "pt") == {f"pendle:{w.market}:principal": 100 * E18}
    assert positions(result, "yt") == {}
    assert result.rates == ()  # an expired market has no yield to lock in
