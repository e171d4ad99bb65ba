"""Fault handling through a local faulty proxy in front of a real anvil node."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from app.chains.http import JsonRpcTransport, RpcTransportError
from tests.integration.evm.anvil import Anvil
from tests.integration.evm.proxy import FaultyProxy

pytestmark = pytest.mark.integration

CHAIN_ID = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}


@pytest.fixture
def proxy(anvil: Anvil) -> Iterator[FaultyProxy]:
    p = FaultyProxy(anvil.url, slow_seconds=1.0)
    yield p
    p.stop()


def _post(t: JsonRpcTransport) -> object:
    async def go() -> object:
        try:
            return await t.post(CHAIN_ID)
        finally:
            await t.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("fault", ["429", "500", "garbage", "slow"])
def test_one_fault_is_retried(proxy: FaultyProxy, anvil: Anvil, fault: str) -> None:
    proxy.faults.append(fault)
    t = JsonRpcTransport([proxy.url], timeout=0.3, retries=2, backoff_base=0.01)
    reply = _post(t)
    assert isinstance(reply, dict) and int(reply["result"], 16) == anvil.chain_id
    assert t.requests == 2


def test_retry_after_is_honoured(proxy: FaultyProxy) -> None:
    proxy.faults.extend(["429", "429"])
    t = JsonRpcTransport([proxy.url], retries=3, backoff_base=5.0)  # Retry-After: 0 wins
    assert isinstance(_post(t), dict)
    assert t.requests == 3


def test_persistent_fault_gives_a_human_reason(proxy: FaultyProxy) -> None:
    proxy.faults.extend(["429"] * 10)
    t = JsonRpcTransport([proxy.url], retries=2, backoff_base=0.01)
    with pytest.raises(RpcTransportError, match="HTTP 429"):
        _post(t)
    assert t.requests == 3


def test_bad_endpoint_rotates_to_the_next(proxy: FaultyProxy, anvil: Anvil) -> None:
    proxy.faults.extend(["garbage"] * 10)
    t = JsonRpcTransport([proxy.url, anvil.url], retries=0)
    assert isinstance(_post(t), dict)
    assert t.requests == 2


def test_circuit_breaker_skips_a_failing_endpoint(proxy: FaultyProxy, anvil: Anvil) -> None:
    proxy.faults.extend(["500"] * 3)
    t = JsonRpcTransport([proxy.url, anvil.url], retries=0)

    async def go() -> None:
        try:
            for _ in range(3):  # each fails on the proxy, then succeeds on anvil
                await t.post(CHAIN_ID)
            before = proxy.requests
            await t.post(CHAIN_ID)
            assert proxy.requests == before  # breaker open: the proxy is not asked
        finally:
            await t.aclose()

    asyncio.run(go())
    assert t.requests == 7
