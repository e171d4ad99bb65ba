"""`chainfolio refresh --once --json` reads a Solana wallet through the factory, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from tests.support.solana_rpc import TOKEN_2022_PROGRAM, SolanaRpcServer, tlv, token2022_mint_bytes

pytestmark = pytest.mark.integration

MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_refresh_json_shows_sol_token_and_stake(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner = Pubkey.new_unique()
    svm_server.fund(owner, 2_500_000_000)
    svm_server.add_mint(USDC, 6)
    svm_server.add_token_account(owner, USDC, 1_500_000)
    svm_server.add_stake(owner, owner, 3_000_000_000)
    assert cli(tmp_path, "wallets", "add", str(owner)).returncode == 0
    assert cli(tmp_path, "networks", "set-rpc", MAINNET, svm_server.url).returncode == 0
    done = cli(tmp_path, "refresh", "--once", "--json", "--no-prices", "--chain", MAINNET)
    assert done.returncode == 0, done.stderr
    (chain,) = json.loads(done.stdout)["chains"]
    assert chain["status"] == "ok" and chain["http_requests"] == 1
    got = {b["asset"]: (b["raw"], b["amount"]) for b in chain["balances"]}
    assert got == {
        f"{MAINNET}/slip44:501": ("2500000000", "2.500000000"),
        f"{MAINNET}/stake:native": ("3000000000", "3.000000000"),
        f"{MAINNET}/token:{USDC}": ("1500000", "1.500000"),
    }
    # How the staked SOL splits by status; the parts add up to the stake holding.
    split = chain["stake"][f"{MAINNET}:{owner}"]
    assert sum(int(v) for v in split.values()) == 3_000_000_000


def test_tokens_add_for_a_solana_mint_is_used_by_refresh(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner, mine, bait, interest = (Pubkey.new_unique() for _ in range(4))
    svm_server.fund(owner, 1)
    svm_server.add_mint(mine, 2)
    svm_server.add_metaplex_metadata(mine, "My Coin", "MYC")
    svm_server.add_token_account(owner, mine, 12_345)
    svm_server.add_mint(bait, 0)
    svm_server.add_metaplex_metadata(bait, "Visit claim-sol.xyz for rewards", "CLAIM")
    svm_server.add_token_account(owner, bait, 1)
    svm_server.add_mint_raw(
        interest, token2022_mint_bytes(6, tlv(10, bytes(52))), TOKEN_2022_PROGRAM
    )
    assert cli(tmp_path, "wallets", "add", str(owner)).returncode == 0
    assert cli(tmp_path, "networks", "set-rpc", MAINNET, svm_server.url).returncode == 0
    added = cli(tmp_path, "tokens", "add", MAINNET, str(mine))
    assert added.returncode == 0, added.stderr
    assert "MYC (My Coin), 2 decimals" in added.stdout
    spam = cli(tmp_path, "tokens", "add", MAINNET, str(bait))
    assert spam.returncode == 0 and "Marked as spam" in spam.stdout
    refused = cli(tmp_path, "tokens", "add", MAINNET, str(interest))
    assert refused.returncode != 0 and "interest-bearing" in refused.stderr
    not_a_mint = cli(tmp_path, "tokens", "add", MAINNET, str(owner))
    assert not_a_mint.returncode != 0 and "is not a token mint" in not_a_mint.stderr
    svm_server.stats(reset=True)
    done = cli(tmp_path, "refresh", "--once", "--json", "--no-prices", "--chain", MAINNET)
    assert done.returncode == 0, done.stderr
    (chain,) = json.loads(done.stdout)["chains"]
    assert chain["http_requests"] == 1  # both mints known from the store: no metadata round
    got = {b["asset"]: b for b in chain["balances"]}
    assert (got[f"{MAINNET}/token:{mine}"]["symbol"], got[f"{MAINNET}/token:{mine}"]["amount"]) == (
        "MYC",
        "123.45",
    )
    assert got[f"{MAINNET}/token:{bait}"]["spam"] is True
    removed = cli(tmp_path, "tokens", "remove", MAINNET, str(mine))
    assert removed.returncode == 0, removed.stderr


def test_a_mint_added_without_metadata_is_shown_and_two_accounts_are_one_holding(
    svm_server: SolanaRpcServer, tmp_path: Path
) -> None:
    owner, bare = Pubkey.new_unique(), Pubkey.new_unique()
    svm_server.fund(owner, 1)
    svm_server.add_mint(bare, 4)  # no metadata at all
    svm_server.add_token_account(owner, bare, 10_000)
    svm_server.add_token_account(owner, bare, 2_345)  # a second account of the same mint
    assert cli(tmp_path, "wallets", "add", str(owner)).returncode == 0
    assert cli(tmp_path, "networks", "set-rpc", MAINNET, svm_server.url).returncode == 0
    added = cli(tmp_path, "tokens", "add", MAINNET, str(bare))
    assert added.returncode == 0, added.stderr
    assert "spam" not in added.stdout.lower()
    for _ in range(2):  # the second refresh stores its snapshot over the first
        done = cli(tmp_path, "refresh", "--once", "--json", "--no-prices", "--chain", MAINNET)
        assert done.returncode == 0, done.stderr
    (chain,) = json.loads(done.stdout)["chains"]
    tokens = [b for b in chain["balances"] if b["asset"] == f"{MAINNET}/token:{bare}"]
    assert [(t["raw"], t["amount"], t["spam"]) for t in tokens] == [("12345", "1.2345", False)]
