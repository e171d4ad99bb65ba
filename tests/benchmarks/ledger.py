"""Benchmark: a ledger of 50,000 transactions over 10 years across 500 assets.

The synthetic ledger (fixed seed): 5 accounts; 100 crypto tokens (CAIP-19), 330 stocks, 50
ETFs, 16 bonds (ISINs with valid check digits) and the 4 metals; every asset follows a daily
random walk; buys, sells (never beyond what is held), deposits, withdrawals, income, fees and
transfers between the accounts, spread over 10 years up to yesterday. 50 of the crypto assets
also have 10 years of daily prices in the price history store (182,500 rows), so returns value
them from the store; the others are valued by their transaction prices.

Measured, each against the same run's baseline (the standard library's ``csv.reader`` reading
the same file into lists: the least any import must do):

- import: ``LedgerService.import_csv`` of the generic CSV (parse, validate every line, check
  holdings over time, write everything in one database transaction) — target < 5 s;
- P&L: ``LedgerService.pnl()`` FIFO and average cost, cold (a new service: read all
  transactions back from SQLite, cost basis and P&L of every holding) — target < 1 s — and warm
  (the service reuses the transactions it read until the ledger's revision changes);
- returns: ``LedgerService.returns()`` over the 10 years, daily (read transactions and the price
  history, daily values, TWR and XIRR), cold and warm — target < 1 s.

Times are the median of 3 runs (import: one run, it is not repeatable on the same database; a
second import of the same file is measured too: it must add nothing). Prints JSON, with the
load average: the machine is shared.

    .venv/bin/python -m tests.benchmarks.ledger [--transactions 50000] [--assets 500]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.assets import isin_check_digit_ok
from app.services.ledger import LedgerConfig, LedgerService
from app.services.ledger_csv import GENERIC_COLUMNS
from app.storage.database import open_database
from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore
from app.storage.price_store import SqlBackfillStore

DAY = 86400
YEARS = 10
TARGETS = {"import_s": 5.0, "pnl_s": 1.0, "returns_s": 1.0}
ACCOUNTS = ["Broker", "Bank", "Exchange", "Cold", "Pension"]


def isin(country: str, body: str) -> str:
    for d in "0123456789":
        if isin_check_digit_ok(country + body + d):
            return country + body + d
    raise AssertionError("no check digit")


def make_assets(n: int) -> list[str]:
    crypto = [f"eip155:1/erc20:0x{(i + 1) * 0x1F3A5C7:040x}" for i in range(n // 5)]
    metals = ["commodity:XAU", "commodity:XAG", "commodity:XPT", "commodity:XPD"]
    bonds = [f"bond:{isin('US', f'91282{i:04d}')}" for i in range(16)]
    etfs = [f"etf:XETR:E{i:03d}" for i in range(n // 10)]
    stocks = [f"stock:XNAS:S{i:04d}" for i in range(n - len(crypto) - 4 - 16 - len(etfs))]
    return [*crypto, *metals, *bonds, *etfs, *stocks]


def make_csv(
    n_tx: int, assets: list[str], end_ts: int, seed: int = 7
) -> tuple[str, dict[str, list[tuple[int, float]]]]:
    """The CSV text and each asset's daily price walk (day number -> price)."""
    rng = random.Random(seed)
    start_day = end_ts // DAY - YEARS * 365
    days = YEARS * 365
    walks: dict[str, list[tuple[int, float]]] = {}
    for a in assets:
        p = rng.uniform(5, 500)
        pts = []
        for d in range(days):
            p *= 1 + rng.gauss(0.0002, 0.02)
            pts.append((start_day + d, max(p, 0.01)))
        walks[a] = pts
    held: dict[tuple[str, str], Decimal] = {}
    rows: list[list[str]] = []
    times = sorted(rng.randrange(start_day * DAY, end_ts - DAY) for _ in range(n_tx))
    for ts in times:
        d = ts // DAY - start_day
        asset = rng.choice(assets)
        acct = rng.choice(ACCOUNTS)
        price = Decimal(f"{walks[asset][d][1]:.4f}")
        have = held.get((acct, asset), Decimal(0))
        r = rng.random()
        date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
        qty = Decimal(rng.randrange(1, 1000)) / 10
        row = [date, acct, "", asset, "", "", "", "", "", "", "", ""]
        if have > 0 and r < 0.30:
            out = min(have, qty)
            row[2], row[4], row[5], row[6] = "sell", str(out), str(price), "USD"
            row[7], row[8] = "1.5", "USD"
            held[(acct, asset)] = have - out
        elif have > 0 and r < 0.36:
            to = rng.choice([a for a in ACCOUNTS if a != acct])
            out = min(have, qty)
            row[2], row[4], row[9] = "transfer", str(out), to
            held[(acct, asset)] = have - out
            held[(to, asset)] = held.get((to, asset), Decimal(0)) + out
        elif have > 0 and r < 0.39:
            out = min(have, qty / 10)
            row[2], row[4] = "withdrawal", str(out)
            held[(acct, asset)] = have - out
        elif r < 0.44:
            row[2], row[4], row[5], row[6] = "income", str(qty / 100), str(price), "USD"
            row[10] = "dividend" if asset.startswith(("stock", "etf")) else "staking"
            held[(acct, asset)] = have + qty / 100
        elif r < 0.48:
            row[2], row[4] = "deposit", str(qty)  # unknown basis
            held[(acct, asset)] = have + qty
        else:
            row[2], row[4], row[5], row[6] = "buy", str(qty), str(price), "USD"
            row[7], row[8] = "1", "USD"
            held[(acct, asset)] = have + qty
        rows.append(row)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(GENERIC_COLUMNS)
    w.writerows(rows)
    return out.getvalue(), walks


def timed(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.dir:
        run(args, Path(args.dir))
        return
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:  # 50 MB: not kept
        run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> None:
    now = int(time.time())
    load_before = os.getloadavg()
    assets = make_assets(args.assets)
    t0 = time.perf_counter()
    text, walks = make_csv(args.transactions, assets, now)
    gen_s = time.perf_counter() - t0
    path = folder / "ledger.csv"
    path.write_text(text)

    baseline_s, parsed = timed(lambda: list(csv.reader(io.StringIO(path.read_text()))))
    assert len(parsed) == args.transactions + 1

    engine = open_database(folder / "chainfolio.sqlite3", folder / "backups")
    history = SqlBackfillStore(engine)
    priced = [a for a in assets if "/" in a][:50]
    for a in priced:
        history.save_history(a, [(d * DAY, Decimal(f"{p:.6f}")) for d, p in walks[a]], "bench")
    svc = LedgerService(
        SqlLedgerStore(engine), SqlLedgerMarket(engine), lambda: LedgerConfig(), lambda: now
    )
    for name in ACCOUNTS:
        svc.add_account(name)

    t0 = time.perf_counter()
    report = svc.import_csv(path.read_text())
    import_s = time.perf_counter() - t0
    assert report.ok, report.errors[:5]
    assert report.added == args.transactions, report.added
    t0 = time.perf_counter()
    again = svc.import_csv(path.read_text())
    reimport_s = time.perf_counter() - t0
    assert again.added == 0 and again.duplicates == args.transactions

    def fresh() -> LedgerService:  # a new service: nothing cached (a new process, or a write)
        return LedgerService(
            SqlLedgerStore(engine), SqlLedgerMarket(engine), lambda: LedgerConfig(), lambda: now
        )

    start = datetime.fromtimestamp(now - YEARS * 365 * DAY, UTC).date()
    pnl_s, pnl = timed(lambda: fresh().pnl(method="fifo"))
    avg_s, avg = timed(lambda: fresh().pnl(method="average"))
    assert pnl.total.realised != avg.total.realised  # the two methods really ran
    returns_s, ret = timed(lambda: fresh().returns(start=start))
    svc.pnl()
    pnl_warm_s, _ = timed(lambda: svc.pnl(method="fifo"))
    returns_warm_s, _ = timed(lambda: svc.returns(start=start))
    load_s, txs = timed(lambda: SqlLedgerStore(engine).transactions())
    engine.dispose()
    load_after = os.getloadavg()
    figures = {
        "transactions": args.transactions,
        "assets": len(assets),
        "accounts": len(ACCOUNTS),
        "price_history_rows": len(priced) * YEARS * 365,
        "csv_bytes": len(text.encode()),
        "generate_s": round(gen_s, 3),
        "baseline_csv_reader_s": round(baseline_s, 4),
        "import_s": round(import_s, 3),
        "import_vs_baseline": round(import_s / baseline_s, 1),
        "reimport_s": round(reimport_s, 3),
        "pnl_s": round(pnl_s, 3),
        "pnl_vs_baseline": round(pnl_s / baseline_s, 1),
        "pnl_average_s": round(avg_s, 3),
        "pnl_warm_s": round(pnl_warm_s, 3),
        "load_transactions_s": round(load_s, 3),
        "returns_s": round(returns_s, 3),
        "returns_vs_baseline": round(returns_s / baseline_s, 1),
        "returns_warm_s": round(returns_warm_s, 3),
        "returns_days": ret.figures.days,
        "twr": ret.figures.twr,
        "irr": ret.figures.irr,
        "holdings": len(pnl.holdings),
        "targets": TARGETS,
        "within_targets": import_s < TARGETS["import_s"]
        and pnl_s < TARGETS["pnl_s"]
        and returns_s < TARGETS["returns_s"],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "loaded_rows": len(txs),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
