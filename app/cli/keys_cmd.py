"""``chainfolio keys set|remove|list|status``: API keys in the OS keyring.

Values are read from a hidden prompt (or stdin when piped), never from the command line, where
they would land in shell history and in the process list. Listing shows names only.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.env import CliEnv

if TYPE_CHECKING:
    from app.secrets import KeyringSecretStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="API keys and keyed RPC URLs in the OS keyring")
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    st = ks.add_parser(
        "set",
        help="store a key (value from a hidden prompt, or from stdin when piped)",
        description="Known names: coingecko.demo, coingecko.pro, stooq; keyed RPC URL parts use "
        "rpc.<chain id>.<n>. The value is never taken from the command line.",
    )
    st.add_argument("name")
    st.set_defaults(func=_set)
    rm = ks.add_parser("remove", help="delete a key from the keyring")
    rm.add_argument("name")
    rm.set_defaults(func=_remove)
    ls = ks.add_parser("list", help="names of stored keys (never their values)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    stat = ks.add_parser("status", help="whether a usable keyring exists, and how to fix it")
    stat.add_argument("--json", action="store_true")
    stat.set_defaults(func=_status)


def _store(env: CliEnv) -> KeyringSecretStore:
    env.paths  # noqa: B018 - sets up redacting logging before any value is read
    from app.secrets import KeyringSecretStore

    return KeyringSecretStore()


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"Value for {name} (input hidden): ")
    return sys.stdin.read().strip()


def _set(args: argparse.Namespace, env: CliEnv) -> int:
    from app.secrets import check_name

    check_name(args.name)  # refuses a wallet secret given as the name, without echoing it
    store = _store(env)
    store.require()  # say what is missing before asking for the value
    value = _read_value(args.name)
    store.set(args.name, value)
    env.print(f"Stored {args.name} in the keyring.")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    store = _store(env)
    store.delete(args.name)
    env.print(f"Removed {args.name}.")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    from app.secrets import describe_name

    store = _store(env)
    status = store.status()
    names = store.names()
    if args.json:
        env.print_json({"keyring_usable": status.usable, "names": names})
        return 0
    if not status.usable:
        print(f"chainfolio: warning: {status.describe()}", file=sys.stderr)
    if not names:
        env.print("No keys stored.")
    for name in names:
        env.print(f"{name}\t{describe_name(name)}")
    return 0


def _status(args: argparse.Namespace, env: CliEnv) -> int:
    store = _store(env)
    status = store.status()
    if args.json:
        env.print_json(
            {
                "usable": status.usable,
                "backend": status.backend,
                "problem": status.problem,
                "fix": status.fix,
            }
        )
    else:
        env.print(status.describe())
    return 0 if status.usable else 1
