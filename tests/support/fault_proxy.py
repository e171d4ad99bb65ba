"""A real local JSON-RPC proxy in front of a node (anvil) that misbehaves on command.

It forwards every request to the node over HTTP, then spoils the reply the way a faulty or
hostile RPC provider does: error objects instead of results, results that are not hex, batch
replies that are empty, short, repeat or invent ids, drop results, or are not a list at all, and
a chain id of another network. ``bad_replies`` limits the fault to the first N requests (a
transient fault); ``hold_after`` parks every request after the first N until :meth:`release`, so
a test can stop a read part-way without timing anything.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from aiohttp import web

from tests.support.local_proxy import LocalProxy

FAULTS = frozenset(
    {
        "error",  # every item answers ``error`` (the node's trouble, not the contract's)
        "error_eth_call",  # only eth_call items answer ``error``
        "non_hex",  # eth_call / eth_getBalance results that are not hex
        "empty",  # the reply is []
        "short",  # the last item is missing
        "duplicate",  # the last item is replaced by a copy of the first: one id twice
        "null_result",  # every item has "result": null and no error
        "extra_id",  # an item with an id nobody asked for is added
        "no_ids",  # items lose their ids
        "not_list",  # a batch is answered by a single object
    }
)


class FaultProxy(LocalProxy):
    def __init__(self, upstream: str) -> None:
        self.fault: str | None = None
        self.bad_replies: int | None = None  # None: every reply is spoiled
        self.error: dict[str, Any] = {"code": -32000, "message": "header not found"}
        self.chain_id: int | None = None  # answer eth_chainId with this id
        self.hold_after: int | None = None
        self.spoiled = 0
        self.methods: list[list[str]] = []  # the methods of each request, in arrival order
        self._released: asyncio.Event | None = None
        super().__init__(upstream)

    def set(self, fault: str | None, bad_replies: int | None = None) -> FaultProxy:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault}")
        self.fault, self.bad_replies, self.spoiled = fault, bad_replies, 0
        return self

    def release(self) -> None:
        """Let every held request (and all later ones) through."""
        self._loop.call_soon_threadsafe(self._release)

    def _release(self) -> None:
        self.hold_after = None
        if self._released is not None:
            self._released.set()

    async def _start(self) -> None:
        self._released = asyncio.Event()
        await super()._start()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        number = self.requests
        body = await request.read()
        sent = json.loads(body)
        items = sent if isinstance(sent, list) else [sent]
        self.methods.append([str(i.get("method")) for i in items if isinstance(i, dict)])
        if self.hold_after is not None and number > self.hold_after:
            assert self._released is not None
            await self._released.wait()
        _status, raw = await self._forward(body)
        reply = json.loads(raw)
        method_of = {i.get("id"): i.get("method") for i in items if isinstance(i, dict)}
        reply = self._chain_id(reply, method_of)
        if self.fault and (self.bad_replies is None or self.spoiled < self.bad_replies):
            self.spoiled += 1
            reply = self._spoil(reply, method_of)
        return web.json_response(reply)

    def _chain_id(self, reply: Any, method_of: dict[Any, Any]) -> Any:
        if self.chain_id is None:
            return reply
        for item in reply if isinstance(reply, list) else [reply]:
            if isinstance(item, dict) and method_of.get(item.get("id")) == "eth_chainId":
                item["result"] = hex(self.chain_id)
        return reply

    def _spoil(self, reply: Any, method_of: dict[Any, Any]) -> Any:
        """Spoil the items that are not eth_chainId (the chain id item stays as it was)."""
        batch = isinstance(reply, list)
        items: list[Any] = reply if batch else [reply]
        keep = [i for i in items if method_of.get(i.get("id")) == "eth_chainId"]
        mine = [i for i in items if method_of.get(i.get("id")) != "eth_chainId"]
        fault = self.fault
        if fault in ("error", "error_eth_call", "non_hex", "null_result"):
            for item in mine:
                method = method_of.get(item.get("id"))
                if fault == "error" or (fault == "error_eth_call" and method == "eth_call"):
                    item.pop("result", None)
                    item["error"] = dict(self.error)
                elif fault == "non_hex" and method in ("eth_call", "eth_getBalance"):
                    item["result"] = "banana"
                elif fault == "null_result":
                    item.pop("error", None)
                    item["result"] = None
        elif fault == "empty":
            return []
        elif fault == "short":
            mine = mine[:-1]
        elif fault == "duplicate" and mine:
            mine = [*mine[:-1], copy.deepcopy(mine[0])] if len(mine) > 1 else [mine[0], mine[0]]
        elif fault == "extra_id":
            mine = [*mine, {"jsonrpc": "2.0", "id": 999_999, "result": "0x" + "00" * 32}]
        elif fault == "no_ids":
            for item in mine:
                item.pop("id", None)
        elif fault == "not_list":
            return mine[0] if mine else {"jsonrpc": "2.0", "id": None, "result": "0x"}
        out = keep + mine
        return out if batch or len(out) != 1 else out[0]

    async def _before_stop(self) -> None:
        self._release()  # held requests finish before the server goes
