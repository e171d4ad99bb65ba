"""Against the local SVM: the user's own RPC is not paced like the public endpoint and learns
from its refusals; a chain that runs out of time keeps the wallets it read in full; one mint in
two token accounts of one owner is one holding; a mint the user added is never hidden as spam."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from solders.pubkey import Pubkey

from app.chains.factory import ReaderContext
from app.chains.solana import SolanaReader, create_reader
from app.chains.solana.lookup import read_token
from app.config import Settings
from app.domain.balances import AssetInfo, AssetKind, ChainReadResult, SourceState
from app.domain.ids import AccountId, AssetId
from app.domain.model import Wallet
from app.services.balances import BalanceService
from app.storage.database import open_database
from app.storage.token_store import TokenStore
from tests.integration.solana.test_solana_reader import MAINNET, USDC, spec, wallet
from tests.support.fakes import MemorySecrets
from tests.support.solana_rpc import TOKEN_2022_PROGRAM, SolanaRpcServer

pytestmark = pytest.mark.integration


def context(tmp_path: Path, **options: object) -> ReaderContext:
    return ReaderContext(
        Settings(tmp_path / "settings.toml"),
        open_database(tmp_path / "db.sqlite", tmp_path / "backups"),
        MemorySecrets(),
        options={"solana.backoff": 0.01, **options},
    )


def read(ctx: ReaderContext, url: str, wallets: Sequence[Wallet]) -> ChainReadResult:
    reader = create_reader(spec(url), ctx)

    async def go() -> ChainReadResult:
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def test_own_rpc_gets_every_batch_at_once(svm_server: SolanaRpcServer, tmp_path: Path) -> None:
    """60 wallets, default settings: 303 calls (with the liquid staking pools and a marginfi
    lookup per wallet). Paced as the public endpoint (40 calls per method per 10 s) the later
    batches would wait 10 s each; the own node gets every batch of round 1 on the wire
    together."""
    owners = [Pubkey.new_unique() for _ in range(60)]
    for o in owners:
        svm_server.fund(o, 7)
    svm_server.gather = 3
    result = read(context(tmp_path), svm_server.url, [wallet(o) for o in owners])
    stats = svm_server.stats()
    assert result.state is SourceState.OK and len(result.balances) == 60
    assert stats["peak_in_flight"] == 3  # round 1's full batches; the rest goes with round 2
    assert (stats["http_requests"], stats["rpc_calls"]) == (4, 303)  # ceil(303 / 100)


@pytest.mark.parametrize("refusal", ["rate_limit_http", "rate_limit_rpc"])
def test_a_refusal_backs_off_retries_and_is_remembered(
    svm_server: SolanaRpcServer, tmp_path: Path, refusal: str
) -> None:
    owner = Pubkey.new_unique()
    svm_server.fund(owner, 1_000)
    svm_server.add_mint(USDC, 6)
    svm_server.add_token_account(owner, USDC, 5)
    setattr(svm_server, refusal, 1)
    ctx = context(tmp_path)
    result = read(ctx, svm_server.url, [wallet(owner)])
    assert result.state is SourceState.OK, result.error
    assert {b.raw for b in result.balances} == {1_000, 5}
    assert svm_server.stats()["http_requests"] == 2  # refused once, then answered
    again = create_reader(spec(svm_server.url), ctx)
    assert isinstance(again, SolanaReader)
    assert again._client.pace.learned(svm_server.url)  # the next refresh starts paced


def stalls_tokens_of(owner: Pubkey) -> Any:
    def test(call: dict[str, Any]) -> bool:
        params = call.get("params") or []
        return call.get("method") == "getTokenAccountsByOwner" and params[0] == str(owner)

    return test


def test_out_of_time_keeps_the_wallets_read_in_full(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    done, staked, unlisted, slow = (Pubkey.new_unique() for _ in range(4))
    svm_server.add_mint(USDC, 6)
    for o in (done, staked, unlisted, slow):
        svm_server.fund(o, 10**9)
        svm_server.add_token_account(o, USDC, 2_000_000)
    other = Pubkey.new_unique()
    svm_server.add_mint(other, 0)
    svm_server.add_token_account(unlisted, other, 3)  # its name needs the metadata round
    svm_server.add_stake(staked, staked, 4_000_000_000)
    svm_server.add_stake(Pubkey.new_unique(), slow, 5_000_000_000)  # slow's: never staked's
    svm_server.stall = stalls_tokens_of(slow)
    ctx = context(tmp_path, **{"solana.batch_size": 2})
    service = BalanceService(lambda s: create_reader(s, ctx), chain_timeout=2.0)
    wallets = [wallet(o) for o in (done, staked, unlisted, slow)]
    (result,) = asyncio.run(service.refresh([spec(svm_server.url)], wallets))
    assert svm_server.stalled >= 1
    assert result.state is SourceState.OK and result.partial
    assert result.error and "did not answer within 2 s" in result.error
    # the metadata round waits for every wallet's token accounts: a wallet holding a mint it
    # must name is not read in full
    assert result.unread == (AccountId(MAINNET, str(unlisted)), AccountId(MAINNET, str(slow)))
    got = {(b.wallet.address, b.asset.asset_id.asset_reference): b.raw for b in result.balances}
    assert got == {
        (str(done), "501"): 10**9,
        (str(done), str(USDC)): 2_000_000,
        (str(staked), "501"): 10**9,
        (str(staked), str(USDC)): 2_000_000,
        (str(staked), "native"): 4_000_000_000,
    }
    assert set(result.extra) == {f"stake:{staked}"}


def test_out_of_time_with_no_wallet_read_in_full_fails(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner = Pubkey.new_unique()
    svm_server.fund(owner, 1)
    svm_server.stall = stalls_tokens_of(owner)
    ctx = context(tmp_path, **{"solana.batch_size": 2})
    service = BalanceService(lambda s: create_reader(s, ctx), chain_timeout=1.0)
    (result,) = asyncio.run(service.refresh([spec(svm_server.url)], [wallet(owner)]))
    assert result.state is SourceState.FAILED and not result.balances
    assert result.error and "did not answer within 1 s" in result.error


def test_one_mint_in_two_accounts_of_one_owner_is_one_holding(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner, other, mint22 = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(owner, 1)
    svm_server.fund(other, 1)
    svm_server.add_mint(USDC, 6)
    svm_server.add_token_account(owner, USDC, 2**64 - 1)  # the ATA, at u64 max
    svm_server.add_token_account(owner, USDC, 7)  # an auxiliary account of the same mint
    svm_server.add_token_account(other, USDC, 11)
    svm_server.add_mint(mint22, 2, TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, mint22, 100, TOKEN_2022_PROGRAM)
    svm_server.add_token_account(owner, mint22, 23, TOKEN_2022_PROGRAM)
    result = read(context(tmp_path), svm_server.url, [wallet(owner), wallet(other)])
    assert result.state is SourceState.OK, result.error
    keys = [(b.wallet, b.asset.asset_id) for b in result.balances]
    assert len(keys) == len(set(keys))  # one Balance per (wallet, asset)
    tokens = {
        (b.wallet.address, b.asset.asset_id.asset_reference): b.raw
        for b in result.balances
        if b.asset.kind is AssetKind.TOKEN
    }
    assert tokens == {
        (str(owner), str(USDC)): 2**64 - 1 + 7,
        (str(other), str(USDC)): 11,
        (str(owner), str(mint22)): 123,
    }


def test_a_mint_the_user_added_is_never_hidden_as_spam(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner, bare, older = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(owner, 1)
    for mint in (bare, older):
        svm_server.add_mint(mint, 3)  # no metadata anywhere
        svm_server.add_token_account(owner, mint, 4_000)
    added = asyncio.run(read_token(spec(svm_server.url), str(bare)))
    assert not added.is_spam and added.spam_reason is None
    ctx = context(tmp_path)
    store = TokenStore(ctx.engine)
    store.upsert(added, "user")
    # Added before this rule: stored with the no-metadata mark, still the user's own token.
    marked = AssetInfo(AssetId(MAINNET, "token", str(older)), "OLD…", "OLD…", 3)
    store.upsert(
        replace(marked, is_spam=True, spam_reason="unlisted mint without metadata"), "user"
    )
    result = read(ctx, svm_server.url, [wallet(owner)])
    got = {b.asset.asset_id.asset_reference: b.asset for b in result.balances}
    assert not got[str(bare)].is_spam and not got[str(older)].is_spam
    assert got[str(older)].spam_reason is None
    unlisted = read(context(tmp_path / "fresh"), svm_server.url, [wallet(owner)])
    assert all(  # without the user's word, an unlisted mint without metadata stays hidden
        b.asset.is_spam for b in unlisted.balances if b.asset.kind is AssetKind.TOKEN
    )
