"""A real anvil node for tests and the benchmark: start on a free port, deploy, stop."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from eth_abi.abi import encode

from tests.support.net import free_port, wait_until

ROOT = Path(__file__).resolve().parents[3]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
ARTIFACTS = json.loads((ROOT / "tests" / "contracts" / "artifacts.json").read_text())
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


def running(chain_id: int, *, multicall: bool = True) -> Iterator[Anvil]:
    """For a fixture to ``yield from``: a node answering as ``chain_id``, stopped afterwards;
    the test is skipped when the npm tools are not installed."""
    if not ANVIL.exists():
        pytest.skip("anvil not installed: run `npm install --no-audit --no-fund`")
    node = Anvil(chain_id, multicall=multicall)
    try:
        yield node
    finally:
        node.stop()


class _Stoppable(Protocol):
    def stop(self) -> None: ...


def stop_all(proxies: Iterable[_Stoppable], nodes: Iterable[_Stoppable]) -> None:
    """A benchmark's clean-up: its latency proxies first, then the nodes behind them."""
    for proxy in proxies:
        proxy.stop()
    for node in nodes:
        node.stop()


class Anvil:
    def __init__(self, chain_id: int, *, multicall: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.chain_id = chain_id
        self.proc = subprocess.Popen(
            [str(ANVIL), "--port", str(self.port), "--host", "127.0.0.1", "--chain-id",
             str(chain_id), "--silent", "--gas-limit", "3000000000", "--code-size-limit", "100000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.http = httpx.Client(timeout=30)
        wait_until(self._ready, 30, "anvil to answer eth_chainId")
        self.sender = self.rpc("eth_accounts")[0]
        if multicall:
            self.rpc("anvil_setCode", MULTICALL3, ARTIFACTS["TestMulticall3"]["deployed"])

    def _ready(self) -> bool:
        try:
            return int(self.rpc("eth_chainId"), 16) == self.chain_id
        except (httpx.HTTPError, RuntimeError):
            return False

    def rpc(self, method: str, *params: Any) -> Any:
        r = self.http.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        )
        body = r.json()
        if "error" in body:
            raise RuntimeError(body["error"])
        return body["result"]

    def send(self, to: str | None, data: str) -> dict[str, Any]:
        """One transaction at a time (batched sends can leave later nonces unmined)."""
        tx: dict[str, Any] = {"from": self.sender, "data": data, "gas": hex(30_000_000)}
        if to:
            tx["to"] = to
        h = self.rpc("eth_sendTransaction", tx)
        box: list[dict[str, Any]] = []

        def mined() -> bool:
            r = self.rpc("eth_getTransactionReceipt", h)
            if r:
                box.append(r)
            return bool(r)

        wait_until(mined, 30, "the transaction to be mined")
        receipt = box[0]
        assert int(receipt["status"], 16) == 1, receipt
        return receipt

    def deploy(
        self, name: str, types: list[str] | None = None, args: list[Any] | None = None
    ) -> str:
        data = ARTIFACTS[name]["bytecode"] + (encode(types, args).hex() if types else "")
        addr: str = self.send(None, data)["contractAddress"]
        return addr

    def mint(self, token: str, to: str, amount: int) -> None:
        self.send(token, "0x40c10f19" + encode(["address", "uint256"], [to, amount]).hex())

    def set_native(self, address: str, wei: int) -> None:
        self.rpc("anvil_setBalance", address, hex(wei))

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
