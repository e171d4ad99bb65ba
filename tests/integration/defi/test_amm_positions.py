"""Uniswap v3 and v2 positions through the real EVM reader, against the protocols' own contracts
deployed on anvil (see amm_world.py), compared with the contracts' own views."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain import uniswap_math as um
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AssetId
from app.domain.model import Wallet
from app.domain.text import clean_text
from tests.integration.defi.amm_world import (
    E18,
    HOSTILE_SYMBOL,
    SPACING,
    AmmWorld,
    deploy,
    send,
    view,
)  # fmt: skip
from tests.integration.evm.anvil import MULTICALL3, running
from tests.support.net import free_port

pytestmark = pytest.mark.integration

WALLETS = {
    "lp_in": "0x2000000000000000000000000000000000000001",
    "lp_out": "0x2000000000000000000000000000000000000002",
    "lp_closed": "0x2000000000000000000000000000000000000003",
    "lp_owed": "0x2000000000000000000000000000000000000004",
    "lp_many": "0x2000000000000000000000000000000000000005",
    "v2": "0x2000000000000000000000000000000000000006",
    "v2_evil": "0x2000000000000000000000000000000000000007",
    "nobody": "0x2000000000000000000000000000000000000008",
    "lp_evil": "0x2000000000000000000000000000000000000009",
}


@pytest.fixture(scope="module")
def amm() -> Iterator[tuple[AmmWorld, dict[str, list[int]]]]:
    for node in running(31339):
        w = deploy(node)
        ids: dict[str, list[int]] = {k: [] for k in WALLETS}
        big = 10**21
        ids["lp_in"].append(w.mint_position("TKA", "TKB", -600, 600, big, big, WALLETS["lp_in"]))
        ids["lp_out"].append(
            w.mint_position("TKA", "TKB", 6000, 12000, big, big, WALLETS["lp_out"])
        )
        closed = w.mint_position("TKA", "TKB", -1200, 1200, big, big, node.sender)
        owed = w.mint_position("TKA", "TKB", -1800, 1800, big, big, node.sender)
        # Swaps both ways: the tick moves and every in-range position accrues fees in both tokens.
        w.swap("TKA", "TKB", 10**20)
        w.swap("TKB", "TKA", 4 * 10**19)
        # A position opened after the swaps: its ticks start with non-zero fee growth outside.
        ids["lp_in"].append(w.mint_position("TKA", "TKB", -120, 180, big, big, WALLETS["lp_in"]))
        for _ in range(2):
            w.swap("TKA", "TKB", 3 * 10**19)
            w.swap("TKB", "TKA", 5 * 10**19)
        w.decrease(closed, w.position(closed)[7])
        w.collect(closed)
        w.give(closed, WALLETS["lp_closed"])
        ids["lp_closed"].append(closed)
        w.decrease(owed, w.position(owed)[7] // 2)  # owed tokens recorded, not collected
        w.give(owed, WALLETS["lp_owed"])
        ids["lp_owed"].append(owed)
        for lower in (-SPACING * 10, -SPACING * 20, -SPACING * 30):
            ids["lp_many"].append(
                w.mint_position("TKA", "TKC", lower, -lower, E18, E18, WALLETS["lp_many"])
            )
        w.swap("TKC", "TKA", E18 // 10)
        ids["lp_evil"].append(
            w.mint_position("TKA", "EVIL", -600, 600, E18, E18, WALLETS["lp_evil"])
        )
        w.swap("EVIL", "TKA", E18 // 10)
        w.add_liquidity("TKA", "TKB", 5 * E18, 7 * 10**6, WALLETS["v2"])
        w.add_liquidity("TKA", "EVIL", 3 * E18, 9 * E18, WALLETS["v2_evil"])
        w.add_liquidity("TKA", "EVIL", E18, 3 * E18, node.sender)  # someone else's share
        yield w, ids


def _spec(w: AmmWorld, url: str | None = None) -> ChainSpec:
    return ChainSpec(
        w.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (url or w.node.url,),
        multicall3=MULTICALL3,
    )  # fmt: skip


def read(w: AmmWorld, tmp_path: Path, toml: str, *, url: str | None = None,
         tokens: list[AssetInfo] | None = None) -> ChainReadResult:  # fmt: skip
    override = tmp_path / "defi.toml"
    override.write_text(toml)
    spec = _spec(w, url)
    token_list = [w.info("TKA"), w.info("TKB")] if tokens is None else tokens
    sources = build_sources(
        spec.chain_id, load_config(override), token_list, EvmReader.native_info_of(spec)
    )
    wallets = [Wallet(a, AddressFamily.EVM) for a in WALLETS.values()]

    async def go() -> ChainReadResult:
        reader = EvmReader(
            spec, JsonRpcTransport(spec.rpc_urls, retries=0), token_list, positions=sources
        )
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def holdings(result: ChainReadResult, who: str) -> dict[tuple[str, str], int]:
    address = WALLETS[who]
    return {
        (b.asset.asset_id.asset_reference, b.position): b.raw
        for b in result.balances
        if b.wallet.address == address and b.position
    }


def expected_v3(w: AmmWorld, token_id: int, a: str, b: str) -> dict[tuple[str, str], int]:
    """The contracts' own answers for one NFT: burn amounts and collectable fees."""
    t0, t1 = w.sorted_pair(a, b)
    pos = w.position(token_id)
    tick = w.tick(a, b)
    kind = "liquidity" if um.in_range(tick, pos[5], pos[6]) else "out-of-range"
    out: dict[tuple[str, str], int] = {}
    for token, amount in zip((t0, t1), w.burn_amounts(token_id), strict=True):
        if amount:
            out[(token, f"uniswap-v3:{token_id}:{kind}")] = amount
    for token, amount in zip((t0, t1), w.fees(token_id), strict=True):
        if amount:
            out[(token, f"uniswap-v3:{token_id}:fees")] = amount
    return out


def test_v3_positions_equal_the_contracts_own_views(
    amm: tuple[AmmWorld, dict[str, list[int]]], tmp_path: Path
) -> None:
    w, ids = amm
    result = read(w, tmp_path, w.defi_toml(v2=False))
    assert result.state is SourceState.OK
    assert result.failures == ()
    # Balances + position ids, then positions(id), then the pools: three rounds in all.
    assert result.extra["rounds"] == "3" and result.http_requests == 3
    in_range = {}
    for token_id in ids["lp_in"]:
        in_range |= expected_v3(w, token_id, "TKA", "TKB")
    assert in_range and any(k[1].endswith(":fees") for k in in_range)
    assert holdings(result, "lp_in") == in_range
    out_of_range = expected_v3(w, ids["lp_out"][0], "TKA", "TKB")
    assert {k[1].rsplit(":", 1)[1] for k in out_of_range} == {"out-of-range"}  # no fees earned
    assert holdings(result, "lp_out") == out_of_range
    assert holdings(result, "lp_closed") == {}  # liquidity 0, nothing owed: nothing held
    owed = expected_v3(w, ids["lp_owed"][0], "TKA", "TKB")
    assert holdings(result, "lp_owed") == owed
    assert owed[(w.sorted_pair("TKA", "TKB")[0], f"uniswap-v3:{ids['lp_owed'][0]}:fees")] > 0
    many: dict[tuple[str, str], int] = {}
    for token_id in ids["lp_many"]:
        many |= expected_v3(w, token_id, "TKA", "TKC")
    assert holdings(result, "lp_many") == many  # TKC's metadata was read on chain
    tkc = next(
        b.asset for b in result.balances if b.asset.asset_id.asset_reference == w.token["TKC"]
    )
    assert (tkc.symbol, tkc.decimals) == ("TKC", 18)
    assert holdings(result, "nobody") == {}
    # A pool with a hostile token: exact amounts; the token's text is plain and it is spam.
    assert holdings(result, "lp_evil") == expected_v3(w, ids["lp_evil"][0], "TKA", "EVIL")
    evil = next(
        b.asset for b in result.balances if b.asset.asset_id.asset_reference == w.token["EVIL"]
    )
    assert evil.is_spam and evil.symbol == clean_text(HOSTILE_SYMBOL, 16)


def test_more_nfts_than_the_limit_is_a_failure_not_a_silent_gap(
    amm: tuple[AmmWorld, dict[str, list[int]]], tmp_path: Path
) -> None:
    w, ids = amm
    result = read(w, tmp_path, w.defi_toml(v2=False, max_positions=2))
    assert result.state is SourceState.OK
    (fault,) = result.failures
    assert fault.wallet.address == WALLETS["lp_many"]
    assert "holds 3 position NFTs" in fault.reason and "first 2 were read" in fault.reason
    read_ids = {k[1].split(":")[1] for k in holdings(result, "lp_many")}
    assert read_ids == {str(i) for i in ids["lp_many"][:2]}


def test_v2_lp_tokens_equal_remove_liquidity(
    amm: tuple[AmmWorld, dict[str, list[int]]], tmp_path: Path
) -> None:
    w, _ = amm
    result = read(w, tmp_path, w.defi_toml(v3=False))
    assert result.state is SourceState.OK and result.failures == ()
    ab = w.pairs["TKA/TKB"]
    a_amount, b_amount = w.remove_amounts("TKA", "TKB", WALLETS["v2"])
    assert holdings(result, "v2") == {
        (w.token["TKA"], f"uniswap-v2:{ab}:liquidity"): a_amount,
        (w.token["TKB"], f"uniswap-v2:{ab}:liquidity"): b_amount,
    }
    # The hostile token's pair: exact amounts; its text is cleaned and it is marked as spam.
    evil_pair = w.pairs["TKA/EVIL"]
    a_amount, evil_amount = w.remove_amounts("TKA", "EVIL", WALLETS["v2_evil"])
    assert holdings(result, "v2_evil") == {
        (w.token["TKA"], f"uniswap-v2:{evil_pair}:liquidity"): a_amount,
        (w.token["EVIL"], f"uniswap-v2:{evil_pair}:liquidity"): evil_amount,
    }
    evil = next(
        b.asset for b in result.balances if b.asset.asset_id.asset_reference == w.token["EVIL"]
    )
    # Kept as plain text (the window never renders it as markup), cut to a symbol's length.
    assert evil.symbol == clean_text(HOSTILE_SYMBOL, 16) and evil.symbol != HOSTILE_SYMBOL
    assert evil.is_spam and evil.spam_reason
    # The LP token is the position: were it in the token list, it is not also a plain balance.
    listed = [w.info("TKA"), w.info("TKB"),
              AssetInfo(AssetId(w.chain, "erc20", ab), "UNI-V2", "LP", 18)]  # fmt: skip
    again = read(w, tmp_path, w.defi_toml(v3=False), tokens=listed)
    assert not [b for b in again.balances if b.asset.asset_id.asset_reference == ab]


def test_rpc_down_fails_the_chain_not_the_refresh(
    amm: tuple[AmmWorld, dict[str, list[int]]], tmp_path: Path
) -> None:
    w, _ = amm
    result = read(w, tmp_path, w.defi_toml(), url=f"http://127.0.0.1:{free_port()}")
    assert result.state is SourceState.FAILED
    assert result.error and "Traceback" not in result.error


def test_ticks_the_pool_agrees_with(amm: tuple[AmmWorld, dict[str, list[int]]]) -> None:
    """sqrt_ratio_at_tick against the real pool: initialised exactly at our sqrt price of t the
    pool reports tick t, one unit below it reports t - 1 (TickMath.getTickAtSqrtRatio), so our
    value is the contract's to the unit."""
    w, _ = amm
    for tick in (-887200, -123457, -1, 0, 1, 76012, 887200):
        for delta, want in ((0, tick), (-1, tick - 1)):
            fresh = w.node.deploy("TestToken", ["string", "string", "uint8"], ["X", "X", 18])
            t0, t1 = sorted((w.token["TKA"], fresh), key=str.lower)
            send(w.node, w.npm, "createAndInitializePoolIfNecessary(address,address,uint24,uint160)",
                 ["address", "address", "uint24", "uint160"],
                 [t0, t1, 3000, um.sqrt_ratio_at_tick(tick) + delta])  # fmt: skip
            pool = um.pool_address(w.v3_factory, t0, t1, 3000)  # our CREATE2 address, too
            slot0 = view(w.node, pool, "slot0()", [], [], ["uint160", "int24"])
            assert (int(slot0[0]), int(slot0[1])) == (um.sqrt_ratio_at_tick(tick) + delta, want)
