"""Every protocol on one chain at once (the benchmark's world, a few wallets): the read stays
within the balances' round plus two, with no failure, and every protocol shows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from app.domain.position_reads import PositionSource
from tests.benchmarks.defi_refresh import populate, toml, wallet
from tests.integration.evm.anvil import MULTICALL3, Anvil, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    yield from running(31342)


async def _read(spec: ChainSpec, tokens: list[AssetInfo], wallets: list[Wallet],
                positions: list[PositionSource]) -> ChainReadResult:  # fmt: skip
    reader = EvmReader(
        spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens, positions=positions
    )
    try:
        return await reader.read_balances(wallets)
    finally:
        await reader.aclose()


def _world(
    node: Anvil, tmp_path: Path
) -> tuple[list[str], ChainSpec, list[AssetInfo], list[PositionSource]]:
    """Five wallets with a position in every protocol: their addresses, the chain, its tokens
    and its position sources."""
    addresses = [wallet(i) for i in range(5)]
    lend, amm, pendle = populate(node, addresses)
    spec = ChainSpec(lend.chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60, (node.url,),
                     multicall3=MULTICALL3)  # fmt: skip
    tokens = [*lend.token_list(), amm.info("TKA"), amm.info("TKB")]
    override = tmp_path / "defi.toml"
    override.write_text(toml(lend, amm, pendle))
    sources = build_sources(
        spec.chain_id, load_config(override), tokens, EvmReader.native_info_of(spec)
    )
    return addresses, spec, tokens, sources


def test_balances_plus_two_rounds_with_every_protocol(node: Anvil, tmp_path: Path) -> None:
    addresses, spec, tokens, sources = _world(node, tmp_path)
    wallets = [Wallet(a, AddressFamily.EVM) for a in addresses]
    alone = asyncio.run(_read(spec, tokens, wallets, []))
    both = asyncio.run(_read(spec, tokens, wallets, sources))
    for r in (alone, both):
        assert r.state is SourceState.OK and r.failures == ()
    assert not [b for b in alone.balances if b.position]
    assert int(both.extra["rounds"]) <= int(alone.extra.get("rounds", "1")) + 2
    protocols = {b.position.split(":", 1)[0] for b in both.balances if b.position}
    assert {"aave-v3", "compound-v3", "lido", "eigenlayer", "uniswap-v3", "uniswap-v2",
            "pendle"} <= protocols  # fmt: skip
    assert any(r.protocol == "pendle" for r in both.rates)  # the implied APY rides along


def test_the_privacy_ledger_names_every_wallet_a_multicall_carried(
    node: Anvil, tmp_path: Path
) -> None:
    """Aggregate3 requests declare what they carry (their wallets; protocol calldata and call
    targets are searched) instead of having 2 MB of hex searched: with the suite's check on,
    the whole bodies are searched too and must agree (tests/conftest.py), balances and every
    protocol's calls alike."""
    from app import net
    from app.domain.privacy import Contact

    addresses, spec, tokens, sources = _world(node, tmp_path)
    written: list[Contact] = []

    class Sink:
        def add_contacts(self, contacts: list[Contact]) -> None:
            written.extend(contacts)

    # The first three are watched; the other two are read but not in the wallet list.
    recorder = net.Recorder(Sink(), lambda: addresses[:3])
    previous = net.install(net.Egress(recorder=recorder))
    wallets = [Wallet(a, AddressFamily.EVM) for a in addresses]
    try:
        for positions in ([], sources):  # balances alone, then with every protocol's calls
            written.clear()
            result = asyncio.run(_read(spec, tokens, wallets, positions))
            recorder.flush()
            assert result.state is SourceState.OK and written
            assert {a for c in written for a in c.addresses} == set(addresses[:3])
    finally:
        net.install(previous)
