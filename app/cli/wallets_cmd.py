"""``chainfolio wallets add|list|remove|label|group``."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.env import CliEnv
from app.domain.model import Wallet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("wallets", help="add, list, label and remove watch-only wallets")
    ws = p.add_subparsers(dest="wallets_command", metavar="ACTION", required=True)

    add = ws.add_parser(
        "add",
        help="watch one or more addresses (EVM 0x…, Solana base58 or name.eth; Bitcoin bc1…/1…/3…, "
        "an xpub/ypub/zpub or an output descriptor, quoted); several are added together or not "
        "at all",
    )
    add.add_argument("address", nargs="+")
    add.add_argument("--label", default="", help="a name for this wallet (each, if several)")
    add.add_argument("--group", default="", help="a group, e.g. 'cold storage'")
    add.set_defaults(func=_add)

    imp = ws.add_parser(
        "import",
        help="add many addresses from a file (- reads standard input): one per line, or CSV "
        "address,label[,group]; all are added in one go, or none",
    )
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(func=_import)

    ls = ws.add_parser("list", help="list watched wallets")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    rm = ws.add_parser("remove", help="stop watching an address")
    rm.add_argument("address")
    rm.set_defaults(func=_remove)

    lab = ws.add_parser("label", help="set or clear a wallet's label")
    lab.add_argument("address")
    lab.add_argument("label", nargs="?", default="")
    lab.set_defaults(func=_label)

    grp = ws.add_parser("group", help="set or clear a wallet's group")
    grp.add_argument("address")
    grp.add_argument("group", nargs="?", default="")
    grp.set_defaults(func=_group)


def wallet_json(wallet: Wallet) -> dict[str, object]:
    return {
        "id": wallet.id,
        "address": wallet.address,
        "family": wallet.family.value,
        "label": wallet.label,
        "group": wallet.group,
        "ens_name": wallet.ens_name,
        "created_at": wallet.created_at.isoformat(),
    }


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    if len(args.address) == 1:
        wallet = asyncio.run(env.context.wallets.add(args.address[0], args.label, args.group))
        _print_added(env, wallet)
        return 0
    from app.services.wallets import WalletEntry

    count = len(args.address)
    entries = [
        WalletEntry(f"address {i} of {count}", text, args.label, args.group)
        for i, text in enumerate(args.address, start=1)
    ]
    result = asyncio.run(env.context.wallets.add_many(entries))
    for wallet in result.added:
        _print_added(env, wallet)
    if result.skipped:
        env.print(f"{result.skipped} already watched (or repeated), skipped.")
    return 0


def _print_added(env: CliEnv, wallet: Wallet) -> None:
    if wallet.watch is not None:  # a Bitcoin key or descriptor: named shortened, never in full
        from app.domain.bitcoin import shorten_key

        env.print(
            f"Added {wallet.family.value} wallet {shorten_key(wallet.watch)} (first address "
            f"{wallet.address}); its addresses are found at the next refresh"
            + (f" ({wallet.label})" if wallet.label else "")
        )
        return
    env.print(
        f"Added {wallet.family.value} wallet {wallet.address}"
        + (f" ({wallet.label})" if wallet.label else "")
    )


def _import(args: argparse.Namespace, env: CliEnv) -> int:
    from app.cli.wallet_list import read_wallet_list

    entries = read_wallet_list(args.file)
    result = asyncio.run(env.context.wallets.add_many(entries))
    skipped = f" ({result.skipped} already watched or repeated, skipped)" if result.skipped else ""
    env.print(f"Added {len(result.added)} wallets{skipped}.")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    wallets = env.context.wallets.list()
    if args.json:
        env.print_json([wallet_json(w) for w in wallets])
        return 0
    if not wallets:
        env.print("No wallets yet. Add one with: chainfolio wallets add ADDRESS --label NAME")
        return 0
    for w in wallets:
        extras = "  ".join(
            x for x in (w.label, f"[{w.group}]" if w.group else "", w.ens_name or "") if x
        )
        env.print(f"{w.family.value:<7} {w.address}  {extras}".rstrip())
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    wallet = env.context.wallets.find(args.address)
    env.context.wallets.remove(wallet)
    env.print(f"Removed {wallet.address}")
    return 0


def _label(args: argparse.Namespace, env: CliEnv) -> int:
    svc = env.context.wallets
    wallet = svc.edit(svc.find(args.address), label=args.label)
    env.print(f"{wallet.address}: label {wallet.label!r}")
    return 0


def _group(args: argparse.Namespace, env: CliEnv) -> int:
    svc = env.context.wallets
    wallet = svc.edit(svc.find(args.address), group=args.group)
    env.print(f"{wallet.address}: group {wallet.group!r}")
    return 0
