"""A node's faults are never a token's revert: the real EvmReader against anvil behind a proxy
that answers error objects, non-hex results, broken batches and another chain's id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.chains.endpoints import EndpointMemory
from app.chains.evm import chunking
from app.chains.evm.reader import EvmReader
from app.chains.evm.tokens import erc20_asset_id
from app.chains.http import ChainCheck, JsonRpcTransport
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.model import Wallet
from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.integration

W1 = "0x1111111111111111111111111111111111111111"
W2 = "0x2222222222222222222222222222222222222222"
WALLETS = [Wallet(W1, AddressFamily.EVM), Wallet(W2, AddressFamily.EVM)]


@dataclass
class World:
    node: Anvil
    tokens: list[AssetInfo]


def _setup(node: Anvil) -> World:
    chain = ChainId.evm(node.chain_id)
    tkn = node.deploy("TestToken", ["string", "string", "uint8"], ["TKN", "TKN", 18])
    node.mint(tkn, W1, 1234 * 10**18)
    node.mint(tkn, W2, 5)
    brk = node.deploy("RevertingToken")
    node.set_native(W1, 3 * 10**18)
    return World(
        node,
        [
            AssetInfo(erc20_asset_id(chain, tkn), "TKN", "TKN", 18),
            AssetInfo(erc20_asset_id(chain, brk), "BRK", "BRK", 18),
        ],
    )


@pytest.fixture(scope="module")
def world(anvil: Anvil) -> World:
    return _setup(anvil)


@pytest.fixture(scope="module")
def plain_world(anvil_plain: Anvil) -> World:
    return _setup(anvil_plain)


@pytest.fixture(params=["multicall", "batch"])
def any_world(request: pytest.FixtureRequest) -> World:
    name = "world" if request.param == "multicall" else "plain_world"
    w: World = request.getfixturevalue(name)
    return w


@pytest.fixture
def proxy(any_world: World) -> Iterator[FaultProxy]:
    p = FaultProxy(any_world.node.url)
    yield p
    p.stop()


def _spec(node: Anvil, urls: tuple[str, ...], chain_id: int | None = None) -> ChainSpec:
    multicall = MULTICALL3 if node.chain_id == 31337 else None
    return ChainSpec(
        ChainId.evm(chain_id or node.chain_id), "Test", ChainFamily.EVM, "ETH", "Ether", 18, 60,
        urls, multicall3=multicall,
    )  # fmt: skip


def _read(
    spec: ChainSpec,
    tokens: list[AssetInfo],
    memory: EndpointMemory | None = None,
    names: dict[int, str] | None = None,
) -> ChainReadResult:
    check = ChainCheck(int(spec.chain_id.reference), spec.name, names or {})
    transport = JsonRpcTransport(
        spec.rpc_urls, retries=2, backoff_base=0.001, chain_check=check,
        memory=memory if memory is not None else EndpointMemory(),
    )  # fmt: skip

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, transport, tokens)
        try:
            return await reader.read_balances(WALLETS)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def _exact(world: World, result: ChainReadResult) -> None:
    """Every balance right, and the one genuinely reverting token reported as such."""
    assert result.state is SourceState.OK, result.error
    got = {(b.wallet.address, b.asset.symbol): b.raw for b in result.balances}
    assert got == {(W1, "ETH"): 3 * 10**18, (W2, "ETH"): 0, (W1, "TKN"): 1234 * 10**18,
                   (W2, "TKN"): 5}  # fmt: skip
    assert {(f.wallet.address, f.asset, f.reason) for f in result.failures} == {
        (w, world.tokens[1].asset_id, "the token contract reverted") for w in (W1, W2)
    }


def _failed_plainly(result: ChainReadResult) -> str:
    assert result.state is SourceState.FAILED
    assert not result.balances and not result.failures  # no per-token failure invented
    reason = result.error or ""
    assert reason.endswith(".") and "revert" not in reason
    assert "Error" not in reason and "http" not in reason  # no class names, no URL
    return reason


def test_a_healthy_node_reads_exactly(any_world: World, proxy: FaultProxy) -> None:
    _exact(any_world, _read(_spec(any_world.node, (proxy.url,)), any_world.tokens))


NODE_FAULTS = ["error", "error_eth_call", "non_hex", "null_result", "empty", "short",
               "duplicate", "extra_id", "no_ids", "not_list"]  # fmt: skip


@pytest.mark.parametrize("fault", NODE_FAULTS)
def test_a_persistent_node_fault_fails_the_chain(
    any_world: World, proxy: FaultProxy, fault: str
) -> None:
    proxy.set(fault)
    result = _read(_spec(any_world.node, (proxy.url,)), any_world.tokens)
    reason = _failed_plainly(result)
    assert reason.startswith("Could not read the network: ")
    assert result.http_requests == 3  # the request and its two retries, never split to singles


def test_the_node_error_is_named_in_plain_words(any_world: World, proxy: FaultProxy) -> None:
    proxy.set("error")
    result = _read(_spec(any_world.node, (proxy.url,)), any_world.tokens)
    assert _failed_plainly(result) == (
        "Could not read the network: the RPC node answered an error (header not found)."
    )


def test_a_rate_limit_error_fails_the_chain_and_slows_the_url(
    any_world: World, proxy: FaultProxy
) -> None:
    proxy.error = {"code": -32005, "message": "limit exceeded"}
    proxy.set("error")
    memory = EndpointMemory()
    result = _read(_spec(any_world.node, (proxy.url,)), any_world.tokens, memory)
    assert "limiting requests" in _failed_plainly(result)
    assert memory.pace(proxy.url).interval > 0  # remembered for the session


@pytest.mark.parametrize("fault", ["error", "non_hex", "duplicate", "empty", "null_result"])
def test_a_transient_node_fault_is_retried_and_the_read_is_exact(
    any_world: World, proxy: FaultProxy, fault: str
) -> None:
    proxy.set(fault, bad_replies=2)
    result = _read(_spec(any_world.node, (proxy.url,)), any_world.tokens)
    _exact(any_world, result)
    assert result.http_requests == 3


def test_a_transient_rate_limit_is_retried_and_paces_only_that_url(
    any_world: World, proxy: FaultProxy
) -> None:
    proxy.error = {"code": -32005, "message": "limit exceeded"}
    proxy.set("error", bad_replies=1)
    memory = EndpointMemory()
    _exact(any_world, _read(_spec(any_world.node, (proxy.url,)), any_world.tokens, memory))
    assert memory.pace(proxy.url).interval > 0
    assert memory.pace(any_world.node.url).interval == 0


def test_a_faulty_first_url_falls_back_to_the_next(any_world: World, proxy: FaultProxy) -> None:
    proxy.set("error")
    result = _read(_spec(any_world.node, (proxy.url, any_world.node.url)), any_world.tokens)
    _exact(any_world, result)


NAMES = {59144: "Linea", 534352: "Scroll"}


def _scroll(node: Anvil, *urls: str) -> ChainSpec:
    spec = _spec(node, urls, chain_id=534352)
    return ChainSpec(
        spec.chain_id, "Scroll", spec.family, "ETH", "Ether", 18, 60, urls,
        multicall3=spec.multicall3,
    )  # fmt: skip


def test_a_url_serving_another_chain_is_refused(any_world: World, proxy: FaultProxy) -> None:
    proxy.chain_id = 59144
    memory = EndpointMemory()
    result = _read(_scroll(any_world.node, proxy.url), any_world.tokens, memory, NAMES)
    assert result.state is SourceState.FAILED and not result.balances and not result.failures
    assert result.error == "This RPC URL serves chain 59144 (Linea), not Scroll (534352)."
    assert proxy.requests == 1  # a mismatch is not retried
    again = _read(_scroll(any_world.node, proxy.url), any_world.tokens, memory, NAMES)
    assert again.error == result.error and proxy.requests == 1  # remembered: never asked again


def test_the_next_url_that_serves_the_right_chain_is_used(any_world: World) -> None:
    linea, scroll = FaultProxy(any_world.node.url), FaultProxy(any_world.node.url)
    try:
        linea.chain_id, scroll.chain_id = 59144, 534352
        memory = EndpointMemory()
        spec = _scroll(any_world.node, linea.url, scroll.url)
        _exact(any_world, _read(spec, any_world.tokens, memory, NAMES))
        assert linea.requests == 1 and scroll.requests == 1
        assert memory.served == {linea.url: 59144, scroll.url: 534352}
        _exact(any_world, _read(spec, any_world.tokens, memory, NAMES))
        assert linea.requests == 1  # the wrong URL is skipped for the rest of the session
        assert scroll.requests == 2
    finally:
        linea.stop()
        scroll.stop()


def test_the_chain_id_rides_in_the_first_request_only(any_world: World, proxy: FaultProxy) -> None:
    memory = EndpointMemory()
    spec = _spec(any_world.node, (proxy.url,))
    first = _read(spec, any_world.tokens, memory)
    second = _read(spec, any_world.tokens, memory)
    assert first.http_requests == 1 and second.http_requests == 1  # no extra round trip
    assert "eth_chainId" in proxy.methods[0]
    assert "eth_chainId" not in proxy.methods[1]  # checked once per URL per session


def test_readers_of_one_session_share_what_they_learned(world: World, tmp_path: Path) -> None:
    """Through the factory, as a refresh builds them: the wrong URL is named with the chain
    registry's names and skipped by every later reader of the same reader context."""
    from app.chains.factory import ReaderContext, create_reader
    from app.config import Settings

    linea, scroll = FaultProxy(world.node.url), FaultProxy(world.node.url)
    linea.chain_id, scroll.chain_id = 59144, 534352
    ctx = ReaderContext(Settings(tmp_path / "settings.toml"), None, None,  # type: ignore[arg-type]
                        {"tokens": world.tokens, "positions": False})  # fmt: skip

    async def read(spec: ChainSpec) -> ChainReadResult:
        reader = create_reader(spec, ctx)
        try:
            return await reader.read_balances(WALLETS)
        finally:
            await reader.aclose()

    try:
        alone = asyncio.run(read(_scroll(world.node, linea.url)))
        assert alone.error == "This RPC URL serves chain 59144 (Linea), not Scroll (534352)."
        for _ in range(2):  # two refreshes: the wrong URL is asked once in the session
            _exact(world, asyncio.run(read(_scroll(world.node, linea.url, scroll.url))))
        assert linea.requests == 1
        assert [m for ms in scroll.methods for m in ms].count("eth_chainId") == 1
    finally:
        linea.stop()
        scroll.stop()


def test_a_read_cut_short_keeps_the_wallets_it_finished(any_world: World) -> None:
    """The node holds every request after the first: W1's calls were answered, W2's never are.
    Cancelled (as the chain's time limit does), the reader reports W1 exactly and W2 as unread."""
    proxy = FaultProxy(any_world.node.url)
    proxy.hold_after = 1
    spec = _spec(any_world.node, (proxy.url,))
    # One chunk per wallet: by gas (multicall: 10k + 2 x 15k) or by bytes (batch: 3 entries).
    budget = chunking.ENVELOPE_BYTES + 3 * (chunking.BATCH_ENTRY_OVERHEAD + 2 * 36 + 42)
    if spec.multicall3:
        budget = 1_000_000
    reader = EvmReader(
        spec, JsonRpcTransport(spec.rpc_urls, retries=0), any_world.tokens,
        gas_cap=40_000, max_request_bytes=budget, max_concurrency=1,
    )  # fmt: skip

    async def go() -> ChainReadResult | None:
        task = asyncio.create_task(reader.read_balances(WALLETS))
        while proxy.requests < 2 and not task.done():  # the second request is being held
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            return reader.partial_result()
        finally:
            proxy.release()
            await reader.aclose()

    try:
        partial = asyncio.run(go())
    finally:
        proxy.stop()
    assert partial is not None and partial.state is SourceState.OK and partial.partial
    assert [a.address for a in partial.unread] == [W2]
    got = {(b.wallet.address, b.asset.symbol): b.raw for b in partial.balances}
    assert got == {(W1, "ETH"): 3 * 10**18, (W1, "TKN"): 1234 * 10**18}
    assert [(f.wallet.address, f.asset) for f in partial.failures] == [
        (W1, any_world.tokens[1].asset_id)
    ]


def test_nothing_is_partial_before_a_wallet_is_finished(world: World) -> None:
    spec = _spec(world.node, (world.node.url,))
    reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls), world.tokens)
    assert reader.partial_result() is None
    asyncio.run(reader.aclose())
