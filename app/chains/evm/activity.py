"""Whether addresses were ever used on one EVM chain: ``eth_getTransactionCount`` and
``eth_getBalance`` for each, in one JSON-RPC batch, with the chain id checked in the same batch.

No retries: this answers a person who is waiting at the first-run page; a chain that does not
answer quickly is reported "could not check" by the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.chains.http import ChainCheck, JsonRpcTransport, ReplyError
from app.domain.chains import ChainSpec


def _item(id_: str, method: str, address: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": [address, "latest"]}


class RpcActivityProbe:
    """Implements ActivityProbe over each chain's configured RPC URLs."""

    def __init__(self, timeout: float = 6.0) -> None:
        self._timeout = timeout

    async def active(self, spec: ChainSpec, addresses: Sequence[str]) -> set[str]:
        payload: list[dict[str, Any]] = []
        for i, address in enumerate(addresses):
            payload.append(_item(f"n{i}", "eth_getTransactionCount", address))
            payload.append(_item(f"b{i}", "eth_getBalance", address))
        transport = JsonRpcTransport(
            list(spec.rpc_urls),
            timeout=self._timeout,
            retries=0,
            chain_check=ChainCheck(int(spec.chain_id.reference), spec.name),
            purpose="activity",
        )
        try:
            reply = await transport.post(payload, check=lambda r: _numbers(r, len(payload)))
        finally:
            await transport.aclose()
        return {
            address
            for i, address in enumerate(addresses)
            if reply[f"n{i}"] > 0 or reply[f"b{i}"] > 0
        }


def _numbers(reply: Any, expected: int) -> dict[str, int]:
    """The batch's results by id, as integers; anything else is a :class:`ReplyError`."""
    if not isinstance(reply, list):
        raise ReplyError("the RPC endpoint did not answer the batch")
    out: dict[str, int] = {}
    for item in reply:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ReplyError("the RPC endpoint sent a malformed reply")
        try:
            out[item["id"]] = int(str(item.get("result")), 16)
        except ValueError:
            raise ReplyError("the RPC endpoint did not give a number") from None
    if len(out) != expected:
        raise ReplyError("the RPC endpoint did not answer every request of a batch")
    return out
