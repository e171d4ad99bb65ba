"""The Solana history source against real transactions executed in LiteSVM, served by the local
JSON-RPC server: every delta and fee checked exactly against what the world did."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest
from solders.pubkey import Pubkey
from solders.rpc.responses import GetSignaturesForAddressResp, GetTransactionResp
from solders.system_program import TransferParams, transfer
from solders.token.associated import get_associated_token_address

from app.chains.solana.history import HistoryError, SolanaHistorySource, solana_history_source
from app.chains.solana.rpc import BatchClient
from app.domain.onchain import Fee, Movement, MovementKind, ScanBatch, ScanRequest
from tests.support.chains import SOLANA_MAINNET, solana_spec
from tests.support.net import free_port
from tests.support.solana_history_world import SOL, World, build
from tests.support.solana_rpc import TOKEN_2022_PROGRAM, TOKEN_PROGRAM, SolanaRpcServer

pytestmark = pytest.mark.integration

NATIVE = f"{SOLANA_MAINNET}/slip44:501"


def source(url: str, *, page_limit: int = 1000, retries: int = 2) -> SolanaHistorySource:
    client = BatchClient([url], timeout=5.0, retries=retries, backoff=0.01)
    return SolanaHistorySource(solana_spec(url), client, page_limit=page_limit)


def scan(
    src: SolanaHistorySource, requests: Sequence[ScanRequest], *, stop_after: int | None = None
) -> list[ScanBatch]:
    async def go() -> list[ScanBatch]:
        out: list[ScanBatch] = []
        try:
            async for batch in src.scan(requests):
                out.append(batch)
                if stop_after is not None and len(out) >= stop_after:
                    break
        finally:
            await src.aclose()
        return out

    return asyncio.run(go())


def collect(batches: list[ScanBatch]) -> tuple[dict[str, Movement], dict[tuple[str, str], Fee]]:
    movements: dict[str, Movement] = {}
    fees: dict[tuple[str, str], Fee] = {}
    for b in batches:
        for m in b.movements:
            assert movements.setdefault(m.key, m) == m  # a re-given movement is the same
        for f in b.fees:
            assert fees.setdefault((f.tx, f.wallet), f) == f
    return movements, fees


def cursors(batches: list[ScanBatch]) -> dict[str, str]:
    out: dict[str, str] = {}
    for b in batches:
        out.update(b.cursors)
    return out


@pytest.fixture(scope="module")
def world() -> World:
    server = SolanaRpcServer().start()
    yield build(server)  # type: ignore[misc]
    server.stop()


def requests_for(world: World) -> list[ScanRequest]:
    return [ScanRequest(str(world.a.pubkey())), ScanRequest(str(world.b.pubkey()))]


def by_kind(movements: dict[str, Movement], kind: MovementKind) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for m in movements.values():
        if m.kind is kind:
            assert (m.tx, m.wallet) not in out, "one movement per kind and transaction"
            out[(m.tx, m.wallet)] = m.delta
    return out


def test_every_delta_and_fee_matches_what_was_executed(world: World) -> None:
    batches = scan(source(world.server.url), requests_for(world))
    movements, fees = collect(batches)
    assert not [n for b in batches for n in b.notes]  # nothing was left out
    ex = world.expected
    assert ex.stake_supported, "LiteSVM runs the stake program: create, delegate, withdraw"
    assert by_kind(movements, MovementKind.NATIVE) == ex.sol
    assert by_kind(movements, MovementKind.STAKE) == ex.stake
    assert by_kind(movements, MovementKind.TOKEN) == ex.tokens
    assert {k: f.amount for k, f in fees.items()} == ex.fees
    mint_assets = {f"{SOLANA_MAINNET}/token:{m}" for m in (world.mint, world.mint_2022)}
    for m in movements.values():
        assert m.asset in mint_assets if m.kind is MovementKind.TOKEN else m.asset == NATIVE
        assert m.chain == str(SOLANA_MAINNET)
        rec = world.server.ledger.txs[m.tx]
        assert (m.block, m.ts) == (rec.slot, rec.block_time)
    # the failed transaction paid its fee and moved nothing else
    (failed,) = ex.failed
    assert (failed, str(world.a.pubkey())) in fees
    assert not [m for m in movements.values() if m.tx == failed]


def test_history_adds_up_to_todays_balances(world: World) -> None:
    """Both wallets started empty: their movements minus their fees are today's balances."""
    movements, fees = collect(scan(source(world.server.url), requests_for(world)))
    svm = world.server.svm
    for kp in (world.a, world.b):
        w = str(kp.pubkey())
        sol = sum(m.delta for m in movements.values() if m.wallet == w and m.asset == NATIVE)
        sol -= sum(f.amount for f in fees.values() if f.wallet == w)
        # STAKE movements are SOL that left for stake accounts (still the wallet's, as stake)
        assert sol == svm.get_balance(kp.pubkey())
        for mint, program in ((world.mint, TOKEN_PROGRAM), (world.mint_2022, TOKEN_2022_PROGRAM)):
            asset = f"{SOLANA_MAINNET}/token:{mint}"
            tokens = sum(m.delta for m in movements.values() if m.wallet == w and m.asset == asset)
            ata = get_associated_token_address(kp.pubkey(), mint, program)
            held = world.server.ledger._token(str(ata))
            assert tokens == (held[2] if held else 0)


def test_counterparties_are_named_where_the_instructions_name_them(world: World) -> None:
    movements, _ = collect(scan(source(world.server.url), requests_for(world)))
    a, b, x = (str(k.pubkey()) for k in (world.a, world.b, world.x))
    sigs = world.signatures
    party = {(m.tx, m.wallet, m.kind): m.counterparty for m in movements.values()}
    assert party[(sigs[0], a, MovementKind.NATIVE)] == x
    assert party[(sigs[1], a, MovementKind.NATIVE)] == x
    assert party[(sigs[2], a, MovementKind.NATIVE)] == b
    assert party[(sigs[2], b, MovementKind.NATIVE)] == a
    assert party[(sigs[4], a, MovementKind.TOKEN)] == x  # owner of the source token account
    assert party[(sigs[5], b, MovementKind.TOKEN)] == a
    assert party[(sigs[6], a, MovementKind.TOKEN)] == x  # a plain transfer naming no wallet
    stake = [m for m in movements.values() if m.kind is MovementKind.STAKE]
    assert stake and all(m.counterparty not in (None, a, b, x) for m in stake)


def test_small_pages_give_the_same_history_and_progress_ends_complete(world: World) -> None:
    whole = collect(scan(source(world.server.url), requests_for(world)))
    batches = scan(source(world.server.url, page_limit=2), requests_for(world))
    assert collect(batches) == whole
    assert len(batches) > 6
    done = [b.done for b in batches]
    assert done == sorted(done)
    assert batches[-1].done == batches[-1].total
    for b in batches:
        assert len(b.cursors) == 1  # each batch is complete for its one wallet


def test_a_scan_stopped_midway_resumes_from_its_cursor(world: World) -> None:
    whole = collect(scan(source(world.server.url), requests_for(world)))
    first = scan(source(world.server.url, page_limit=3), requests_for(world), stop_after=3)
    stored = cursors(first)
    assert any(" " in c and c.split(" ")[1].split(":")[2] for c in stored.values()), stored
    rest = scan(
        source(world.server.url, page_limit=3),
        [ScanRequest(w.wallet, stored.get(w.wallet)) for w in requests_for(world)],
    )
    assert collect(first + rest) == whole


def test_a_later_scan_reads_only_what_is_new() -> None:
    server = SolanaRpcServer().start()
    try:
        w = build(server)
        first = scan(source(server.url, page_limit=4), requests_for(w))
        stored = cursors(first)
        a = w.a
        ix = transfer(TransferParams(from_pubkey=w.x.pubkey(), to_pubkey=a.pubkey(), lamports=SOL))
        from solders.message import Message
        from solders.transaction import Transaction

        new = [
            server.send(
                Transaction([w.x], Message([ix], w.x.pubkey()), server.svm.latest_blockhash())
            ).signature
            for _ in range(5)
        ]
        later = scan(
            source(server.url, page_limit=4),
            [ScanRequest(r.wallet, stored[r.wallet]) for r in requests_for(w)],
        )
        movements, fees = collect(later)
        assert {m.tx for m in movements.values()} == set(new)
        assert all(m.delta == SOL and m.wallet == str(a.pubkey()) for m in movements.values())
        assert not fees
        # and nothing at all when nothing happened since
        again = scan(source(server.url), [ScanRequest(k, v) for k, v in cursors(later).items()])
        assert collect(again) == ({}, {})
        assert cursors(again) == cursors(later)
    finally:
        server.stop()


def test_every_reply_parses_with_solders(world: World) -> None:
    """The server's JSON is the real RPC's shape: solders' own response types accept it."""
    server = world.server
    for sig in world.signatures:
        text = server.handle_call(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "getTransaction",
                "params": [sig, {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}],
            }
        )
        parsed = GetTransactionResp.from_json(text)
        assert (
            parsed.value is not None
            and str(parsed.value.transaction.transaction.signatures[0]) == sig
        )  # type: ignore[union-attr]
    text = server.handle_call(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "getSignaturesForAddress",
            "params": [str(world.a.pubkey()), {"limit": 5}],
        }
    )
    page = GetSignaturesForAddressResp.from_json(text)
    assert len(page.value) == 5
    assert [p.slot for p in page.value] == sorted((p.slot for p in page.value), reverse=True)
    # a versioned transaction is refused to a client that does not say it reads them
    text = server.handle_call(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "getTransaction",
            "params": [world.signatures[-1], {"encoding": "jsonParsed"}],
        }
    )
    assert "maxSupportedTransactionVersion" in json.loads(text)["error"]["message"]


def test_the_wallet_s_token_accounts_are_in_its_cursor(world: World) -> None:
    stored = cursors(scan(source(world.server.url), requests_for(world)))
    ata = str(get_associated_token_address(world.a.pubkey(), world.mint))
    fields = stored[str(world.a.pubkey())].split(" ")
    assert fields[0] == "sol1"
    assert fields[1].startswith(str(world.a.pubkey()) + ":")
    assert any(f.startswith(ata + ":") for f in fields)


def test_a_dead_node_gives_a_plain_message() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(HistoryError) as caught:
        scan(source(url, retries=1), [ScanRequest(str(Pubkey.new_unique()))])
    text = str(caught.value)
    assert text.startswith("Solana: ")
    assert "Error" not in text and "Exception" not in text and "127.0.0.1" not in text


def test_a_node_that_fails_midway_keeps_the_batches_already_given(world: World) -> None:
    server = world.server
    got: list[ScanBatch] = []

    async def go() -> None:
        src = source(server.url, page_limit=2, retries=0)
        try:
            async for batch in src.scan(requests_for(world)):
                got.append(batch)
                if len(got) == 2:
                    server.malformed = 10  # every later request gets broken JSON
        finally:
            await src.aclose()

    try:
        with pytest.raises(HistoryError):
            asyncio.run(go())
    finally:
        server.malformed = 0
    assert len(got) == 2
    resumed = scan(
        source(server.url, page_limit=2),
        [ScanRequest(r.wallet, cursors(got).get(r.wallet)) for r in requests_for(world)],
    )
    assert collect(got + resumed) == collect(scan(source(server.url), requests_for(world)))


def test_builder_shares_the_session_pace(world: World) -> None:
    from app.chains.factory import ReaderContext

    ctx = ReaderContext(settings=None, engine=None, secrets=None)  # type: ignore[arg-type]
    src = solana_history_source(solana_spec(world.server.url), ctx)
    assert ctx.session["solana.pace"] is src._client.pace
    batches = scan(src, requests_for(world))
    assert collect(batches)[0]
