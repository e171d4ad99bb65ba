"""Bitcoin balances and history from a local Electrum-protocol server and a local Esplora
server (fakes serving one deterministic history), the gap limit, and a server that is down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from app.chains.bitcoin.electrum import ElectrumClient
from app.chains.bitcoin.esplora import EsploraClient
from app.chains.bitcoin.history import BitcoinHistorySource
from app.chains.bitcoin.reader import BitcoinReader
from app.chains.bitcoin.scan import Backend, ElectrumBackend, EsploraBackend
from app.chains.bitcoin.servers import parse_electrum_server
from app.chains.registry import load_builtin
from app.domain.addresses import AddressFamily
from app.domain.balances import Balance, ChainReadResult, SourceState
from app.domain.bitcoin import BTC_ASSET, RECEIVE, Deriver, parse_bitcoin
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.model import Wallet
from app.domain.onchain import ScanRequest
from app.domain.outcome import RefreshStatus
from app.domain.snapshot import Snapshot
from app.services.refresh import RefreshService
from tests.support.bitcoin_fakes import (
    OUTSIDE,
    ElectrumFake,
    EsploraFake,
    FakeChain,
    demo_chain,
    self_signed,
)
from tests.unit.bitcoin.test_derivation import ZPUB_84

SPEC: ChainSpec = next(s for s in load_builtin() if s.family is ChainFamily.BITCOIN)
KEY = parse_bitcoin(ZPUB_84)
WALLET = Wallet(KEY.first_address, AddressFamily.BITCOIN, "cold", watch=ZPUB_84, id=None)


def build_chain() -> FakeChain:
    return demo_chain(ZPUB_84)


def electrum_backend(fake: ElectrumFake) -> ElectrumBackend:
    server = parse_electrum_server(fake.url)
    assert server is not None
    return ElectrumBackend(ElectrumClient(server, timeout=5, batch_size=7))


async def read(backend: Backend, gap: int) -> ChainReadResult:
    reader = BitcoinReader(SPEC, backend, gap)
    try:
        return await reader.read_balances([WALLET])
    finally:
        await reader.aclose()


def the_balance(result: ChainReadResult) -> Balance:
    assert result.state is SourceState.OK, result.error
    (balance,) = result.balances
    assert str(balance.wallet) == f"{SPEC.chain_id}:{KEY.first_address}"
    assert (
        str(balance.asset.asset_id) == BTC_ASSET and balance.asset.price_id == "coingecko:bitcoin"
    )
    return balance


def test_electrum_balances_and_the_gap_limit() -> None:
    async def main() -> None:
        fake = await ElectrumFake(build_chain()).start()
        try:
            short_gap = the_balance(await read(electrum_backend(fake), gap=5))
            assert short_gap.raw == 250_000 + 699_000 + 40_000  # r5 found, r30 not
            assert short_gap.amount == Decimal("0.00989000")
            long_gap = the_balance(await read(electrum_backend(fake), gap=25))
            assert long_gap.raw == 250_000 + 699_000 + 40_000 + 7_000_000
            too_short = the_balance(await read(electrum_backend(fake), gap=3))
            assert too_short.raw == 250_000 + 699_000  # r5 is after a gap of 3: not found
            # Batches: many requests per write; only script hashes and txids were sent.
            assert fake.calls > fake.messages * 2
            assert not any(ZPUB_84[4:20] in p or "pub" in p for p in fake.seen)
        finally:
            await fake.stop()

    asyncio.run(main())


def test_esplora_balances_and_the_gap_limit() -> None:
    fake = EsploraFake(build_chain())
    with fake.running() as url:

        async def main() -> None:
            def backend() -> EsploraBackend:
                return EsploraBackend(EsploraClient([url], timeout=5, concurrency=4))

            assert the_balance(await read(backend(), gap=5)).raw == 989_000
            assert the_balance(await read(backend(), gap=25)).raw == 7_989_000
            assert the_balance(await read(backend(), gap=3)).raw == 949_000

        asyncio.run(main())
    assert all("pub" not in p for p in fake.paths)


async def scan(backend: Backend, cursor: str | None = None) -> list[object]:
    source = BitcoinHistorySource(
        SPEC and str(SPEC.chain_id), BTC_ASSET, backend, lambda: [WALLET], 5
    )
    try:
        return [b async for b in source.scan([ScanRequest(WALLET.address, cursor)])]
    finally:
        await source.aclose()


def check_history(batches: Sequence[object]) -> None:
    (batch,) = batches
    moves = [(m.block, m.delta, m.ts, m.wallet, m.asset) for m in batch.movements]  # type: ignore[attr-defined]
    t = FakeChain.time
    w = WALLET.address
    assert moves == [
        (800_001, 1_000_000, t(800_001), w, BTC_ASSET),
        (800_002, 250_000, t(800_002), w, BTC_ASSET),
        (800_003, -300_000, t(800_003), w, BTC_ASSET),  # paid out; the fee is its own record
        (800_004, 40_000, t(800_004), w, BTC_ASSET),
    ]
    (fee,) = batch.fees  # type: ignore[attr-defined]
    assert (fee.block, fee.amount, fee.wallet) == (800_003, 1_000, w)
    # movements and fees add up to the balance
    assert sum(m.delta for m in batch.movements) - fee.amount == 989_000  # type: ignore[attr-defined]
    spend = batch.movements[2]  # type: ignore[attr-defined]
    from embit.networks import NETWORKS
    from embit.script import Script

    assert spend.counterparty == Script(OUTSIDE).address(NETWORKS["main"])
    assert batch.cursors == {w: "800100"}  # type: ignore[attr-defined]
    assert batch.reread_from == {w: 0}  # type: ignore[attr-defined]


def test_electrum_history() -> None:
    async def main() -> None:
        fake = await ElectrumFake(build_chain()).start()
        try:
            check_history(await scan(electrum_backend(fake)))
            # From a cursor: the last blocks within 6 confirmations are read again.
            (again,) = await scan(electrum_backend(fake), cursor="800008")
            assert again.reread_from == {WALLET.address: 800_003}  # type: ignore[attr-defined]
            assert [m.block for m in again.movements] == [800_003, 800_004]  # type: ignore[attr-defined]
        finally:
            await fake.stop()

    asyncio.run(main())


def test_esplora_history() -> None:
    fake = EsploraFake(build_chain())
    with fake.running() as url:
        backend = EsploraBackend(EsploraClient([url], timeout=5))
        check_history(asyncio.run(scan(backend)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_electrum_server_down_is_a_clear_failure() -> None:
    server = parse_electrum_server(f"tcp://127.0.0.1:{free_port()}")
    assert server is not None
    result = asyncio.run(read(ElectrumBackend(ElectrumClient(server, timeout=5)), gap=5))
    assert result.state is SourceState.FAILED
    assert result.error is not None and "cannot be reached" in result.error
    assert "Error" not in result.error and "Exception" not in result.error


def test_esplora_server_down_is_a_clear_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    result = asyncio.run(read(EsploraBackend(EsploraClient([url], timeout=5, retries=0)), 5))
    assert result.state is SourceState.FAILED
    assert result.error is not None and "cannot be reached" in result.error


class _Store:
    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []

    def write(self, snapshot: Snapshot) -> int:
        self.snapshots.append(snapshot)
        return len(self.snapshots)

    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None


class _Prices:
    quotes: tuple[object, ...] = ()
    errors: tuple[str, ...] = ()


def test_refresh_marks_bitcoin_stale_when_its_server_goes_down() -> None:
    """Bitcoin is a source of the snapshot like a chain: ok, then stale with its last holdings
    when the Electrum server is down."""

    async def main() -> None:
        fake = await ElectrumFake(build_chain()).start()
        url = fake.url

        async def read_chain(spec: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
            server = parse_electrum_server(url)
            assert server is not None
            reader = BitcoinReader(spec, ElectrumBackend(ElectrumClient(server, timeout=5)), 5)
            try:
                return await reader.read_balances(wallets)
            finally:
                await reader.aclose()

        async def price(_balances: object, _currency: str, _known: object = None) -> _Prices:
            return _Prices()

        store = _Store()
        service = RefreshService(
            lambda: [SPEC], lambda: [WALLET], read_chain, lambda: price, store, lambda: "USD"
        )
        first = await service.refresh()
        assert first.status is RefreshStatus.OK
        (source,) = store.snapshots[-1].sources
        assert (source.source, source.state) == (str(SPEC.chain_id), SourceState.OK)
        assert [h.raw for h in store.snapshots[-1].holdings] == [989_000]
        await fake.stop()
        url = f"tcp://127.0.0.1:{free_port()}"
        second = await service.refresh()
        (report,) = second.chains
        assert report.state is SourceState.STALE and "cannot be reached" in (report.reason or "")
        (source,) = store.snapshots[-1].sources
        assert source.state is SourceState.STALE
        assert [h.raw for h in store.snapshots[-1].holdings] == [989_000]  # kept, marked stale

    asyncio.run(main())


@pytest.mark.parametrize("gap", [1, 20])
def test_single_address_wallet(gap: int) -> None:
    d = Deriver(KEY)
    chain = build_chain()
    address = d.derive(RECEIVE, 5).address
    wallet = Wallet(address, AddressFamily.BITCOIN)

    async def main() -> ChainReadResult:
        fake = await ElectrumFake(chain).start()
        try:
            reader = BitcoinReader(SPEC, electrum_backend(fake), gap)
            result = await reader.read_balances([wallet])
            await reader.aclose()
            return result
        finally:
            await fake.stop()

    result = asyncio.run(main())
    assert [b.raw for b in result.balances] == [40_000]


def test_networks_test_button_knows_an_esplora_api() -> None:
    from app.chains.probe import ProbeError, probe_reference

    fake = EsploraFake(build_chain())
    with fake.running() as url:
        reference, _ms = asyncio.run(probe_reference(url, False, bitcoin=True))
        assert reference == SPEC.chain_id.reference
        with pytest.raises(ProbeError, match="Esplora"):
            asyncio.run(probe_reference(url + "/nothing-here", False, bitcoin=True))


def test_electrum_over_tls(tmp_path: Path) -> None:
    """ssl://: a certificate the client trusts works; the person's self-signed one is refused
    with a plain sentence while checking is on, and accepted once they turn checking off."""
    server_tls, trusting = self_signed(tmp_path)

    async def main() -> None:
        fake = await ElectrumFake(build_chain(), tls=server_tls).start()
        try:
            server = parse_electrum_server(fake.url)
            assert server is not None and server.tls

            def backend(**kw: object) -> ElectrumBackend:
                return ElectrumBackend(ElectrumClient(server, timeout=5, **kw))  # type: ignore[arg-type]

            assert the_balance(await read(backend(tls=trusting), gap=5)).raw == 989_000
            refused = await read(backend(verify_tls=True), gap=5)
            assert refused.state is SourceState.FAILED
            assert refused.error is not None and "TLS certificate" in refused.error
            assert the_balance(await read(backend(verify_tls=False), gap=5)).raw == 989_000
        finally:
            await fake.stop()

    asyncio.run(main())


def test_electrum_item_errors_fail_plainly() -> None:
    """A server that refuses a request (ElectrumX's "history too large") fails the source with
    its reason, not a traceback."""

    async def main() -> None:
        fake = await ElectrumFake(build_chain()).start()
        fake.refuse = "blockchain.scripthash.get_history"
        try:
            result = await read(electrum_backend(fake), gap=5)
            assert result.state is SourceState.FAILED
            assert result.error == "The Electrum server refused a history request: too large"
        finally:
            await fake.stop()

    asyncio.run(main())


def test_an_address_of_a_watched_key_is_counted_once() -> None:
    """Watching the zpub and also one of its addresses: the coins are counted in the zpub's
    wallet only, and the address says where they are."""
    inner = Wallet(Deriver(KEY).derive(RECEIVE, 1).address, AddressFamily.BITCOIN, "paper")

    async def main() -> ChainReadResult:
        fake = await ElectrumFake(build_chain()).start()
        try:
            reader = BitcoinReader(SPEC, electrum_backend(fake), 5)
            result = await reader.read_balances([WALLET, inner])
            await reader.aclose()
            return result
        finally:
            await fake.stop()

    result = asyncio.run(main())
    assert [(b.wallet.address, b.raw) for b in result.balances] == [(WALLET.address, 989_000)]
    (failure,) = result.failures
    assert failure.wallet.address == inner.address
    assert "counted there" in failure.reason and "cold" in failure.reason
