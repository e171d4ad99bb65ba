"""How many balance calls go into one request: sized by JSON body bytes and estimated gas.

A node limits a request in two ways: the HTTP body size (anvil rejects bodies over 2 MiB, public
providers similar) and the gas an ``eth_call`` may burn (geth's default cap is 50M). Counting calls
alone either wastes round trips or trips one of those limits, so a chunk is filled until either
budget is spent. The per-call gas figures are estimates with a safety margin: measured on anvil, a
cold ``balanceOf`` of an OpenZeppelin ERC-20 inside aggregate3 costs ~6.2k gas and
``getEthBalance`` ~6.4k; proxy tokens (USDC-style) cost about twice that. When a node still rejects
a chunk, the reader splits it and the call count that worked is remembered per endpoint URL in
the session's endpoint memory (``app.chains.endpoints``), so later refreshes start from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

GAS_BALANCE_OF = 15_000
GAS_NATIVE = 10_000
# JSON-RPC envelope of an eth_call around the hex calldata, generously rounded up.
ENVELOPE_BYTES = 256
# aggregate3 selector + offset of the array + array length.
AGGREGATE3_HEAD = 4 + 32 + 32
# Batch fallback: one {"jsonrpc", "id", "method": "eth_call", "params": [{to, data}, "latest"]}.
BATCH_ENTRY_OVERHEAD = 160


class SizedCall(Protocol):
    @property
    def data(self) -> bytes: ...

    @property
    def native(self) -> bool: ...


T = TypeVar("T", bound=SizedCall)


def aggregate3_bytes(data: bytes) -> int:
    """ABI-encoded size of one (address, bool, bytes) element, its offset word included."""
    return 32 + 3 * 32 + 32 + -(-len(data) // 32) * 32


def json_bytes_multicall(call: SizedCall) -> int:
    return 2 * aggregate3_bytes(call.data)  # hex in the JSON body


def json_bytes_batch(call: SizedCall) -> int:
    return BATCH_ENTRY_OVERHEAD + 2 * len(call.data) + 42


def gas_of(call: SizedCall) -> int:
    """A call may carry its own estimate (DeFi protocol reads cost more than a balanceOf)."""
    own = getattr(call, "gas", 0)
    return int(own) if own else (GAS_NATIVE if call.native else GAS_BALANCE_OF)


def split(
    plan: Sequence[T],
    *,
    max_bytes: int,
    gas_cap: int | None,
    max_calls: int | None,
    batch: bool = False,
) -> list[list[T]]:
    """Greedy chunks that each stay under ``max_bytes`` of JSON, ``gas_cap`` estimated gas
    (multicall only: a batch is many separate calls) and ``max_calls`` calls. Never empty chunks;
    a single call is always sent, however large."""
    size_of = json_bytes_batch if batch else json_bytes_multicall
    base = ENVELOPE_BYTES + (0 if batch else 2 * AGGREGATE3_HEAD)
    chunks: list[list[T]] = []
    cur: list[T] = []
    nbytes, gas = base, 0
    for call in plan:
        b, g = size_of(call), (0 if batch else gas_of(call))
        full = (
            nbytes + b > max_bytes
            or (gas_cap is not None and gas + g > gas_cap)
            or (max_calls is not None and len(cur) >= max_calls)
        )
        if cur and full:
            chunks.append(cur)
            cur, nbytes, gas = [], base, 0
        cur.append(call)
        nbytes += b
        gas += g
    if cur:
        chunks.append(cur)
    return chunks
