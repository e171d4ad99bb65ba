"""A local JSON-RPC proxy in front of anvil that behaves like the nodes the history scan meets.

- ``no_trace``: ``trace_filter`` answers "Method not found" (-32601), as geth and most public
  providers do.
- ``max_range`` / ``range_message``: ``eth_getLogs`` (and ``trace_filter``) over more blocks
  than allowed answer with a real provider's words (QuickNode, publicnode, Alchemy …).
- ``max_results``: ``eth_getLogs`` that return more logs than allowed answer Infura's -32005
  "query returned more than N results. Try with this block range [0x…, 0x…]."
- ``max_topics``: a topic OR-list longer than allowed answers geth's "exceed max addresses or
  topics per search position".
- ``latency``: seconds added to every HTTP request (the benchmark's 50 ms).
- ``spoil_logs``: every log loses its transaction hash (a broken node).
- ``no_log_times``: logs come without ``blockTimestamp`` (block headers are then read).
Counts HTTP requests and JSON-RPC items per method.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

from aiohttp import web

from tests.support.local_proxy import LocalProxy

QUICKNODE = "eth_getLogs and eth_newFilter are limited to a {n} range"
PUBLICNODE = "exceed maximum block range: {n}"
ALCHEMY = (
    "Log response size exceeded. You can make eth_getLogs requests with up to a {n} block range "
    "and no limit on the response size, or you can request any block range with a cap of 10K "
    "logs in the response."
)
GETH_TOPICS = "exceed max addresses or topics per search position"


class HistoryProxy(LocalProxy):
    def __init__(self, upstream: str, latency: float = 0.0) -> None:
        self.latency = latency
        self.no_trace = False
        self.max_range: int | None = None
        self.range_message = QUICKNODE
        self.range_code = -32000
        self.max_results: int | None = None
        self.max_topics: int | None = None
        self.spoil_logs = False
        self.no_log_times = False  # logs without blockTimestamp (geth before 1.16, most providers)
        self.items: Counter[str] = Counter()
        self.refusals = 0
        super().__init__(upstream)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        sent = json.loads(body)
        items: list[dict[str, Any]] = sent if isinstance(sent, list) else [sent]
        answers: dict[Any, dict[str, Any]] = {}
        forward = []
        for item in items:
            method = str(item.get("method"))
            self.items[method] += 1
            refusal = self._refuse(method, item.get("params") or [])
            if refusal is not None:
                self.refusals += 1
                answers[item.get("id")] = {"jsonrpc": "2.0", "id": item.get("id"), "error": refusal}
            else:
                forward.append(item)
        if forward:
            _status, raw = await self._forward(json.dumps(forward).encode())
            for reply in json.loads(raw):
                answers[reply.get("id")] = self._after(reply, forward)
        out = [answers[i.get("id")] for i in items]
        return web.json_response(out if isinstance(sent, list) else out[0])

    def _refuse(self, method: str, params: list[Any]) -> dict[str, Any] | None:
        if method == "trace_filter" and self.no_trace:
            return {"code": -32601, "message": "Method not found"}
        if method not in ("eth_getLogs", "trace_filter") or not params:
            return None
        flt = params[0]
        lo, hi = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
        if self.max_range is not None and hi - lo + 1 > self.max_range:
            message = self.range_message.format(n=f"{self.max_range:,}")
            return {"code": self.range_code, "message": message}
        topics = flt.get("topics") or []
        if self.max_topics is not None:
            for t in topics:
                if isinstance(t, list) and len(t) > self.max_topics:
                    return {"code": -32602, "message": GETH_TOPICS}
        return None

    def _after(self, reply: dict[str, Any], sent: list[dict[str, Any]]) -> dict[str, Any]:
        item = next((i for i in sent if i.get("id") == reply.get("id")), {})
        if item.get("method") != "eth_getLogs" or not isinstance(reply.get("result"), list):
            return reply
        logs = reply["result"]
        if self.max_results is not None and len(logs) > self.max_results:
            self.refusals += 1
            lo = int(item["params"][0]["fromBlock"], 16)
            last = int(logs[self.max_results - 1]["blockNumber"], 16)
            hi = max(lo, last - 1)
            message = (
                f"query returned more than {self.max_results} results. Try with this block "
                f"range [{hex(lo)}, {hex(hi)}]."
            )
            return {
                "jsonrpc": "2.0",
                "id": reply["id"],
                "error": {"code": -32005, "message": message},
            }
        for lg in logs:
            if self.spoil_logs:
                lg.pop("transactionHash", None)
            if self.no_log_times:
                lg.pop("blockTimestamp", None)
        return reply
