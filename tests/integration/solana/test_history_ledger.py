"""``chainfolio history scan`` end to end on Solana: real transactions executed in LiteSVM, served
by the local JSON-RPC server, read by the real Solana history source through the CLI into the
ledger. Checked exactly against what the world did: every account's quantity of SOL and of the
token equals the world's deltas minus its fees, the SOL sent from A to B is one transfer between
their accounts, each fee is a fee entry to the lamport, the failed transaction is a fee only,
coins moved to A's own stake accounts are no disposal, and a second scan adds nothing."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Paths
from app.domain.balances import AssetInfo
from app.domain.ids import AssetId
from app.domain.ledger import Transaction, TxKind, quantity_changes
from app.storage.ledger_store import SqlLedgerStore
from app.storage.price_store import SqlBackfillStore
from app.storage.token_store import TokenStore
from tests.support.chains import SOLANA_MAINNET
from tests.support.solana_history_world import DECIMALS, World, build
from tests.support.solana_rpc import SolanaRpcServer

pytestmark = pytest.mark.integration

NATIVE = f"{SOLANA_MAINNET}/slip44:501"
DAY = 86_400


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    server = SolanaRpcServer().start()
    yield build(server)
    server.stop()


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


def prepare(data_dir: Path, world: World) -> None:
    assert run(data_dir, "networks", "set-rpc", str(SOLANA_MAINNET), world.server.url)[0] == 0
    assert run(data_dir, "wallets", "add", str(world.a.pubkey()), "--label", "Phantom")[0] == 0
    assert run(data_dir, "wallets", "add", str(world.b.pubkey()), "--label", "Cold")[0] == 0
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    tokens = TokenStore(ctx.engine)
    for mint in (world.mint, world.mint_2022):
        asset = f"{SOLANA_MAINNET}/token:{mint}"
        tokens.upsert(AssetInfo(AssetId.parse(asset), "TKN", "Token", DECIMALS), "detected")
    days = sorted({rec.block_time // DAY * DAY for rec in world.server.ledger.txs.values()})
    prices = SqlBackfillStore(ctx.engine)
    prices.save_history(NATIVE, [(d, Decimal(150)) for d in days], "test")
    ctx.close()


def ledger_txs(data_dir: Path) -> list[Transaction]:
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    try:
        return SqlLedgerStore(ctx.engine).transactions()
    finally:
        ctx.close()


def test_scan_into_the_ledger_exactly(data_dir: Path, world: World) -> None:
    prepare(data_dir, world)
    code, out = run(data_dir, "history", "scan", "--chain", "Solana", "--json")
    assert code == 0, out
    doc: dict[str, Any] = json.loads(out)
    (chain,) = doc["chains"]
    assert chain["error"] is None and chain["notes"] == []
    a, b = str(world.a.pubkey()), str(world.b.pubkey())
    names = doc["ledger"]["accounts"]
    assert set(names) == {a, b}
    txs = ledger_txs(data_dir)

    ex = world.expected
    want: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (_sig, wallet), lamports in ex.sol.items():
        want[(names[wallet], NATIVE)] += Decimal(lamports).scaleb(-9)
    for (_sig, wallet), lamports in ex.fees.items():
        want[(names[wallet], NATIVE)] -= Decimal(lamports).scaleb(-9)
    for (sig, wallet), raw in ex.tokens.items():
        rec = world.server.ledger.txs[sig].result["meta"]
        mints = {t["mint"] for t in rec.get("postTokenBalances", [])}
        (mint,) = mints & {str(world.mint), str(world.mint_2022)}
        want[(names[wallet], f"{SOLANA_MAINNET}/token:{mint}")] += Decimal(raw).scaleb(-DECIMALS)
    got: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in txs:
        for key, delta in quantity_changes(t):
            got[key] += delta
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}

    # the SOL A paid B is one transfer, no gain or loss
    a_to_b = world.signatures[2]
    (transfer,) = [
        t for t in txs
        if t.fingerprint and f":{a_to_b}:" in t.fingerprint and t.kind is not TxKind.FEE
    ]  # fmt: skip
    assert (transfer.kind, transfer.account, transfer.to_account) == (
        TxKind.TRANSFER, names[a], names[b]
    )  # fmt: skip
    assert transfer.amount == Decimal(3)
    # every fee is one fee entry, exact; the failed transaction is nothing else
    fees = {(t.fingerprint.split(":")[3], t.account): t.amount for t in txs if t.kind is TxKind.FEE}  # type: ignore[union-attr]
    assert fees == {(sig, names[w]): Decimal(f).scaleb(-9) for (sig, w), f in ex.fees.items()}
    (failed,) = ex.failed
    assert [t.kind for t in txs if t.fingerprint and f":{failed}:" in t.fingerprint] == [TxKind.FEE]
    # SOL received from outside has its price at that day as its basis
    first = next(t for t in txs if t.kind is TxKind.DEPOSIT and t.asset == NATIVE)
    assert (first.price, first.price_currency) == (Decimal(150), "USD")

    code, out = run(data_dir, "history", "scan", "--chain", "Solana", "--json")
    again = json.loads(out)
    assert code == 0 and again["ledger"]["added"] == again["ledger"]["removed"] == 0
    assert ledger_txs(data_dir) == txs
