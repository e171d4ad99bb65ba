"""``chainfolio exchanges add|list|remove`` and a refresh that reads the account, with the key in
a real Secret Service keyring and ccxt pointed at a local fake of the exchange: the balances land
in the snapshot as their own source, priced; a dead exchange leaves them stale, not gone; no byte
of the key or secret reaches the data directory, the logs or any output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.keyring.test_no_secret_leaks import VerboseCli
from tests.support.fake_exchange import ExchangeWorld, running

pytestmark = pytest.mark.integration

API_KEY = "binanceLeakTestKey7Q2w9e8r7t6y5u4i3o2p1a0s9d8f7g6h5j4k3l2z1x0c9v8b7"
SECRET = "binanceLeakTestSecret1q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6h7j8k9l0z1x2c3v4"


def test_exchange_account_from_add_to_snapshot(secret_service_session: Any, tmp_path: Path) -> None:
    from tests.integration.prices.fakes import FakeCoinGecko, serve_in_thread

    data = tmp_path / "data"
    cli = VerboseCli(secret_service_session, data)
    world = ExchangeWorld(
        spot={"BTC": ("0.5", "0.25"), "NOTACOIN": ("3", "0")}, funding={"BTC": "1"}
    )
    with (
        running(world) as url,
        serve_in_thread(FakeCoinGecko(prices={"bitcoin": 60000.0}), "/api/v3") as cg_url,
    ):
        cli(["config", "set", "prices.coingecko.url", cg_url])
        cli(["config", "set", "prices.order", "coingecko"])
        added = json.loads(
            cli(
                ["exchanges", "add", "binance", "--api-url", url, "--json"],
                f"{API_KEY}\n{SECRET}\n",
            )
        )
        assert added["holdings"] == {"BTC": "1.75", "NOTACOIN": "3"}
        listed = json.loads(cli(["exchanges", "list", "--json"]))
        assert [(a["name"], a["key_in_keyring"]) for a in listed] == [("binance", True)]

        out = json.loads(cli(["refresh", "--once", "--json"]))
        (source,) = out["chains"]
        assert source["chain"] == "cex:binance" and source["status"] == "ok"
        held = {b["symbol"]: b for b in source["balances"]}
        assert held["BTC"]["amount"] == "1.75000000"
        assert held["BTC"]["value"] == "105000.00" or held["BTC"]["value"].startswith("105000")
        assert out["total"].startswith("105000")  # the unknown coin is left out, not guessed

        world.mode = "500"  # the exchange is down: last good balances kept, marked stale
        done = subprocess.run(
            [sys.executable, "-m", "app", "--verbose", "refresh", "--once", "--json"],
            env=cli.env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        cli.outputs.append(done.stdout + done.stderr)
        assert done.returncode == 1  # nothing fresh was read: the exit code says so
        out = json.loads(done.stdout)
        (source,) = out["chains"]
        assert source["status"] == "failed" and "not available" in (source["reason"] or "")
        (stored,) = out["snapshot"]["sources"]
        assert stored["chain"] == "cex:binance" and stored["state"] == "stale"
        assert out["total"].startswith("105000")
        world.mode = None

        cli(["exchanges", "remove", "binance"])
        assert json.loads(cli(["exchanges", "list", "--json"])) == []
    files = [p for p in data.rglob("*") if p.is_file()]
    for secret in (API_KEY, SECRET):
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"secret in {path.relative_to(data)}"
        for text in cli.outputs:
            assert secret not in text
