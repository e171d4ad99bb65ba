"""Every kind of secret set through the CLI must never reach the data dir, logs or outputs.

Covers the commands that exist today (keys, wallets, config). The lead extends SECRET_RUNS with
``refresh`` against the local servers and ``export`` once those commands land.
"""

from __future__ import annotations

import json
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


class VerboseCli:
    """Runs ``chainfolio --verbose`` against the private Secret Service, keeping every output."""

    def __init__(self, session: Any, data: Path) -> None:
        self.env = {
            **os.environ,
            **session.env,
            "CHAINFOLIO_DATA_DIR": str(data),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        }
        self.outputs: list[str] = []

    def __call__(self, args: list[str], stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app", "--verbose", *args],
            input=stdin, env=self.env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        assert done.returncode == 0, (args, done.stderr[-2000:])
        self.outputs.append(done.stdout + done.stderr)
        return done.stdout


def test_no_secret_bytes_anywhere(
    secret_service_session: Any, secret_backend: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    cli = VerboseCli(secret_service_session, data)
    outputs = cli.outputs

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


class KeyedRpcGateway:
    """A provider-style endpoint ``/v2/<key>`` in front of anvil: forwards only with the key."""

    def __init__(self, upstream: str, key: str) -> None:
        import asyncio
        import threading

        self.upstream, self.key, self.seen = upstream, key, 0
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start() -> None:
            import aiohttp
            from aiohttp import web

            self._session = aiohttp.ClientSession()
            app = web.Application()
            app.router.add_post("/v2/{key}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v2/{key}"
            ready.set()

        threading.Thread(
            target=lambda: (self._loop.run_until_complete(start()), self._loop.run_forever()),
            daemon=True,
        ).start()
        assert ready.wait(10)

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        if request.match_info["key"] != self.key:
            return web.Response(status=401, text="bad key")
        self.seen += 1
        async with self._session.post(self.upstream, data=await request.read(),
                                      headers={"Content-Type": "application/json"}) as up:  # fmt: skip
            return web.Response(body=await up.read(), content_type="application/json")

    def stop(self) -> None:
        import asyncio

        async def shutdown() -> None:
            await self._session.close()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


def test_refresh_and_prices_with_keys_leave_no_trace(
    secret_service_session: Any, secret_backend: Any, tmp_path: Path
) -> None:
    """Keyed RPC URL + CoinGecko demo key used for real, with --verbose, then everything
    exported: no byte of either reaches the data directory, the logs, the settings, the network
    file, the exports or any output."""
    from tests.integration.evm.anvil import MULTICALL3, Anvil
    from tests.integration.prices.fakes import FakeCoinGecko, serve_in_thread

    rpc_key = "alchemyLeakTestKey0123456789"
    demo_key = "CG-leaktest-demo-Q7x2"
    data = tmp_path / "data"
    cli = VerboseCli(secret_service_session, data)
    outputs = cli.outputs

    node = Anvil(31337)
    gateway = KeyedRpcGateway(node.url, rpc_key)
    coingecko = FakeCoinGecko(
        prices={"ethereum": 3000.5}, required_header=("x-cg-demo-api-key", demo_key)
    )
    wallet = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
    try:
        node.set_native(wallet, 10**18)
        with serve_in_thread(coingecko, "/api/v3") as cg_url:
            cli(["keys", "set", "coingecko.demo"], stdin=demo_key + "\n")
            cli(["config", "set", "prices.coingecko.url", cg_url])
            cli(["config", "set", "prices.order", "coingecko"])
            cli(
                [
                    "networks",
                    "add",
                    "31337",
                    "Keyed",
                    "ETH",
                    gateway.url,
                    "--multicall3",
                    MULTICALL3,
                ]
            )
            cli(["wallets", "add", wallet])
            out = cli(["refresh", "--once", "--json", "--chain", "eip155:31337"])
            (chain,) = json.loads(out)["chains"]
            assert chain["status"] == "ok"
            assert [b["raw"] for b in chain["balances"]] == [str(10**18)]
            priced = cli(["prices", "coingecko:ethereum", "--json"])
            assert "3000.5" in priced
            cli(["networks", "list", "--json"])
            cli(["config", "list"])
            exported = cli(["export", "holdings", "--csv"])
            assert "eip155:31337/slip44:60" in exported
            cli(["history", "--json"])
            cli(["history", "--csv"])
    finally:
        gateway.stop()
        node.stop()

    assert gateway.seen >= 1, "the refresh must have used the keyed URL"
    assert any(r.headers.get("x-cg-demo-api-key") == demo_key for r in coingecko.log)
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "networks.toml" for p in files)
    for secret in (rpc_key, demo_key):
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"secret in {path.relative_to(data)}"
        for text in outputs:
            assert secret not in text
