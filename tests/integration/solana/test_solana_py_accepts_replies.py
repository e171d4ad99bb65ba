"""solana-py's own client (httpx2 transport, solders parsers) accepts every reply of the local
server, so the server speaks the same JSON as a real Solana node for the methods we use."""

from __future__ import annotations

import asyncio

import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.models import MemcmpOpts, TokenAccountOpts
from solders.pubkey import Pubkey

from tests.support.solana_rpc import (
    STAKE_PROGRAM,
    TOKEN_2022_PROGRAM,
    TOKEN_PROGRAM,
    SolanaRpcServer,
    metadata_extension,
    token2022_mint_bytes,
)

pytestmark = pytest.mark.integration


def test_solana_py_parses_every_method(svm_server: SolanaRpcServer) -> None:
    owner, mint, mint22 = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(owner, 42)
    svm_server.add_mint(mint, 6)
    svm_server.add_token_account(owner, mint, 1_000_001)
    svm_server.add_mint_raw(
        mint22, token2022_mint_bytes(2, metadata_extension(mint22, "N", "S")), TOKEN_2022_PROGRAM
    )
    svm_server.add_token_account(owner, mint22, 5, TOKEN_2022_PROGRAM)
    stake = svm_server.add_stake(owner, owner, 9_000_000_000)

    async def go() -> None:
        async with AsyncClient(svm_server.url) as client:
            assert (await client.get_balance(owner)).value == 42
            svm_server.set_epoch(700)
            epoch = (await client.get_epoch_info()).value
            assert (epoch.epoch, epoch.slot_index, epoch.slots_in_epoch) == (700, 1_000, 432_000)
            accounts = (
                await client.get_multiple_accounts([owner, mint, Pubkey.new_unique()])
            ).value
            assert accounts[0] is not None and accounts[0].lamports == 42
            assert accounts[1] is not None and accounts[1].owner == TOKEN_PROGRAM
            assert accounts[2] is None
            for program, raw in ((TOKEN_PROGRAM, "1000001"), (TOKEN_2022_PROGRAM, "5")):
                parsed = await client.get_token_accounts_by_owner_json_parsed(
                    owner, TokenAccountOpts(program_id=program)
                )
                (item,) = parsed.value
                assert item.account.data.parsed["info"]["tokenAmount"]["amount"] == raw
            staked = await client.get_program_accounts(
                STAKE_PROGRAM,
                encoding="base64",
                filters=[MemcmpOpts(offset=12, bytes=str(owner))],
            )
            assert [a.pubkey for a in staked.value] == [stake]
            assert staked.value[0].account.lamports == 9_000_000_000

    asyncio.run(go())
