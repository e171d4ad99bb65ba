"""The Solana reader against a real SVM behind a local JSON-RPC server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from app.chains.solana import SolanaReader
from app.chains.solana.rpc import BatchClient
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetKind, ChainReadResult, SourceState
from app.domain.chains import ChainSpec
from app.domain.model import Wallet
from tests.support.chains import SOLANA_MAINNET, solana_spec
from tests.support.fakes import MemorySecrets
from tests.support.solana_rpc import (
    TOKEN_2022_PROGRAM,
    SolanaRpcServer,
    metadata_extension,
    tlv,
    token2022_mint_bytes,
)

pytestmark = pytest.mark.integration

MAINNET = SOLANA_MAINNET
USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
BONK = Pubkey.from_string("DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263")


def spec(url: str) -> ChainSpec:
    return replace(solana_spec(url), price_ids={"coingecko": "solana"})


def read(
    server: SolanaRpcServer, wallets: list[Wallet], *, timeout: float = 5.0, retries: int = 3
) -> ChainReadResult:
    async def go() -> ChainReadResult:
        client = BatchClient(
            [server.url],
            timeout=timeout,
            retries=retries,
            backoff=0.01,
        )
        reader = SolanaReader(spec(server.url), client)
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def wallet(key: Pubkey) -> Wallet:
    return Wallet(address=str(key), family=AddressFamily.SOLANA)


def populate(server: SolanaRpcServer) -> dict[str, Pubkey]:
    rich, empty = Pubkey.new_unique(), Pubkey.new_unique()
    server.fund(rich, 1_234_567_891)
    server.add_mint(USDC, 6)
    server.add_mint(BONK, 5)
    server.add_token_account(rich, USDC, 2**64 - 1)  # u64 max, exact
    server.add_token_account(rich, BONK, 12_345)
    server.add_token_account(rich, BONK, 0)  # zero balance: not a holding
    meta_mint = Pubkey.new_unique()
    server.add_mint_raw(
        meta_mint,
        token2022_mint_bytes(
            4, tlv(18, bytes(64)) + metadata_extension(meta_mint, "Good\u202eToken", "GOOD")
        ),
        TOKEN_2022_PROGRAM,
    )
    server.add_token_account(rich, meta_mint, 50_000, TOKEN_2022_PROGRAM)
    interest_mint = Pubkey.new_unique()
    server.add_mint_raw(
        interest_mint, token2022_mint_bytes(2, tlv(10, bytes(52))), TOKEN_2022_PROGRAM
    )
    server.add_token_account(rich, interest_mint, 777, TOKEN_2022_PROGRAM)
    server.add_stake(rich, rich, 5_000_000_000)
    plain_mint, bare_mint = Pubkey.new_unique(), Pubkey.new_unique()
    server.add_mint(plain_mint, 8)
    server.add_metaplex_metadata(plain_mint, "Meta\u0007plex Coin", "MPLX")
    server.add_token_account(rich, plain_mint, 1)
    bait_mint = Pubkey.new_unique()
    server.add_mint(bait_mint, 0)
    server.add_metaplex_metadata(bait_mint, "Visit claim-sol.xyz for rewards", "CLAIM")
    server.add_token_account(rich, bait_mint, 1_000)
    server.add_mint(bare_mint, 0)
    server.add_token_account(rich, bare_mint, 3)
    server.add_stake(Pubkey.new_unique(), rich, 1_000_000_000)  # withdrawer only
    return {
        "rich": rich,
        "empty": empty,
        "meta": meta_mint,
        "interest": interest_mint,
        "plain": plain_mint,
        "bare": bare_mint,
    }


def test_reads_sol_spl_token2022_and_stake(svm_server: SolanaRpcServer) -> None:
    keys = populate(svm_server)
    result = read(svm_server, [wallet(keys["rich"]), wallet(keys["empty"])])
    assert result.state is SourceState.OK, result.error
    got = {(b.wallet.address, str(b.asset.asset_id)): b for b in result.balances}
    rich, empty = str(keys["rich"]), str(keys["empty"])
    sol = got[(rich, f"{MAINNET}/slip44:501")]
    assert sol.raw == 1_234_567_891 and sol.amount == Decimal("1.234567891")
    assert got[(empty, f"{MAINNET}/slip44:501")].raw == 0
    usdc = got[(rich, f"{MAINNET}/token:{USDC}")]
    assert usdc.raw == 2**64 - 1 and usdc.asset.symbol == "USDC"
    assert usdc.asset.price_id == "coingecko:usd-coin"
    assert usdc.amount == Decimal("18446744073709.551615")
    bonk = [b for b in result.balances if b.asset.symbol == "Bonk"]
    assert [b.raw for b in bonk] == [12_345]  # the zero account is not a holding
    meta = got[(rich, f"{MAINNET}/token:{keys['meta']}")]
    assert meta.asset.name == "GoodToken" and meta.asset.symbol == "GOOD"
    assert meta.amount == Decimal("5.0000") and not meta.asset.is_spam
    plain = got[(rich, f"{MAINNET}/token:{keys['plain']}")]
    assert (plain.asset.symbol, plain.asset.name, plain.amount) == (
        "MPLX",
        "Metaplex Coin",
        Decimal("1E-8"),
    )
    bare = got[(rich, f"{MAINNET}/token:{keys['bare']}")]
    assert bare.raw == 3 and bare.asset.is_spam and bare.asset.decimals == 0
    bait = [b for b in result.balances if b.asset.symbol == "CLAIM"]
    assert len(bait) == 1 and bait[0].asset.is_spam and bait[0].asset.spam_reason
    stake = [b for b in result.balances if b.asset.kind is AssetKind.STAKE]
    assert [b.raw for b in stake] == [6_000_000_000]
    assert stake[0].asset.decimals == 9 and stake[0].asset.price_id == "coingecko:solana"
    assert not any(b.wallet.address == empty and b.raw for b in result.balances)
    assert [f.asset.asset_reference for f in result.failures] == [str(keys["interest"])]
    assert "interest-bearing" in result.failures[0].reason
    # one batch for round 1 (1 + 1 + 4 calls per wallet), one for the mints
    assert result.http_requests == 2


def test_rate_limit_429_and_32005_back_off_and_retry(svm_server: SolanaRpcServer) -> None:
    keys = populate(svm_server)
    svm_server.rate_limit_http = 1
    svm_server.rate_limit_rpc = 1
    result = read(svm_server, [wallet(keys["rich"])])
    assert result.state is SourceState.OK, result.error
    assert any(b.asset.symbol == "USDC" for b in result.balances)


def test_rate_limit_that_never_ends_fails_the_chain(svm_server: SolanaRpcServer) -> None:
    keys = populate(svm_server)
    svm_server.rate_limit_rpc = 100
    result = read(svm_server, [wallet(keys["rich"])], retries=2)
    assert result.state is SourceState.FAILED
    assert result.error and "rate limited" in result.error


def test_malformed_reply_is_retried_then_reported(svm_server: SolanaRpcServer) -> None:
    keys = populate(svm_server)
    svm_server.malformed = 1
    assert read(svm_server, [wallet(keys["rich"])]).state is SourceState.OK
    svm_server.malformed = 100
    result = read(svm_server, [wallet(keys["rich"])], retries=1)
    assert result.state is SourceState.FAILED and result.error and "not JSON" in result.error


def test_timeout_fails_the_chain_with_a_reason(svm_server: SolanaRpcServer) -> None:
    keys = populate(svm_server)
    svm_server.timeout = True
    result = read(svm_server, [wallet(keys["rich"])], timeout=0.3, retries=0)
    assert result.state is SourceState.FAILED
    assert result.error and "timed out" in result.error


def test_factory_builds_the_solana_reader(svm_server: SolanaRpcServer, tmp_path: Path) -> None:
    from app.chains.factory import ReaderContext, create_reader
    from app.config import Settings
    from app.storage.database import open_database

    keys = populate(svm_server)
    ctx = ReaderContext(
        settings=Settings(tmp_path / "settings.toml"),
        engine=open_database(tmp_path / "db.sqlite", tmp_path / "backups"),
        secrets=MemorySecrets(),
        options={"solana.backoff": 0.01},
    )
    reader = create_reader(spec(svm_server.url), ctx)

    async def go() -> ChainReadResult:
        try:
            return await reader.read_balances([wallet(keys["rich"])])
        finally:
            await reader.aclose()

    result = asyncio.run(go())
    assert result.state is SourceState.OK
    assert reader.spec.chain_id == MAINNET
    assert any(b.asset.kind is AssetKind.STAKE for b in result.balances)


def test_dead_first_endpoint_falls_back_to_the_next(svm_server: SolanaRpcServer) -> None:
    from tests.support.net import free_port

    keys = populate(svm_server)

    async def go() -> ChainReadResult:
        dead = f"http://127.0.0.1:{free_port()}"
        client = BatchClient([dead, svm_server.url], retries=1, backoff=0.01)
        reader = SolanaReader(spec(dead), client)
        try:
            return await reader.read_balances([wallet(keys["rich"])])
        finally:
            await reader.aclose()

    result = asyncio.run(go())
    assert result.state is SourceState.OK, result.error
    assert any(b.asset.symbol == "USDC" for b in result.balances)
