"""``chainfolio privacy report [--json]``: what each host has learnt (the privacy ledger)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import cast

from app.cli.env import CliEnv


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("privacy", help="which hosts were contacted and what they learnt")
    pr = p.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    rep = pr.add_parser(
        "report",
        help="per host: requests, your addresses it has seen, first and last contact, refused",
        description="Every host Chainfolio contacted or refused to contact, with the number of "
        "requests, which of your watched addresses each request carried, and when.",
    )
    rep.add_argument("--json", action="store_true", help="machine-readable output")
    rep.set_defaults(func=_report)


def _iso(at: int | None) -> str:
    if at is None:
        return "never"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _report(args: argparse.Namespace, env: CliEnv) -> int:
    from app.config import NetSettings
    from app.domain.privacy import purpose_name

    ctx = env.context
    ctx.flush_privacy()
    hosts = ctx.privacy.report()
    net = NetSettings(env.settings)
    names = ctx.privacy_names()
    if args.json:
        rows = [h.as_json() for h in hosts]
        for row, h in zip(rows, hosts, strict=True):
            row["addresses"] = [  # each with its wallet's name (None: no longer watched)
                {**seen, "wallet": names.get(a.address)}
                for seen, a in zip(cast(list[dict[str, object]], row["addresses"]), h.addresses,
                                   strict=True)
            ]  # fmt: skip
        env.print_json(
            {"proxy": net.proxy or None, "own_nodes_only": net.own_nodes_only, "hosts": rows}
        )
        return 0
    env.print(
        f"Proxy: {net.proxy or 'none (direct)'}. Own nodes only: "
        f"{'on' if net.own_nodes_only else 'off'}."
    )
    if not hosts:
        env.print("No host has been contacted yet.")
        return 0
    for h in hosts:
        env.print("")
        env.print(f"{h.host}  ({', '.join(purpose_name(p) for p in h.purposes)})")
        env.print(f"  requests: {h.requests}   refused: {h.refused}")
        env.print(f"  first contact: {_iso(h.first_at)}   last contact: {_iso(h.last_at)}")
        if h.refused:
            env.print(f"  last refused: {_iso(h.last_refused_at)}")
        env.print(f"  your addresses it has seen: {len(h.addresses)}")
        for a in h.addresses:
            name = names.get(a.address, "no longer watched")
            env.print(
                f"    {a.address}  {name}  ({a.requests} request{'' if a.requests == 1 else 's'}, last {_iso(a.last_at)})"
            )
    return 0
