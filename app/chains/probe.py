"""Connectivity check of one RPC URL: which chain answers there, and how fast.

Used by the settings dialog before a custom network is added and by each URL's "Test" button.
It goes through the shared :class:`JsonRpcTransport` with no retries, so a dead URL fails at
once with the transport's wording, which never repeats the URL (it may hold a provider key).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.chains.http import JsonRpcTransport
from app.domain.errors import ChainfolioError
from app.domain.text import clean_text


class ProbeError(ChainfolioError):
    """The URL did not give a chain id."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    chain_id: int
    latency_ms: float  # for display only


async def _call(url: str, method: str, timeout: float) -> tuple[object, float]:
    transport = JsonRpcTransport([url], timeout=timeout, retries=0, purpose="probe")
    started = time.monotonic()
    try:
        reply = await transport.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
    finally:
        await transport.aclose()
    latency = (time.monotonic() - started) * 1000
    if not isinstance(reply, dict):
        raise ProbeError("The URL did not answer like a JSON-RPC node.")
    if "error" in reply:
        error = reply["error"]
        message = error.get("message", "") if isinstance(error, dict) else str(error)
        raise ProbeError(f"The node refused {method}: {clean_text(str(message), 120)}")
    return reply.get("result"), latency


async def probe_chain_id(url: str, timeout: float = 8.0) -> ProbeResult:
    """Ask ``url`` for ``eth_chainId``; raise ProbeError (or RpcTransportError) with a reason."""
    result, latency = await _call(url, "eth_chainId", timeout)
    try:
        chain_id = int(str(result), 16)
    except ValueError:
        raise ProbeError("The node's eth_chainId reply is not a hexadecimal number.") from None
    return ProbeResult(chain_id, latency)


async def probe_reference(
    url: str, evm: bool, timeout: float = 8.0, *, bitcoin: bool = False
) -> tuple[str, float]:
    """The CAIP-2 reference the node at ``url`` serves, and the latency in ms.

    EVM: the decimal chain id. Solana: the first 32 characters of the genesis hash, which is
    how CAIP-2 names Solana clusters. Bitcoin (an Esplora API, ``bitcoin``): the first 32 hex
    digits of the genesis block's hash (CAIP-2 ``bip122``), from ``GET /block-height/0``.
    """
    if bitcoin:
        return await _esplora_genesis(url, timeout)
    if evm:
        found = await probe_chain_id(url, timeout)
        return str(found.chain_id), found.latency_ms
    result, latency = await _call(url, "getGenesisHash", timeout)
    if not isinstance(result, str) or not result:
        raise ProbeError("The node's getGenesisHash reply is not a hash.")
    return clean_text(result, 64)[:32], latency


async def _esplora_genesis(url: str, timeout: float) -> tuple[str, float]:
    import httpx

    from app import net

    client = net.client("probe", timeout=timeout)
    started = time.monotonic()
    try:
        reply = await client.get(url.rstrip("/") + "/block-height/0")
    except httpx.HTTPError:
        raise ProbeError("The Esplora address cannot be reached.") from None
    finally:
        await client.aclose()
    latency = (time.monotonic() - started) * 1000
    text = reply.text.strip().lower()
    if (
        reply.status_code != 200
        or len(text) != 64
        or any(c not in "0123456789abcdef" for c in text)
    ):
        raise ProbeError("The URL did not answer like an Esplora API (no genesis block hash).")
    return text[:32], latency
