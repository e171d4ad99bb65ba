"""A data directory set up the way a person would: through the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from app.cli import main as cli


def run_cli(data_dir: Path, *argv: str) -> str:
    out = io.StringIO()
    assert cli(["--data-dir", str(data_dir), *argv], stdout=out) == 0, argv
    return out.getvalue()


def mainnet_only(data_dir: Path, wallet: str, rpc_url: str, prices_url: str, label: str) -> None:
    """One wallet, only Ethereum (pointed at ``rpc_url``), prices from a DefiLlama-format
    server at ``prices_url``: nothing reaches the internet."""
    run_cli(data_dir, "wallets", "add", wallet, "--label", label)
    for network in json.loads(run_cli(data_dir, "networks", "list", "--json")):
        if network["enabled"] and network["chain"] != "eip155:1":
            run_cli(data_dir, "networks", "disable", network["chain"])
    run_cli(data_dir, "networks", "set-rpc", "eip155:1", rpc_url)
    run_cli(data_dir, "config", "set", "prices.defillama.url", prices_url)
    run_cli(data_dir, "config", "set", "prices.order", "defillama")
