"""``chainfolio pnl`` (cost basis, realised and unrealised P&L) and ``chainfolio returns``
(time-weighted return and IRR) of the ledger."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv

if TYPE_CHECKING:
    from app.domain.cost_basis import HoldingPnl, PnlTotals
    from app.services.ledger import ReturnsReport

_PLACES = Decimal("1e-10")  # JSON money: ten decimal places (divisions make endless digits)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pnl", help="cost basis and realised / unrealised profit of the ledger")
    p.add_argument("--method", choices=("fifo", "average"), help="default: ledger.cost_basis")
    p.add_argument(
        "--scope", choices=("account", "pooled"), help="cost basis per account or pooled"
    )
    who = p.add_mutually_exclusive_group()
    who.add_argument("--account", help="only this account's holdings")
    who.add_argument("--portfolio", metavar="P", help="only this portfolio's accounts")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_pnl)

    r = sub.add_parser("returns", help="time-weighted return and IRR of the ledger")
    rwho = r.add_mutually_exclusive_group()
    rwho.add_argument("--account", help="one account (default: everything in the ledger)")
    rwho.add_argument("--portfolio", metavar="P", help="a portfolio's accounts and wallets")
    r.add_argument("--from", dest="start", help="first day, UTC (default: the first transaction)")
    r.add_argument("--to", dest="end", help="last day, UTC (default: today)")
    r.add_argument("--series", action="store_true", help="with --json: the daily values too")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(func=_returns)


def money(value: Decimal | None) -> str | None:
    from app.domain.valuation import decimal_text

    if value is None:
        return None
    with localcontext(Context(prec=80)):
        return decimal_text(value.quantize(_PLACES).normalize() if value else Decimal(0))


def _shown(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "unknown"
    with localcontext(Context(prec=80)):
        return f"{value.quantize(Decimal(1).scaleb(-places)):,}"


def _holding_json(h: HoldingPnl) -> dict[str, Any]:
    return {
        "account": h.account,
        "asset": h.asset,
        "quantity": money(h.quantity),
        "cost_basis": money(h.cost_basis),
        "unknown_basis_quantity": money(h.unknown_basis_quantity),
        "price": money(h.price),
        "price_source": h.price_source,
        "price_as_of": None
        if h.price_ts is None
        else datetime.fromtimestamp(h.price_ts, UTC).isoformat(),
        "market_value": money(h.market_value),
        "unrealised": money(h.unrealised),
        "realised": money(h.realised),
        "realised_unknown_basis_quantity": money(h.realised_unknown_quantity),
        "realised_unknown_basis_proceeds": money(h.realised_unknown_proceeds),
        "income": money(h.income),
        "fees": money(h.fees),
        "total": money(h.total),
    }


def _totals_json(t: PnlTotals) -> dict[str, Any]:
    return {
        "cost_basis": money(t.cost_basis),
        "market_value": money(t.market_value),
        "unrealised": money(t.unrealised),
        "holdings_with_unknown_unrealised": t.unrealised_unknown_holdings,
        "realised": money(t.realised),
        "holdings_with_unknown_basis_sales": t.realised_unknown_quantity_holdings,
        "unknown_basis_proceeds": money(t.realised_unknown_proceeds),
        "income": money(t.income),
        "fees": money(t.fees),
        "total": money(t.total),
    }


def _pnl(args: argparse.Namespace, env: CliEnv) -> int:
    from app.cli.portfolio_views import print_unexplained, unexplained_json

    if args.portfolio is not None:
        portfolios = env.context.portfolios
        report = portfolios.pnl(args.portfolio, method=args.method, scope=args.scope)
        unexplained = portfolios.unexplained(args.portfolio)
    else:
        report = env.context.ledger.pnl(method=args.method, account=args.account, scope=args.scope)
        unexplained = env.context.portfolios.unexplained()
    if args.json:
        env.print_json(
            {
                "currency": report.currency,
                "method": report.method.value,
                "scope": report.scope.value,
                "total": _totals_json(report.total),
                "accounts": {k: _totals_json(v) for k, v in report.accounts.items()},
                "holdings": [_holding_json(h) for h in report.holdings],
                "unexplained": unexplained_json(unexplained),
                "notes": list(report.notes),
            }
        )
        return 0
    from app.domain.assets import parse_asset
    from app.domain.text import clean_text

    cur = report.currency
    if not report.holdings:
        env.print("The ledger is empty. Add transactions with `chainfolio tx add` or import a CSV.")
        print_unexplained(env, unexplained)
        return 0
    env.print(f"P&L in {cur} ({report.method.value}, basis per {report.scope.value})")
    env.print(
        f"{'account':<16} {'asset':<12} {'quantity':>16} {'cost basis':>14} {'value':>14} "
        f"{'unrealised':>14} {'realised':>14}"
    )
    for h in report.holdings:
        sym = clean_text(parse_asset(h.asset).symbol, 12)
        flag = ""
        if h.unknown_basis_quantity:
            flag += f"  ({h.unknown_basis_quantity} held with unknown basis)"
        if h.realised_unknown_quantity:
            flag += (
                f"  ({h.realised_unknown_quantity} disposed of with unknown basis, brought "
                f"{_shown(h.realised_unknown_proceeds)})"
            )
        env.print(
            f"{clean_text(h.account, 16):<16} {sym:<12} {h.quantity.normalize():>16,} "
            f"{_shown(h.cost_basis):>14} {_shown(h.market_value):>14} "
            f"{_shown(h.unrealised):>14} {_shown(h.realised):>14}{flag}"
        )
    for name, t in report.accounts.items():
        env.print(f"{clean_text(name, 24)}: {_summary(t, cur)}")
    env.print(f"Total: {_summary(report.total, cur)}")
    for note in report.notes:
        env.print(f"Note: {note}")
    print_unexplained(env, unexplained)
    return 0


def _summary(t: PnlTotals, cur: str) -> str:
    parts = [
        f"realised {_shown(t.realised)}",
        f"unrealised {_shown(t.unrealised)}",
        f"income {_shown(t.income)}",
        f"fees {_shown(t.fees)}",
        f"total {_shown(t.total)} {cur}",
    ]
    if t.unrealised_unknown_holdings:
        parts.append(
            f"unrealised unknown for {t.unrealised_unknown_holdings} holding(s) (no price, or "
            "no known cost)"
        )
    if t.realised_unknown_quantity_holdings:
        parts.append(
            f"disposals of unknown basis brought {_shown(t.realised_unknown_proceeds)} {cur} "
            "(gain unknown, not counted)"
        )
    return ", ".join(parts)


def _date(text: str | None) -> date | None:
    from app.domain.ledger import LedgerError

    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise LedgerError(f"{text!r} is not a date (use 2024-03-01)") from None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f} %"


def _returns(args: argparse.Namespace, env: CliEnv) -> int:
    if args.portfolio is not None:
        from app.cli.portfolio_views import print_portfolio_returns

        both = env.context.portfolios.returns(
            args.portfolio, _date(args.start), _date(args.end), with_series=args.series
        )
        return print_portfolio_returns(env, both, args.json)
    report = env.context.ledger.returns(
        account=args.account,
        start=_date(args.start),
        end=_date(args.end),
        with_series=args.series and args.json,
    )
    f = report.figures
    if args.json:
        env.print_json(
            {"account": report.account, "currency": report.currency, **returns_json(report)}
        )
        return 0
    who = f"account {report.account}" if report.account else "the whole ledger"
    env.print(
        f"Returns of {who}, {report.start} to {report.end} ({f.days} day{'s' if f.days != 1 else ''}), {report.currency}"
    )
    print_returns_lines(env, report)
    return 0


def returns_json(report: ReturnsReport) -> dict[str, Any]:
    """A returns report's figures for JSON (``series`` only when it was computed): the shape
    of `returns --json`, also used for a portfolio's accounts."""
    f = report.figures
    out: dict[str, Any] = {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "days": f.days,
        "start_value": f.start_value,
        "end_value": f.end_value,
        "inflows": f.inflows,
        "outflows": f.outflows,
        "twr": {"cumulative": f.twr, "annualised": f.twr_annualised},
        "irr": {"cumulative": f.irr_cumulative, "annualised": f.irr, "none_because": f.irr_note},
        "unpriced_assets": list(f.unpriced),
        "notes": list(report.notes),
    }
    if f.series:
        out["series"] = [
            {"day": date.fromordinal(p.day + 719163).isoformat(), "value": p.value,
             "inflow": p.inflow, "outflow": p.outflow, "twr": p.twr}
            for p in f.series
        ]  # fmt: skip
    return out


def print_returns_lines(env: CliEnv, report: ReturnsReport, indent: str = "") -> None:
    """Value, money in and out, TWR and IRR of a returns report, then its notes."""
    f = report.figures
    env.print(f"  value: {f.start_value:,.2f} -> {f.end_value:,.2f}")
    env.print(f"  money in: {f.inflows:,.2f}, money out: {f.outflows:,.2f}")
    env.print(f"  time-weighted return: {_pct(f.twr)} (annualised {_pct(f.twr_annualised)})")
    env.print(
        f"  money-weighted (IRR): {_pct(f.irr_cumulative)} (annualised {_pct(f.irr)})"
        if f.irr is not None
        else f"  money-weighted (IRR): none ({f.irr_note})"
    )
    for note in report.notes:
        env.print(f"{indent}Note: {note}")
