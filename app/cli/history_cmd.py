"""``chainfolio history`` and ``chainfolio export holdings``: the stored snapshots, headless;
``chainfolio history scan`` (:mod:`app.cli.history_scan`): the wallets' past from the chains."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime

from app.cli.env import CliEnv
from app.cli.history_scan import register_scan
from app.domain.errors import ChainfolioError
from app.domain.text import safe_cell
from app.domain.valuation import decimal_text, optional_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    h = sub.add_parser("history", help="net-worth timeline from the stored snapshots")
    h.add_argument("--from", dest="start", help="start date/time (ISO 8601, UTC if no zone)")
    h.add_argument("--to", dest="end", help="end date/time (ISO 8601)")
    h.add_argument("--portfolio", metavar="P", help="only this portfolio's wallets")
    fmt = h.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    h.set_defaults(func=_history)
    register_scan(h)  # chainfolio history scan: the wallets' past from the chains

    e = sub.add_parser("export", help="export data")
    es = e.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    hold = es.add_parser(
        "holdings", help="the holdings of the latest snapshot, in the currency it was stored in"
    )
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
    """Totals in the display currency where the exchange rate of their day is stored; otherwise
    in the currency they were stored in, with a note saying so (never relabelled)."""
    from app.domain.history import in_currency
    from app.storage.price_store import SqlBackfillStore

    currency = str(env.settings.get("currency")).upper()
    if args.portfolio is not None:
        points, notes = env.context.portfolios.timeline(
            args.portfolio, _epoch(args.start), _epoch(args.end)
        )
    else:
        stored = env.context.snapshots.currency_totals(_epoch(args.start), _epoch(args.end))
        rates = SqlBackfillStore(env.context.engine).usd_rate_days
        points, notes = in_currency(stored, currency, rates)
    if args.json:
        env.print_json(
            {
                "currency": currency,
                "points": [
                    {
                        "time": _iso(p.taken_at),
                        "total": decimal_text(p.total),
                        "currency": p.currency,
                        "stored_total": decimal_text(p.stored_total),
                        "stored_currency": p.stored_currency,
                        "rate_date": None if p.rate_day is None else _iso(p.rate_day)[:10],
                    }
                    for p in points
                ],
                "notes": notes,
            }
        )
    elif args.csv:
        writer = csv.writer(env.out, lineterminator="\n")
        writer.writerow(["time", "total", "currency", "stored_total", "stored_currency"])
        writer.writerows(
            [_iso(p.taken_at), decimal_text(p.total), p.currency, decimal_text(p.stored_total),
             p.stored_currency]
            for p in points
        )  # fmt: skip
    elif not points:
        env.print("No snapshots yet: run `chainfolio refresh --once` first.")
        for note in notes if args.portfolio is not None else []:
            env.print(note)
    else:
        for p in points:
            env.print(f"{_iso(p.taken_at)}  {decimal_text(p.total)} {p.currency}")
        for note in notes:
            env.print(note)
    return 0


def _export_holdings(args: argparse.Namespace, env: CliEnv) -> int:
    snapshot = env.context.snapshots.latest()
    if snapshot is None:
        raise ChainfolioError("No snapshots yet: run `chainfolio refresh --once` first.")
    writer = csv.writer(env.out, lineterminator="\n")
    writer.writerow(
        ["snapshot_time", "wallet", "asset", "position", "symbol", "raw", "decimals", "amount",
         "price", "value", "currency", "state", "as_of", "spam", "price_manual"]
    )  # fmt: skip
    from app.domain.balances import to_decimal_amount

    for h in snapshot.holdings:
        if h.is_spam and not args.include_spam:
            continue
        writer.writerow(
            [
                _iso(snapshot.taken_at), h.wallet, h.asset_id, h.position, safe_cell(h.symbol),
                str(h.raw), h.decimals, format(to_decimal_amount(h.raw, h.decimals), "f"),
                optional_text(h.price) or "", optional_text(h.value) or "",
                snapshot.currency, h.state.value, _iso(h.as_of), "yes" if h.is_spam else "",
                "yes" if h.manual_price else "",
            ]
        )  # fmt: skip
    return 0
