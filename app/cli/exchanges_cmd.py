"""``chainfolio exchanges add|list|remove``: exchange accounts read through ccxt.

The API key, secret and (OKX) passphrase are read from hidden prompts, or from stdin when piped
(one per line: key, secret[, passphrase]) — never from the command line, where they would land
in shell history and the process list. They are kept in the OS keyring only.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from app.cli.env import CliEnv
from app.domain.exchanges import (
    EXCHANGES,
    NEEDS_PASSPHRASE,
    Credentials,
    check_exchange,
    merge_parts,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("exchanges", help="exchange accounts (read-only API keys)")
    xs = p.add_subparsers(dest="exchanges_command", metavar="ACTION", required=True)
    add = xs.add_parser(
        "add",
        help="add an exchange account: the key is checked (read-only keys only) and kept in "
        "the OS keyring",
        description=f"Exchanges: {', '.join(EXCHANGES)}. The key and secret are asked on a "
        "hidden prompt, or read from stdin when piped (key, secret and, for OKX, the "
        "passphrase, one per line).",
    )
    add.add_argument("exchange", metavar="EXCHANGE", help=", ".join(EXCHANGES))
    add.add_argument(
        "--name", help="a name for the account (default: the exchange's), e.g. binance-savings"
    )
    add.add_argument(
        "--api-url",
        help="an address that replaces the exchange's API host (a regional host or a proxy)",
    )
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=_add)
    ls = xs.add_parser("list", help="exchange accounts (never their keys)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    rm = xs.add_parser("remove", help="forget an exchange account and its key")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)
    from app.cli.exchanges_import import register_import

    register_import(xs)  # chainfolio exchanges import: trades, deposits, withdrawals


def _read_credentials(exchange: str) -> Credentials:
    wants_passphrase = exchange in NEEDS_PASSPHRASE
    if sys.stdin.isatty():
        name = EXCHANGES[exchange]
        key = getpass.getpass(f"{name} API key (input hidden): ")
        secret = getpass.getpass(f"{name} API secret (input hidden): ")
        passphrase = (
            getpass.getpass(f"{name} API passphrase (input hidden): ") if wants_passphrase else None
        )
        return Credentials(key.strip(), secret.strip(), passphrase or None)
    lines = [line.strip() for line in sys.stdin.read().splitlines()]
    key = lines[0] if lines else ""
    rest = lines[1:]
    if rest and rest[0].startswith("-----BEGIN"):  # a PEM secret (Coinbase) spans lines
        end = next((i for i, line in enumerate(rest) if line.startswith("-----END")), len(rest) - 1)
        secret, rest = "\n".join(rest[: end + 1]), rest[end + 1 :]
    else:
        secret, rest = (rest[0] if rest else ""), rest[1:]
    passphrase = rest[0] if wants_passphrase and rest else None
    return Credentials(key, secret, passphrase)


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    exchange = check_exchange(args.exchange)
    service = env.context.exchanges
    env.context.secrets.require()  # say the keyring is missing before asking for the key
    credentials = _read_credentials(exchange)
    account, holdings, warning = asyncio.run(
        service.add(args.name or exchange, exchange, credentials, args.api_url)
    )
    if args.json:
        env.print_json(
            {
                "name": account.name,
                "exchange": account.exchange,
                "source": account.source,
                "holdings": {c: format(a, "f") for c, a in sorted(merge_parts(holdings).items())},
                "warning": warning,
            }
        )
        return 0
    coins = len({b.code for b in holdings})
    env.print(
        f"Added {account.title}: {coins} coin{'s' if coins != 1 else ''} held now. "
        "The next refresh reads it."
    )
    if warning:
        print(f"chainfolio: warning: {warning}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    from app.services.exchanges import describe

    views = env.context.exchanges.accounts()
    if args.json:
        env.print_json(describe(views))
        return 0
    if not views:
        env.print("No exchange accounts. Add one with: chainfolio exchanges add binance")
    for v in views:
        key = "key in keyring" if v.has_key else "KEY MISSING from the keyring"
        env.print(f"{v.account.name}\t{EXCHANGES.get(v.account.exchange)}\t{key}")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    if not env.context.exchanges.remove(args.name):
        env.print(f"No exchange account named {args.name}.")
        return 1
    env.print(f"Removed {args.name} and its key.")
    return 0
