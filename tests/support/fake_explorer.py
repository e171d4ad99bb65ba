"""A local Etherscan/Blockscout account API over a real anvil node, in their response format.

``GET /api?module=account&action=txlist|txlistinternal&address=…&startblock=…&endblock=…
&page=1&offset=…&sort=asc`` (Etherscan v2 adds ``chainid`` and ``apikey``) answers
``{"status": "1", "message": "OK", "result": [...]}`` with the row fields Etherscan documents
(strings of decimal digits, lower-case hex addresses, ``isError``/``txreceipt_status``,
``traceId`` for internal transactions), ``{"status": "0", "message": "No transactions found",
"result": []}`` when there is nothing, and ``{"status": "0", "message": "NOTOK", "result":
"Invalid API Key"}`` / ``"Max rate limit reached"`` for a wrong key or a queued rate limit.

The rows are built the way an explorer builds them, from the node: every block's transactions
and receipts (txlist) and ``trace_transaction`` of every transaction (txlistinternal; calls
inside a reverted call are marked ``isError: "1"``). ``seen`` records every address asked for.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

import httpx
from aiohttp import web

from tests.support.net import free_port


class FakeExplorer:
    def __init__(self, node_url: str, *, api_key: str | None = None, chain_id: int | None = None):
        self.node_url = node_url
        self.api_key = api_key
        self.chain_id = chain_id
        self.requests = 0
        self.seen: set[str] = set()
        self.faults: deque[str] = deque()  # "rate": one "Max rate limit reached" answer
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._rows: dict[str, list[dict[str, str]]] | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake explorer did not start")

    @property
    def api_url(self) -> str:
        return self.url + "/api"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/api", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=128).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def refresh(self) -> None:
        """Forget the rows built so far (the chain grew)."""
        self._rows = None

    # ------------------------------------------------------------------ answers

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        q = request.query
        if self.api_key is not None and q.get("apikey") != self.api_key:
            return web.json_response(
                {"status": "0", "message": "NOTOK", "result": "Invalid API Key"}
            )
        if self.chain_id is not None and q.get("chainid") != str(self.chain_id):
            return web.json_response({"status": "0", "message": "NOTOK", "result": "Missing or unsupported chainid parameter (required for v2 api)"})  # fmt: skip
        if self.faults:
            self.faults.popleft()
            return web.json_response({"status": "0", "message": "NOTOK", "result": "Max rate limit reached"})  # fmt: skip
        action, address = q.get("action", ""), q.get("address", "").lower()
        if q.get("module") != "account" or action not in ("txlist", "txlistinternal"):
            return web.json_response({"status": "0", "message": "NOTOK", "result": "Error! Missing Or invalid Module name"})  # fmt: skip
        self.seen.add(address)
        rows = await asyncio.to_thread(self._all_rows)
        lo, hi = int(q.get("startblock", "0")), int(q.get("endblock", str(2**62)))
        offset = int(q.get("offset", "10000"))
        mine = [
            r for r in rows[action]
            if lo <= int(r["blockNumber"]) <= hi and address in (r["from"], r["to"])
        ][:offset]  # fmt: skip
        if not mine:
            empty = (
                "No transactions found" if action == "txlist" else "No internal transactions found"
            )
            return web.json_response({"status": "0", "message": empty, "result": []})
        return web.json_response({"status": "1", "message": "OK", "result": mine})

    def _all_rows(self) -> dict[str, list[dict[str, str]]]:
        if self._rows is None:
            self._rows = _build(self.node_url)
        return self._rows


def _rpc(http: httpx.Client, url: str, method: str, *params: Any) -> Any:
    body = http.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    )
    return body.json()["result"]


def _build(url: str) -> dict[str, list[dict[str, str]]]:
    txs: list[dict[str, str]] = []
    internal: list[dict[str, str]] = []
    with httpx.Client(timeout=30) as http:
        head = int(_rpc(http, url, "eth_blockNumber"), 16)
        for n in range(head + 1):
            block = _rpc(http, url, "eth_getBlockByNumber", hex(n), True)
            ts = str(int(block["timestamp"], 16))
            for tx in block["transactions"]:
                r = _rpc(http, url, "eth_getTransactionReceipt", tx["hash"])
                ok = r["status"] == "0x1"
                txs.append({
                    "blockNumber": str(n), "timeStamp": ts, "hash": tx["hash"],
                    "nonce": str(int(tx["nonce"], 16)), "blockHash": block["hash"],
                    "transactionIndex": str(int(tx["transactionIndex"], 16)),
                    "from": tx["from"].lower(), "to": (tx.get("to") or "").lower(),
                    "value": str(int(tx["value"], 16)), "gas": str(int(tx["gas"], 16)),
                    "gasPrice": str(int(r["effectiveGasPrice"], 16)),
                    "isError": "0" if ok else "1", "txreceipt_status": "1" if ok else "0",
                    "input": tx["input"], "contractAddress": (r.get("contractAddress") or "").lower(),
                    "cumulativeGasUsed": str(int(r["cumulativeGasUsed"], 16)),
                    "gasUsed": str(int(r["gasUsed"], 16)), "confirmations": str(head - n + 1),
                    "methodId": tx["input"][:10], "functionName": "",
                })  # fmt: skip
                traces = _rpc(http, url, "trace_transaction", tx["hash"])
                failed = [t["traceAddress"] for t in traces if t.get("error")]
                for t in traces:
                    path = t["traceAddress"]
                    action = t["action"]
                    if not path or t["type"] != "call" or action.get("callType") != "call":
                        continue
                    voided = any(path[: len(p)] == p for p in failed)
                    internal.append({
                        "blockNumber": str(n), "timeStamp": ts, "hash": tx["hash"],
                        "from": action["from"].lower(), "to": action["to"].lower(),
                        "value": str(int(action["value"], 16)), "contractAddress": "",
                        "input": "", "type": "call", "gas": str(int(action["gas"], 16)),
                        "gasUsed": str(int((t.get("result") or {}).get("gasUsed", "0x0"), 16)),
                        "traceId": "_".join(map(str, path)), "isError": "1" if voided else "0",
                        "errCode": "",
                    })  # fmt: skip
    return {"txlist": txs, "txlistinternal": internal}
