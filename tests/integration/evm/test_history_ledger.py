"""``chainfolio history scan`` end to end on a real anvil node with a known past
(history_world.py): the real EVM history source, stores, service and ledger, through the CLI.

The ledger is checked exactly against what the world's transactions did: deposits, withdrawals,
transfers between the two tracked wallets (one ledger transfer, no gain or loss, also when the
coins went through a contract), the swap through the pool as a sale and a purchase at the value
received, every fee to the wei, the spam airdrop and the poisoning "transfer" kept out; a
second scan adds nothing; ``tx list`` shows the entries.
"""

from __future__ import annotations

import io
import json
from collections import Counter
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
from app.storage.onchain_store import SqlOnchainStore
from app.storage.price_store import SqlBackfillStore
from app.storage.token_store import TokenStore
from tests.integration.evm.anvil import running
from tests.integration.evm.history_world import HistoryWorld, build

CHAIN = 31341
DAY = 86_400
PRICES = {"ETH": Decimal(2000), "X": Decimal(3), "Y": Decimal("1.5")}


@pytest.fixture(scope="module")
def world() -> Iterator[HistoryWorld]:
    for node in running(CHAIN):
        yield build(node)


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


def units(raw: int, decimals: int) -> Decimal:
    return Decimal(raw).scaleb(-decimals)


def prepare(data_dir: Path, world: HistoryWorld) -> None:
    assert run(data_dir, "networks", "add", str(CHAIN), "Local", "ETH", world.node.url)[0] == 0
    assert run(data_dir, "wallets", "add", world.a, "--label", "Main")[0] == 0
    assert run(data_dir, "wallets", "add", world.b, "--label", "Cold")[0] == 0
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    tokens = TokenStore(ctx.engine)
    for name, decimals, spam in (("X", 18, False), ("Y", 6, False), ("CLAIM", 18, True)):
        info = AssetInfo(AssetId.parse(world.asset(name)), name, name, decimals, is_spam=spam)
        tokens.upsert(info, "detected")
    # daily prices of the days the world ran (no price source is asked: they are stored)
    head = int(world.node.rpc("eth_blockNumber"), 16)
    days = {world.block_time(b) // DAY * DAY for b in (1, head)}
    prices = SqlBackfillStore(ctx.engine)
    for name, asset in (("ETH", world.native), ("X", world.asset("X")), ("Y", world.asset("Y"))):
        prices.save_history(asset, [(d, PRICES[name]) for d in sorted(days)], "test")
    ctx.close()


def ledger(data_dir: Path) -> list[dict[str, Any]]:
    code, out = run(data_dir, "tx", "list", "--json")
    assert code == 0
    return list(json.loads(out))


def test_scan_into_the_ledger_exactly(data_dir: Path, world: HistoryWorld) -> None:
    prepare(data_dir, world)
    code, out = run(data_dir, "history", "scan", "--chain", "Local", "--json")
    assert code == 0, out
    doc = json.loads(out)
    (chain,) = doc["chains"]
    assert chain["error"] is None and chain["chain"] == f"eip155:{CHAIN}"
    assert chain["movements"] == sum(world.expected_movements().values())
    accounts = doc["ledger"]["accounts"]
    a, b = accounts[world.a], accounts[world.b]
    assert a.startswith("Wallet Main (") and b.startswith("Wallet Cold (")

    rows = ledger(data_dir)
    got = Counter(
        (r["type"], r["account"], r["to_account"], r["asset"], Decimal(r["amount"]))
        for r in rows
        if r["type"] != "fee"
    )
    x, y, eth = world.asset("X"), world.asset("Y"), world.native
    swap_y = next(
        e[3] for e in world.expected if e[2] == y and e[1] == world.a and e[3] > 0
    )  # the Y the pool paid for 100 X
    assert got == Counter(
        {
            ("deposit", a, None, x, Decimal(1000)): 1,  # minted to A
            ("withdrawal", a, None, x, Decimal(100)): 1,  # to the outsider
            ("deposit", a, None, x, Decimal(50)): 1,  # from the outsider
            ("transfer", a, b, x, Decimal(200)): 1,  # between the tracked wallets
            ("sell", a, None, x, Decimal(100)): 1,  # the swap ...
            ("buy", a, None, y, units(swap_y, 6)): 1,  # ... at the value received
            ("withdrawal", a, None, eth, Decimal(1)): 1,
            ("deposit", a, None, eth, Decimal(2)): 1,
            ("transfer", a, b, eth, Decimal("0.5")): 1,
            ("transfer", a, b, eth, Decimal("0.3")): 1,  # through the router contract
            ("deposit", a, None, eth, Decimal("0.1")): 1,  # paid out by a contract
        }
    )
    assert not any("CLAIM" in r["asset"] or world.tokens["CLAIM"].lower() in r["asset"].lower()
                   for r in rows)  # fmt: skip
    assert doc["ledger"]["spam"] == 3  # the airdrop to A and B, the poisoning "transfer"
    sell = next(r for r in rows if r["type"] == "sell")
    buy = next(r for r in rows if r["type"] == "buy")
    value = units(swap_y, 6) * PRICES["Y"]
    assert Decimal(sell["price"]) * 100 == value and Decimal(buy["price"]) == PRICES["Y"]
    deposit = next(r for r in rows if r["type"] == "deposit" and r["asset"] == x)
    assert (Decimal(deposit["price"]), deposit["price_currency"]) == (PRICES["X"], "USD")
    fees = Counter((r["account"], Decimal(r["amount"])) for r in rows if r["type"] == "fee")
    names = {world.a: a, world.b: b}
    assert fees == Counter((names[w], units(wei, 18)) for w, wei in world.fees.values())
    assert all(r["asset"] == eth for r in rows if r["type"] == "fee")

    # a second scan reads only the re-org depth again and changes nothing in the ledger
    code, out = run(data_dir, "history", "scan", "--chain", f"eip155:{CHAIN}", "--json")
    again = json.loads(out)
    assert code == 0 and again["ledger"]["added"] == again["ledger"]["removed"] == 0
    assert ledger(data_dir) == rows
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    stored = SqlOnchainStore(ctx.engine).movements()
    ctx.close()
    assert len(stored) == sum(world.expected_movements().values())  # nothing twice

    code, pnl = run(data_dir, "pnl", "--json")
    assert code == 0 and {a, b} <= set(json.loads(pnl)["accounts"])  # the imported ledger values


def test_a_dead_node_is_a_plain_error_and_stores_nothing(data_dir: Path) -> None:
    from tests.support.net import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    assert run(data_dir, "networks", "add", "31342", "Dead", "DED", dead, "--no-check")[0] == 0
    assert run(data_dir, "wallets", "add", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")[0] == 0
    code, _out = run(data_dir, "history", "scan", "--chain", "Dead")
    assert code == 1
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    assert SqlOnchainStore(ctx.engine).movements() == []
    ctx.close()
