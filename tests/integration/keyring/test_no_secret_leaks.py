"""Every kind of secret set through the CLI must never reach the data dir, logs or outputs.

Covers the commands that exist today (keys, wallets, config). The lead extends SECRET_RUNS with
``refresh`` against the local servers and ``export`` once those commands land.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SECRETS = {
    "coingecko.demo": "CG-leaktest-demo-Q7x2",
    "coingecko.pro": "CG-leaktest-pro-Z9k4",
    "rpc.eip155:1.0": "alchemyLeakTestKey0123456789",
    "rpc.eip155:8453.0": "infuraLeakTestKeyabcdef",
    "rpc.solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp.0": "heliusLeakTest-9f8e7d",
}
RUNS: list[list[str]] = [
    ["keys", "list"],
    ["keys", "list", "--json"],
    ["keys", "status", "--json"],
    ["wallets", "add", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"],
    ["wallets", "list"],
    ["config", "list"],
    ["config", "list", "--json"],
]


def test_no_secret_bytes_anywhere(
    secret_service_session: Any, secret_backend: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        **secret_service_session.env,
        "CHAINFOLIO_DATA_DIR": str(data),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
    }
    outputs: list[str] = []

    def cli(args: list[str], stdin: str = "") -> None:
        done = subprocess.run(
            [sys.executable, "-m", "app", "--verbose", *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (args, done.stderr[-2000:])
        outputs.append(done.stdout + done.stderr)

    for name, value in SECRETS.items():
        cli(["keys", "set", name], stdin=value + "\n")
    for args in RUNS:
        cli(args)
    cli(["keys", "remove", "coingecko.pro"])

    assert any("coingecko.demo" in out for out in outputs)  # names are fine
    assert (data / "logs").is_dir()
    files = [p for p in data.rglob("*") if p.is_file()]
    assert files, "expected the data directory to hold a database, settings and logs"
    for value in SECRETS.values():
        needle = value.encode()
        for path in files:
            assert needle not in path.read_bytes(), f"secret found in {path.relative_to(data)}"
        for out in outputs:
            assert value not in out
