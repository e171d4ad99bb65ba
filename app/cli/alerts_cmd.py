"""``chainfolio alerts add|list|remove|enable|disable|history|check``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.cli.env import CliEnv

if TYPE_CHECKING:
    from app.domain.alerts import AlertRule
    from app.services.alerts import AlertService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("alerts", help="price, portfolio and liquidation-risk alerts")
    al = p.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)

    add = al.add_parser(
        "add",
        help="add an alert rule (checked after every refresh; fires once per crossing)",
        description="Add one alert rule. It is checked after every refresh and fires once "
        "when its condition becomes true, then again only after the condition has been false.",
    )
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--health-factor-below", metavar="X", help="a lending health factor falls below X (1.2)"
    )
    what.add_argument(
        "--liquidation-probability-above",
        metavar="PCT",
        help="the estimated chance of liquidation within 24 h rises above PCT percent (5)",
    )
    what.add_argument(
        "--price-above", nargs=2, metavar=("ASSET", "LEVEL"), help="ASSET's price rises above"
    )
    what.add_argument(
        "--price-below", nargs=2, metavar=("ASSET", "LEVEL"), help="ASSET's price falls below"
    )
    what.add_argument(
        "--daily-move-above", metavar="PCT", help="total value moves more than PCT %% in 24 h"
    )
    what.add_argument(
        "--apy-below", metavar="PCT", help="the APY of a position you hold falls below PCT %% (3)"
    )
    what.add_argument(
        "--apy-move-above",
        metavar="POINTS",
        help="the APY of a position you hold moves more than POINTS percentage points in 24 h",
    )
    add.add_argument(
        "--wallet", help="lending and APY alerts: only this wallet (address or ENS name)"
    )
    add.add_argument(
        "--protocol", help="lending and APY alerts: only this protocol (aave-v3, morpho-blue, …)"
    )
    add.add_argument(
        "--asset", help="APY alerts: only positions in this asset (symbol or CAIP-19 id)"
    )
    add.add_argument(
        "--currency", help="price alerts: currency of LEVEL (default: your display currency)"
    )
    add.set_defaults(func=_add)

    ls = al.add_parser("list", help="alert rules with their state and when they last fired")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    rm = al.add_parser("remove", help="delete an alert rule (and its history)")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=_remove)

    for name, enabled in (("enable", True), ("disable", False)):
        e = al.add_parser(name, help=f"{name} an alert rule")
        e.add_argument("id", type=int)
        e.set_defaults(func=_set_enabled, enabled=enabled)

    hist = al.add_parser("history", help="alerts that fired, newest first")
    hist.add_argument("--limit", type=int, default=50)
    hist.add_argument("--json", action="store_true", help="machine-readable output")
    hist.set_defaults(func=_history)

    chk = al.add_parser(
        "check", help="check the rules against the latest snapshot now (for scripts and cron)"
    )
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.set_defaults(func=_check)


def _service(env: CliEnv) -> AlertService:
    return env.context.alerts  # chain names and every network's coin, as in the window


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.alerts import AlertKind, AlertRuleError

    service = _service(env)
    lending = args.health_factor_below is not None or args.liquidation_probability_above
    apy = args.apy_below is not None or args.apy_move_above is not None
    if (args.wallet or args.protocol) and not (lending or apy):
        raise AlertRuleError("--wallet and --protocol only go with lending alerts or APY alerts")
    if args.asset and not apy:
        raise AlertRuleError("--asset only goes with --apy-below / --apy-move-above")
    if args.currency and not (args.price_above or args.price_below):
        raise AlertRuleError("--currency only goes with --price-above / --price-below")
    wallet = env.context.wallets.find(args.wallet).address if args.wallet else None
    if args.health_factor_below is not None:
        rule = service.add(
            AlertKind.HEALTH_FACTOR_BELOW,
            args.health_factor_below,
            wallet=wallet,
            protocol=args.protocol,
        )
    elif args.liquidation_probability_above is not None:
        rule = service.add(
            AlertKind.LIQUIDATION_PROBABILITY_ABOVE,
            args.liquidation_probability_above,
            wallet=wallet,
            protocol=args.protocol,
        )
    elif apy:
        kind = AlertKind.APY_BELOW if args.apy_below is not None else AlertKind.APY_MOVE_ABOVE
        level = args.apy_below if args.apy_below is not None else args.apy_move_above
        rule = service.add(kind, level, asset=args.asset, wallet=wallet, protocol=args.protocol)
    elif args.price_above or args.price_below:
        kind = AlertKind.PRICE_ABOVE if args.price_above else AlertKind.PRICE_BELOW
        asset, level = args.price_above or args.price_below
        currency = args.currency or str(env.settings.get("currency"))
        rule = service.add(kind, level, asset=asset, currency=currency)
    else:
        rule = service.add(AlertKind.DAILY_MOVE_ABOVE, args.daily_move_above)
    env.print(f"Added alert {rule.id}: {rule.describe()}")
    return 0


def _rule_json(rule: AlertRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "kind": rule.kind.value,
        "description": rule.describe(),
        "threshold": str(rule.threshold),
        **rule.filters,
        "enabled": rule.enabled,
        "state": _state(rule.enabled, rule.fired),
        "created_at": _iso(rule.created_at),
        "last_fired_at": _iso(rule.last_fired_at),
    }


def _state(enabled: bool, fired: bool) -> str:
    if not enabled:
        return "disabled"
    return "fired" if fired else "armed"


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    rules = _service(env).rules()
    if args.json:
        env.print_json([_rule_json(r) for r in rules])
        return 0
    if not rules:
        env.print("No alert rules. Add one with: chainfolio alerts add --health-factor-below 1.2")
        return 0
    for r in rules:
        last = f"  last fired {_iso(r.last_fired_at)}" if r.last_fired_at else ""
        env.print(f"{r.id:>4}  {_state(r.enabled, r.fired):<8}  {r.describe()}{last}")
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    _service(env).remove(args.id)
    env.print(f"Removed alert {args.id}")
    return 0


def _set_enabled(args: argparse.Namespace, env: CliEnv) -> int:
    _service(env).set_enabled(args.id, args.enabled)
    env.print(f"Alert {args.id} {'enabled' if args.enabled else 'disabled'}")
    return 0


def _history(args: argparse.Namespace, env: CliEnv) -> int:
    events = _service(env).events(max(1, args.limit))
    if args.json:
        env.print_json(
            [
                {
                    "id": e.id,
                    "rule_id": e.rule_id,
                    "fired_at": _iso(e.fired_at),
                    "message": e.message,
                }
                for e in events
            ]
        )
        return 0
    if not events:
        env.print("No alert has fired yet.")
    for e in events:
        env.print(f"{_iso(e.fired_at)}  [{e.rule_id}] {e.message}")
    return 0


def _check(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.errors import ChainfolioError
    from app.storage.snapshot_store import SqlSnapshotStore

    snapshot = SqlSnapshotStore(env.context.engine).latest()
    if snapshot is None:
        raise ChainfolioError("No snapshots yet: run `chainfolio refresh --once` first.")
    fired = _service(env).check(snapshot)
    if args.json:
        env.print_json(
            [
                {"rule_id": a.rule_id, "kind": a.kind.value, "title": a.title, "message": a.message}
                for a in fired
            ]
        )
        return 0
    if not fired:
        env.print("No alert fired.")
    for a in fired:
        env.print(f"{a.title}: {a.message}")
    return 0
