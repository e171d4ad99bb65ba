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
    assert rows == [["time", "total_usd"], ["1970-01-03T00:00:00+00:00", "2200"],
                    ["1970-01-04T00:00:00+00:00", "1800"]]  # fmt: skip
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
