"""``chainfolio tokens add`` reads hostile metadata from real contracts; refresh then reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.integration.evm.test_refresh_cli import run

pytestmark = pytest.mark.integration
WALLET = "0x1234567890123456789012345678901234567890"


def test_tokens_add_list_refresh(data_dir: Path, anvil: Anvil) -> None:
    mkr = anvil.deploy("Bytes32Token")
    anvil.mint(mkr, WALLET, 42 * 10**18)
    hostile = anvil.deploy(
        "TestToken", ["string", "string", "uint8"],
        ["\u202eClaim at free-usdc.xyz\x00\x07" + "A" * 500, "US\u202eDC\n", 6],
    )  # fmt: skip
    anvil.mint(hostile, WALLET, 10**6)
    run(data_dir, "networks", "add", str(anvil.chain_id), "Local", "ETH", anvil.url,
        "--multicall3", MULTICALL3)  # fmt: skip
    run(data_dir, "wallets", "add", WALLET)
    assert run(data_dir, "tokens", "add", "Local", mkr)[0] == 0
    code, out = run(data_dir, "tokens", "add", "eip155:31337", hostile)
    assert code == 0 and "spam" in out
    listed = json.loads(run(data_dir, "tokens", "list", "--chain", "Local", "--json")[1])
    assert [t["symbol"] for t in listed] == ["MKR"]  # spam hidden by default
    every = {t["symbol"]: t for t in json.loads(run(data_dir, "tokens", "list", "--chain", "Local",
                                                    "--all", "--json")[1])}  # fmt: skip
    assert every["MKR"]["name"] == "Maker" and every["MKR"]["decimals"] == 18
    bad = every["USDC"]
    assert bad["spam"] and bad["decimals"] == 6
    assert "\u202e" not in bad["name"] and "\x07" not in bad["name"] and len(bad["name"]) <= 64
    code, out = run(data_dir, "refresh", "--once", "--json", "--no-prices", "--chain", "Local")
    assert code == 0
    got = {b["symbol"]: b["amount"] for b in json.loads(out)["chains"][0]["balances"]}
    assert got["MKR"] == "42.000000000000000000" and got["USDC"] == "1.000000"
    spam = {b["symbol"]: b["spam"] for b in json.loads(out)["chains"][0]["balances"]}
    assert not spam["MKR"] and spam["USDC"]
    _, table = run(data_dir, "refresh", "--once", "--no-prices", "--chain", "Local")
    assert "MKR" in table and "USDC" not in table  # spam hidden unless asked for
    _, table = run(data_dir, "refresh", "--once", "--no-prices", "--show-spam", "--chain", "Local")
    assert "USDC" in table
    assert run(data_dir, "tokens", "remove", "Local", mkr)[0] == 0
