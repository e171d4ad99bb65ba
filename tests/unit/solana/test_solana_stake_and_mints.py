"""Pure parts of the Solana reader: stake status and split, batch packing, the hand check of
jsonParsed token accounts, and where a holding's metadata comes from."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from solders.pubkey import Pubkey

from app.chains.solana.mints import TOKEN_2022_PROGRAM, TOKEN_PROGRAM, MintCache, MintDirectory
from app.chains.solana.reader import _Job, pack
from app.chains.solana.replies import BadReply, token_holdings
from app.chains.solana.rpc import Call, CallResult
from app.chains.solana.stake import StakeStatus, parse_stake, split_summary, status_at
from app.chains.solana.tokens import KnownToken, MintInfo
from app.domain.balances import AssetInfo
from app.domain.ids import AssetId, ChainId
from tests.support.solana_rpc import NO_EPOCH, stake_bytes

CHAIN = ChainId.parse("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")


@pytest.mark.parametrize(
    ("activation", "deactivation", "status"),
    [
        (700, NO_EPOCH, StakeStatus.ACTIVATING),
        (699, NO_EPOCH, StakeStatus.ACTIVE),
        (NO_EPOCH, NO_EPOCH, StakeStatus.ACTIVE),  # genesis stake
        (600, 700, StakeStatus.DEACTIVATING),
        (600, 699, StakeStatus.INACTIVE),
        (700, 700, StakeStatus.INACTIVE),  # delegated and withdrawn in one epoch
    ],
)
def test_stake_status_at_epoch_700(activation: int, deactivation: int, status: StakeStatus) -> None:
    assert status_at(activation, deactivation, 700) is status


def test_stake_parse_splits_lamports_exactly() -> None:
    staker, withdrawer = Pubkey.new_unique(), Pubkey.new_unique()
    data = stake_bytes(staker, withdrawer, Pubkey.new_unique(), 10**9, activation=5)
    lamports = 3 * 10**9
    active = parse_stake(data, lamports, 9)
    assert (active.staker, active.withdrawer) == (str(staker), str(withdrawer))
    assert (active.status, active.delegated, active.undelegated) == (
        StakeStatus.ACTIVE,
        10**9,
        2 * 10**9,
    )
    unknown = parse_stake(data, lamports, None)
    assert unknown.status is None and unknown.delegated == 10**9
    initialized = parse_stake(stake_bytes(staker, withdrawer, None, 0), lamports, 9)
    assert (initialized.status, initialized.delegated) == (StakeStatus.INACTIVE, 0)
    summary = split_summary([active, unknown, initialized])
    assert summary["active"] == str(10**9)
    assert summary["delegated_unknown_status"] == str(10**9)
    assert sum(int(v) for v in summary.values()) == 3 * lamports
    with pytest.raises(ValueError, match="not an initialized"):
        parse_stake(bytes(200), lamports, 9)


def _jobs(n: int, method: str) -> list[_Job]:
    return [_Job(Call(method, [i]), lambda _r: None) for i in range(n)]


def test_pack_keeps_round_one_to_full_batches() -> None:
    feeders, independent = _jobs(400, "tokens"), _jobs(403, "other")
    first, held = pack(feeders, independent, 100)
    assert (len(first), len(held)) == (800, 3)
    assert first[:400] == feeders and all(j.call.method == "other" for j in held)
    # under one batch, or a remainder that would need feeders: nothing is held back
    assert pack(_jobs(2, "t"), _jobs(4, "o"), 100)[1] == []
    assert pack(_jobs(150, "t"), _jobs(10, "o"), 100)[1] == []
    assert pack(_jobs(100, "t"), _jobs(100, "o"), 100)[1] == []


def _reply(items: list[dict[str, Any]]) -> CallResult:
    result = {"context": {"slot": 1}, "value": items}
    return CallResult(msgspec.Raw(json.dumps(result).encode()), None)


def _item(owner: str, mint: str, amount: Any, decimals: Any = 6) -> dict[str, Any]:
    info = {
        "mint": mint,
        "owner": owner,
        "tokenAmount": {"amount": amount, "decimals": decimals},
    }
    return {"pubkey": "x", "account": {"data": {"parsed": {"info": info}}}}


def test_token_accounts_are_checked_field_by_field() -> None:
    owner, mint = str(Pubkey.new_unique()), str(Pubkey.new_unique())
    got = token_holdings(_reply([_item(owner, mint, "18446744073709551615"), _item(owner, mint, "0")]), owner)  # fmt: skip
    assert got == [(mint, 2**64 - 1, 6)]  # u64 max exact; the empty account is not a holding
    bad = [
        _item(owner, mint, "18446744073709551616"),  # past u64
        _item(owner, mint, "-5"),
        _item(owner, mint, 5),
        _item(owner, mint, "5", decimals=True),
        _item(owner, mint, "5", decimals=300),
        _item(owner, "not-a-key", "5"),
        _item(str(Pubkey.new_unique()), mint, "5"),  # someone else's account
        {"pubkey": "x", "account": {"data": ["AAAA", "base64"]}},
        {"pubkey": "x", "account": {"data": {"parsed": {}}}},
        _item(owner, mint, "\uff15"),  # a digit, but not an ASCII one
    ]
    for item in bad:
        with pytest.raises(ValueError):
            token_holdings(_reply([item]), owner)
    with pytest.raises(BadReply):
        token_holdings(CallResult(None, "RPC error: boom"), owner)


def test_a_token_account_listed_twice_counts_once() -> None:
    owner, mint = str(Pubkey.new_unique()), str(Pubkey.new_unique())
    same = _item(owner, mint, "5")
    other = {**_item(owner, mint, "7"), "pubkey": "y"}
    assert token_holdings(_reply([same, same, other]), owner) == [(mint, 5, 6), (mint, 7, 6)]


def test_metadata_comes_from_curated_then_store_then_the_mint() -> None:
    curated_mint, stored_mint, other = (str(Pubkey.new_unique()) for _ in range(3))
    curated = {curated_mint: KnownToken(curated_mint, "CUR", "Curated", 6, "coingecko:cur")}
    stored = [
        AssetInfo(AssetId(CHAIN, "token", stored_mint), "STO", "Stored", 6, price_id="p:sto"),
        AssetInfo(AssetId(CHAIN, "token", curated_mint), "USER", "User", 6),  # curated wins
    ]
    cache = MintCache()
    d = MintDirectory(CHAIN, curated, stored, cache)
    assert not d.needs_read(curated_mint, TOKEN_2022_PROGRAM, 6)
    assert not d.needs_read(stored_mint, TOKEN_PROGRAM, 6)
    assert d.needs_read(stored_mint, TOKEN_2022_PROGRAM, 6)  # extensions must be checked once
    assert d.needs_read(stored_mint, TOKEN_PROGRAM, 9)  # the store's decimals are not the mint's
    assert d.needs_read(other, TOKEN_PROGRAM, 6)
    assert d.resolve(curated_mint, TOKEN_PROGRAM, 6).asset.symbol == "CUR"  # type: ignore[union-attr]
    stored_asset = d.resolve(stored_mint, TOKEN_PROGRAM, 6).asset
    assert stored_asset is not None and stored_asset.price_id == "p:sto"
    cache.put(other, MintInfo(6, "Other", "OTH"))
    assert not d.needs_read(other, TOKEN_PROGRAM, 6)
    assert d.needs_read(other, TOKEN_PROGRAM, 8)
    assert d.resolve(other, TOKEN_PROGRAM, 6).asset.symbol == "OTH"  # type: ignore[union-attr]
    cache.put(stored_mint, MintInfo(6, unsupported="scaled UI amount"))
    resolved = d.resolve(stored_mint, TOKEN_2022_PROGRAM, 6)
    assert resolved.asset is None and "scaled UI amount" in str(resolved.unsupported)


def test_mint_cache_is_bounded() -> None:
    cache = MintCache(limit=2)
    for i in range(3):
        cache.put(str(i), MintInfo(0))
    assert len(cache) == 1 and cache.get("2") is not None
