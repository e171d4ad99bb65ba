"""The Solana history source with fake replies: hostile or malformed transactions are skipped
(never a wrong amount), unreadable pages raise a plain error, cursors round-trip."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Sequence
from typing import Any, cast

import msgspec
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from app.chains.solana.history import (
    HistoryError,
    SolanaHistorySource,
    parse_cursor,
    parse_page,
)
from app.chains.solana.history_tx import BadTx, wallet_view
from app.chains.solana.rpc import BatchClient, Call, CallResult
from app.domain.onchain import MovementKind, ScanBatch, ScanRequest
from tests.support.chains import SOLANA_MAINNET, solana_spec

CHAIN = str(SOLANA_MAINNET)
NATIVE = f"{CHAIN}/slip44:501"
W = str(Pubkey.new_unique())
OTHER = str(Pubkey.new_unique())
ATA = str(Pubkey.new_unique())
MINT = str(Pubkey.new_unique())
SYSTEM = "11111111111111111111111111111111"
SIG = str(Keypair().sign_message(b"one"))
SIG2 = str(Keypair().sign_message(b"two"))


def token(mint: str) -> str:
    return f"{CHAIN}/token:{mint}"


def tx(**meta: Any) -> dict[str, Any]:
    """W pays OTHER 1,000 lamports and receives 50 tokens into its account ATA; fee 5,000."""
    base_meta: dict[str, Any] = {
        "err": None,
        "fee": 5000,
        "preBalances": [100_000, 0, 2_039_280, 1],
        "postBalances": [94_000, 1_000, 2_039_280, 1],
        "preTokenBalances": [
            {"accountIndex": 2, "mint": MINT, "owner": W, "uiTokenAmount": {"amount": "10", "decimals": 6}}
        ],
        "postTokenBalances": [
            {"accountIndex": 2, "mint": MINT, "owner": W, "uiTokenAmount": {"amount": "60", "decimals": 6}}
        ],
    }  # fmt: skip
    base_meta.update(meta)
    keys = [
        {"pubkey": W, "signer": True, "writable": True, "source": "transaction"},
        {"pubkey": OTHER, "signer": False, "writable": True, "source": "transaction"},
        {"pubkey": ATA, "signer": False, "writable": True, "source": "transaction"},
        {"pubkey": SYSTEM, "signer": False, "writable": False, "source": "transaction"},
    ]
    instructions = [
        {"program": "system", "programId": SYSTEM, "stackHeight": None, "parsed": {
            "type": "transfer", "info": {"source": W, "destination": OTHER, "lamports": 1000}}},
    ]  # fmt: skip
    return {
        "slot": 7,
        "blockTime": 1_700_000_000,
        "transaction": {"signatures": [SIG], "message": {"accountKeys": keys,
                        "instructions": instructions}},
        "meta": base_meta,
    }  # fmt: skip


def view(t: object, wallet: str = W, **kw: Any) -> Any:
    return wallet_view(
        t, chain=CHAIN, signature=SIG, wallet=wallet, native=NATIVE, token_asset=token, **kw
    )


def test_a_well_formed_transaction_gives_exact_deltas_and_the_fee() -> None:
    info = view(tx())
    assert info.fee is not None and info.fee.amount == 5000
    moves = {(m.asset, m.kind): (m.delta, m.counterparty) for m in info.movements}
    # 100,000 - 94,000 = 6,000 out, of which 5,000 is the fee: 1,000 moved
    assert moves == {
        (NATIVE, MovementKind.NATIVE): (-1000, OTHER),
        (token(MINT), MovementKind.TOKEN): (50, None),
    }
    assert info.token_accounts == {ATA}
    # the receiving side: no fee, +1,000
    other = view(tx(), wallet=OTHER)
    assert other.fee is None
    assert [(m.delta, m.counterparty) for m in other.movements] == [(1000, W)]


def test_a_failed_transaction_pays_only_its_fee() -> None:
    t = tx(err={"InstructionError": [0, {"Custom": 1}]}, postBalances=[95_000, 0, 2_039_280, 1])
    t["meta"]["postTokenBalances"] = t["meta"]["preTokenBalances"]
    info = view(t)
    assert info.failed and info.movements == () and info.fee is not None
    assert info.fee.amount == 5000


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda t: t.pop("meta"), "status meta is missing"),
        (lambda t: t.update(meta=None), "status meta is missing"),
        (lambda t: t["meta"].update(postBalances=[94_000, 1_000, 2_039_280]), "differ in length"),
        (lambda t: t["meta"].update(preBalances=[100_000, 0, 2_039_280]), "differ in length"),
        (lambda t: t["meta"]["postBalances"].__setitem__(0, 94_000.5), "not a whole number"),
        (lambda t: t["meta"]["postBalances"].__setitem__(0, "94000"), "not a whole number"),
        (lambda t: t["meta"]["postBalances"].__setitem__(0, True), "not a whole number"),
        (lambda t: t["meta"]["postBalances"].__setitem__(0, -1), "not a whole number"),
        (lambda t: t["meta"]["postBalances"].__setitem__(0, 2**64), "not a whole number"),
        (lambda t: t["meta"].update(fee="5000"), "fee"),
        (lambda t: t["meta"]["postTokenBalances"][0].update(mint="not-base58-0OIl"), "base58"),
        (lambda t: t["meta"]["postTokenBalances"][0].update(mint=12), "not an address"),
        (lambda t: t["meta"]["postTokenBalances"][0]["uiTokenAmount"].update(amount="6e1"), "token amount"),
        (lambda t: t["meta"]["postTokenBalances"][0]["uiTokenAmount"].update(amount=60), "token amount"),
        (lambda t: t["meta"]["postTokenBalances"][0]["uiTokenAmount"].update(amount=str(2**64)), "u64"),
        (lambda t: t["meta"]["postTokenBalances"][0].update(accountIndex=9), "out of range"),
        (lambda t: t["meta"]["postTokenBalances"][0].update(mint=str(Pubkey.new_unique())), "mint"),
        (lambda t: t["transaction"]["message"]["accountKeys"][1].update(pubkey=W), "twice"),
        (lambda t: t["transaction"]["message"]["accountKeys"][1].update(pubkey="zz"), "base58"),
        (lambda t: t["transaction"]["message"]["accountKeys"][0].update(signer=False), "signer"),
        (lambda t: t["transaction"].update(signatures=[SIG2]), "another transaction"),
        (lambda t: t.update(blockTime=None), "no block time"),
        (lambda t: t.update(slot="7"), "slot"),
        (lambda t: t["transaction"].pop("message"), "message"),
    ],
)  # fmt: skip
def test_malformed_replies_are_refused_with_a_reason(
    change: Callable[[dict[str, Any]], object], why: str
) -> None:
    t = tx()
    change(t)
    with pytest.raises(BadTx, match=why):
        view(t)


def test_a_failed_transaction_that_claims_to_move_tokens_is_refused() -> None:
    t = tx(err={"InstructionError": [0, {"Custom": 1}]}, postBalances=[95_000, 0, 2_039_280, 1])
    with pytest.raises(BadTx, match="failed transaction"):
        view(t)


def test_block_time_falls_back_to_the_signature_list() -> None:
    t = tx()
    t["blockTime"] = None
    assert all(m.ts == 123 for m in view(t, fallback_time=123).movements)


def test_lookup_table_addresses_index_the_balances() -> None:
    """The ``json`` shape: static keys as strings, loaded ones in meta.loadedAddresses (writable
    first); and the jsonParsed shape where accountKeys already hold them."""
    loaded = str(Pubkey.new_unique())
    t = tx()
    t["transaction"]["message"]["accountKeys"] = [W, SYSTEM]
    t["meta"].update(
        preBalances=[100_000, 1, 5, 2_039_280],
        postBalances=[94_000, 1, 1_005, 2_039_280],
        loadedAddresses={"writable": [loaded, ATA], "readonly": []},
    )
    for side in ("preTokenBalances", "postTokenBalances"):
        t["meta"][side][0]["accountIndex"] = 3
    info = view(t)
    assert {m.kind: m.delta for m in info.movements} == {
        MovementKind.NATIVE: -1000,
        MovementKind.TOKEN: 50,
    }
    assert info.token_accounts == {ATA}
    assert [m.delta for m in view(t, wallet=loaded).movements] == [1000]
    # the same with parsed keys that already include the loaded ones: loadedAddresses not added
    t2 = tx()
    t2["transaction"]["message"]["accountKeys"].append(
        {"pubkey": loaded, "signer": False, "writable": True, "source": "lookupTable"}
    )
    t2["meta"].update(
        preBalances=[100_000, 0, 2_039_280, 1, 7],
        postBalances=[94_000, 0, 2_039_280, 1, 1_007],
        loadedAddresses={"writable": [loaded], "readonly": []},
    )
    assert [m.delta for m in view(t2, wallet=loaded).movements] == [1000]
    # loaded addresses that do not make the lengths agree: refused
    t3 = copy.deepcopy(t)
    t3["meta"]["loadedAddresses"] = {"writable": [loaded], "readonly": []}
    with pytest.raises(BadTx, match="differ in length"):
        view(t3)


def test_token_balances_without_owner_count_for_known_token_accounts() -> None:
    t = tx()
    for side in ("preTokenBalances", "postTokenBalances"):
        del t["meta"][side][0]["owner"]
    assert not [m for m in view(t).movements if m.kind is MovementKind.TOKEN]
    info = view(t, known_token_accounts={ATA})
    assert [m.delta for m in info.movements if m.kind is MovementKind.TOKEN] == [50]


def test_stake_funding_and_withdrawal_are_stake_movements() -> None:
    stake = str(Pubkey.new_unique())
    stake_program = "Stake11111111111111111111111111111111111111"
    t = tx(
        preBalances=[10_000_000, 0, 2_039_280, 1], postBalances=[6_995_000, 3_000_000, 2_039_280, 1]
    )
    t["transaction"]["message"]["accountKeys"][1]["pubkey"] = stake
    t["meta"]["postTokenBalances"] = t["meta"]["preTokenBalances"]
    t["transaction"]["message"]["instructions"] = [
        {"programId": SYSTEM, "parsed": {"type": "createAccount", "info": {
            "source": W, "newAccount": stake, "lamports": 3_000_000, "space": 200,
            "owner": stake_program}}},
        {"programId": stake_program, "parsed": {"type": "initialize", "info": {
            "stakeAccount": stake, "authorized": {"staker": W, "withdrawer": W}}}},
    ]  # fmt: skip
    assert [(m.kind, m.delta, m.counterparty) for m in view(t).movements] == [
        (MovementKind.STAKE, -3_000_000, stake)
    ]
    # a stake account of someone else: a plain transfer
    t["transaction"]["message"]["instructions"][1]["parsed"]["info"]["authorized"] = {
        "staker": OTHER, "withdrawer": OTHER}  # fmt: skip
    assert [(m.kind, m.delta) for m in view(t).movements] == [(MovementKind.NATIVE, -3_000_000)]


def test_cursor_text_round_trips_and_garbage_starts_over() -> None:
    state = parse_cursor(W, None)
    assert list(state.addresses) == [W]
    text = f"sol1 {W}:{SIG}:{SIG2}: {ATA}:{SIG2}::"
    again = parse_cursor(W, text)
    assert again.cursor() == text
    assert again.addresses[W].before == SIG2 and again.addresses[ATA].top == SIG2
    for bad in ("sol2 x", f"sol1 {W}:{SIG}", f"sol1 {W}::{SIG}:", f"sol1 {W}:nope::", "garbage",
                f"sol1 {ATA}:{SIG}::"):  # fmt: skip
        assert list(parse_cursor(W, bad).addresses) == [W]
        assert parse_cursor(W, bad).addresses[W].top is None


@pytest.mark.parametrize(
    "reply",
    [
        b'{"a":1}',
        b'[{"signature":"x","slot":1}]',
        b'[{"signature":"' + SIG.encode() + b'"}]',
        b"[1]",
    ],
)
def test_unreadable_signature_pages_raise_a_plain_error(reply: bytes) -> None:
    with pytest.raises(HistoryError, match="not readable"):
        parse_page(CallResult(msgspec.Raw(reply), None))


class FakeClient:
    """Answers from ``replies(call)`` (JSON-able result, or an Exception for an error item)."""

    def __init__(self, replies: Callable[[Call], object]) -> None:
        self.replies = replies
        self.http_requests = 0
        self.calls: list[Call] = []

    async def call_each(
        self, calls: Sequence[Call], on_chunk: Callable[[int, list[CallResult]], None]
    ) -> None:
        self.http_requests += 1
        out = []
        for c in calls:
            self.calls.append(c)
            r = self.replies(c)
            if isinstance(r, Exception):
                out.append(CallResult(None, f"RPC error: {r}"))
            elif isinstance(r, bytes):
                out.append(CallResult(msgspec.Raw(r), None))
            else:
                out.append(CallResult(msgspec.Raw(json.dumps(r).encode()), None))
        on_chunk(0, out)

    async def aclose(self) -> None:
        pass


def run(client: FakeClient, requests: list[ScanRequest]) -> list[ScanBatch]:
    src = SolanaHistorySource(solana_spec("http://127.0.0.1:1"), cast(BatchClient, client))

    async def go() -> list[ScanBatch]:
        return [b async for b in src.scan(requests)]

    return asyncio.run(go())


def world(txs: dict[str, object]) -> Callable[[Call], object]:
    def reply(call: Call) -> object:
        if call.method == "getTokenAccountsByOwner":
            return {"context": {"slot": 1}, "value": []}
        if call.method == "getSignaturesForAddress":
            if call.params[0] != W or "before" in call.params[1]:
                return []
            return [{"signature": s, "slot": 7, "err": None, "blockTime": 1} for s in txs]
        if call.method == "getTransaction":
            return txs[call.params[0]]
        raise AssertionError(call.method)

    return reply


def test_a_hostile_transaction_is_skipped_and_the_others_kept(caplog: Any) -> None:
    good = tx()
    bad = tx()
    bad["transaction"]["signatures"] = [SIG2]
    bad["meta"]["postBalances"][0] = 1e30
    batches = run(FakeClient(world({SIG: good, SIG2: bad})), [ScanRequest(W)])
    moves = [m for b in batches for m in b.movements]
    assert {m.tx for m in moves} == {SIG}
    # (the log may show the signature «redacted»: 88 base58 characters look like a Solana secret
    # key to the log's redaction once it is installed; the note below names it)
    assert "skipped transaction" in caplog.text
    assert batches[-1].cursors[W].startswith(f"sol1 {W}:{SIG}::")
    (note,) = [n for b in batches for n in b.notes]
    assert "1 transaction of" in note and SIG2 in note and "left out" in note


def test_a_transaction_the_node_will_not_return_stops_the_scan() -> None:
    with pytest.raises(HistoryError, match="does not return it"):
        run(FakeClient(world({SIG: None})), [ScanRequest(W)])
    with pytest.raises(HistoryError, match="did not return transaction"):
        run(FakeClient(world({SIG: RuntimeError("boom")})), [ScanRequest(W)])


def test_a_reply_that_is_not_json_is_skipped() -> None:
    batches = run(FakeClient(world({SIG: b"{not json"})), [ScanRequest(W)])
    assert not [m for b in batches for m in b.movements]


def test_pages_ask_for_finalized_signatures_and_transactions_in_json_parsed() -> None:
    client = FakeClient(world({SIG: tx()}))
    run(client, [ScanRequest(W)])
    page = next(c for c in client.calls if c.method == "getSignaturesForAddress")
    assert page.params[1] == {"limit": 1000, "commitment": "finalized"}
    get = next(c for c in client.calls if c.method == "getTransaction")
    assert get.params[1] == {
        "encoding": "jsonParsed",
        "maxSupportedTransactionVersion": 0,
        "commitment": "finalized",
    }


def test_a_wallet_that_is_not_a_solana_address_is_refused_before_any_call() -> None:
    client = FakeClient(world({}))
    with pytest.raises(HistoryError, match="not a Solana address"):
        run(client, [ScanRequest("0x52908400098527886E0F7030069857D2E4169EE7")])
    assert client.calls == []


@pytest.mark.parametrize("method", ["getSignaturesForAddress", "getTokenAccountsByOwner"])
def test_an_error_reply_for_a_list_names_the_chain(method: str) -> None:
    inner = world({SIG: tx()})

    def reply(call: Call) -> object:
        return RuntimeError("Invalid param") if call.method == method else inner(call)

    with pytest.raises(HistoryError, match=r"^Solana: the node refused the .*Invalid param"):
        run(FakeClient(reply), [ScanRequest(W)])


def test_a_token_account_given_away_leaves_the_wallet_whole() -> None:
    """SetAuthority (owner) within the transaction: before W owned 10, after OTHER owns 60."""
    t = tx()
    t["meta"]["postTokenBalances"][0]["owner"] = OTHER
    assert [m.delta for m in view(t).movements if m.kind is MovementKind.TOKEN] == [-10]
    assert [m.delta for m in view(t, wallet=OTHER).movements if m.kind is MovementKind.TOKEN] == [
        60
    ]
