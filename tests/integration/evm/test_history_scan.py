"""The EVM history source against a real anvil node with a known past (history_world.py).

Every figure is checked exactly against what the world's own transactions did: amounts, fees to
the wei, block times. Nodes with and without ``trace_filter`` (the explorer fallback against a
local Etherscan/Blockscout of the real format), nodes that refuse wide ranges or many results
or long topic lists, a resumed scan, a dead node and a broken one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest

from app.chains.evm import explorer as explorer_mod
from app.chains.evm.explorer import (
    HistorySettings,
    blockscout,
    etherscan,
)
from app.chains.evm.history import (
    NO_NATIVE_NOTE,
    EvmHistorySource,
    HistoryError,
    evm_history_source,
    explorer_for,
)
from app.chains.evm.ranges import RangeMemory
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.domain.onchain import ScanBatch, ScanRequest
from tests.integration.evm.anvil import Anvil, running
from tests.integration.evm.history_proxy import ALCHEMY, PUBLICNODE, QUICKNODE, HistoryProxy
from tests.integration.evm.history_world import E18, HistoryWorld, build
from tests.support.fake_explorer import FakeExplorer
from tests.support.fakes import MemorySecrets
from tests.support.fault_proxy import FaultProxy
from tests.support.net import free_port

CHAIN = 31339


def spec_of(url: str, chain: int = CHAIN) -> ChainSpec:
    return ChainSpec(ChainId.evm(chain), "Testnet", ChainFamily.EVM, "ETH", "Ether", 18, 60, (url,))


@pytest.fixture(scope="module")
def world() -> Iterator[HistoryWorld]:
    for node in running(CHAIN):
        yield build(node)


@pytest.fixture
def proxy(world: HistoryWorld) -> Iterator[HistoryProxy]:
    p = HistoryProxy(world.node.url)
    yield p
    p.stop()


def scan(source: EvmHistorySource, requests: Sequence[ScanRequest]) -> list[ScanBatch]:
    async def go() -> list[ScanBatch]:
        try:
            return [b async for b in source.scan(requests)]
        finally:
            await source.aclose()

    return asyncio.run(go())


def both(world: HistoryWorld, cursor: str | None = None) -> list[ScanRequest]:
    return [ScanRequest(world.a, cursor), ScanRequest(world.b, cursor)]


def check_exact(world: HistoryWorld, batches: list[ScanBatch], *, native: bool = True) -> None:
    movements = [m for b in batches for m in b.movements]
    fees = [f for b in batches for f in b.fees]
    assert world.got_movements(movements) == world.expected_movements(native=native)
    world.check_times(movements, fees)
    head = int(world.node.rpc("eth_blockNumber"), 16)
    assert batches[-1].cursors == {world.a: str(head), world.b: str(head)}
    assert batches[-1].done == batches[-1].total == head + 1


def test_a_node_with_traces_gives_the_whole_history_exactly(world: HistoryWorld) -> None:
    proxy = HistoryProxy(world.node.url)
    try:
        batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url]), both(world))
    finally:
        proxy.stop()
    check_exact(world, batches)
    assert world.got_fees([f for b in batches for f in b.fees]) == world.expected_fees()
    assert all(not b.notes for b in batches)
    # Swap: X out and Y in within one transaction; a wallet sending to itself gives both sides.
    movements = [m for b in batches for m in b.movements]
    self_sends = [m for m in movements if m.counterparty == m.wallet and m.kind == "token"]
    assert sorted(m.delta for m in self_sends) == [-7 * E18, 7 * E18]
    assert len({m.key for m in movements}) == len(movements)
    # The payment inside a reverted call was checked against the whole trace, and moved nothing.
    assert proxy.items["trace_transaction"] >= 1
    assert proxy.items["trace_filter"] == 2 and proxy.items["eth_getLogs"] == 2
    # head; 4 log queries side by side with the state check; 2 trace queries; the reverted
    # call's whole trace; receipts with block times
    assert proxy.requests <= 10


def test_movement_identity_and_assets(world: HistoryWorld) -> None:
    batches = scan(evm_history_source(spec_of(world.node.url), [world.node.url]), both(world))
    movements = [m for b in batches for m in b.movements]
    natives = {m.asset for m in movements if m.kind == "native"}
    assert natives == {world.native}
    tokens = {m.asset for m in movements if m.kind == "token"}
    assert tokens == {world.asset("X"), world.asset("Y"), world.asset("CLAIM")}  # hostile: none
    for m in movements:
        assert m.chain == f"eip155:{CHAIN}" and m.wallet in (world.a, world.b)


def test_a_node_without_traces_uses_the_chosen_etherscan(world: HistoryWorld) -> None:
    proxy = HistoryProxy(world.node.url)
    proxy.no_trace = True
    fake = FakeExplorer(world.node.url, api_key="k3y", chain_id=CHAIN)
    fake.faults.append("rate")  # one "Max rate limit reached": waited out, not fatal
    try:
        spec = spec_of(proxy.url)
        settings = HistorySettings(explorer="etherscan", etherscan_url=fake.api_url)
        chosen = explorer_for(spec, settings, MemorySecrets({"etherscan": "k3y"}))
        memory = RangeMemory()
        source = evm_history_source(spec, [proxy.url], chosen, memory=memory)
        batches = scan(source, both(world))
        assert memory.lacks(proxy.url, "trace_filter")
        again = evm_history_source(spec, [proxy.url], None, memory=memory)
        before = proxy.items["trace_filter"]
        scan(again, both(world))
        assert proxy.items["trace_filter"] == before  # asked once per endpoint
    finally:
        proxy.stop()
        fake.stop()
    check_exact(world, batches)
    assert world.got_fees([f for b in batches for f in b.fees]) == world.expected_fees()
    assert fake.seen == {world.a.lower(), world.b.lower()}  # only the wallets scanned


def test_blockscout_gives_the_same_history(world: HistoryWorld, proxy: HistoryProxy) -> None:
    proxy.no_trace = True
    fake = FakeExplorer(world.node.url)
    try:
        batches = scan(
            evm_history_source(spec_of(proxy.url), [proxy.url], blockscout(fake.url)), both(world)
        )
    finally:
        fake.stop()
    check_exact(world, batches)
    assert world.got_fees([f for b in batches for f in b.fees]) == world.expected_fees()


def test_without_traces_or_explorer_nothing_is_sent_and_the_gap_is_named(
    world: HistoryWorld, proxy: HistoryProxy
) -> None:
    proxy.no_trace = True
    fake = FakeExplorer(world.node.url)
    try:
        spec = spec_of(proxy.url)
        assert explorer_for(spec, HistorySettings(), MemorySecrets({"etherscan": "k"})) is None
        batches = scan(evm_history_source(spec, [proxy.url]), both(world))
        assert fake.requests == 0
    finally:
        fake.stop()
    check_exact(world, batches, native=False)
    assert all(b.notes == (NO_NATIVE_NOTE,) for b in batches)
    token_txs = {e[0] for e in world.expected if e[4] == "token"}
    expected = {h: f for h, f in world.expected_fees().items() if h in token_txs}
    assert world.got_fees([f for b in batches for f in b.fees]) == expected


def test_explorer_choice_needs_what_it_names(world: HistoryWorld) -> None:
    spec = spec_of(world.node.url)
    with pytest.raises(HistoryError, match="no Etherscan API key is stored"):
        explorer_for(spec, HistorySettings(explorer="etherscan"), MemorySecrets())
    with pytest.raises(HistoryError, match="No Blockscout instance is known for Testnet"):
        explorer_for(spec, HistorySettings(explorer="blockscout"), MemorySecrets())
    own = HistorySettings(
        explorer="blockscout", blockscout_instances=((str(spec.chain_id), "http://127.0.0.1:9"),)
    )
    chosen = explorer_for(spec, own, MemorySecrets())
    assert isinstance(chosen, explorer_mod.EtherscanStyleExplorer)
    assert chosen.base_url == "http://127.0.0.1:9/api"


def test_a_wrong_explorer_key_is_a_plain_message(world: HistoryWorld, proxy: HistoryProxy) -> None:
    proxy.no_trace = True
    fake = FakeExplorer(world.node.url, api_key="right", chain_id=CHAIN)
    try:
        source = evm_history_source(
            spec_of(proxy.url), [proxy.url], etherscan(CHAIN, "wrong", fake.api_url)
        )
        with pytest.raises(HistoryError) as caught:
            scan(source, both(world))
    finally:
        fake.stop()
    text = str(caught.value)
    assert "refused the API key" in text and "wrong" not in text and "127.0.0.1" not in text


def test_explorer_pages_past_its_row_cap(
    world: HistoryWorld, proxy: HistoryProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explorer_mod, "PAGE_ROWS", 2)
    proxy.no_trace = True
    fake = FakeExplorer(world.node.url)
    try:
        batches = scan(
            evm_history_source(spec_of(proxy.url), [proxy.url], blockscout(fake.url)), both(world)
        )
        assert fake.requests > 4
    finally:
        fake.stop()
    check_exact(world, batches)


@pytest.mark.parametrize(("message", "limit"), [(QUICKNODE, 5), (PUBLICNODE, 7), (ALCHEMY, 3)])
def test_range_limits_are_split_and_remembered(
    world: HistoryWorld, proxy: HistoryProxy, message: str, limit: int
) -> None:
    proxy.max_range, proxy.range_message = limit, message
    memory = RangeMemory()
    batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url], memory=memory), both(world))
    check_exact(world, batches)
    assert world.got_fees([f for b in batches for f in b.fees]) == world.expected_fees()
    assert proxy.refusals > 0
    assert memory.span(proxy.url, "eth_getLogs") <= limit
    refused = proxy.refusals
    batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url], memory=memory), both(world))
    assert proxy.refusals == refused  # the next scan starts from what worked
    check_exact(world, batches)


def test_too_many_results_are_split_at_the_suggested_range(
    world: HistoryWorld, proxy: HistoryProxy
) -> None:
    proxy.max_results = 4  # the hostile emitter's block holds 3 of them
    batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url]), both(world))
    assert proxy.refusals > 0
    check_exact(world, batches)


def test_a_topic_list_limit_splits_the_wallets(world: HistoryWorld, proxy: HistoryProxy) -> None:
    proxy.max_topics = 1
    memory = RangeMemory()
    batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url], memory=memory), both(world))
    check_exact(world, batches)
    assert memory.wallets[proxy.url] == 1


def test_small_windows_each_complete_with_their_cursor(world: HistoryWorld) -> None:
    source = EvmHistorySource(
        spec_of(world.node.url),
        evm_history_source(spec_of(world.node.url), [world.node.url])._transport,
        window_blocks=4,
    )
    batches = scan(source, both(world))
    assert len(batches) > 3
    for prev, nxt in itertools.pairwise(batches):
        assert int(nxt.cursors[world.a]) == int(prev.cursors[world.a]) + 4 or nxt is batches[-1]
        assert nxt.done > prev.done and nxt.total == prev.total
    for b in batches:
        end = int(b.cursors[world.a])
        assert all(end - 4 < m.block <= end for m in b.movements)
    check_exact(world, batches)


def test_a_dead_node_is_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = evm_history_source(spec_of(url), [url], retries=1)
    with pytest.raises(HistoryError) as caught:
        scan(source, [ScanRequest("0x" + "11" * 20)])
    text = str(caught.value)
    assert text.startswith("The history of Testnet could not be read.")
    assert "could not be reached" in text and "127.0.0.1" not in text and "Error" not in text


def test_a_node_that_breaks_its_logs_fails_the_scan_plainly(
    world: HistoryWorld, proxy: HistoryProxy
) -> None:
    proxy.spoil_logs = True
    source = evm_history_source(spec_of(proxy.url), [proxy.url], retries=1)
    with pytest.raises(HistoryError, match="a log without a transaction hash"):
        scan(source, both(world))


def test_a_bad_cursor_or_wallet_is_refused(world: HistoryWorld) -> None:
    source = evm_history_source(spec_of(world.node.url), [world.node.url])
    with pytest.raises(HistoryError, match="not a block number"):
        scan(source, [ScanRequest(world.a, "slot 12")])
    with pytest.raises(HistoryError, match="is not an EVM address"):
        scan(evm_history_source(spec_of(world.node.url), [world.node.url]), [ScanRequest("nope")])


def test_a_node_of_another_chain_is_refused(world: HistoryWorld) -> None:
    wrong = replace(spec_of(world.node.url), chain_id=ChainId.evm(1), name="Ethereum")
    with pytest.raises(HistoryError, match="serves chain 31339"):
        scan(evm_history_source(wrong, [world.node.url], retries=0), both(world))


# ---------------------------------------------------------------------- resuming


@pytest.fixture
def fresh() -> Iterator[Anvil]:
    yield from running(CHAIN + 1)


def test_a_resumed_scan_rereads_the_confirmation_depth(fresh: Anvil) -> None:
    world = build(fresh)
    spec = spec_of(fresh.url, CHAIN + 1)
    first = scan(evm_history_source(spec, [fresh.url], depth=5), both(world))
    cursor = first[-1].cursors[world.a]
    assert first[-1].reread_from == {}  # a first scan re-reads nothing
    # The chain goes on: A pays the outsider 3 X and 1 ETH; B gets 4 X.
    r1 = world.call(
        world.a, world.tokens["X"], "transfer(address,uint256)", world.outsider, 3 * E18
    )
    world.expect_logs(r1)
    r2 = world.call(world.a, world.tokens["X"], "transfer(address,uint256)", world.b, 4 * E18)
    world.expect_logs(r2)
    r3 = world.send(world.a, world.outsider, value=E18)
    world.expect_native(r3["transactionHash"], world.a, world.outsider, E18)
    resumed = scan(evm_history_source(spec, [fresh.url], depth=5), both(world, cursor))
    since = int(cursor) - 5
    assert resumed[0].reread_from == {world.a: since, world.b: since}
    movements = [m for b in resumed for m in b.movements]
    fees = [f for b in resumed for f in b.fees]
    assert world.got_movements(movements) == world.expected_movements(since=since)
    assert world.got_fees(fees) == world.expected_fees(since=since)
    world.check_times(movements, fees)


def test_a_new_wallet_is_read_from_the_start_beside_a_resumed_one(fresh: Anvil) -> None:
    world = build(fresh)
    spec = spec_of(fresh.url, CHAIN + 1)
    head = int(fresh.rpc("eth_blockNumber"), 16)
    batches = scan(
        evm_history_source(spec, [fresh.url], depth=3),
        [ScanRequest(world.a, str(head)), ScanRequest(world.b)],
    )
    # B alone from block 0 up to where A resumes, then both together.
    assert list(batches[0].cursors) == [world.b]
    assert batches[0].reread_from == {}
    assert batches[-1].cursors == {world.a: str(head), world.b: str(head)}
    joined = next(b for b in batches if world.a in b.cursors)
    assert joined.reread_from == {world.a: head - 3}
    movements = [m for b in batches for m in b.movements]
    assert all(m.block >= head - 3 for m in movements if m.wallet == world.a)
    got_b = world.got_movements([m for m in movements if m.wallet == world.b])
    want_b = +world.expected_movements()
    assert got_b == type(want_b)({k: v for k, v in want_b.items() if k[1] == world.b})


def test_a_node_behind_the_cursor_rereads_from_its_own_head(fresh: Anvil) -> None:
    world = build(fresh)
    spec = spec_of(fresh.url, CHAIN + 1)
    head = int(fresh.rpc("eth_blockNumber"), 16)
    batches = scan(evm_history_source(spec, [fresh.url], depth=2), both(world, str(head + 1000)))
    assert batches[0].reread_from == {world.a: head - 2, world.b: head - 2}
    assert batches[-1].cursors[world.a] == str(head)


def test_quiet_wallets_are_neither_traced_nor_named_to_an_explorer(world: HistoryWorld) -> None:
    """A wallet that only received tokens: its coin balance and nonce did not change, so no
    trace is asked for it and the explorer never hears of it."""
    quiet = "0x00000000000000000000000000000000000Fa11e"
    receipt = world.call(
        world.node.sender, world.tokens["X"], "mint(address,uint256)", quiet, 5 * E18
    )
    proxy = HistoryProxy(world.node.url)
    try:
        batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url]), [ScanRequest(quiet)])
        assert proxy.items["trace_filter"] == 0
        proxy.no_trace = True
        fake = FakeExplorer(world.node.url)
        try:
            source = evm_history_source(spec_of(proxy.url), [proxy.url], blockscout(fake.url))
            again = scan(source, [ScanRequest(quiet), *both(world)])
        finally:
            fake.stop()
    finally:
        proxy.stop()
    assert [(m.wallet, m.delta, m.tx) for b in batches for m in b.movements] == [
        (quiet, 5 * E18, receipt["transactionHash"])
    ]
    assert fake.seen == {world.a.lower(), world.b.lower()}
    assert all(not b.notes for b in batches)
    movements = [m for b in again for m in b.movements if m.wallet != quiet]
    assert world.got_movements(movements) == world.expected_movements()


def test_logs_without_block_times_read_the_headers(
    world: HistoryWorld, proxy: HistoryProxy
) -> None:
    proxy.no_log_times = True
    batches = scan(evm_history_source(spec_of(proxy.url), [proxy.url]), both(world))
    check_exact(world, batches)  # times to the second, from eth_getBlockByNumber
    assert proxy.items["eth_getBlockByNumber"] >= len(
        {m.block for b in batches for m in b.movements if m.kind == "token"}
    )


@pytest.mark.parametrize("fault", ["short", "duplicate", "not_list", "error", "null_result"])
def test_a_transient_bad_reply_is_retried(world: HistoryWorld, fault: str) -> None:
    broken = FaultProxy(world.node.url).set(fault, bad_replies=1)
    try:
        source = evm_history_source(spec_of(broken.url), [broken.url])
        source._transport.backoff_base = 0.01
        batches = scan(source, both(world))
    finally:
        broken.stop()
    check_exact(world, batches)


def test_a_node_that_keeps_sending_errors_fails_plainly(world: HistoryWorld) -> None:
    broken = FaultProxy(world.node.url).set("error")
    try:
        source = evm_history_source(spec_of(broken.url), [broken.url], retries=1)
        source._transport.backoff_base = 0.01
        with pytest.raises(HistoryError) as caught:
            scan(source, both(world))
    finally:
        broken.stop()
    assert "header not found" in str(caught.value)
