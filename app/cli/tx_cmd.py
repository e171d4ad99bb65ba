"""``chainfolio tx add|list|edit|remove|import|export``: the ledger's transactions."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv

if TYPE_CHECKING:
    from app.domain.ledger import Transaction

TYPES = ("buy", "sell", "deposit", "withdrawal", "transfer", "income", "fee")
INCOME = ("interest", "staking", "airdrop", "dividend", "other")
FORMATS = ("generic", "koinly", "cointracking")


def _fields(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--account", required=required, help="the account (see: accounts list)")
    p.add_argument("--type", dest="kind", choices=TYPES, required=required)
    p.add_argument(
        "--asset",
        required=required,
        help="asset id (fiat:EUR, stock:XNAS:AAPL, etf:IE00B4L5Y983, bond:ISIN, commodity:XAU, "
        "a CAIP-19 id) or a known symbol (BTC, ETH, EUR)",
    )
    p.add_argument("--amount", required=required, help="units, positive (0.5)")
    p.add_argument("--price", help="price per unit (buy and sell need one)")
    p.add_argument("--currency", help="currency of the price (USD, EUR, …)")
    p.add_argument("--fee", help="fee amount")
    p.add_argument("--fee-currency", help="currency of the fee: a fiat code or the asset itself")
    p.add_argument("--to", dest="to_account", help="transfer: the account it goes to")
    p.add_argument("--income-kind", choices=INCOME, help="income: what kind")
    p.add_argument("--date", help="when, UTC (2024-03-01 or 2024-03-01T14:30:00; default: now)")
    p.add_argument("--note", help="a note")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tx", help="ledger transactions: add, list, edit, remove, import, export")
    tx = p.add_subparsers(dest="tx_command", metavar="ACTION", required=True)

    add = tx.add_parser("add", help="record one transaction")
    _fields(add, required=True)
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(func=_add)

    ls = tx.add_parser("list", help="transactions, oldest first")
    ls.add_argument("--account")
    ls.add_argument("--asset")
    ls.add_argument("--type", dest="kind", choices=TYPES)
    ls.add_argument("--from", dest="since", help="from this date (UTC)")
    ls.add_argument("--to", dest="until", help="up to this date (UTC, inclusive)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    ed = tx.add_parser("edit", help="change fields of a transaction")
    ed.add_argument("id", type=int)
    _fields(ed, required=False)
    ed.add_argument("--json", action="store_true", help="machine-readable output")
    ed.set_defaults(func=_edit)

    rm = tx.add_parser("remove", help="delete a transaction")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=_remove)

    im = tx.add_parser(
        "import",
        help="import a CSV file (all of it or nothing; a file imported twice adds nothing)",
    )
    im.add_argument("file", help="the CSV file ('-' reads standard input)")
    im.add_argument("--format", choices=FORMATS, default="generic")
    im.add_argument("--account", help="the account for Koinly files (and CoinTracking rows "
                    "without an Exchange)")  # fmt: skip
    im.add_argument(
        "--asset",
        action="append",
        default=[],
        metavar="SYMBOL=ID",
        help="map a symbol of the file to an asset id (repeatable): --asset ARB=eip155:42161/…",
    )
    im.add_argument("--create-accounts", action="store_true", help="add accounts the file names")
    im.add_argument("--dry-run", action="store_true", help="show what would be added; add nothing")
    im.add_argument("--json", action="store_true", help="machine-readable output")
    im.set_defaults(func=_import)

    ex = tx.add_parser("export", help="write the transactions as CSV")
    ex.add_argument("--format", choices=FORMATS, default="generic")
    ex.add_argument("--account", help="only this account")
    ex.add_argument("--output", "-o", help="write to this file (default: standard output)")
    ex.set_defaults(func=_export)


def parse_date(text: str, *, end: bool = False) -> int:
    from app.domain.ledger import LedgerError
    from app.services.ledger_csv import parse_time

    try:
        ts = parse_time(text)
    except Exception:
        raise LedgerError(
            f"{text!r} is not a date (use 2024-03-01 or 2024-03-01T14:30:00)"
        ) from None
    if end and len(text.strip()) <= 10:
        ts += 86399  # a whole day
    return ts


def tx_json(t: Transaction) -> dict[str, Any]:
    from app.domain.valuation import optional_text

    return {
        "id": t.id,
        "date": datetime.fromtimestamp(t.ts, UTC).isoformat(),
        "account": t.account,
        "type": t.kind.value,
        "asset": t.asset,
        "amount": optional_text(t.amount),
        "price": optional_text(t.price),
        "price_currency": t.price_currency,
        "fee": optional_text(t.fee) if t.fee else None,
        "fee_currency": t.fee_currency,
        "to_account": t.to_account,
        "income_kind": t.income_kind.value if t.income_kind else None,
        "note": t.note,
    }


def tx_line(t: Transaction) -> str:
    from app.domain.assets import parse_asset
    from app.domain.text import clean_text

    when = datetime.fromtimestamp(t.ts, UTC).strftime("%Y-%m-%d %H:%M")
    symbol = clean_text(parse_asset(t.asset).symbol, 24)
    price = f" @ {t.price} {t.price_currency}" if t.price is not None else ""
    fee_cur = t.fee_currency or ""
    if ":" in fee_cur:
        fee_cur = clean_text(parse_asset(fee_cur).symbol, 24)
    fee = f" fee {t.fee} {fee_cur}" if t.fee else ""
    to = f" -> {t.to_account}" if t.to_account else ""
    kind = t.kind.value + (f"/{t.income_kind.value}" if t.income_kind else "")
    return f"{t.id or '':>6}  {when}  {t.account}{to}  {kind:<16} {t.amount} {symbol}{price}{fee}"


def _asset_id(text: str) -> str:
    from app.domain.assets import asset_from_symbol
    from app.domain.ledger import LedgerError

    try:
        return asset_from_symbol(text).id
    except ValueError as exc:
        raise LedgerError(str(exc)) from None


def _fee_currency(text: str) -> str:
    """A fiat code stays a code (USD); anything else is the asset it names (BTC -> its id)."""
    from app.domain.assets import asset_from_symbol
    from app.domain.ledger import LedgerError

    try:
        asset = asset_from_symbol(text)
    except ValueError as exc:
        raise LedgerError(f"fee currency: {exc}") from None
    return asset.code if asset.is_fiat else asset.id


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    from app.domain.ledger import IncomeKind, TxKind, parse_amount

    out: dict[str, Any] = {}
    if args.account is not None:
        out["account"] = args.account
    if args.kind is not None:
        out["kind"] = TxKind(args.kind)
    if args.asset is not None:
        out["asset"] = _asset_id(args.asset)
    if args.amount is not None:
        out["amount"] = parse_amount(args.amount, "amount")
    if args.price is not None:
        out["price"] = parse_amount(args.price, "price", allow_zero=True)
    if args.currency is not None:
        out["price_currency"] = args.currency
    if args.fee is not None:
        out["fee"] = parse_amount(args.fee, "fee", allow_zero=True)
    if args.fee_currency is not None:
        out["fee_currency"] = _fee_currency(args.fee_currency)
    if args.to_account is not None:
        out["to_account"] = args.to_account
    if args.income_kind is not None:
        out["income_kind"] = IncomeKind(args.income_kind)
    if args.date is not None:
        out["ts"] = parse_date(args.date)
    if args.note is not None:
        out["note"] = args.note
    return out


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    import time

    from app.domain.ledger import Transaction

    fields = _changes(args)
    fields.setdefault("ts", int(time.time()))
    fields.setdefault("fee", Decimal(0))
    tx = env.context.ledger.add(Transaction(**fields))
    if args.json:
        env.print_json(tx_json(tx))
    else:
        env.print(f"Added {tx_line(tx).strip()}")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    txs = env.context.ledger.transactions(
        account=args.account,
        asset=_asset_id(args.asset) if args.asset else None,
        kind=args.kind,
        since=parse_date(args.since) if args.since else None,
        until=parse_date(args.until, end=True) if args.until else None,
    )
    if args.json:
        env.print_json([tx_json(t) for t in txs])
        return 0
    if not txs:
        env.print("No transactions. Add one with `chainfolio tx add` or import a CSV file.")
    for t in txs:
        env.print(tx_line(t))
    return 0


def _edit(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.ledger import LedgerError

    changes = _changes(args)
    if not changes:
        raise LedgerError("nothing to change: give the fields to change (--price 101, …)")
    tx = env.context.ledger.edit(args.id, **changes)
    if args.json:
        env.print_json(tx_json(tx))
    else:
        env.print(f"Changed {tx_line(tx).strip()}")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    tx = env.context.ledger.remove(args.id)
    env.print(f"Removed {tx_line(tx).strip()}")
    return 0


def _read(path: str) -> str:
    from app.domain.ledger import LedgerError

    if path == "-":
        return sys.stdin.read()
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise LedgerError(f"there is no file {path}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _import(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.ledger import LedgerError

    mapping: dict[str, str] = {}
    for pair in args.asset:
        symbol, sep, asset = pair.partition("=")
        if not sep or not symbol.strip() or not asset.strip():
            raise LedgerError(f"--asset {pair!r}: write SYMBOL=ID")
        mapping[symbol.strip()] = asset.strip()
    report = env.context.ledger.import_csv(
        _read(args.file),
        args.format,
        account=args.account,
        asset_map=mapping,
        dry_run=args.dry_run,
        create_accounts=args.create_accounts,
    )
    if args.json:
        env.print_json(
            {
                "format": report.format.value,
                "ok": report.ok,
                "dry_run": report.dry_run,
                "rows": report.rows,
                "new": len(report.to_add),
                "duplicates": report.duplicates,
                "added": report.added,
                "new_accounts": list(report.new_accounts),
                "errors": [{"line": e.line, "message": e.message} for e in report.errors],
                "transactions": [tx_json(t) for t in report.to_add] if report.dry_run else [],
            }
        )
        return 0 if report.ok else 1
    for e in report.errors:
        print(f"line {e.line}: {e.message}", file=sys.stderr)
    if report.errors:
        print(
            f"chainfolio: error: {len(report.errors)} line(s) of the file are not valid: "
            "nothing was imported.",
            file=sys.stderr,
        )
        return 1
    if report.dry_run:
        for t in report.to_add:
            env.print(f"would add: {tx_line(t).strip()}")
        env.print(
            f"Dry run: {len(report.to_add)} transaction(s) would be added, "
            f"{report.duplicates} already imported; nothing was changed."
        )
        return 0
    created = f" (new accounts: {', '.join(report.new_accounts)})" if report.new_accounts else ""
    env.print(
        f"Imported {report.added} transaction(s); {report.duplicates} were already imported"
        f"{created}."
    )
    return 0


def _export(args: argparse.Namespace, env: CliEnv) -> int:
    text = env.context.ledger.export_csv(args.format, account=args.account)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        env.print(f"Wrote {args.output}")
    else:
        env.out.write(text)
    return 0
