"""``chainfolio portfolios``, ``links`` and the ``--portfolio`` of ``history``, ``pnl`` and
``returns`` through the command line, bad input first; a real SQLite file in a data folder."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import redirect_stderr
from decimal import Decimal
from pathlib import Path

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Paths
from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import Quote
from app.storage.price_store import SqlPriceStore
from app.storage.snapshot_store import SqlSnapshotStore
from tests.support.setup_cli import run_cli

D = Decimal
DAY = 86_400
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
W1 = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
W2 = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
SEED = "abandon " * 11 + "about"


def fails(data_dir: Path, *argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["--data-dir", str(data_dir), *argv], stdout=io.StringIO())
    return code, err.getvalue()


def write_snapshot(data_dir: Path, ts: int, eth_price: str) -> None:
    ctx = bootstrap(Paths.resolve(data_dir))
    try:
        holdings = (
            SnapshotHolding(f"eip155:1:{W1}", ETH, "ETH", 18, 10**18, D(eth_price),
                            D(eth_price), SourceState.OK, ts),
            SnapshotHolding(f"eip155:1:{W2}", USDC, "USDC", 6, 500 * 10**6, D(1), D(500),
                            SourceState.OK, ts),
        )  # fmt: skip
        status = (SourceStatus("eip155:1", SourceState.OK, None, ts),)
        SqlSnapshotStore(ctx.engine).write(Snapshot(ts, "USD", holdings, status))
        SqlPriceStore(ctx.engine).save([Quote(ETH, "USD", D(eth_price), "test", ts)])
    finally:
        ctx.close()


def test_bad_names_members_and_portfolios_are_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    code, err = fails(tmp_path, "portfolios", "add", SEED)
    assert code == 1 and "seed phrase" in err and "abandon" not in err
    for argv in (("portfolios", "show", SEED), ("links", "add", SEED, W1)):
        code, err = fails(tmp_path, *argv)
        assert code == 1 and "seed phrase" in err and "abandon" not in err
    code, err = fails(tmp_path, "portfolios", "add", "x" * 41)
    assert code == 1 and "too long" in err
    assert json.loads(run_cli(tmp_path, "portfolios", "list", "--json")) == []
    run_cli(tmp_path, "portfolios", "add", "Trading")
    code, err = fails(tmp_path, "portfolios", "add", "trading")
    assert code == 1 and "already a portfolio" in err
    code, err = fails(tmp_path, "portfolios", "include", "Trading", "--wallet", W1)
    assert code == 1 and "No wallet" in err
    code, err = fails(tmp_path, "portfolios", "include", "Trading", "--account", "Nope")
    assert code == 1 and "No ledger account" in err
    code, err = fails(tmp_path, "portfolios", "show", "Nope")
    assert code == 1 and "No portfolio" in err and "Traceback" not in err
    code, err = fails(tmp_path, "links", "add", "Nope", W1)
    assert code == 1 and "No ledger account" in err
    code, err = fails(tmp_path, "pnl", "--portfolio", "Nope")
    assert code == 1 and "No portfolio" in err
    listed = json.loads(run_cli(tmp_path, "portfolios", "list", "--json"))
    assert [(p["name"], p["wallets"], p["accounts"]) for p in listed] == [("Trading", [], [])]
    assert json.loads(run_cli(tmp_path, "links", "list", "--json")) == []


def test_without_a_snapshot_the_total_is_unknown(tmp_path: Path) -> None:
    run_cli(tmp_path, "wallets", "add", W1)
    run_cli(tmp_path, "accounts", "add", "Hot")
    run_cli(tmp_path, "links", "add", "Hot", W1)
    run_cli(tmp_path, "portfolios", "add", "Long term")
    run_cli(tmp_path, "portfolios", "include", "Long term", "--wallet", W1)
    shown = json.loads(run_cli(tmp_path, "portfolios", "show", "Long term", "--json"))
    assert shown["total"] is None and shown["wallets_value"] is None
    assert shown["day_change"] is None and any("No snapshot yet" in n for n in shown["notes"])
    assert "total: unknown" in run_cli(tmp_path, "portfolios", "show", "Long term")
    text = run_cli(tmp_path, "pnl")
    assert "Unexplained change: No snapshot yet" in text
    pnl = json.loads(run_cli(tmp_path, "pnl", "--json"))
    assert pnl["unexplained"]["snapshot_time"] is None and pnl["unexplained"]["changes"] == []
    history = json.loads(run_cli(tmp_path, "history", "--portfolio", "Long term", "--json"))
    assert history["points"] == []


def test_portfolios_from_the_command_line(tmp_path: Path) -> None:
    now = int(time.time()) - 100
    for w in (W1, W2):
        run_cli(tmp_path, "wallets", "add", w)
    with sqlite3.connect(tmp_path / "chainfolio.sqlite3") as con:  # watched for long
        con.execute("UPDATE wallets SET created_at = '2024-01-01T00:00:00+00:00'")
    run_cli(tmp_path, "accounts", "add", "Broker", "--kind", "broker")
    run_cli(tmp_path, "accounts", "add", "Hot")
    run_cli(
        tmp_path, "tx", "add", "--account", "Broker", "--type", "buy", "--asset",
        "stock:XNAS:AAPL", "--amount", "10", "--price", "100", "--currency", "USD",
        "--date", "2024-01-02",
    )  # fmt: skip
    run_cli(
        tmp_path, "tx", "add", "--account", "Hot", "--type", "buy", "--asset", ETH,
        "--amount", "0.25", "--price", "1000", "--currency", "USD", "--date", "2024-01-02",
    )  # fmt: skip
    assert "now records wallet" in run_cli(tmp_path, "links", "add", "Hot", W1.lower())
    for name in ("Long term", "Trading"):
        run_cli(tmp_path, "portfolios", "add", name)
        run_cli(tmp_path, "portfolios", "include", name, "--wallet", W1)
    run_cli(tmp_path, "portfolios", "include", "Long term", "--account", "Broker")
    run_cli(tmp_path, "portfolios", "include", "Trading", "--wallet", W2)
    again = run_cli(tmp_path, "portfolios", "include", "Trading", "--wallet", W2)
    assert "already holds" in again
    write_snapshot(tmp_path, now - DAY - 600, "1800")
    write_snapshot(tmp_path, now, "2000")

    listed = json.loads(run_cli(tmp_path, "portfolios", "list", "--json"))
    assert [(p["name"], p["wallets"], p["accounts"]) for p in listed] == [
        ("Long term", [W1], ["Broker"]),
        ("Trading", sorted([W1, W2]), []),
    ]
    long_term = json.loads(run_cli(tmp_path, "portfolios", "show", "Long term", "--json"))
    assert (long_term["total"], long_term["wallets_value"], long_term["accounts_value"]) == (
        "3000", "2000", "1000",
    )  # fmt: skip
    trading = json.loads(run_cli(tmp_path, "portfolios", "show", "Trading", "--json"))
    assert trading["total"] == "2500" and trading["day_change"]["amount"] == "200"
    assert trading["day_change"]["covers"] == "wallets"
    text = run_cli(tmp_path, "portfolios", "show", "Trading")
    assert "total: 2,500.00 USD" in text and "day change of the wallets: 200.00 USD" in text

    history = json.loads(run_cli(tmp_path, "history", "--portfolio", "Trading", "--json"))
    assert [p["total"] for p in history["points"]] == ["2300", "2500"]
    whole = json.loads(run_cli(tmp_path, "history", "--json"))
    assert [p["total"] for p in whole["points"]] == ["2300", "2500"]  # unchanged

    pnl = json.loads(run_cli(tmp_path, "pnl", "--portfolio", "Long term", "--json"))
    assert {h["account"] for h in pnl["holdings"]} == {"Broker"}
    assert list(pnl["accounts"]) == ["Broker"] and pnl["total"]["cost_basis"] == "1000"
    assert pnl["unexplained"]["links"] == [{"account": "Hot", "wallet": W1}]
    (change,) = pnl["unexplained"]["changes"]
    assert (change["asset"], change["ledger_quantity"], change["observed_quantity"]) == (
        ETH, "0.25", "1",
    )  # fmt: skip
    assert change["difference"] == "0.75" and change["value"] == "1500"
    check = json.loads(run_cli(tmp_path, "links", "check", "--json"))
    assert check["changes"] == pnl["unexplained"]["changes"]
    everything = json.loads(run_cli(tmp_path, "pnl", "--json"))
    assert everything["unexplained"]["changes"] == pnl["unexplained"]["changes"]
    assert {h["account"] for h in everything["holdings"]} == {"Broker", "Hot"}
    text = run_cli(tmp_path, "pnl")
    assert "Unexplained change (observed in the wallet minus the ledger" in text
    assert "+0.75" in text and "1,500.00" in text

    returns = json.loads(run_cli(tmp_path, "returns", "--portfolio", "Trading", "--json"))
    assert returns["accounts"] is None and returns["wallets"]["periods"] == 1
    # Trading's wallets 2300 -> 2500; Hot's buy is from 2024, before the first snapshot.
    assert abs(D(returns["wallets"]["twr"]) - (D(2500) / D(2300) - 1)) < D("1e-10")
    both = json.loads(run_cli(tmp_path, "returns", "--portfolio", "Long term", "--json"))
    assert both["accounts"]["end_value"] == 1000.0 and both["wallets"]["twr"] is not None
    assert "series" not in both["accounts"]
    daily = json.loads(
        run_cli(tmp_path, "returns", "--portfolio", "Long term", "--json", "--series",
                "--from", "2024-01-01", "--to", "2024-01-10")
    )["accounts"]["series"]  # fmt: skip
    assert [p["day"] for p in daily][:2] == ["2024-01-01", "2024-01-02"] and len(daily) == 10
    assert daily[-1]["value"] == 1000.0
    assert "Returns of portfolio Long term" in run_cli(
        tmp_path, "returns", "--portfolio", "Long term"
    )

    run_cli(tmp_path, "portfolios", "exclude", "Trading", "--wallet", W1)
    trading = json.loads(run_cli(tmp_path, "portfolios", "show", "Trading", "--json"))
    assert trading["wallets"] == [W2] and trading["total"] == "500"
    assert "Removed portfolio Trading" in run_cli(tmp_path, "portfolios", "remove", "Trading")
    assert "no longer records" in run_cli(tmp_path, "links", "remove", "Hot")
    assert json.loads(run_cli(tmp_path, "pnl", "--json"))["unexplained"]["links"] == []
