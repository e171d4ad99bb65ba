"""``chainfolio accounts``, ``tx``, ``pnl`` and ``returns`` through the command line."""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stderr
from decimal import Decimal
from pathlib import Path

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Paths
from app.storage.price_store import SqlPriceStore
from tests.support.setup_cli import run_cli

CSV = """date,account,type,asset,amount,price,price_currency,fee,fee_currency,to_account,income_kind,note
2024-01-02,Broker,buy,stock:XNAS:AAPL,10,100,USD,5,USD,,,
2024-02-01,Broker,buy,stock:XNAS:AAPL,10,120,USD,,,,,
2024-06-01,Broker,sell,stock:XNAS:AAPL,15,130,USD,3,USD,,,
2024-01-01,Broker,deposit,fiat:EUR,1000,,,,,,,
2024-03-01,Broker,transfer,fiat:EUR,400,,,,,Vault,,
"""


def store_rate(data_dir: Path, code: str, per_usd: str) -> None:
    ctx = bootstrap(Paths.resolve(data_dir))
    try:
        SqlPriceStore(ctx.engine).save_rates({code: Decimal(per_usd)}, "test", int(time.time()))
    finally:
        ctx.close()


def fails(data_dir: Path, *argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["--data-dir", str(data_dir), *argv], stdout=io.StringIO())
    return code, err.getvalue()


def test_accounts_add_list_remove(tmp_path: Path) -> None:
    run_cli(tmp_path, "accounts", "add", "Broker", "--kind", "broker")
    run_cli(tmp_path, "accounts", "add", "Vault", "--kind", "cold-storage", "--note", "safe")
    listed = json.loads(run_cli(tmp_path, "accounts", "list", "--json"))
    assert [(a["name"], a["kind"], a["note"]) for a in listed] == [
        ("Broker", "broker", ""),
        ("Vault", "cold-storage", "safe"),
    ]
    code, err = fails(tmp_path, "accounts", "add", "Broker")
    assert code == 1 and "already an account" in err
    assert "Removed account Vault" in run_cli(tmp_path, "accounts", "remove", "Vault")


def test_tx_add_list_edit_remove(tmp_path: Path) -> None:
    run_cli(tmp_path, "accounts", "add", "Broker")
    added = json.loads(
        run_cli(
            tmp_path, "tx", "add", "--account", "Broker", "--type", "buy", "--asset", "BTC",
            "--amount", "0.5", "--price", "40000", "--currency", "usd", "--fee", "0.0001",
            "--fee-currency", "BTC", "--date", "2024-01-01", "--json",
        )
    )  # fmt: skip
    assert added["asset"].startswith("bip122:") and added["amount"] == "0.5"
    assert added["fee_currency"] == added["asset"] and added["price_currency"] == "USD"
    edited = json.loads(
        run_cli(tmp_path, "tx", "edit", str(added["id"]), "--price", "41000", "--json")
    )
    assert edited["price"] == "41000" and edited["amount"] == "0.5"
    listed = json.loads(run_cli(tmp_path, "tx", "list", "--json", "--asset", "BTC"))
    assert [t["id"] for t in listed] == [added["id"]]
    code, err = fails(
        tmp_path, "tx", "add", "--account", "Broker", "--type", "sell", "--asset", "BTC",
        "--amount", "1", "--price", "1", "--currency", "USD", "--date", "2024-02-01",
    )  # fmt: skip
    assert code == 1 and "more of the asset" in err and "Traceback" not in err
    run_cli(tmp_path, "tx", "remove", str(added["id"]))
    assert json.loads(run_cli(tmp_path, "tx", "list", "--json")) == []


def test_import_dry_run_errors_reimport_and_export(tmp_path: Path) -> None:
    run_cli(tmp_path, "accounts", "add", "Broker")
    f = tmp_path / "in.csv"
    f.write_text(CSV)
    code, err = fails(tmp_path, "tx", "import", str(f))  # Vault does not exist yet
    assert code == 1 and "line 6:" in err and "nothing was imported" in err
    dry = run_cli(tmp_path, "tx", "import", str(f), "--dry-run", "--create-accounts")
    assert dry.count("would add:") == 5 and "nothing was changed" in dry
    assert json.loads(run_cli(tmp_path, "tx", "list", "--json")) == []
    out = run_cli(tmp_path, "tx", "import", str(f), "--create-accounts")
    assert "Imported 5 transaction(s); 0 were already imported (new accounts: Vault)" in out
    again = json.loads(run_cli(tmp_path, "tx", "import", str(f), "--json"))
    assert (again["added"], again["duplicates"], again["ok"]) == (0, 5, True)
    generic = run_cli(tmp_path, "tx", "export")
    assert generic.splitlines()[0] == CSV.splitlines()[0]
    assert len(generic.splitlines()) == 6
    koinly = tmp_path / "k.csv"
    run_cli(tmp_path, "tx", "export", "--format", "koinly", "-o", str(koinly))
    assert koinly.read_text().startswith("Date,Sent Amount,Sent Currency")


def test_pnl_and_returns(tmp_path: Path) -> None:
    """The AAPL lots of test_ledger_pnl: FIFO realised 1947 - 1605 = 342, average cost 20 units
    for 2205 (110.25 each): realised 1947 - 1653.75 = 293.25."""
    run_cli(tmp_path, "accounts", "add", "Broker")
    f = tmp_path / "in.csv"
    f.write_text(CSV)
    run_cli(tmp_path, "tx", "import", str(f), "--create-accounts")
    store_rate(tmp_path, "EUR", "0.9")  # what a refresh stores: units per US dollar
    fifo = json.loads(run_cli(tmp_path, "pnl", "--json"))
    assert fifo["method"] == "fifo" and Decimal(fifo["total"]["realised"]) == 342
    assert fifo["accounts"]["Broker"]["realised"] == "342"
    avg = json.loads(run_cli(tmp_path, "pnl", "--json", "--method", "average"))
    assert Decimal(avg["total"]["realised"]) == Decimal("293.25")
    run_cli(tmp_path, "config", "set", "ledger.cost_basis", "average")
    assert json.loads(run_cli(tmp_path, "pnl", "--json"))["method"] == "average"
    text = run_cli(tmp_path, "pnl")
    assert "Broker" in text and "Total: realised 293.25" in text
    vault = json.loads(run_cli(tmp_path, "pnl", "--json", "--account", "Vault"))
    assert [h["asset"] for h in vault["holdings"]] == ["fiat:EUR"]
    r = json.loads(
        run_cli(tmp_path, "returns", "--json", "--from", "2024-01-01", "--to", "2024-12-31")
    )
    assert r["days"] == 366 and r["twr"]["cumulative"] is not None
    assert r["irr"]["annualised"] is not None and r["twr"]["annualised"] is not None
    code, err = fails(tmp_path, "returns", "--from", "2024-05-01", "--to", "2024-01-01")
    assert code == 1 and "ends before it starts" in err
    run_cli(tmp_path, "config", "set", "currency", "GBP")
    code, err = fails(tmp_path, "pnl")
    assert code == 1 and "No exchange rate for GBP" in err  # no stored rate: said, not guessed
    run_cli(tmp_path, "config", "set", "currency", "EUR")
    eur = json.loads(run_cli(tmp_path, "pnl", "--json"))
    assert Decimal(eur["total"]["realised"]) == Decimal("293.25") * Decimal("0.9")
    assert any("today's exchange rate" in n for n in eur["notes"])
    assert "today's exchange rate" in run_cli(tmp_path, "returns")
