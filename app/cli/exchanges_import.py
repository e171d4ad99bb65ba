"""``chainfolio exchanges import [NAME] [--json]``: the exchange accounts' trades, deposits and
withdrawals into the ledger (incremental: each import asks only for what is new).

Progress goes to standard error while it is a terminal; the summary, or with ``--json`` the
document of :func:`app.services.exchange_history.describe`, to standard output. Exit status: 0
when every account was read to its end, 1 when any stopped early (what was read is kept and
imported), 130 when stopped with Ctrl+C (the same holds).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from app.cli.env import CliEnv
from app.cli.progress import LiveLine

if TYPE_CHECKING:
    from app.services.exchange_history import ImportProgress, ImportReport


def register_import(xs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = xs.add_parser(
        "import",
        help="import trades, deposits and withdrawals into the ledger (only what is new; "
        "deposits and withdrawals to your own wallets become transfers)",
    )
    imp.add_argument("name", nargs="?", help="only this account (default: every one)")
    imp.add_argument("--json", action="store_true", help="machine-readable summary")
    imp.set_defaults(func=run_import)


def progress_line(p: ImportProgress) -> str:
    return f"{p.title}: {p.stream} · {p.records:,} new record(s)"


def run_import(args: argparse.Namespace, env: CliEnv, err: TextIO | None = None) -> int:
    from app.services.exchange_history import describe, summary

    err = err or sys.stderr
    service = env.context.exchange_history
    progress = LiveLine(err, progress_line)

    async def run() -> ImportReport:
        try:
            return await service.import_history(args.name)
        finally:
            await env.context.aclose()

    with progress.following(service):
        report = asyncio.run(run())
    if args.json:
        env.print_json(describe(report))
    elif not report.accounts:
        env.print("No exchange accounts. Add one with: chainfolio exchanges add binance")
    else:
        for line in summary(report):
            env.print(line)
    return 1 if report.failed else 0


# ---- `chainfolio history scan` runs the exchange import after the chains ---------------------
async def import_after_scan(env: CliEnv, args: argparse.Namespace) -> ImportReport | None:
    """After a scan of every wallet on every network, the exchange accounts' import (it runs
    after the chains so that deposits and withdrawals match the wallets' fresh entries). None
    when the scan was limited to a wallet or network, or there is no exchange account."""
    from app.domain.errors import ChainfolioError

    if getattr(args, "wallet", None) or getattr(args, "chain", None):
        return None
    accounts = await asyncio.to_thread(env.context.exchanges.account_urls)
    if not accounts:
        return None
    try:
        return await env.context.exchange_history.import_history()
    except ChainfolioError as exc:
        print(f"chainfolio: exchange accounts were not imported: {exc}", file=sys.stderr)
        return None


def scan_output(
    env: CliEnv, doc: dict[str, object] | None, report: ImportReport | None
) -> dict[str, object] | None:
    """The exchange part of ``history scan``'s output: added to the JSON document (key
    ``exchanges``), or printed after the chains' summary."""
    if report is None:
        return doc
    from app.services.exchange_history import describe, summary

    if doc is not None:
        return {**doc, "exchanges": describe(report)}
    for line in summary(report):
        env.print(line)
    return None
