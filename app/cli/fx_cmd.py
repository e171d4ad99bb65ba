"""``chainfolio fx history CODE`` (daily exchange rates) and the market-data side of
``chainfolio prices``: ``prices history [ASSET]`` (daily closes of the ledger's stocks, ETFs and
metals; rates of fiat) and ``prices symbol ASSET stooq:TICKER.SUFFIX``.

Both fetch what is missing first (a year, or from the first transaction, on first sight; then
only new days), unless ``--offline``; a source that is down leaves the stored history as it is
and is named in a warning. Stored figures are exact Decimal text.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError
from app.domain.secret_text import refuse_secret
from app.domain.text import clean_text

if TYPE_CHECKING:
    from app.prices.market_history import MarketReport

DAY = 86_400
SHOWN_DAYS = 30


class MarketInputError(ChainfolioError, ValueError):
    pass


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fx", help="daily exchange rates (ECB reference rates, stored per day)")
    fs = p.add_subparsers(dest="fx_command", metavar="ACTION", required=True)
    h = fs.add_parser(
        "history",
        help="fetch what is missing, then show the stored daily rates of a currency",
        description="Rates are units of CODE per US dollar, one per ECB working day (plus the "
        "rate stored at each refresh).",
    )
    h.add_argument("code", metavar="CODE", help="ISO 4217 code, such as EUR")
    h.add_argument("--from", dest="since", help="first day (default: 30 days ago)")
    h.add_argument("--to", dest="until", help="last day (default: today)")
    h.add_argument("--offline", action="store_true", help="show what is stored, fetch nothing")
    h.add_argument("--json", action="store_true")
    h.set_defaults(func=_fx_history)


def parse_day(text: str | None, default: date) -> date:
    if text is None:
        return default
    refuse_secret(text, "date")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise MarketInputError(
            f"{clean_text(text, 30)!r} is not a date: write it as YYYY-MM-DD."
        ) from None


def _ts(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def _text(value: Decimal) -> str:
    from app.domain.valuation import decimal_text

    return decimal_text(value)


def _secrets(env: CliEnv) -> Any:
    try:
        store = env.context.secrets
        return store if getattr(store, "available", False) else None
    except (AttributeError, ChainfolioError):
        return None


def _fetch(env: CliEnv, go: Any) -> MarketReport:
    """Run ``go(market)`` against the configured sources with one HTTP client."""
    from app import net
    from app.prices.factory import build_market_history

    async def run() -> MarketReport:
        timeout = float(env.settings.get("prices.timeout_seconds"))
        env.context.apply_network_settings()
        async with net.client(
            "fx", timeout=timeout, headers={"User-Agent": "Chainfolio"}
        ) as client:
            market = build_market_history(env.context.engine, env.settings, client, _secrets(env))
            result: MarketReport = await go(market)
            return result

    return asyncio.run(run())


def _warn(env: CliEnv, report: MarketReport | None, as_json: bool) -> list[str]:
    if report is None:
        return []
    lines = [*report.errors, *report.not_priceable.values()]
    if not as_json:
        for line in lines:
            env.print(f"warning: {line}")
    return lines


def _currency(text: str) -> str:
    from app.domain.assets import AssetError, currency_code

    refuse_secret(text, "currency")
    try:
        return currency_code(text)
    except AssetError as exc:
        raise MarketInputError(str(exc)) from None


def _fx_history(args: argparse.Namespace, env: CliEnv) -> int:
    from app.storage.price_store import SqlMarketStore

    code = _currency(args.code)
    today = datetime.now(UTC).date()
    until = parse_day(args.until, today)
    since = parse_day(args.since, until - timedelta(days=SHOWN_DAYS))
    if until < since:
        raise MarketInputError("The range ends before it starts.")
    if since > today:
        raise MarketInputError("The range starts in the future.")
    report = None
    if not args.offline and code != "USD":
        report = _fetch(env, lambda m: m.update_fx({code: _ts(since)}, force=True))
    warnings = _warn(env, report, args.json)
    store = SqlMarketStore(env.context.engine)
    points = [(ts, r) for ts, r in store.usd_rate_days(code, _ts(since)) if ts <= _ts(until)]
    if args.json:
        env.print_json(
            {
                "currency": code,
                "per": "USD",
                "rates": [{"date": _iso(ts), "rate": _text(r)} for ts, r in points],
                "warnings": warnings,
            }
        )
    elif code == "USD":
        env.print("The US dollar is the base: 1 USD = 1 USD on every day.")
    elif not points:
        env.print(f"No {code} rate is stored for {since} to {until}.")
    else:
        env.print(f"{code} per US dollar, {len(points)} day(s):")
        for ts, r in points:
            env.print(f"{_iso(ts)}  {_text(r)}")
    return 0 if points or code == "USD" else 1


# ---- prices history / prices symbol ---------------------------------------------------------
def prices_history(rest: list[str], args: argparse.Namespace, env: CliEnv) -> int:
    """``prices history [ASSET]``: one asset's stored daily closes, or (no ASSET) a summary of
    every stock, ETF and metal of the ledger after fetching what is missing."""
    from app.domain.assets import AssetError, parse_asset

    if len(rest) > 1:
        raise MarketInputError("usage: chainfolio prices history [ASSET] [--from YYYY-MM-DD]")
    today = datetime.now(UTC).date()
    since = parse_day(args.since, today - timedelta(days=SHOWN_DAYS))
    if not rest:
        return _ledger_summary(args, env)
    refuse_secret(rest[0], "asset")
    try:
        asset = parse_asset(rest[0])
    except AssetError as exc:
        raise MarketInputError(str(exc)) from None
    if asset.is_fiat:
        args.code, args.until = asset.code, None
        args.since = since.isoformat()
        return _fx_history(args, env)
    if asset.asset_class.value == "crypto":
        from app.storage.price_store import SqlBackfillStore

        points = SqlBackfillStore(env.context.engine).history(asset.id, _ts(since))
        return _show_closes(env, args, asset.id, "USD", points, [])
    from app.prices.stooq import NotPriceable, symbol_for
    from app.storage.price_store import SqlMarketStore

    store = SqlMarketStore(env.context.engine)
    try:
        symbol_for(asset.id, store.symbol(asset.id))
    except NotPriceable as exc:
        raise MarketInputError(str(exc)) from None
    report = None
    if not args.offline:
        first = min(_ts(since), _ts(today - timedelta(days=365)))
        report = _fetch(env, lambda m: m.update_assets({asset.id: first}, force=True))
    warnings = _warn(env, report, args.json)
    currency, points = store.closes(asset.id, _ts(since))
    return _show_closes(env, args, asset.id, currency, points, warnings)


def _show_closes(
    env: CliEnv,
    args: argparse.Namespace,
    asset: str,
    currency: str | None,
    points: list[tuple[int, Decimal]],
    warnings: list[str],
) -> int:
    if args.json:
        env.print_json(
            {
                "asset": asset,
                "currency": currency,
                "closes": [{"date": _iso(ts), "close": _text(p)} for ts, p in points],
                "warnings": warnings,
            }
        )
    elif not points:
        env.print(f"{asset}: no daily close is stored for that range.")
    else:
        env.print(f"{asset}: {len(points)} daily close(s) in {currency}:")
        for ts, p in points:
            env.print(f"{_iso(ts)}  {_text(p)}")
    return 0 if points else 1


def _ledger_summary(args: argparse.Namespace, env: CliEnv) -> int:
    from app.prices.stooq import NotPriceable, symbol_for
    from app.storage.price_store import SqlMarketStore

    assets, currencies = env.context.ledger.market_needs()
    display = str(env.settings.get("currency"))
    report = None
    if not args.offline and (assets or currencies):
        report = _fetch(env, lambda m: m.update(assets, currencies, display, force=True))
    warnings = _warn(env, report, args.json)
    store = SqlMarketStore(env.context.engine)
    rows = []
    for asset in sorted(assets):
        try:
            sym: str | None = symbol_for(asset, store.symbol(asset)).price_id
        except NotPriceable:
            sym = None
        currency, points = store.closes(asset)
        status, message, _checked = store.status(asset)
        rows.append(
            {
                "asset": asset,
                "symbol": sym,
                "currency": currency,
                "days": len(points),
                "first": _iso(points[0][0]) if points else None,
                "last": _iso(points[-1][0]) if points else None,
                "last_close": _text(points[-1][1]) if points else None,
                "status": status,
                "message": message,
            }
        )
    if args.json:
        env.print_json({"assets": rows, "warnings": warnings})
        return 0
    if not rows:
        env.print("The ledger holds no stock, ETF or metal.")
    for r in rows:
        if r["days"]:
            env.print(
                f"{r['asset']}  [{r['symbol']}]  {r['days']} day(s) {r['first']} to "
                f"{r['last']}, last close {r['last_close']} {r['currency']}"
            )
        else:
            env.print(f"{r['asset']}  [{r['symbol'] or 'no symbol'}]  no closes stored")
    return 0


def prices_symbol(rest: list[str], remove: bool, env: CliEnv) -> int:
    """``prices symbol ASSET stooq:TICKER.SUFFIX`` (or ``--remove``): the symbol a stock, ETF
    or metal is priced by; closes of the old symbol are dropped and the new one backfilled."""
    from app.domain.assets import AssetError, parse_asset
    from app.prices.stooq import NotPriceable, parse_price_id, symbol_for
    from app.storage.price_store import SqlMarketStore

    usage = "usage: chainfolio prices symbol ASSET stooq:TICKER.SUFFIX (or ASSET --remove)"
    if len(rest) != (1 if remove else 2):
        raise MarketInputError(usage)
    refuse_secret(rest[0], "asset")
    try:
        asset = parse_asset(rest[0])
    except AssetError as exc:
        raise MarketInputError(str(exc)) from None
    if asset.asset_class.value not in ("stock", "etf", "commodity"):
        raise MarketInputError(
            f"{asset.id}: only stocks, ETFs and metals are priced by a market symbol."
        )
    store = SqlMarketStore(env.context.engine)
    now = int(time.time())
    if remove:
        store.set_symbol(asset.id, None, now)
        try:
            derived = symbol_for(asset.id).price_id
            env.print(f"{asset.id}: priced by {derived} again (from its exchange and ticker)")
        except NotPriceable as exc:
            env.print(f"{asset.id}: symbol removed; {exc}")
        return 0
    try:
        sym = parse_price_id(rest[1])
    except NotPriceable as exc:
        raise MarketInputError(str(exc)) from None
    store.set_symbol(asset.id, sym.price_id, now)
    note = " (quoted in pence, stored in pounds)" if sym.divisor == 100 else ""
    env.print(f"{asset.id}: priced by {sym.price_id}, closes in {sym.currency}{note}")
    return 0
