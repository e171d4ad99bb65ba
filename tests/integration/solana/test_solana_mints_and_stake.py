"""Against the local SVM: the metadata round is skipped for known mints and packed with round 1's
remainder; user-added tokens are respected; stake is split by status; Token-2022 amounts that
are not raw / 10^decimals are never shown."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from app.chains.solana import SolanaReader
from app.chains.solana.marginfi import AccountMemory
from app.chains.solana.mints import MintCache
from app.chains.solana.rpc import BatchClient
from app.domain.balances import AssetInfo, AssetKind, ChainReadResult, SourceState
from app.domain.ids import AssetId
from app.domain.model import Wallet
from app.storage.database import open_database
from app.storage.token_store import TokenStore
from tests.integration.solana.test_solana_reader import MAINNET, spec, wallet
from tests.support.solana_rpc import (
    STAKE_RESERVE,
    TOKEN_2022_PROGRAM,
    SolanaRpcServer,
    metadata_extension,
    tlv,
    token2022_mint_bytes,
)

pytestmark = pytest.mark.integration


def read(
    server: SolanaRpcServer,
    wallets: Sequence[Wallet],
    *,
    cache: MintCache | None = None,
    stored: Sequence[AssetInfo] = (),
    batch_size: int = 100,
    lending: AccountMemory | None = None,
) -> ChainReadResult:
    async def go() -> ChainReadResult:
        client = BatchClient([server.url], batch_size=batch_size)
        reader = SolanaReader(spec(server.url), client, stored=stored, cache=cache, lending=lending)
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def counted(server: SolanaRpcServer, run: ChainReadResult) -> tuple[int, int]:
    """(HTTP requests, RPC calls) the server saw since the last call."""
    stats = server.stats(reset=True)
    assert stats["http_requests"] == run.http_requests
    return stats["http_requests"], stats["rpc_calls"]


def by_asset(result: ChainReadResult) -> dict[str, AssetInfo]:
    return {b.asset.asset_id.asset_reference: b.asset for b in result.balances}


def test_known_mints_skip_the_metadata_round(svm_server: SolanaRpcServer) -> None:
    owner, plain, named22 = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(owner, 1)
    svm_server.add_mint(plain, 6)
    svm_server.add_metaplex_metadata(plain, "Plain Coin", "PLN")
    svm_server.add_token_account(owner, plain, 5)
    ext = metadata_extension(named22, "Twenty Two", "TT")
    svm_server.add_mint_raw(named22, token2022_mint_bytes(2, ext), TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, named22, 7, TOKEN_2022_PROGRAM)
    cache, lending = MintCache(), AccountMemory()
    first = read(svm_server, [wallet(owner)], cache=cache, lending=lending)
    # epoch, wallets, 2 token programs, 2 stake filters, liquid staking pools, marginfi
    # accounts; + one metadata call
    assert counted(svm_server, first) == (2, 1 + 1 + 2 + 2 + 1 + 1 + 1)
    second = read(svm_server, [wallet(owner)], cache=cache, lending=lending)
    # every mint known: no metadata round; no marginfi account: not looked up again
    assert counted(svm_server, second) == (1, 7)
    assert by_asset(first) == by_asset(second)
    assert by_asset(second)[str(plain)].symbol == "PLN"
    assert by_asset(second)[str(named22)].symbol == "TT"


def test_requests_are_all_calls_over_the_batch_size(svm_server: SolanaRpcServer) -> None:
    """3 wallets: 18 calls in round 1 (14 + the liquid staking pools + a marginfi lookup per
    wallet) plus 1 metadata call, batch size 10. Round 1 sends one full batch and holds 8 calls
    back for the metadata round: 2 requests, not 3. Then the wallets are known to have no
    marginfi account: 15 calls."""
    mint = Pubkey.new_unique()
    svm_server.add_mint(mint, 3)
    owners = [Pubkey.new_unique() for _ in range(3)]
    for o in owners:
        svm_server.fund(o, 10)
        svm_server.add_token_account(o, mint, 1)
    cache, lending = MintCache(), AccountMemory()
    first = read(
        svm_server, [wallet(o) for o in owners], cache=cache, batch_size=10, lending=lending
    )
    requests, calls = counted(svm_server, first)
    assert (requests, calls) == (2, 19) and requests == math.ceil(calls / 10)
    again = read(
        svm_server, [wallet(o) for o in owners], cache=cache, batch_size=10, lending=lending
    )
    requests, calls = counted(svm_server, again)
    assert (requests, calls) == (2, 15) and requests == math.ceil(calls / 10)
    assert sorted(b.raw for b in again.balances) == sorted(b.raw for b in first.balances)


def test_a_round_goes_out_in_one_wave(svm_server: SolanaRpcServer) -> None:
    """12 known wallets, batch size 5: one round of 51 calls (with the liquid staking pools) in 11
    batches, all on the wire together (a concurrency of 8 sent the last ones a round trip
    later)."""
    owners = [Pubkey.new_unique() for _ in range(12)]
    for o in owners:
        svm_server.fund(o, 10)
    cache, lending = MintCache(), AccountMemory()
    read(svm_server, [wallet(o) for o in owners], cache=cache, batch_size=5, lending=lending)
    svm_server.stats(reset=True)
    svm_server.gather = 11
    again = read(
        svm_server, [wallet(o) for o in owners], cache=cache, batch_size=5, lending=lending
    )
    stats = svm_server.stats(reset=True)
    assert (stats["http_requests"], stats["rpc_calls"]) == (11, 51)
    assert stats["peak_in_flight"] == 11
    assert again.state is SourceState.OK and len(again.balances) == 12


def test_user_added_tokens_are_respected(svm_server: SolanaRpcServer, tmp_path: Path) -> None:
    owner = Pubkey.new_unique()
    mine, shady, mine22, drifting = (Pubkey.new_unique() for _ in range(4))
    svm_server.fund(owner, 1)
    for mint in (mine, shady):
        svm_server.add_mint(mint, 6)
        svm_server.add_metaplex_metadata(mint, "On-chain Name", "CHAIN")
        svm_server.add_token_account(owner, mint, 1_000_000)
    svm_server.add_mint_raw(
        mine22, token2022_mint_bytes(4, tlv(10, bytes(52))), TOKEN_2022_PROGRAM
    )  # interest-bearing: even a token the user added is not shown with a wrong amount
    svm_server.add_token_account(owner, mine22, 10, TOKEN_2022_PROGRAM)
    svm_server.add_mint(drifting, 9)  # the store says 6 decimals: the mint's own are used
    svm_server.add_token_account(owner, drifting, 2)
    store = TokenStore(open_database(tmp_path / "db.sqlite", tmp_path / "backups"))

    def add(mint: Pubkey, symbol: str, decimals: int, **kw: Any) -> None:
        info = AssetInfo(AssetId(MAINNET, "token", str(mint)), symbol, f"{symbol} name", decimals)
        store.upsert(replace(info, **kw), "user")

    add(mine, "MINE", 6, price_id="coingecko:mine")
    add(shady, "SHADY", 6, is_spam=True, spam_reason="marked as spam")
    add(mine22, "INT", 4)
    add(drifting, "DRIFT", 6)
    result = read(svm_server, [wallet(owner)], stored=store.list(MAINNET))
    assert result.state is SourceState.OK
    got = by_asset(result)
    assert (got[str(mine)].symbol, got[str(mine)].price_id, got[str(mine)].decimals) == (
        "MINE",
        "coingecko:mine",
        6,
    )
    assert not got[str(mine)].is_spam
    assert got[str(shady)].symbol == "SHADY" and got[str(shady)].is_spam
    assert got[str(shady)].spam_reason == "marked as spam"
    assert got[str(drifting)].decimals == 9 and got[str(drifting)].symbol != "DRIFT"
    assert str(mine22) not in got
    (failure,) = result.failures
    assert failure.asset.asset_reference == str(mine22) and "interest-bearing" in failure.reason


def test_token2022_amounts_never_shown_wrong(svm_server: SolanaRpcServer) -> None:
    owner, scaled, missing, plain22 = (Pubkey.new_unique() for _ in range(4))
    svm_server.fund(owner, 1)
    svm_server.add_mint_raw(scaled, token2022_mint_bytes(6, tlv(25, bytes(56))), TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, scaled, 1_000, TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, missing, 5, TOKEN_2022_PROGRAM)  # mint unreadable
    svm_server.add_mint_raw(plain22, token2022_mint_bytes(6, b""), TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, plain22, 3, TOKEN_2022_PROGRAM)
    result = read(svm_server, [wallet(owner)])
    assert result.state is SourceState.OK
    tokens = [b for b in result.balances if b.asset.kind is AssetKind.TOKEN]
    assert [(b.asset.asset_id.asset_reference, b.raw) for b in tokens] == [(str(plain22), 3)]
    reasons = {f.asset.asset_reference: f.reason for f in result.failures}
    assert "scaled UI amount" in reasons[str(scaled)]
    assert "not checked" in reasons[str(missing)]


def test_stake_is_split_by_status_and_counted_once(svm_server: SolanaRpcServer) -> None:
    svm_server.set_epoch(700)
    owner, helper = Pubkey.new_unique(), Pubkey.new_unique()
    sol = 10**9
    r = STAKE_RESERVE
    svm_server.add_stake(owner, owner, 5 * sol, activation=600)  # active
    svm_server.add_stake(owner, owner, 3 * sol, activation=700)  # activating
    svm_server.add_stake(owner, owner, 2 * sol, activation=600, deactivation=700)  # deactivating
    svm_server.add_stake(owner, owner, 1 * sol, activation=600, deactivation=650)  # cooled down
    svm_server.add_stake(owner, owner, 4 * sol, undelegated=True)  # funded, never delegated
    svm_server.add_stake(owner, owner, 6 * sol, delegated=sol, activation=600)  # with surplus
    # helper is the staker, owner the withdrawer: both are tracked, the SOL is owner's, once
    svm_server.add_stake(helper, owner, 7 * sol, activation=600)
    result = read(svm_server, [wallet(owner), wallet(helper)])
    assert result.state is SourceState.OK
    stake = {b.wallet.address: b for b in result.balances if b.asset.kind is AssetKind.STAKE}
    assert set(stake) == {str(owner)}
    assert stake[str(owner)].raw == 28 * sol  # every lamport of every account, exactly
    assert stake[str(owner)].asset.price_id == "coingecko:solana"
    split = {k: int(v) for k, v in json.loads(result.extra[f"stake:{owner}"]).items()}
    assert split == {
        "active": (5 * sol - r) + sol + (7 * sol - r),
        "activating": 3 * sol - r,
        "deactivating": 2 * sol - r,
        "delegated_unknown_status": 0,
        "undelegated": 28 * sol
        - (5 * sol - r)
        - sol
        - (7 * sol - r)
        - (3 * sol - r)
        - (2 * sol - r),
    }
    assert sum(split.values()) == stake[str(owner)].raw
