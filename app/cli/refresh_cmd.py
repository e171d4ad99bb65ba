"""``chainfolio refresh --once [--json]``: read every balance once and print it.

JSON schema (one object): ``{"chains": [{"chain": CAIP-2, "name", "status": "ok"|"failed",
"reason": str|null, "http_requests": int, "balances": [{"wallet": CAIP-10, "asset": CAIP-19,
"symbol", "name", "raw": str, "decimals": int, "amount": str}], "accounts": [...],
"failures": [{"wallet", "asset", "reason"}]}]}``.

A DeFi position's entry also has ``position`` (the key, e.g. ``aave-v3:borrowed``), ``protocol``
and ``kind``; its asset is the underlying token and a debt's amount is negative. ``accounts`` are
the lending markets' view of each wallet: ``protocol``, ``market``, ``collateral``, ``debt``,
``liquidation_threshold`` and ``health_factor`` (null without debt), as Decimal strings.

Unless ``--no-prices`` is given, every balance also carries ``price``, ``value`` (Decimal
strings or null), ``price_source``, ``price_age_seconds`` and ``price_stale``, and the document
carries ``currency``, ``total`` and ``price_errors``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv
from app.domain.balances import ChainReadResult
from app.domain.chains import ChainSpec
from app.domain.model import Wallet

if TYPE_CHECKING:
    from app.domain.balances import Balance
    from app.domain.positions import LendingAccount
    from app.domain.snapshot import Snapshot
    from app.services.prices import HoldingValue


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("refresh", help="read every balance on every enabled chain")
    p.add_argument("--once", action="store_true", required=True, help="read once and exit")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--chain", action="append", default=[], help="only this chain (repeatable)")
    p.add_argument(
        "--show-spam", action="store_true", help="also list tokens marked as spam (table output)"
    )
    p.add_argument(
        "--no-prices", action="store_true", help="balances only: do not value them (offline)"
    )
    p.set_defaults(func=_refresh)


def balance_json(b: Balance) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "wallet": str(b.wallet),
        "asset": str(b.asset.asset_id),
        "symbol": b.asset.symbol,
        "name": b.asset.name,
        "raw": str(b.raw),
        "decimals": b.asset.decimals,
        "amount": format(b.amount, "f"),
        "spam": b.asset.is_spam,
    }
    if b.position:  # a DeFi position: the asset is the underlying; a debt is negative
        from app.domain.positions import position_kind, position_protocol

        kind = position_kind(b.position)
        entry["position"] = b.position
        entry["protocol"] = position_protocol(b.position)
        entry["kind"] = kind.value if kind else None
    return entry


def account_json(a: LendingAccount) -> dict[str, Any]:
    return {
        "wallet": a.wallet,
        "protocol": a.protocol,
        "market": a.market,
        "collateral": str(a.collateral),
        "debt": str(a.debt),
        "liquidation_threshold": str(a.liquidation_threshold),
        "health_factor": None if a.health_factor is None else str(a.health_factor),
        "collateral_assets": list(a.collateral_assets),
        "debt_assets": list(a.debt_assets),
    }


def result_json(spec: ChainSpec, r: ChainReadResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "chain": str(r.chain),
        "name": spec.name,
        "status": r.state.value,
        "reason": r.error,
        "http_requests": r.http_requests,
        "balances": [balance_json(b) for b in r.balances],
        "accounts": [account_json(a) for a in r.accounts],
        "failures": [
            {"wallet": str(f.wallet), "asset": str(f.asset), "reason": f.reason} for f in r.failures
        ],
    }
    # Solana: how each wallet's staked SOL splits by status (raw lamports; adds up to the
    # wallet's stake holding).
    stake = {
        f"{r.chain}:{key.split(':', 1)[1]}": json.loads(value)
        for key, value in r.extra.items()
        if key.startswith("stake:")
    }
    if stake:
        doc["stake"] = stake
    return doc


def _refresh(args: argparse.Namespace, env: CliEnv) -> int:
    from app.bootstrap import build_balance_service
    from app.cli.networks_cmd import open_registry

    registry, _ = open_registry(env)
    chains = [registry.get(c) for c in args.chain] if args.chain else registry.enabled()
    wallets = env.context.wallets.list()
    specs = {str(c.chain_id): c for c in chains}
    if args.no_prices:
        reader = build_balance_service(env.context)
        results = asyncio.run(reader.refresh(chains, wallets))
        document: dict[str, Any] = {
            "chains": [result_json(specs[str(r.chain)], r) for r in results]
        }
    else:
        results, document = asyncio.run(_refresh_and_snapshot(env, chains))
    _remember_held(env, wallets, results)
    payload = document["chains"]
    if args.json:
        env.print_json(document)
    else:
        for ch in payload:
            status = "ok" if ch["status"] == "ok" else f"FAILED: {ch['reason']}"
            env.print(f"{ch['name']} ({ch['chain']}): {status}")
            for b in ch["balances"]:
                if b["spam"] and not args.show_spam:
                    continue
                value = f"  = {b['value']} {document['currency']}" if b.get("value") else ""
                where = f"  [{b['position']}]" if b.get("position") else ""
                env.print(
                    f"  {b['wallet'].rsplit(':', 1)[1]}  {b['amount']:>32} {b['symbol']}"
                    f"{value}{where}"
                )
            for f in ch["failures"]:
                env.print(f"  {f['wallet'].rsplit(':', 1)[1]}  {f['asset']}: {f['reason']}")
        if "total" in document:
            stale = document["snapshot"]["stale_total"]
            note = f" ({stale} of it from stale data)" if Decimal(stale) else ""
            env.print(f"Total: {document['total']} {document['currency']}{note}")
            for problem in document["price_errors"]:
                env.print(f"  prices: {problem}")
            for alert in document["alerts"]:
                env.print(f"Alert: {alert['title']}: {alert['message']}")
    return 0 if all(c["status"] == "ok" for c in payload) else 1


async def _refresh_and_snapshot(
    env: CliEnv, chains: list[ChainSpec]
) -> tuple[list[ChainReadResult], dict[str, Any]]:
    """The same RefreshService the window uses: read, price, store one snapshot; then JSON."""
    from app.bootstrap import build_refresh_service
    from app.prices.factory import build_price_service

    valuations: list[Any] = []
    stack = build_price_service(env.context.engine, env.settings, env.context.secrets)

    async def pricer(balances: Sequence[Balance], currency: str) -> Sequence[HoldingValue]:
        valuation = await stack.service.value(balances, currency)
        valuations.append(valuation)  # kept for the price source, age and errors in the JSON
        return valuation.holdings

    refresher = build_refresh_service(env.context, lambda: chains, pricer)
    try:
        snapshot = await refresher.refresh()
        # New assets were queued for a year of daily prices: spend a bounded time on them now;
        # whatever is left stays queued and resumes on the next run.
        budget = int(env.settings.get("prices.backfill_budget_seconds"))
        if budget:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(budget, stop.set)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stack.backfiller.run_until_idle(stop), budget + 5)
    finally:
        await stack.aclose()
    results = list(refresher.last_results)  # in the order of ``chains``
    specs = {str(c.chain_id): c for c in chains}
    payload = [result_json(specs[str(r.chain)], r) for r in results]
    valuation = valuations[0]
    by_key = {(h.wallet, h.asset_id): h for h in valuation.holdings}
    for chain in payload:
        for entry in chain["balances"]:
            held = by_key.get((entry["wallet"], entry["asset"]))
            price = None if held is None else held.price
            entry["price"] = None if price is None else str(price)
            # Valued per entry: a wallet may hold the same asset plainly and as a position.
            entry["value"] = None if price is None else str(Decimal(entry["amount"]) * price)
            entry["price_source"] = None if held is None else held.source
            entry["price_age_seconds"] = None if held is None else held.age_seconds
            entry["price_stale"] = False if held is None else held.stale
    document = {
        "chains": payload,
        "currency": snapshot.currency,
        "total": str(snapshot.total),
        "price_errors": list(valuation.errors),
        "snapshot": {
            "id": snapshot.id,
            "taken_at": snapshot.taken_at,
            "total": str(snapshot.total),
            "stale_total": str(snapshot.stale_total),
            "sources": [
                {"chain": s.source, "state": s.state.value, "reason": s.reason, "as_of": s.as_of}
                for s in snapshot.sources
            ],
        },
        "alerts": _check_alerts(env, snapshot, {str(c.chain_id): c.name for c in chains}),
    }
    return results, document


def _check_alerts(env: CliEnv, snapshot: Snapshot, names: dict[str, str]) -> list[dict[str, Any]]:
    """A headless refresh checks the alert rules like the window does (each fires once)."""
    from app.services.alerts import build_alert_service

    fired = build_alert_service(env.context.engine, chain_names=names).check(snapshot)
    return [
        {"rule": a.rule_id, "kind": a.kind.value, "title": a.title, "message": a.message}
        for a in fired
    ]


def _remember_held(env: CliEnv, wallets: list[Wallet], results: list[ChainReadResult]) -> None:
    """Tokens found in this pass are remembered per wallet (the token table's wallet_tokens)."""
    from app.domain.balances import AssetKind
    from app.storage.token_store import TokenStore

    ids = {w.address: w.id for w in wallets if w.id is not None}
    store = TokenStore(env.context.engine)
    for r in results:
        for b in r.balances:
            wid = ids.get(b.wallet.address)
            if wid is not None and b.asset.kind is AssetKind.TOKEN and b.raw:
                store.remember_held(wid, [b.asset.asset_id])
