"""Chunk sizing: the byte estimate is an upper bound of the real JSON body; budgets are kept."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from app.chains.endpoints import EndpointMemory
from app.chains.evm import calls, chunking

MC = "0xcA11bde05977b3631167028862bE2a173976CA11"
TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


@dataclass(frozen=True)
class C:
    target: str
    data: bytes
    native: bool


def _plan(wallets: int, tokens: int) -> list[C]:
    out: list[C] = []
    for i in range(1, wallets + 1):
        w = f"0x{i:040x}"
        out.append(C(MC, calls.get_eth_balance(w), True))
        out += [C(TOKEN, calls.balance_of(w), False) for _ in range(tokens)]
    return out


def _multicall_body(part: list[C]) -> int:
    data = calls.encode_aggregate3([(c.target, c.data) for c in part])
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
            "params": [{"to": MC, "data": "0x" + data.hex()}, "latest"]}  # fmt: skip
    return len(json.dumps(body).encode())


def _batch_body(part: list[C]) -> int:
    body = [
        {"jsonrpc": "2.0", "id": n, "method": "eth_call",
         "params": [{"to": c.target, "data": "0x" + c.data.hex()}, "latest"]}
        for n, c in enumerate(part)
    ]  # fmt: skip
    return len(json.dumps(body).encode())


@pytest.mark.parametrize("max_bytes", [2_000, 50_000, 1_500_000])
def test_multicall_chunks_stay_under_the_byte_budget(max_bytes: int) -> None:
    plan = _plan(100, 200)
    parts = chunking.split(plan, max_bytes=max_bytes, gas_cap=None, max_calls=None)
    assert [c for p in parts for c in p] == plan  # order kept, nothing lost
    assert all(_multicall_body(p) <= max_bytes for p in parts)
    # ...and the budget is used, not wasted: every chunk but the last is nearly full.
    assert all(_multicall_body(p) > max_bytes - 2 * 448 - 300 for p in parts[:-1])


def test_default_budgets_give_few_requests_for_a_large_portfolio() -> None:
    plan = _plan(100, 200)  # 20,100 calls, the benchmark's size per chain
    parts = chunking.split(plan, max_bytes=1_500_000, gas_cap=50_000_000, max_calls=None)
    assert len(parts) == 7  # was 11 with 2000 calls per chunk
    for p in parts:
        assert _multicall_body(p) <= 1_500_000 < 2 * 2**20
        assert sum(chunking.gas_of(c) for c in p) <= 50_000_000


def test_gas_budget_and_learned_limit() -> None:
    plan = _plan(10, 9)  # per wallet: 10k + 9 * 15k = 145k
    parts = chunking.split(plan, max_bytes=10**9, gas_cap=290_000, max_calls=None)
    assert [len(p) for p in parts] == [20] * 5
    parts = chunking.split(plan, max_bytes=10**9, gas_cap=None, max_calls=7)
    assert max(len(p) for p in parts) == 7 and len(parts) == 15


def test_batch_chunks_stay_under_the_byte_budget() -> None:
    plan = [c for c in _plan(50, 20) if not c.native]
    parts = chunking.split(plan, max_bytes=20_000, gas_cap=None, max_calls=None, batch=True)
    assert len(parts) > 1 and all(_batch_body(p) <= 20_000 for p in parts)


def test_a_single_huge_call_is_still_sent() -> None:
    plan = _plan(1, 0)
    assert chunking.split(plan, max_bytes=10, gas_cap=1, max_calls=1) == [plan]


def test_learned_size_is_per_endpoint_and_only_shrinks() -> None:
    memory = EndpointMemory()
    memory.remember_calls("http://a", 500)
    memory.remember_calls("http://a", 900)
    memory.remember_calls("http://b", 0)
    assert memory.learned_calls("http://a") == 500
    assert memory.learned_calls("http://b") == 1
    assert memory.learned_calls("http://c") is None
    assert EndpointMemory().learned_calls("http://a") is None  # one session's lesson only
