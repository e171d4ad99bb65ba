"""The history scan's checks of node replies: what a contract shaped otherwise is skipped, what
the node got wrong is refused (retried, then a plain failure), fees are exact."""

from __future__ import annotations

from typing import Any

import pytest

from app.chains.evm.history_replies import (
    TRANSFER_TOPIC,
    parse_log,
    parse_trace,
    receipt,
    trace_index,
)
from app.chains.evm.ranges import Query
from app.chains.http import RateLimited, ReplyError

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
TOKEN = "0x" + "cc" * 20
QUERY = Query("eth_getLogs", "out", 10, 20, (A,))


def topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


def log(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "address": TOKEN, "topics": [TRANSFER_TOPIC, topic(A), topic(B)],
        "data": "0x" + f"{5:064x}", "blockNumber": "0xf", "logIndex": "0x3",
        "transactionHash": "0x" + "11" * 32, "blockTimestamp": "0x64", "removed": False,
    }  # fmt: skip
    base.update(over)
    return base


def test_a_transfer_log_is_read_exactly() -> None:
    got = parse_log(log(), QUERY)
    assert got is not None
    assert (got.sender, got.receiver, got.value, got.block, got.index, got.ts, got.token) == (
        A, B, 5, 15, 3, 100, TOKEN,
    )  # fmt: skip
    assert parse_log(log(blockTimestamp=None), QUERY).ts is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "hostile",
    [
        {"topics": [TRANSFER_TOPIC, topic(A), topic(B), "0x" + f"{7:064x}"], "data": "0x"},  # 721
        {"data": "0x" + "00" * 31},  # 31 bytes
        {"data": "0x" + "00" * 64},  # two words
        {"data": 5},
        {"topics": [TRANSFER_TOPIC, topic(A)]},  # the recipient missing
        {"topics": [TRANSFER_TOPIC, topic(A), "0x" + "ff" * 32]},  # not an address
        {"topics": [TRANSFER_TOPIC, topic(A), 12]},
    ],
)
def test_logs_a_contract_shaped_otherwise_are_skipped(hostile: dict[str, Any]) -> None:
    assert parse_log(log(**hostile), QUERY) is None


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        ({"transactionHash": None}, "without a transaction hash"),
        ({"address": "0x12"}, "without a contract address"),
        ({"blockNumber": "0x1"}, "outside the blocks asked for"),
        ({"blockNumber": "banana"}, "not a number"),
        ({"topics": ["0x" + "00" * 32, topic(A), topic(B)]}, "does not match the filter"),
        ({"topics": [TRANSFER_TOPIC, topic(B), topic(A)]}, "does not match the filter"),
        ({"removed": True}, "outside the blocks asked for"),
    ],
)
def test_logs_the_node_got_wrong_are_refused(broken: dict[str, Any], words: str) -> None:
    with pytest.raises(ReplyError, match=words):
        parse_log(log(**broken), QUERY)
    with pytest.raises(ReplyError):
        parse_log("not an object", QUERY)


def trace(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "action": {"from": A, "to": B, "value": "0x10", "callType": "call", "gas": "0x0",
                   "input": "0x"},
        "blockHash": "0x" + "22" * 32, "blockNumber": 15, "result": {"gasUsed": "0x0"},
        "subtraces": 0, "traceAddress": [0, 1], "transactionHash": "0x" + "33" * 32,
        "transactionPosition": 0, "type": "call",
    }  # fmt: skip
    base.update(over)
    return base


def test_traces_are_read_by_kind() -> None:
    t = parse_trace(trace())
    assert t is not None and t.moves and t.value == 16 and t.path == (0, 1) and not t.root
    delegate = parse_trace(trace(action={**trace()["action"], "callType": "delegatecall"}))
    assert delegate is not None and not delegate.moves
    failed = parse_trace(trace(error="Reverted", traceAddress=[]))
    assert failed is not None and failed.failed and failed.root
    gone = parse_trace(trace(type="suicide", action={"address": A, "refundAddress": B,
                                                      "balance": "0x5"}))  # fmt: skip
    assert gone is not None and (gone.sender, gone.receiver, gone.value) == (A, B, 5)
    made = parse_trace(trace(type="create", action={"from": A, "value": "0x1", "init": "0x"},
                             result={"address": B}))  # fmt: skip
    assert made is not None and made.receiver == B
    assert parse_trace(trace(type="reward", transactionHash=None)) is None
    with pytest.raises(ReplyError):
        parse_trace(trace(traceAddress="0_1"))
    with pytest.raises(ReplyError):
        parse_trace(trace(action={**trace()["action"], "from": "nope"}))


def test_trace_positions_are_stable_and_distinct() -> None:
    assert trace_index(()) == 0
    assert trace_index((0, 1)) == trace_index((0, 1)) != trace_index((1, 0))
    assert 0 < trace_index((5,)) < 2**32 + 1


def item(**r: Any) -> dict[str, Any]:
    base = {"from": A, "gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00", "blockNumber": "0xf"}
    return {"jsonrpc": "2.0", "id": 0, "result": {**base, **r}}


def test_fees_are_exact() -> None:
    assert receipt(item()) == (A, 15, 21000 * 10**9)
    assert receipt(item(l1Fee="0x64")) == (A, 15, 21000 * 10**9 + 100)  # OP stack
    blob = item(blobGasUsed="0x20000", blobGasPrice="0x3")
    assert receipt(blob) == (A, 15, 21000 * 10**9 + 0x20000 * 3)
    legacy = {"jsonrpc": "2.0", "id": 0, "result": {"from": A, "gasUsed": "0x1",
              "gasPrice": "0x2", "blockNumber": "0x1"}}  # fmt: skip
    assert receipt(legacy) == (A, 1, 2)


def test_a_missing_or_broken_receipt_is_the_nodes_fault() -> None:
    with pytest.raises(ReplyError, match="no receipt"):
        receipt({"jsonrpc": "2.0", "id": 0, "result": None})
    with pytest.raises(ReplyError, match="without its sender"):
        receipt(item(**{"from": None}))
    with pytest.raises(RateLimited):
        receipt({"jsonrpc": "2.0", "id": 0, "error": {"code": -32005, "message": "rate limit"}})
