"""``chainfolio networks`` and ``refresh --once --json`` end to end against a real anvil node."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.support.net import free_port

pytestmark = pytest.mark.integration
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_refresh_json_reports_ok_and_failed_chains(data_dir: Path, anvil: Anvil) -> None:
    anvil.set_native(WALLET, 1_500_000_000_000_000_001)
    assert run(data_dir, "wallets", "add", WALLET)[0] == 0
    assert run(data_dir, "networks", "add", str(anvil.chain_id), "Local", "ETH", anvil.url,
               "--multicall3", MULTICALL3)[0] == 0  # fmt: skip
    dead = f"http://127.0.0.1:{free_port()}"
    assert run(data_dir, "networks", "add", "999", "Dead", "DED", dead)[0] == 0
    _, listing = run(data_dir, "networks", "list", "--json")
    assert {"eip155:31337", "eip155:999", "eip155:1"} <= {n["chain"] for n in json.loads(listing)}
    code, out = run(data_dir, "refresh", "--once", "--json", "--chain", "eip155:31337",
                    "--chain", "eip155:999")  # fmt: skip
    assert code == 1
    chains = {c["chain"]: c for c in json.loads(out)["chains"]}
    ok, bad = chains["eip155:31337"], chains["eip155:999"]
    assert ok["status"] == "ok" and ok["reason"] is None
    assert ok["balances"] == [
        {
            "wallet": f"eip155:31337:{WALLET}",
            "asset": "eip155:31337/slip44:60",
            "symbol": "ETH",
            "name": "ETH",
            "raw": "1500000000000000001",
            "decimals": 18,
            "amount": "1.500000000000000001",
        }
    ]
    assert bad["status"] == "failed" and "could not be reached" in bad["reason"]
    code, table = run(data_dir, "refresh", "--once", "--chain", "eip155:31337")
    assert code == 0 and "1.500000000000000001 ETH" in table
