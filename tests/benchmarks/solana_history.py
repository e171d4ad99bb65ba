"""Benchmark: Solana history scan of 20 wallets behind 50 ms of latency per request.

Each wallet receives ``SOL_IN`` SOL transfers from a stranger and ``TOKEN_IN`` token transfers
into its associated token account (a plain SPL ``transfer``, which names neither the wallet nor
any other tracked address), all executed in LiteSVM and served by the local JSON-RPC server
(tests/support/solana_rpc.py, in this process). A full scan of the 20 wallets (fresh, no cursor)
is timed, then the same scan from its own final cursors (nothing new).

The floor, in the same run: the same ``getSignaturesForAddress`` calls (wallet and token account,
known beforehand) as one round of batch arrays, then the same ``getTransaction`` calls, as JSON-RPC
batches of 100, 16 in flight over one keep-alive httpx client, ``json.loads`` only. The scan also
lists each wallet's token accounts first and parses and checks every reply, so the ratio to the
floor is what finding, checking and resuming cost. Every movement is checked against what was
executed (exit 1 if any is wrong). Prints one JSON object.
Run: ``.venv/bin/python -m tests.benchmarks.solana_history``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.token.associated import get_associated_token_address
from solders.transaction import Transaction
from spl.token.instructions import create_associated_token_account, mint_to
from spl.token.instructions import transfer as token_transfer
from spl.token.models import MintToParams
from spl.token.models import TransferParams as TokenTransferParams

from app.chains.solana.history import SolanaHistorySource
from app.chains.solana.rpc import DEFAULT_CONCURRENCY, BatchClient
from app.domain.onchain import MovementKind, ScanRequest
from tests.support.chains import solana_spec
from tests.support.solana_rpc import RENT_MINT, TOKEN_PROGRAM, SolanaRpcServer, mint_bytes

WALLETS = int(os.environ.get("SOLANA_HISTORY_WALLETS", "20"))
SOL_IN = 40
TOKEN_IN = 20
LATENCY = 0.05
BATCH = 100


def build(server: SolanaRpcServer) -> tuple[list[Pubkey], Pubkey, dict[str, int]]:
    from solders.account import Account

    x, auth = Keypair(), Keypair()
    server.fund(x.pubkey(), 10**15)
    server.fund(auth.pubkey(), 10**12)
    mint = Pubkey.new_unique()
    data = mint_bytes(6, authority=auth.pubkey())
    server._set(mint, Account(RENT_MINT, data, TOKEN_PROGRAM, False, 0))
    x_ata = get_associated_token_address(x.pubkey(), mint)

    def send(signers: list[Keypair], ixs: list[Any]) -> None:
        msg = Message(ixs, signers[0].pubkey())
        rec = server.send(Transaction(signers, msg, server.svm.latest_blockhash()))
        assert rec.err is None, rec.err

    send(
        [x, auth],
        [
            create_associated_token_account(x.pubkey(), x.pubkey(), mint),
            mint_to(
                MintToParams(
                    program_id=TOKEN_PROGRAM,
                    mint=mint,
                    dest=x_ata,
                    mint_authority=auth.pubkey(),
                    amount=10**15,
                )
            ),
        ],
    )
    wallets = [Keypair().pubkey() for _ in range(WALLETS)]
    expected: dict[str, int] = {}
    for w in wallets:
        send([x], [create_associated_token_account(x.pubkey(), w, mint)])
        ata = get_associated_token_address(w, mint)
        for i in range(SOL_IN):
            lamports = 1_000_000 + i
            send(
                [x],
                [transfer(TransferParams(from_pubkey=x.pubkey(), to_pubkey=w, lamports=lamports))],
            )
            expected[f"{w}|sol"] = expected.get(f"{w}|sol", 0) + lamports
        for i in range(TOKEN_IN):
            amount = 5_000 + i
            send(
                [x],
                [
                    token_transfer(
                        TokenTransferParams(
                            program_id=TOKEN_PROGRAM,
                            source=x_ata,
                            dest=ata,
                            owner=x.pubkey(),
                            amount=amount,
                        )
                    )
                ],
            )
            expected[f"{w}|token"] = expected.get(f"{w}|token", 0) + amount
    return wallets, mint, expected


async def floor(url: str, addresses: list[str]) -> tuple[float, int]:
    """Wall time and requests of the raw calls: one round of pages, then the transactions."""
    sem = asyncio.Semaphore(DEFAULT_CONCURRENCY)
    requests = 0
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:

        async def post(body: list[dict[str, Any]]) -> list[Any]:
            nonlocal requests
            async with sem:
                requests += 1
                resp = await client.post(url, content=json.dumps(body))
                return list(json.loads(resp.content))

        def batches(calls: list[tuple[str, list[Any]]]) -> list[list[dict[str, Any]]]:
            items = [
                {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                for i, (m, p) in enumerate(calls)
            ]
            return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]

        start = time.perf_counter()
        page = {"limit": 1000, "commitment": "finalized"}
        calls = [("getSignaturesForAddress", [a, page]) for a in addresses]
        pages = await asyncio.gather(*(post(b) for b in batches(calls)))
        sigs = sorted({s["signature"] for part in pages for item in part for s in item["result"]})
        config = {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}
        tx_calls = [("getTransaction", [s, config]) for s in sigs]
        await asyncio.gather(*(post(b) for b in batches(tx_calls)))
        return time.perf_counter() - start, requests


async def scan(url: str, requests: list[ScanRequest]) -> tuple[float, int, list[Any]]:
    client = BatchClient([url], timeout=30.0)
    src = SolanaHistorySource(solana_spec(url), client)
    start = time.perf_counter()
    try:
        batches = [b async for b in src.scan(requests)]
    finally:
        await src.aclose()
    return time.perf_counter() - start, client.http_requests, batches


def main() -> int:
    server = SolanaRpcServer().start()
    try:
        t0 = time.perf_counter()
        wallets, mint, expected = build(server)
        built = time.perf_counter() - t0
        server.latency = LATENCY
        server.stats(reset=True)
        requests = [ScanRequest(str(w)) for w in wallets]
        wall, http, batches = asyncio.run(scan(server.url, requests))
        stats = server.stats(reset=True)
        got: dict[str, int] = {}
        cursors: dict[str, str] = {}
        for b in batches:
            cursors.update(b.cursors)
            for m in b.movements:
                kind = "token" if m.kind is MovementKind.TOKEN else "sol"
                got[f"{m.wallet}|{kind}"] = got.get(f"{m.wallet}|{kind}", 0) + m.delta
        ok = got == expected
        again = [ScanRequest(w, c) for w, c in cursors.items()]
        wall2, http2, batches2 = asyncio.run(scan(server.url, again))
        ok = ok and not any(b.movements for b in batches2)
        stats2 = server.stats(reset=True)
        addresses = [
            a for w in wallets for a in (str(w), str(get_associated_token_address(w, mint)))
        ]
        floor_wall, floor_requests = asyncio.run(floor(server.url, addresses))
        out = {
            "wallets": WALLETS,
            "transactions": len(server.ledger.txs),
            "build_s": round(built, 2),
            "latency_s": LATENCY,
            "full_scan": {
                "wall_s": round(wall, 3),
                "http_requests": http,
                "rpc_calls": stats["rpc_calls"],
                "server_busy_s": stats["processing_s"],
                "batches": len(batches),
            },
            "nothing_new_scan": {
                "wall_s": round(wall2, 3),
                "http_requests": http2,
                "rpc_calls": stats2["rpc_calls"],
            },
            "raw_floor": {"wall_s": round(floor_wall, 3), "http_requests": floor_requests},
            "ratio_to_floor": round(wall / floor_wall, 2),
            "exact": ok,
        }
        print(json.dumps(out, indent=2))
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
