"""Refusals of ranged queries as real providers word them, and what the span memory learns."""

from __future__ import annotations

import pytest

from app.chains.evm.ranges import (
    MAX_SPAN,
    START_SPAN,
    Query,
    RangeMemory,
    refusal_of,
    spread,
)

ALCHEMY_FREE = (
    "Under the Free tier plan, you can make eth_getLogs requests with up to a 10 block range. "
    "Based on your parameters, this block range should work: [0x1312d00, 0x1312d09]"
)


@pytest.mark.parametrize(
    ("code", "message", "span", "hard"),
    [
        (-32005, "query returned more than 10000 results. Try with this block range "
                 "[0x12a05f2, 0x12a0653].", 0x12A0653 - 0x12A05F2 + 1, False),  # Infura
        (-32602, ALCHEMY_FREE, 10, True),  # Alchemy free tier
        (-32600, "Log response size exceeded. You can make eth_getLogs requests with up to a "
                 "2K block range and no limit on the response size, or you can request any "
                 "block range with a cap of 10K logs in the response.", 2000, True),
        (-32614, "eth_getLogs and eth_newFilter are limited to a 10,000 range", 10_000, True),
        (-32000, "exceed maximum block range: 50000", 50_000, True),  # publicnode
        (-32602, "block range too large, currently limited to 300", 300, True),  # anvil traces
        (-32000, "block range is too wide", None, True),  # Ankr
        (-32000, "query exceeds max results 20000, retry with the range 1-100", 100, False),
        (-32000, "query timeout exceeded", None, False),  # geth: a slow query
    ],
)  # fmt: skip
def test_size_refusals_are_read_with_their_suggestion(
    code: int, message: str, span: int | None, hard: bool
) -> None:
    refusal = refusal_of({"code": code, "message": message})
    assert refusal is not None and refusal.outcome == "range"
    assert refusal.suggested == span
    assert refusal.hard is hard
    assert refusal.reason.startswith("the RPC node said: ")


@pytest.mark.parametrize(
    "error",
    [
        {"code": -32601, "message": "Method not found"},
        {"code": -32601, "message": "the method trace_filter does not exist/is not available"},
        {"code": -32000, "message": "trace_filter is not supported on this plan"},
    ],
)
def test_a_missing_method_is_recognised(error: dict[str, object]) -> None:
    refusal = refusal_of(error)
    assert refusal is not None and refusal.outcome == "missing"


def test_too_many_wallets_in_a_topic_list() -> None:
    refusal = refusal_of(
        {"code": -32602, "message": "exceed max addresses or topics per search position"}
    )
    assert refusal is not None and refusal.outcome == "wallets"


@pytest.mark.parametrize(
    "error",
    [
        {"code": -32005, "message": "rate limit exceeded"},
        {"code": 429, "message": "Too Many Requests"},
        {"code": -32005, "message": "project ID request rate exceeded"},
        {"code": -32000, "message": "header not found"},
        {"code": -32603, "message": "internal error"},
        "not an object",
    ],
)
def test_rate_limits_and_node_trouble_are_not_size_refusals(error: object) -> None:
    assert refusal_of(error) is None


def test_a_url_in_the_message_never_reaches_the_reason() -> None:
    refusal = refusal_of(
        {"code": -32000, "message": "block range too wide, see https://node.example/key/abc"}
    )
    assert (
        refusal is not None and "node.example" not in refusal.reason and "abc" not in refusal.reason
    )


def test_the_memory_shrinks_to_the_suggestion_and_keeps_a_hard_ceiling() -> None:
    memory = RangeMemory()
    url = "http://node"
    assert memory.span(url, "eth_getLogs") == START_SPAN
    hard = refusal_of({"code": -32000, "message": "exceed maximum block range: 3000"})
    assert hard is not None
    assert memory.shrink(url, "eth_getLogs", START_SPAN, hard) == 3000
    for _ in range(10):
        memory.grow(url, "eth_getLogs")
    assert memory.span(url, "eth_getLogs") == 3000  # never past a range limit
    assert memory.span(url, "trace_filter") == START_SPAN  # per method
    assert memory.span("http://other", "eth_getLogs") == START_SPAN  # per endpoint


def test_a_result_count_refusal_shrinks_then_grows_again() -> None:
    memory = RangeMemory()
    soft = refusal_of({"code": -32005, "message": "query returned more than 10000 results"})
    assert soft is not None and soft.suggested is None
    assert memory.shrink("u", "eth_getLogs", 8000, soft) == 4000
    memory.grow("u", "eth_getLogs")
    assert memory.span("u", "eth_getLogs") == 16_000
    for _ in range(30):
        memory.grow("u", "eth_getLogs")
    assert memory.span("u", "eth_getLogs") == MAX_SPAN


def test_missing_methods_are_per_endpoint() -> None:
    memory = RangeMemory()
    memory.note_missing("a", "trace_filter")
    assert memory.lacks("a", "trace_filter") and not memory.lacks("b", "trace_filter")
    assert not memory.lacks("a", "eth_getLogs")


def test_spread_fills_the_concurrency_before_batching() -> None:
    assert spread([], 16, 8) == []
    assert spread([1, 2, 3], 16, 8) == [[1], [2], [3]]
    assert [len(c) for c in spread(list(range(20)), 16, 8)] == [3, 3, 3, 3, 2, 2, 2, 2]
    assert [len(c) for c in spread(list(range(200)), 16, 8)] == [16] * 5 + [15] * 8
    chunks = spread(list(range(200)), 16, 8)
    assert sum(len(c) for c in chunks) == 200 and max(len(c) for c in chunks) <= 16
    assert spread(list(range(5)), 2, 1) == [[0, 1], [2, 3], [4]]


def test_a_query_counts_its_blocks() -> None:
    assert Query("eth_getLogs", "out", 10, 19, ("0x1",)).blocks == 10
