"""``history`` and ``export holdings`` over snapshots written through the real store."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Paths
from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.storage.price_store import SqlPriceStore
from app.storage.snapshot_store import SqlSnapshotStore

WALLET = "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


def seed(data_dir: Path) -> None:
    ctx = bootstrap(Paths.resolve(data_dir))
    store = SqlSnapshotStore(ctx.engine)
    for day, price in ((1, "1000"), (2, "1100"), (3, "900")):
        holding = SnapshotHolding(
            WALLET, "eip155:1/erc20:0x0000000000000000000000000000000000000001", "=HYPERLINK(x)",
            18, 2 * 10**18 + 1, Decimal(price), Decimal(price) * 2, SourceState.OK,
            day * 86400,
        )  # fmt: skip
        store.write(Snapshot(day * 86400, "USD", (holding,), ()))
    ctx.close()


def test_history_json_csv_and_range(data_dir: Path) -> None:
    seed(data_dir)
    code, out = run(data_dir, "history", "--json")
    assert code == 0
    assert [p["total"] for p in json.loads(out)["points"]] == ["2000", "2200", "1800"]
    code, out = run(
        data_dir, "history", "--csv", "--from", "1970-01-02T12:00", "--to", "1970-01-04"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["time", "total", "currency", "stored_total", "stored_currency"],
                    ["1970-01-03T00:00:00+00:00", "2200", "USD", "2200", "USD"],
                    ["1970-01-04T00:00:00+00:00", "1800", "USD", "1800", "USD"]]  # fmt: skip
    assert run(data_dir, "history", "--from", "yesterday")[0] == 1


def test_export_holdings_csv_is_exact_and_formula_safe(data_dir: Path) -> None:
    seed(data_dir)
    code, out = run(data_dir, "export", "holdings", "--csv")
    assert code == 0
    header, row = list(csv.reader(io.StringIO(out)))
    record = dict(zip(header, row, strict=True))
    assert record["raw"] == str(2 * 10**18 + 1)
    assert record["amount"] == "2.000000000000000001"
    assert record["symbol"] == "'=HYPERLINK(x)"
    assert record["value"] == "1800" and record["state"] == "ok"


def test_export_without_snapshots_says_what_to_do(data_dir: Path) -> None:
    assert run(data_dir, "export", "holdings", "--csv")[0] == 1


def test_export_holdings_marks_positions_and_leaves_spam_out_unless_asked(
    data_dir: Path,
) -> None:
    ctx = bootstrap(Paths.resolve(data_dir))
    asset = "eip155:1/erc20:0x0000000000000000000000000000000000000002"
    debt = SnapshotHolding(
        WALLET, asset, "USDC", 6, -5_000_000, Decimal(1), Decimal(-5), SourceState.OK, 10,
        position="aave-v3:borrowed",
    )  # fmt: skip
    spam = SnapshotHolding(
        WALLET, asset.replace("2", "3"), "CLAIM", 0, 1, None, None, SourceState.OK, 10,
        is_spam=True,
    )  # fmt: skip
    SqlSnapshotStore(ctx.engine).write(Snapshot(10, "USD", (debt, spam), ()))
    ctx.close()
    code, out = run(data_dir, "export", "holdings", "--csv")
    assert code == 0
    header, *rows = list(csv.reader(io.StringIO(out)))
    [record] = [dict(zip(header, r, strict=True)) for r in rows]
    assert (record["position"], record["amount"], record["value"]) == (
        "aave-v3:borrowed", "-5.000000", "-5",
    )  # fmt: skip
    code, out = run(data_dir, "export", "holdings", "--csv", "--include-spam")
    assert code == 0
    assert [r[header.index("spam")] for r in list(csv.reader(io.StringIO(out)))[1:]] == ["", "yes"]


def test_history_says_the_currency_each_snapshot_was_stored_in(data_dir: Path) -> None:
    """After a currency switch stored USD totals are never relabelled as EUR: converted at the
    exchange rate stored for their day, or shown in USD with a plain note."""
    seed(data_dir)  # USD snapshots on days 1, 2 and 3
    ctx = bootstrap(Paths.resolve(data_dir))
    # an EUR rate was stored on day 2 only (units of EUR per US dollar)
    SqlPriceStore(ctx.engine).save_rates({"EUR": Decimal("0.9")}, "coingecko", 2 * 86400 + 5)
    holding = SnapshotHolding(
        WALLET, "eip155:1/erc20:0x0000000000000000000000000000000000000001", "TKN",
        18, 10**18, Decimal("1E+3"), Decimal("1E+3"), SourceState.OK, 4 * 86400,
    )  # fmt: skip
    SqlSnapshotStore(ctx.engine).write(Snapshot(4 * 86400, "EUR", (holding,), ()))
    ctx.close()
    assert run(data_dir, "config", "set", "currency", "EUR")[0] == 0
    code, out = run(data_dir, "history", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"] == "EUR"
    shown = [(p["total"], p["currency"], p["stored_total"], p["stored_currency"])
             for p in doc["points"]]  # fmt: skip
    assert shown == [
        ("2000", "USD", "2000", "USD"),  # no rate stored for day 1: stays in USD
        ("1980.0", "EUR", "2200", "USD"),  # 2200 USD x 0.9 EUR per USD, the rate of its day
        ("1620.0", "EUR", "1800", "USD"),  # day 3 has no rate: day 2's, the nearest earlier
        ("1000", "EUR", "1000", "EUR"),  # stored in EUR; never written as 1E+3
    ]
    assert any("Earlier history is in USD" in n and "no exchange rate" in n for n in doc["notes"])
    assert any("nearest earlier day's rate was used" in n for n in doc["notes"])
    code, out = run(data_dir, "history", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["time", "total", "currency", "stored_total", "stored_currency"]
    assert rows[1][1:] == ["2000", "USD", "2000", "USD"] and rows[2][1:3] == ["1980.0", "EUR"]
    code, out = run(data_dir, "history")
    assert "2000 USD" in out and "1980.0 EUR" in out and "Earlier history is in USD" in out
