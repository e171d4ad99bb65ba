"""``chainfolio history`` and ``chainfolio export holdings``: the stored snapshots, headless."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime

from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError
from app.domain.text import safe_cell


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    h = sub.add_parser("history", help="net-worth timeline from the stored snapshots")
    h.add_argument("--from", dest="start", help="start date/time (ISO 8601, UTC if no zone)")
    h.add_argument("--to", dest="end", help="end date/time (ISO 8601)")
    fmt = h.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    h.set_defaults(func=_history)

    e = sub.add_parser("export", help="export data")
    es = e.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    hold = es.add_parser("holdings", help="the holdings of the latest snapshot")
    hold.add_argument("--csv", action="store_true", required=True, help="CSV on stdout")
    hold.add_argument(
        "--include-spam", action="store_true", help="also export tokens marked as spam"
    )
    hold.set_defaults(func=_export_holdings)


def _epoch(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ChainfolioError(f"not an ISO 8601 date or time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _history(args: argparse.Namespace, env: CliEnv) -> int:
    from app.storage.snapshot_store import SqlSnapshotStore

    store = SqlSnapshotStore(env.context.engine)
    rows = store.totals(_epoch(args.start), _epoch(args.end))
    currency = str(env.settings.get("currency"))
    if args.json:
        env.print_json(
            {"currency": currency, "points": [{"time": _iso(t), "total": str(v)} for t, v in rows]}
        )
    elif args.csv:
        writer = csv.writer(env.out, lineterminator="\n")
        writer.writerow(["time", f"total_{currency.lower()}"])
        writer.writerows([_iso(t), str(v)] for t, v in rows)
    elif not rows:
        env.print("No snapshots yet: run `chainfolio refresh --once` first.")
    else:
        for t, v in rows:
            env.print(f"{_iso(t)}  {v} {currency}")
    return 0


def _export_holdings(args: argparse.Namespace, env: CliEnv) -> int:
    from app.storage.snapshot_store import SqlSnapshotStore

    snapshot = SqlSnapshotStore(env.context.engine).latest()
    if snapshot is None:
        raise ChainfolioError("No snapshots yet: run `chainfolio refresh --once` first.")
    writer = csv.writer(env.out, lineterminator="\n")
    writer.writerow(
        ["snapshot_time", "wallet", "asset", "position", "symbol", "raw", "decimals", "amount",
         "price", "value", "currency", "state", "as_of", "spam"]
    )  # fmt: skip
    from app.domain.balances import to_decimal_amount

    for h in snapshot.holdings:
        if h.is_spam and not args.include_spam:
            continue
        writer.writerow(
            [
                _iso(snapshot.taken_at), h.wallet, h.asset_id, h.position, safe_cell(h.symbol),
                str(h.raw), h.decimals, format(to_decimal_amount(h.raw, h.decimals), "f"),
                "" if h.price is None else str(h.price), "" if h.value is None else str(h.value),
                snapshot.currency, h.state.value, _iso(h.as_of), "yes" if h.is_spam else "",
            ]
        )  # fmt: skip
    return 0
