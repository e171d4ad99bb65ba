"""``chainfolio history scan``: read the wallets' past from the chains into the ledger.

Progress goes to standard error while it is a terminal (one line, rewritten); the summary, or
with ``--json`` the document below, to standard output. Ctrl+C stops the scan: every batch
already stored stays, and the next scan resumes there (and imports it into the ledger).

JSON::

    {"cancelled": false,
     "chains": [{"chain": "eip155:1", "name": "Ethereum", "error": null, "cancelled": false,
                 "movements": 35, "fees": 4, "notes": ["…what the node could not give…"],
                 "wallets": [{"wallet": "0x…", "movements": 20}, …]}, …],
     "ledger": {"added": 30, "removed": 0, "priced": 0, "spam": 2, "unknown": 0,
                "unpriced": 1, "accounts": {"0x…": "Wallet Main (0x5aAe…eAed)"}},
     "notes": ["…"]}

Exit status: 0 when every network was scanned, 1 when any failed (its reason is in the
summary), 130 when stopped with Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.env import CliEnv
from app.cli.progress import LiveLine

if TYPE_CHECKING:
    from app.services.onchain_history import ScanProgress, ScanReport


def register_scan(history: argparse.ArgumentParser) -> None:
    sub = history.add_subparsers(dest="history_command", metavar="ACTION")
    scan = sub.add_parser(
        "scan",
        help="read each wallet's past transfers from the chains into the ledger (resumes "
        "where the last scan stopped)",
        description="Reads each wallet's past transfers (EVM, Solana, Bitcoin) from your "
        "networks' nodes and records them in the ledger: transfers between your wallets, swaps, "
        "deposits, withdrawals and fees. A scan resumes where the last one stopped; Ctrl+C "
        "keeps what was read.",
    )
    scan.add_argument("--wallet", metavar="W", help="only this wallet (address or label)")
    scan.add_argument("--chain", metavar="C", help="only this network (id or name)")
    scan.add_argument("--json", action="store_true", help="machine-readable summary")
    scan.set_defaults(func=run_scan)


def progress_line(p: ScanProgress) -> str:
    from app.services.onchain_history import eta_text  # not at parser build: every command

    total = f"{p.total:,}" if p.total else "?"
    return (
        f"{p.name}: {p.done:,}/{total} · {p.overall:.0%} overall · {p.stored:,} movements · "
        f"{eta_text(p.eta_seconds)}"
    )


def run_scan(args: argparse.Namespace, env: CliEnv, err: TextIO | None = None) -> int:
    err = err or sys.stderr
    service = env.context.onchain_history
    progress = LiveLine(err, progress_line)

    from app.cli.exchanges_import import import_after_scan, scan_output

    exchanges: list[Any] = [None]  # the exchange accounts' import, run after the chains

    async def run() -> ScanReport:
        try:
            scanned = await service.scan(wallet=args.wallet, chain=args.chain)
            exchanges[0] = await import_after_scan(env, args)
            return scanned
        finally:
            await env.context.aclose()

    with progress.following(service):
        report = asyncio.run(run())
    if args.json:
        env.print_json(scan_output(env, scan_json(report), exchanges[0]))
    else:
        _print_summary(env, report)
        scan_output(env, None, exchanges[0])
    return 1 if report.failed or (exchanges[0] is not None and exchanges[0].failed) else 0


def scan_json(report: ScanReport) -> dict[str, Any]:
    return {
        "cancelled": report.cancelled,
        "chains": [
            {
                "chain": c.chain,
                "name": c.name,
                "error": c.error,
                "cancelled": c.cancelled,
                "movements": c.movements,
                "fees": c.fees,
                "notes": list(c.notes),
                "wallets": [{"wallet": w, "movements": n} for w, n in sorted(c.wallets.items())],
            }
            for c in report.chains
        ],
        "ledger": {
            "added": report.ledger.added,
            "removed": report.ledger.removed,
            "priced": report.ledger.priced,
            "spam": report.ledger.spam,
            "unknown": report.ledger.unknown,
            "unpriced": report.ledger.unpriced,
            "accounts": dict(sorted(report.ledger.accounts.items())),
        },
        "notes": list(report.notes),
    }


def _print_summary(env: CliEnv, report: ScanReport) -> None:
    for c in report.chains:
        if c.error:
            env.print(f"{c.name}: FAILED: {c.error}")
            continue
        state = " (stopped)" if c.cancelled else ""
        env.print(
            f"{c.name}{state}: {len(c.wallets)} wallet(s), {c.movements} new movement(s), "
            f"{c.fees} fee(s)"
        )
        for wallet, n in sorted(c.wallets.items()):
            env.print(f"  {wallet}  {n}")
    led = report.ledger
    env.print(
        f"Ledger: {led.added} transaction(s) added, {led.removed} removed"
        + (f", {led.priced} given their price" if led.priced else "")
    )
    for wallet, name in sorted(led.accounts.items()):
        env.print(f"  {name}  ←  {wallet}")
    for note in report.notes:
        env.print(note)
    if report.cancelled:
        env.print("Stopped: what was read is kept; the next scan resumes there.")
    env.print("See them with `chainfolio tx list`.")
