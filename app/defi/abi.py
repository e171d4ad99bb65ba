"""Calldata and strict reply decoding for the protocol reads.

Protocol calls are a few hundred per refresh, not tens of thousands like balances, so eth-abi is
used here: its decoder checks offsets and lengths, which matters because any contract can answer
anything. Every decoder returns None for a reply that does not have the expected shape; the
caller turns that into a per-call failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from eth_hash.auto import keccak

from app.domain.addresses import to_checksum_address

# eth-abi (and the eth-utils and pydantic it pulls in, ~0.15 s) is imported on the first call
# that needs it: most refreshes read chains with no protocol deployed, and never do.

MAX_UINT256 = 2**256 - 1


@cache
def selector(signature: str) -> bytes:
    return bytes(keccak(signature.encode())[:4])


def call_data(signature: str, *args: Any) -> bytes:
    """``"getUserAccountData(address)"``, args -> selector + ABI-encoded arguments."""
    types = signature[signature.index("(") + 1 : -1]
    arg_types = [t for t in types.split(",") if t] if types else []
    if not arg_types:
        return selector(signature)
    from eth_abi.abi import encode

    return selector(signature) + encode(arg_types, list(args))


def decode_reply(types: Sequence[str], data: bytes) -> tuple[Any, ...] | None:
    """The decoded tuple, or None when the reply is empty, short or malformed."""
    if not data:
        return None
    from eth_abi.abi import decode
    from eth_abi.exceptions import DecodingError

    try:
        return tuple(decode(list(types), data))
    except (DecodingError, OverflowError, ValueError, TypeError):
        return None


def decode_uint(data: bytes) -> int | None:
    """Exactly one word: a uint256 reply (anything else is garbage)."""
    if len(data) != 32:
        return None
    return int.from_bytes(data, "big")


def decode_int(data: bytes) -> int | None:
    if len(data) != 32:
        return None
    return int.from_bytes(data, "big", signed=True)


def decode_address(data: bytes) -> str | None:
    """One word holding a 20-byte address (the upper 12 bytes must be zero)."""
    if len(data) != 32 or any(data[:12]):
        return None
    return to_checksum_address(data[12:].hex())


def checksum(address: str) -> str:
    return to_checksum_address(address)
