"""A custom network on a real anvil node, priced through price ids given on the command line,
with a token whose ``balanceOf`` reverts: what the window shows (the unreadable token marked and
counted, the total complete), and the same with the price API down (holdings unpriced, counted
and kept, nothing lost).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.domain.snapshot import Snapshot
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from app.ui.holdings_page import HoldingsPage
from app.ui.models.holdings_data import Column
from app.ui.models.holdings_model import ROW_ROLE
from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.integration.evm.test_refresh_cli import run
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread
from tests.support.net import free_port

pytestmark = pytest.mark.integration
NAME = "Local Anvil A"


def setup_chain(data_dir: Path, anvil: Anvil, wallet: str) -> tuple[str, str]:
    """Two ETH, 5 LUSD (priced by id) and a token whose balanceOf reverts, all on a custom
    network whose native coin is priced by id."""
    anvil.set_native(wallet, 2 * 10**18)
    lusd = anvil.deploy("TestToken", ["string", "string", "uint8"], ["Local Dollar", "LUSD", 6])
    anvil.mint(lusd, wallet, 5 * 10**6)
    broken = anvil.deploy("RevertingToken")
    code, out = run(data_dir, "networks", "add", str(anvil.chain_id), NAME, "ETH", anvil.url,
                    "--multicall3", MULTICALL3, "--price-id", "ethereum")  # fmt: skip
    assert code == 0 and "ETH is priced as coingecko:ethereum" in out
    assert run(data_dir, "wallets", "add", wallet)[0] == 0
    code, out = run(data_dir, "tokens", "add", NAME, lusd, "--price-id", "coingecko:usd-coin")
    assert code == 0 and "Priced as coingecko:usd-coin" in out
    assert run(data_dir, "tokens", "add", NAME, broken)[0] == 0  # its metadata reads fine
    return lusd, broken


def latest(data_dir: Path) -> Snapshot:
    engine = open_database(data_dir / "chainfolio.sqlite3", data_dir / "backups")
    try:
        snapshot = SqlSnapshotStore(engine).latest()
    finally:
        engine.dispose()
    assert snapshot is not None
    return snapshot


def page_for(qtbot: QtBot, snapshot: Snapshot, chain: str) -> HoldingsPage:
    page = HoldingsPage()
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    page.show_snapshot(snapshot, {chain: NAME}, {})
    return page


def test_custom_network_priced_by_ids_and_unreadable_token_marked(
    data_dir: Path, anvil: Anvil, qtbot: QtBot
) -> None:
    wallet = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    _lusd, broken = setup_chain(data_dir, anvil, wallet)
    chain = f"eip155:{anvil.chain_id}"
    (listed,) = [n for n in json.loads(run(data_dir, "networks", "list", "--json")[1])
                 if n["chain"] == chain]  # fmt: skip
    assert listed["price_id"] == "coingecko:ethereum"
    tokens = {t["symbol"]: t for t in json.loads(run(data_dir, "tokens", "list", "--chain", NAME,
                                                     "--json")[1])}  # fmt: skip
    assert tokens["LUSD"]["price_id"] == "coingecko:usd-coin"

    llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000, "coingecko:usd-coin": 1})
    with serve_in_thread(llama) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        _, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    doc = json.loads(out)
    (read,) = doc["chains"]
    priced = {b["symbol"]: (b["price"], b["price_source"]) for b in read["balances"]}
    assert priced == {"ETH": ("3000", "defillama"), "LUSD": ("1", "defillama")}
    assert [(f["asset"].lower(), f["reason"]) for f in read["failures"]] == [
        (f"{chain}/erc20:{broken}".lower(), "the token contract reverted")
    ]
    assert Decimal(doc["total"]) == 6005

    snapshot = latest(data_dir)  # the failure is stored with the snapshot
    (source,) = snapshot.sources
    (failure,) = source.failures
    assert failure.symbol == "BRK" and failure.reason == "the token contract reverted"

    page = page_for(qtbot, snapshot, chain)
    assert page.total_label.text() == "6,005.00 USD"
    assert page.unpriced_button.isHidden()  # everything held has a price
    banner = page.summary.stale_warning
    assert "1 token could not be read (BRK on Local Anvil A: the token contract reverted)" in banner
    model = page.model
    rows = {model.index(r, 0).data(ROW_ROLE).holding.symbol: r for r in range(model.rowCount())}
    assert set(rows) == {"ETH", "LUSD", "BRK"}  # "Hide small balances" keeps the unreadable one
    brk = rows["BRK"]
    assert model.index(brk, Column.ASSET).data(Qt.ItemDataRole.DecorationRole) is not None
    tip = model.index(brk, Column.ASSET).data(Qt.ItemDataRole.ToolTipRole)
    assert "Could not be read: the token contract reverted" in tip
    assert model.index(brk, Column.AMOUNT).data() == "unreadable"
    assert model.index(brk, Column.VALUE).data() == "—"
    out_csv = list(csv.DictReader(io.StringIO(_csv(page))))
    assert {r["asset"]: r["error"] for r in out_csv}["BRK"] == "the token contract reverted"


def _csv(page: HoldingsPage) -> str:
    from app.ui.models.holdings_export import csv_text

    return csv_text(page.model.visible_rows(), page.model.currency)


def test_price_api_down_leaves_holdings_unpriced_counted_and_kept(
    data_dir: Path, anvil: Anvil, qtbot: QtBot
) -> None:
    wallet = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
    setup_chain(data_dir, anvil, wallet)
    chain = f"eip155:{anvil.chain_id}"
    run(data_dir, "config", "set", "prices.defillama.url", f"http://127.0.0.1:{free_port()}")
    run(data_dir, "config", "set", "prices.order", "defillama")
    _, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    doc = json.loads(out)
    assert doc["price_errors"] and Decimal(doc["total"]) == 0
    con = sqlite3.connect(data_dir / "chainfolio.sqlite3")
    stored = dict(con.execute("SELECT symbol, raw FROM snapshot_holdings").fetchall())
    con.close()
    assert stored == {"ETH": str(2 * 10**18), "LUSD": str(5 * 10**6)}  # nothing lost

    page = page_for(qtbot, latest(data_dir), chain)
    assert page.total_label.text() == "0.00 USD"
    link = page.unpriced_button
    assert not link.isHidden()
    assert link.text() == "2 holdings have no price and are left out of the total"
    page.filter.setText("")  # the link filters to them; the failure row is not "unpriced"
    link.click()
    assert sorted(r.holding.symbol for r in page.model.visible_rows()) == ["ETH", "LUSD"]
    assert "only those without a price" in page.count_label.text()
    tip = page.model.index(0, Column.PRICE).data(Qt.ItemDataRole.ToolTipRole)
    assert "left out of the total" in tip and "Set price source" in tip
    link.click()
    assert len(page.model.visible_rows()) == 3


def test_bad_price_ids_are_refused_and_change_nothing(data_dir: Path, anvil: Anvil) -> None:
    code, _ = run(data_dir, "networks", "add", "4242", "Bad", "BAD", anvil.url, "--no-check",
                  "--price-id", "Not An Id")  # fmt: skip
    assert code != 0
    listed = json.loads(run(data_dir, "networks", "list", "--json")[1])
    assert "eip155:4242" not in {n["chain"] for n in listed}
    lusd = anvil.deploy("TestToken", ["string", "string", "uint8"], ["Local Dollar", "LUSD", 6])
    run(data_dir, "networks", "add", str(anvil.chain_id), NAME, "ETH", anvil.url,
        "--multicall3", MULTICALL3)  # fmt: skip
    phrase = " ".join(["abandon"] * 11 + ["about"])
    for bad in ("USD Coin", "", phrase):
        code, out = run(data_dir, "tokens", "add", NAME, lusd, "--price-id", bad)
        assert code != 0 and "abandon" not in out
    assert json.loads(run(data_dir, "tokens", "list", "--chain", NAME, "--json")[1]) == []
    # Set and reset a native coin's price id after the network was added.
    code, out = run(data_dir, "networks", "price-id", NAME, "ethereum")
    assert code == 0 and "priced as coingecko:ethereum" in out
    (listed_one,) = [n for n in json.loads(run(data_dir, "networks", "list", "--json")[1])
                     if n["name"] == NAME]  # fmt: skip
    assert listed_one["price_id"] == "coingecko:ethereum"
    code, out = run(data_dir, "networks", "price-id", NAME)
    assert code == 0 and "removed" in out


def test_manual_price_is_stored_with_the_snapshot_and_marked_in_exports(
    data_dir: Path, anvil: Anvil, qtbot: QtBot
) -> None:
    wallet = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"
    setup_chain(data_dir, anvil, wallet)
    chain = f"eip155:{anvil.chain_id}"
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 3000, "coingecko:usd-coin": 1})
    with serve_in_thread(llama) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        assert run(data_dir, "prices", "override", f"{chain}/slip44:60", "2500")[0] == 0
        _, out = run(data_dir, "prices", f"{chain}/slip44:60", "--json")
        assert json.loads(out)["prices"][0]["manual"] is True
        _, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    manual = {b["symbol"]: b["price_manual"] for b in json.loads(out)["chains"][0]["balances"]}
    assert manual == {"ETH": True, "LUSD": False}
    snapshot = latest(data_dir)
    assert {h.symbol: h.manual_price for h in snapshot.holdings} == {"ETH": True, "LUSD": False}
    _, exported = run(data_dir, "export", "holdings", "--csv")
    rows = {r["symbol"]: r for r in csv.DictReader(io.StringIO(exported))}
    assert rows["ETH"]["price_manual"] == "yes" and rows["LUSD"]["price_manual"] == ""
    page = page_for(qtbot, snapshot, chain)
    model = page.model
    eth = next(r for r in range(model.rowCount())
               if model.index(r, 0).data(ROW_ROLE).holding.symbol == "ETH")  # fmt: skip
    assert "a manual price you set" in model.index(eth, Column.PRICE).data(
        Qt.ItemDataRole.ToolTipRole
    )
