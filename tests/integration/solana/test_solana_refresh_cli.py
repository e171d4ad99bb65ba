"""`chainfolio refresh --once --json` reads a Solana wallet through the factory, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from solders.pubkey import Pubkey

from tests.support.solana_rpc import SolanaRpcServer

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
