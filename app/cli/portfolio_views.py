"""How portfolio figures and unexplained changes are printed and put in JSON (shared by
``chainfolio portfolios``, ``pnl`` and ``returns``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv
from app.domain.text import clean_text

if TYPE_CHECKING:
    from app.domain.portfolios import WalletReturns
    from app.services.portfolios import PortfolioReturns, UnexplainedReport

_PLACES = Decimal("1e-10")


def money(value: Decimal | None) -> str | None:
    """Exact money text for JSON, ten decimal places at most (divisions never end)."""
    from app.domain.valuation import decimal_text

    if value is None:
        return None
    with localcontext(Context(prec=80)):
        return decimal_text(value.quantize(_PLACES).normalize() if value else Decimal(0))


def shown(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "unknown"
    with localcontext(Context(prec=80)):
        return f"{value.quantize(Decimal(1).scaleb(-places)):,}"


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def quantity(value: Decimal) -> str:
    from app.domain.valuation import decimal_text

    return decimal_text(value.normalize() if value else Decimal(0))


def unexplained_json(report: UnexplainedReport) -> dict[str, Any]:
    return {
        "currency": report.currency,
        "snapshot_time": iso(report.snapshot_time),
        "links": [{"account": lk.account, "wallet": lk.wallet} for lk in report.links],
        "changes": [
            {
                "wallet": c.wallet,
                "accounts": list(c.accounts),
                "asset": c.asset,
                "symbol": c.symbol,
                "ledger_quantity": quantity(c.ledger_quantity),
                "observed_quantity": quantity(c.observed_quantity),
                "difference": quantity(c.difference),
                "price": money(c.price),
                "value": money(c.value),
                "snapshot_time": iso(c.snapshot_time),
            }
            for c in report.changes
        ],
        "notes": list(report.notes),
    }


def print_unexplained(env: CliEnv, report: UnexplainedReport) -> None:
    """The "unexplained change" section of ``chainfolio pnl`` (nothing when no wallet is
    linked to a ledger account)."""
    if not report.links:
        return
    if report.snapshot_time is None:
        for note in report.notes:
            env.print(f"Unexplained change: {note}")
        return
    when = datetime.fromtimestamp(report.snapshot_time, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not report.changes:
        env.print(
            f"Unexplained change: none. Every linked wallet holds what its ledger accounts "
            f"record (snapshot of {when})."
        )
        return
    env.print(f"Unexplained change (observed in the wallet minus the ledger, snapshot of {when}):")
    env.print(
        f"  {'wallet':<14} {'asset':<12} {'ledger':>18} {'observed':>18} {'difference':>18} "
        f"{'value ' + report.currency:>16}"
    )
    from app.domain.model import short_address

    for c in report.changes:
        env.print(
            f"  {short_address(c.wallet):<14} {clean_text(c.symbol, 12):<12} "
            f"{c.ledger_quantity.normalize():>18,} {c.observed_quantity.normalize():>18,} "
            f"{c.difference.normalize():>+18,} {shown(c.value):>16}"
        )
    for note in report.notes:
        env.print(f"Note: {note}")


def _ratio(x: Decimal | float | None) -> str:
    return "n/a" if x is None else f"{float(x) * 100:.2f} %"


def wallet_returns_json(w: WalletReturns | None) -> dict[str, Any] | None:
    if w is None:
        return None
    return {
        "from": iso(w.start),
        "to": iso(w.end),
        "periods": w.periods,
        "start_value": money(w.start_value),
        "end_value": money(w.end_value),
        "inflows": money(w.inflows),
        "outflows": money(w.outflows),
        "twr": None if w.twr is None else str(w.twr),
        "flows_counted": w.flows_counted,
        "flows_of_unknown_value": w.flows_unpriced,
    }


def print_portfolio_returns(env: CliEnv, r: PortfolioReturns, as_json: bool) -> int:
    acc = r.accounts
    if as_json:
        from app.cli.pnl_cmd import returns_json

        accounts = None if acc is None else returns_json(acc)
        env.print_json(
            {
                "portfolio": r.portfolio.name,
                "currency": r.currency,
                "accounts": accounts,
                "wallets": wallet_returns_json(r.wallets),
                "notes": list(r.notes),
            }
        )
        return 0
    env.print(f"Returns of portfolio {clean_text(r.portfolio.name, 40)}, {r.currency}")
    if acc is not None:
        f = acc.figures
        names = ", ".join(clean_text(a, 24) for a in r.portfolio.accounts)
        env.print(f"Ledger accounts ({names}), {acc.start} to {acc.end} ({f.days} days):")
        from app.cli.pnl_cmd import print_returns_lines

        print_returns_lines(env, acc, indent="  ")
    w = r.wallets
    if w is not None:
        env.print(f"Wallets ({len(r.portfolio.wallets)}), from the snapshots:")
        if w.start is not None and w.end is not None:
            env.print(f"  {iso(w.start)} to {iso(w.end)} ({w.periods} periods)")
            env.print(f"  value: {shown(w.start_value)} -> {shown(w.end_value)}")
            env.print(f"  money in: {shown(w.inflows)}, money out: {shown(w.outflows)}")
        env.print(f"  time-weighted return: {_ratio(w.twr)}")
    if acc is None and w is None:
        env.print("The portfolio has no member yet: add some with `chainfolio portfolios include`.")
    for note in r.notes:
        env.print(f"Note: {note}")
    return 0
