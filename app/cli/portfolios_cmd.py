"""``chainfolio portfolios add|list|remove|include|exclude|show``: named sets of wallets and
ledger accounts; ``chainfolio links add|list|remove``: a ledger account recording a wallet."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv
from app.cli.portfolio_views import iso, money, print_unexplained, shown, unexplained_json

if TYPE_CHECKING:
    from app.domain.portfolios import Portfolio


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "portfolios", help="named sets of wallets and ledger accounts, with their own figures"
    )
    pc = p.add_subparsers(dest="portfolios_command", metavar="ACTION", required=True)

    add = pc.add_parser("add", help="add a portfolio")
    add.add_argument("name", help="a name such as 'Long term', 'Trading' or 'Family'")
    add.add_argument("--json", action="store_true", help="machine-readable output")
    add.set_defaults(func=_add)

    ls = pc.add_parser("list", help="the portfolios and their members")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    rm = pc.add_parser("remove", help="remove a portfolio (its wallets and accounts stay)")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)

    for action, helptext, func in (
        ("include", "add a wallet or a ledger account to a portfolio", _include),
        ("exclude", "take a wallet or a ledger account out of a portfolio", _exclude),
    ):
        m = pc.add_parser(action, help=helptext)
        m.add_argument("name", help="the portfolio")
        who = m.add_mutually_exclusive_group(required=True)
        who.add_argument("--wallet", metavar="ADDR", help="a watched wallet (address or ENS name)")
        who.add_argument("--account", metavar="ACCOUNT", help="a ledger account")
        m.set_defaults(func=func)

    show = pc.add_parser("show", help="a portfolio's members, total and day change")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=_show)

    lk = sub.add_parser(
        "links", help="ledger accounts that record a wallet (compared with its balances)"
    )
    lc = lk.add_subparsers(dest="links_command", metavar="ACTION", required=True)
    la = lc.add_parser("add", help="record a wallet's coins in a ledger account")
    la.add_argument("account", help="the ledger account")
    la.add_argument("wallet", help="the watched wallet (address or ENS name)")
    la.set_defaults(func=_link)
    ll = lc.add_parser("list", help="the links")
    ll.add_argument("--json", action="store_true", help="machine-readable output")
    ll.set_defaults(func=_links)
    lr = lc.add_parser("remove", help="unlink a ledger account from its wallet")
    lr.add_argument("account")
    lr.set_defaults(func=_unlink)
    lu = lc.add_parser(
        "check", help="compare linked wallets with the ledger (the unexplained change)"
    )
    lu.add_argument("--json", action="store_true", help="machine-readable output")
    lu.set_defaults(func=_check)


def _json(p: Portfolio) -> dict[str, Any]:
    return {
        "name": p.name,
        "wallets": list(p.wallets),
        "accounts": list(p.accounts),
        "created_at": iso(p.created_at),
    }


def _members(p: Portfolio) -> str:
    from app.domain.model import short_address
    from app.domain.text import clean_text

    parts = [short_address(w) for w in p.wallets] + [clean_text(a, 24) for a in p.accounts]
    return ", ".join(parts) if parts else "no members yet"


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    p = env.context.portfolios.add(args.name)
    if args.json:
        env.print_json(_json(p))
    else:
        env.print(f"Added portfolio {p.name}")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    items = env.context.portfolios.portfolios()
    if args.json:
        env.print_json([_json(p) for p in items])
        return 0
    if not items:
        env.print("No portfolios yet. Add one with: chainfolio portfolios add NAME")
    for p in items:
        env.print(f"{p.name:<24} {_members(p)}")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    p = env.context.portfolios.remove(args.name)
    env.print(f"Removed portfolio {p.name} (its wallets and accounts are kept)")
    return 0


def _member_text(args: argparse.Namespace, env: CliEnv) -> str:
    from app.domain.text import clean_text

    if args.wallet:
        return f"wallet {env.context.wallets.find(args.wallet).address}"  # as watched
    return f"account {clean_text(args.account, 64)}"


def _include(args: argparse.Namespace, env: CliEnv) -> int:
    p, changed = env.context.portfolios.include(args.name, wallet=args.wallet, account=args.account)
    what = _member_text(args, env)
    env.print(f"Added {what} to {p.name}" if changed else f"{p.name} already holds {what}")
    return 0


def _exclude(args: argparse.Namespace, env: CliEnv) -> int:
    p, changed = env.context.portfolios.exclude(args.name, wallet=args.wallet, account=args.account)
    what = _member_text(args, env)
    env.print(f"Took {what} out of {p.name}" if changed else f"{p.name} does not hold {what}")
    return 0


def _show(args: argparse.Namespace, env: CliEnv) -> int:
    s = env.context.portfolios.summary(args.name)
    change = s.day_change
    if args.json:
        env.print_json(
            {
                **_json(s.portfolio),
                "currency": s.currency,
                "total": money(s.total),
                "wallets_value": money(s.wallets_value),
                "accounts_value": money(s.accounts_value),
                "snapshot_time": iso(s.snapshot_time),
                "day_change": None
                if change is None
                else {
                    "amount": money(change.amount),
                    "percent": money(change.percent),
                    "since": iso(change.since),
                    "covers": "wallets",
                },
                "notes": list(s.notes),
            }
        )
        return 0
    cur = s.currency
    env.print(f"Portfolio {s.portfolio.name}: {_members(s.portfolio)}")
    env.print(f"  total: {shown(s.total)} {cur}")
    if s.portfolio.wallets:
        when = f" (snapshot {iso(s.snapshot_time)})" if s.snapshot_time else ""
        env.print(f"  wallets: {shown(s.wallets_value)} {cur}{when}")
    if s.portfolio.accounts:
        env.print(f"  ledger accounts: {shown(s.accounts_value)} {cur}")
    if change is not None:
        pct = "" if change.percent is None else f" ({change.percent:+.2f} %)"
        env.print(f"  day change of the wallets: {shown(change.amount)} {cur}{pct}")
    elif s.portfolio.wallets and s.snapshot_time is not None:
        env.print("  day change: none (no snapshot from about a day before)")
    for note in s.notes:
        env.print(f"Note: {note}")
    return 0


def _link(args: argparse.Namespace, env: CliEnv) -> int:
    link = env.context.portfolios.link(args.account, args.wallet)
    env.print(f"Account {link.account} now records wallet {link.wallet}")
    return 0


def _links(args: argparse.Namespace, env: CliEnv) -> int:
    links = env.context.portfolios.links()
    if args.json:
        env.print_json([{"account": lk.account, "wallet": lk.wallet} for lk in links])
        return 0
    if not links:
        env.print("No links yet. Link one with: chainfolio links add ACCOUNT WALLET")
    for lk in links:
        env.print(f"{lk.account:<24} {lk.wallet}")
    return 0


def _unlink(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.text import clean_text

    name = clean_text(args.account, 64)
    if env.context.portfolios.unlink(args.account):
        env.print(f"Account {name} no longer records a wallet")
    else:
        env.print(f"Account {name} was not linked to a wallet")
    return 0


def _check(args: argparse.Namespace, env: CliEnv) -> int:
    report = env.context.portfolios.unexplained()
    if args.json:
        env.print_json(unexplained_json(report))
    elif not report.links:
        env.print("No ledger account is linked to a wallet: chainfolio links add ACCOUNT WALLET")
    else:
        print_unexplained(env, report)
    return 0
