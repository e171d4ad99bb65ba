"""The node's replies of the history scan, checked: Transfer logs, traces and receipts.

Two kinds of wrong are told apart. A contract writes its logs: one that shares the Transfer
topic but not the ERC-20 layout (ERC-721's id as a third topic, data that is not one 32-byte
word) is skipped, never fatal. The node writes everything else: a log without a hash, outside
the blocks asked, or not matching the filter; a trace without its position; a receipt without
its sender. Those raise :class:`~app.chains.http.ReplyError`, so the transport retries and
rotates, and then the scan fails with a sentence.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.chains.evm.ranges import Query
from app.chains.evm.replies import classify, reason_of
from app.chains.http import RateLimited, ReplyError

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_WORD = re.compile(r"0x[0-9a-fA-F]{64}")
_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")


def topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


def quantity(value: Any, what: str) -> int:
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str) and _QUANTITY.fullmatch(value):
        return int(value, 16)
    raise ReplyError(f"the RPC node sent {what} that is not a number")


def trace_index(path: Sequence[int]) -> int:
    """A stable number for a call's position in its transaction (0: the transaction itself)."""
    return 0 if not path else zlib.crc32("_".join(map(str, path)).encode()) + 1


@dataclass(frozen=True, slots=True)
class Log:
    tx: str
    block: int
    index: int
    token: str  # lower-case
    sender: str
    receiver: str
    value: int
    ts: int | None


@dataclass(frozen=True, slots=True)
class Trace:
    tx: str
    block: int
    path: tuple[int, ...]
    sender: str
    receiver: str
    value: int
    failed: bool
    root: bool
    moves: bool  # carries value from sender to receiver (call/create/selfdestruct)


def hex_int(value: Any, what: str) -> int:
    """A node's hex quantity (the hot path of log parsing: no regex)."""
    if type(value) is str and value[:2] == "0x" and 2 < len(value) <= 66:
        try:
            return int(value, 16)
        except ValueError:
            pass
    elif type(value) is int and value >= 0:
        return value
    raise ReplyError(f"the RPC node sent {what} that is not a number")


_PAD = "0x" + "0" * 24


def parse_log(raw: Any, query: Query) -> Log | None:
    """A Transfer log, or None for a log a contract shaped otherwise. A log the node itself got
    wrong (no hash, another block than asked, a wallet not asked) is the node's fault."""
    if type(raw) is not dict:
        raise ReplyError("the RPC node sent a log that is not an object")
    tx, token = raw.get("transactionHash"), raw.get("address")
    if not (type(tx) is str and _HASH.fullmatch(tx)):
        raise ReplyError("the RPC node sent a log without a transaction hash")
    if not (type(token) is str and ADDRESS.fullmatch(token)):
        raise ReplyError("the RPC node sent a log without a contract address")
    block = hex_int(raw.get("blockNumber"), "a log's block")
    index = hex_int(raw.get("logIndex"), "a log's index")
    if not query.lo <= block <= query.hi or raw.get("removed") is True:
        raise ReplyError("the RPC node sent a log outside the blocks asked for")
    ts_raw = raw.get("blockTimestamp")
    ts = None if ts_raw is None else hex_int(ts_raw, "a block time")
    topics, data = raw.get("topics"), raw.get("data")
    if type(topics) is not list or not topics or str(topics[0]).lower() != TRANSFER_TOPIC:
        raise ReplyError("the RPC node sent a log that does not match the filter")
    if len(topics) != 3:
        return None  # ERC-721 (the id as a third topic) or a malformed emitter
    src, dst = topics[1], topics[2]
    if not (
        type(src) is str and type(dst) is str and _WORD.fullmatch(src) and _WORD.fullmatch(dst)
    ):
        return None
    if not (type(data) is str and _WORD.fullmatch(data)):
        return None  # not one 32-byte amount
    if src[:26] != _PAD or dst[:26] != _PAD:
        return None  # not an address in the topic
    sender, receiver = "0x" + src[26:].lower(), "0x" + dst[26:].lower()
    if (sender if query.key == "out" else receiver) not in query.wallets:
        raise ReplyError("the RPC node sent a log that does not match the filter")
    return Log(tx.lower(), block, index, token.lower(), sender, receiver, int(data, 16), ts)


def parse_trace(raw: Any) -> Trace | None:
    if not isinstance(raw, dict):
        raise ReplyError("the RPC node sent a trace that is not an object")
    tx, action, kind = raw.get("transactionHash"), raw.get("action"), raw.get("type")
    if not isinstance(action, dict) or not isinstance(kind, str):
        raise ReplyError("the RPC node sent a malformed trace")
    if not (isinstance(tx, str) and _HASH.fullmatch(tx)):
        return None  # a block reward: no transaction
    block = quantity(raw.get("blockNumber"), "a trace's block")
    path_raw = raw.get("traceAddress")
    if not isinstance(path_raw, list) or not all(type(p) is int for p in path_raw):
        raise ReplyError("the RPC node sent a trace without its position")
    path = tuple(path_raw)
    failed = raw.get("error") is not None
    result = raw.get("result") if isinstance(raw.get("result"), dict) else {}
    if kind == "call":
        sender, receiver = action.get("from"), action.get("to")
        value = action.get("value", "0x0")
        moves = action.get("callType", "call") == "call"
    elif kind == "create":
        sender, receiver = action.get("from"), (result or {}).get("address", "")
        value, moves = action.get("value", "0x0"), True
    elif kind in ("suicide", "selfdestruct"):
        sender, receiver = action.get("address"), action.get("refundAddress")
        value, moves = action.get("balance", "0x0"), True
    else:
        return None
    sender = str(sender or "").lower()
    receiver = str(receiver or "").lower()
    if not ADDRESS.fullmatch(sender) or (receiver and not ADDRESS.fullmatch(receiver)):
        raise ReplyError("the RPC node sent a trace with a malformed address")
    return Trace(
        tx.lower(), block, path, sender, receiver, quantity(value, "a trace's value"),
        failed, not path, moves,
    )  # fmt: skip


def raise_for(error: object) -> None:
    if classify(error) == "rate":
        raise RateLimited(reason_of(error))
    raise ReplyError(reason_of(error))


def receipt(item: dict[str, Any]) -> tuple[str, int, int]:
    """(sender, block, fee in wei) of one receipt item."""
    if item.get("error") is not None:
        raise_for(item["error"])
    r = item.get("result")
    if not isinstance(r, dict):
        raise ReplyError("the RPC node has no receipt of a transaction it reported")
    sender = r.get("from")
    if not (isinstance(sender, str) and ADDRESS.fullmatch(sender)):
        raise ReplyError("the RPC node sent a receipt without its sender")
    gas = quantity(r.get("gasUsed"), "a receipt's gas")
    price = quantity(r.get("effectiveGasPrice", r.get("gasPrice")), "a receipt's gas price")
    fee = gas * price
    if r.get("l1Fee") is not None:  # OP stack: the L1 data fee is paid on top
        fee += quantity(r["l1Fee"], "a receipt's L1 fee")
    if r.get("blobGasUsed") is not None and r.get("blobGasPrice") is not None:
        fee += quantity(r["blobGasUsed"], "blob gas") * quantity(r["blobGasPrice"], "blob price")
    block = quantity(r.get("blockNumber"), "a receipt's block")
    return sender.lower(), block, fee
