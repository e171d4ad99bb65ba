"""``chainfolio yield``: the interest-bearing positions of the latest snapshot with their APY
now, the yield realised over their own snapshots, and the portfolio's weighted APY (what the
window's Yield tab shows)."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING

from app.cli.env import CliEnv

if TYPE_CHECKING:
    from app.services.yields import YieldReport, YieldRow


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "yield",
        help="APY of each interest-bearing position and of the portfolio (latest snapshot)",
        description="The rate each protocol quoted at the last refresh (APY, compounding "
        "included; a debt's is what it costs), the yield each position realised over its own "
        "snapshots of the last 30 days, and the portfolio's value-weighted APY.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (exact numbers)")
    p.set_defaults(func=_yield)


def _row_json(r: YieldRow) -> dict[str, object]:
    return {
        "wallet": r.wallet,
        "asset": r.asset_id,
        "symbol": r.symbol,
        "position": r.position,
        "protocol": r.protocol,
        "side": r.rate.side.value,
        "value": None if r.value is None else str(r.value),
        "apy": str(r.rate.apy),
        "apr": None if r.rate.apr is None else str(r.rate.apr),
        "realised_apy": None if r.realised is None else str(r.realised),
    }


def _report_json(report: YieldReport) -> dict[str, object]:
    p = report.portfolio
    return {
        "currency": report.currency,
        "portfolio": {
            "apy": None if p.apy is None else str(p.apy),
            "earning_value": str(p.earning_value),
            "owing_value": str(p.owing_value),
            "yearly": str(p.yearly),
        },
        "positions": [_row_json(r) for r in report.rows],
    }


def money_line(value: Decimal | None, currency: str) -> str:
    """``12,345.67 USD``; a position without a price has no value: ``-``."""
    return "-" if value is None else f"{value:,.2f} {currency}"


def _yield(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.alerts import short_address
    from app.domain.rates import RateSide, percent

    latest = env.context.snapshots.latest()
    report = env.context.yields.report(latest)
    if args.json:
        env.print_json(_report_json(report))
        return 0
    if latest is None:
        env.print("No snapshot yet: run `chainfolio refresh --once` first.")
        return 0
    if not report.rows:
        env.print(
            "In the latest snapshot no protocol quoted an interest rate for a position "
            "(supplies and loans on Aave, Spark, Compound and Morpho, Sky savings and Pendle "
            "PTs carry one)."
        )
        return 0
    names = env.context.chain_names
    for r in report.rows:
        sign = "-" if r.rate.side is RateSide.BORROW else ""
        realised = f"{sign}{percent(r.realised)}" if r.realised is not None else "-"
        env.print(
            f"{r.symbol:<10} {r.position:<40.40} {names.get(r.chain, r.chain):<14.14} "
            f"{short_address(r.wallet):<12} {money_line(r.value, report.currency):>22}  "
            f"APY {sign + percent(r.rate.apy):>9}  realised {realised:>9}"
        )
    p = report.portfolio
    apy = percent(p.apy) if p.apy is not None else "not meaningful (debts exceed earnings)"
    env.print(f"Portfolio yield: {apy}; about {money_line(p.yearly, report.currency)} a year.")
    return 0
