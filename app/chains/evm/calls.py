"""Encoding of the few EVM calls on the hot path (Multicall3 aggregate3, balanceOf,
getEthBalance) with eth-abi, plus strict decoding of a uint256 reply."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import decode, encode

AGGREGATE3 = bytes.fromhex("82ad56cb")
GET_ETH_BALANCE = bytes.fromhex("4d2301cc")
BALANCE_OF = bytes.fromhex("70a08231")


def address_arg(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address.removeprefix("0x"))


def balance_of(owner: str) -> bytes:
    return BALANCE_OF + address_arg(owner)


def get_eth_balance(owner: str) -> bytes:
    return GET_ETH_BALANCE + address_arg(owner)


def encode_aggregate3(calls: Sequence[tuple[str, bytes]]) -> bytes:
    """aggregate3((address target, bool allowFailure, bytes callData)[]) with allowFailure."""
    return AGGREGATE3 + encode(["(address,bool,bytes)[]"], [[(t, True, d) for t, d in calls]])


def decode_aggregate3(data: bytes) -> list[tuple[bool, bytes]]:
    (results,) = decode(["(bool,bytes)[]"], data)
    return [(bool(ok), bytes(ret)) for ok, ret in results]


def decode_uint256(data: bytes) -> int | None:
    """A balance reply is exactly one 32-byte word; anything else is garbage (None)."""
    if len(data) != 32:
        return None
    return int.from_bytes(data, "big")
