"""``chainfolio accounts add|list|remove``: the ledger's manual accounts."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from app.cli.env import CliEnv

KINDS = ("broker", "bank", "exchange", "cold-storage", "other")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "accounts", help="manual accounts of the ledger (broker, bank, exchange, cold storage)"
    )
    ac = p.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    add = ac.add_parser("add", help="add a manual account")
    add.add_argument("name", help="a name you recognise, such as 'Broker' or 'Kraken'")
    add.add_argument("--kind", choices=KINDS, default="other", help="what the account is")
    add.add_argument("--note", default="", help="a note (for a cold storage: where it is)")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(func=_add)

    ls = ac.add_parser("list", help="the manual accounts")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    rm = ac.add_parser("remove", help="remove a manual account")
    rm.add_argument("name")
    rm.add_argument(
        "--with-transactions",
        action="store_true",
        help="also delete its transactions (otherwise an account with transactions is kept)",
    )
    rm.set_defaults(func=_remove)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    a = env.context.ledger.add_account(args.name, args.kind, args.note)
    if args.json:
        env.print_json({"id": a.id, "name": a.name, "kind": a.kind.value, "note": a.note})
    else:
        env.print(f"Added account {a.name} ({a.kind.value})")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    accounts = env.context.ledger.accounts()
    if args.json:
        env.print_json(
            [
                {
                    "id": a.id,
                    "name": a.name,
                    "kind": a.kind.value,
                    "note": a.note,
                    "created_at": _iso(a.created_at),
                }
                for a in accounts
            ]
        )
        return 0
    if not accounts:
        env.print("No accounts yet. Add one with: chainfolio accounts add NAME --kind broker")
    for a in accounts:
        note = f"  {a.note}" if a.note else ""
        env.print(f"{a.name:<24} {a.kind.value:<13}{note}")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    n = env.context.ledger.remove_account(args.name, with_transactions=args.with_transactions)
    extra = f" and its {n} transaction(s)" if n else ""
    env.print(f"Removed account {args.name}{extra}")
    return 0
