"""The EVM reader against real anvil nodes, with real contracts compiled by solc-js."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from app.chains.endpoints import EndpointMemory
from app.chains.evm import chunking
from app.chains.evm.reader import EvmReader
from app.chains.evm.tokens import erc20_asset_id
from app.chains.http import JsonRpcTransport
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.model import Wallet
from tests.integration.evm.anvil import MULTICALL3, Anvil

pytestmark = pytest.mark.integration

MAX = 2**256 - 1
W1 = "0x1111111111111111111111111111111111111111"
W2 = "0x2222222222222222222222222222222222222222"


@dataclass
class World:
    node: Anvil
    tokens: list[AssetInfo]
    by_symbol: dict[str, AssetInfo]


def _setup(node: Anvil) -> World:
    chain = ChainId.evm(node.chain_id)
    specs = [("TKN", 18), ("ZERO", 0), ("BIG", 24)]
    tokens: list[AssetInfo] = []
    for sym, dec in specs:
        addr = node.deploy("TestToken", ["string", "string", "uint8"], [sym, sym, dec])
        tokens.append(AssetInfo(erc20_asset_id(chain, addr), sym, sym, dec))
    node.mint(tokens[0].asset_id.asset_reference, W1, 1234 * 10**18)
    node.mint(tokens[1].asset_id.asset_reference, W1, 7)
    node.mint(tokens[2].asset_id.asset_reference, W2, MAX)
    rev = node.deploy("RevertingToken")
    b32 = node.deploy("Bytes32Token")
    node.mint(b32, W2, 5)
    garbage = node.deploy("GarbageToken")
    for sym, addr in (("BRK", rev), ("MKR", b32), ("GRB", garbage)):
        tokens.append(AssetInfo(erc20_asset_id(chain, addr), sym, sym, 18))
    node.set_native(W1, 3 * 10**18)
    return World(node, tokens, {t.symbol: t for t in tokens})


@pytest.fixture(scope="module")
def world(anvil: Anvil) -> World:
    return _setup(anvil)


@pytest.fixture(scope="module")
def plain_world(anvil_plain: Anvil) -> World:
    return _setup(anvil_plain)


def _spec(node: Anvil, multicall: str | None, urls: tuple[str, ...] | None = None) -> ChainSpec:
    return ChainSpec(
        ChainId.evm(node.chain_id), "Test", ChainFamily.EVM, "ETH", "Ether", 18, 60,
        urls or (node.url,), multicall3=multicall,
    )  # fmt: skip


def _read(spec: ChainSpec, tokens: list[AssetInfo], **budgets: int) -> ChainReadResult:
    wallets = [Wallet(W1, AddressFamily.EVM), Wallet(W2, AddressFamily.EVM)]

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens, **budgets)
        try:
            return await reader.read_balances(wallets)
        finally:
            await reader.aclose()

    return asyncio.run(go())


def _amounts(result: ChainReadResult) -> dict[tuple[str, str], int]:
    return {(b.wallet.address, b.asset.symbol): b.raw for b in result.balances}


def _check(world: World, result: ChainReadResult) -> None:
    assert result.state is SourceState.OK
    got = _amounts(result)
    assert got[(W1, "ETH")] == 3 * 10**18
    assert got[(W2, "ETH")] == 0
    assert got[(W1, "TKN")] == 1234 * 10**18
    assert got[(W1, "ZERO")] == 7
    assert got[(W2, "BIG")] == MAX
    assert got[(W2, "MKR")] == 5
    assert (W2, "TKN") not in got  # zero token balances are not reported
    failed = {(f.wallet.address, f.asset) for f in result.failures}
    assert failed == {(w, world.by_symbol[s].asset_id) for w in (W1, W2) for s in ("BRK", "GRB")}
    big = next(b for b in result.balances if b.asset.symbol == "BIG")
    assert str(big.amount) == str(MAX)[:-24] + "." + str(MAX)[-24:]


def test_multicall_reads_every_balance_in_one_request(world: World) -> None:
    result = _read(_spec(world.node, MULTICALL3), world.tokens)
    _check(world, result)
    assert result.http_requests == 1


def test_gas_budget_splits_chunks_that_are_sent_concurrently_and_agree(world: World) -> None:
    # 14 calls: per wallet one native (10k gas) and six balanceOf (15k each). With 45k a chunk
    # holds three calls: [ETH TKN ZERO] [BIG BRK MKR] [GRB ETH TKN] [ZERO BIG BRK] [MKR GRB].
    result = _read(_spec(world.node, MULTICALL3), world.tokens, gas_cap=45_000)
    _check(world, result)
    assert result.http_requests == 5


def test_byte_budget_splits_chunks(world: World) -> None:
    # Each balance call is 224 ABI bytes, 448 as hex in the JSON body; the envelope and the
    # aggregate3 head are counted as 392 bytes. Room for exactly four calls: 14 calls, 4 requests.
    budget = chunking.ENVELOPE_BYTES + 2 * chunking.AGGREGATE3_HEAD + 4 * 448
    result = _read(_spec(world.node, MULTICALL3), world.tokens, max_request_bytes=budget)
    _check(world, result)
    assert result.http_requests == 4


def test_batch_fallback_is_chunked_by_bytes(plain_world: World) -> None:
    budget = chunking.ENVELOPE_BYTES + 5 * (chunking.BATCH_ENTRY_OVERHEAD + 2 * 36 + 42)
    result = _read(_spec(plain_world.node, None), plain_world.tokens, max_request_bytes=budget)
    _check(plain_world, result)
    assert result.http_requests == 3  # 14 calls, five per batch


def test_chain_without_multicall_falls_back_to_batches(plain_world: World) -> None:
    result = _read(_spec(plain_world.node, None), plain_world.tokens)
    _check(plain_world, result)
    assert result.http_requests == 1


def test_dead_first_url_rotates_to_the_next(world: World) -> None:
    from tests.support.net import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    result = _read(_spec(world.node, MULTICALL3, (dead, world.node.url)), world.tokens)
    _check(world, result)


def test_unreachable_chain_fails_with_a_reason(world: World) -> None:
    from tests.support.net import free_port

    result = _read(
        _spec(world.node, MULTICALL3, (f"http://127.0.0.1:{free_port()}",)), world.tokens
    )
    assert result.state is SourceState.FAILED
    assert result.error and "could not be reached" in result.error


MANY = [Wallet(f"0x{i:040x}", AddressFamily.EVM) for i in range(1, 1501)]


async def _read_many(
    spec: ChainSpec, tokens: list[AssetInfo], memory: EndpointMemory, **budgets: int
) -> ChainReadResult:
    transport = JsonRpcTransport(spec.rpc_urls, retries=0, memory=memory)
    reader = EvmReader(spec, transport, tokens, **budgets)
    try:
        return await reader.read_balances(MANY)
    finally:
        await reader.aclose()


def test_default_budgets_stay_under_the_node_body_limit(world: World) -> None:
    # 6000 calls are ~2.7 MB of JSON: one request would exceed anvil's 2 MiB limit and be
    # rejected (then split: 3 requests). Sized by bytes, it is two requests that both pass.
    spec = _spec(world.node, MULTICALL3)
    memory = EndpointMemory()
    result = asyncio.run(_read_many(spec, world.tokens[:3], memory))
    assert result.state is SourceState.OK and not result.failures
    assert len([b for b in result.balances if b.asset.symbol == "ETH"]) == 1500
    assert result.http_requests == 2
    assert memory.learned_calls(world.node.url) is None  # nothing was rejected


def test_oversized_chunk_is_split_and_the_size_remembered_per_endpoint(world: World) -> None:
    spec = _spec(world.node, MULTICALL3)
    budgets = {"max_request_bytes": 10_000_000, "gas_cap": 10**12}  # one ~2.7 MB chunk
    memory = EndpointMemory()  # the session's, shared by every reader it builds

    async def go() -> tuple[ChainReadResult, ChainReadResult]:
        first = await _read_many(spec, world.tokens[:3], memory, **budgets)
        # A new reader with its own transport, to the same URL, starts from the learned size.
        second = await _read_many(spec, world.tokens[:3], memory, **budgets)
        return first, second

    first, second = asyncio.run(go())
    for result in (first, second):
        assert result.state is SourceState.OK and not result.failures
        assert len([b for b in result.balances if b.asset.symbol == "ETH"]) == 1500
    assert first.http_requests == 3  # rejected once, then two halves
    assert memory.learned_calls(world.node.url) == 3000
    assert second.http_requests == 2  # the size that worked is used from then on

    other = _spec(world.node, MULTICALL3, (world.node.url + "/",))  # another endpoint URL
    third = asyncio.run(_read_many(other, world.tokens[:3], memory, **budgets))
    assert third.state is SourceState.OK and third.http_requests == 3  # learns on its own
