"""``chainfolio refresh --once [--json]``: read every balance once and print it.

JSON schema (one object): ``{"status": "ok"|"partial"|"failed"|"empty", "summary": str,
"chains": [{"chain": CAIP-2, "name", "status": "ok"|"failed",
"reason": str|null, "http_requests": int, "balances": [{"wallet": CAIP-10, "asset": CAIP-19,
"symbol", "name", "raw": str, "decimals": int, "amount": str}], "accounts": [...],
"failures": [{"wallet", "asset", "reason"}]}]}``.

A DeFi position's entry also has ``position`` (the key, e.g. ``aave-v3:borrowed``), ``protocol``
and ``kind``; its asset is the underlying token and a debt's amount is negative. ``accounts`` are
the lending markets' view of each wallet: ``protocol``, ``market``, ``collateral``, ``debt``,
``liquidation_threshold`` and ``health_factor`` (null without debt), as Decimal strings.

Unless ``--no-prices`` is given, every balance also carries ``price``, ``value`` (Decimal
strings or null), ``price_source``, ``price_manual`` (true for the person's manual override),
``price_age_seconds`` and ``price_stale``, and the document
carries ``currency``, ``total`` and ``price_errors``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.cli.env import CliEnv
from app.domain.balances import ChainReadResult, amount_text
from app.domain.chains import ChainSpec
from app.domain.outcome import RefreshStatus
from app.domain.valuation import decimal_text, optional_text

if TYPE_CHECKING:
    from app.domain.balances import Balance
    from app.domain.positions import LendingAccount
    from app.services.refresh import RefreshResult


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


def balance_json(b: Balance, texts: dict[int, str] | None = None) -> dict[str, Any]:
    """One balance of the document. ``texts`` caches the wallet and asset ids as text by object
    (a chain's 10,000s of balances share a few hundred of each)."""
    if texts is None:
        texts = {}
    wallet = texts.get(id(b.wallet))
    if wallet is None:
        wallet = texts[id(b.wallet)] = str(b.wallet)
    asset = texts.get(id(b.asset))
    if asset is None:
        asset = texts[id(b.asset)] = str(b.asset.asset_id)
    entry: dict[str, Any] = {
        "wallet": wallet,
        "asset": asset,
        "symbol": b.asset.symbol,
        "name": b.asset.name,
        "raw": str(b.raw),
        "decimals": b.asset.decimals,
        "amount": amount_text(b.raw, b.asset.decimals),
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


def result_json(name: str, r: ChainReadResult) -> dict[str, Any]:
    texts: dict[int, str] = {}  # the read result keeps every keyed object alive meanwhile
    doc: dict[str, Any] = {
        "chain": str(r.chain),
        "name": name,
        "status": r.state.value,
        "reason": r.error,
        "http_requests": r.http_requests,
        "balances": [balance_json(b, texts) for b in r.balances],
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
    """The same pipeline the window runs; ``--no-prices`` reads without valuing or storing."""
    networks = env.context.networks
    # By id or name, as `networks list` shows them; an unknown one is an error before any read.
    only = [str(networks.get(chain).chain_id) for chain in args.chain]
    # What exists now (modules, settings, the database engine) lives until the process ends:
    # out of the cyclic collector's reach, its collections during the refresh and the one at
    # exit walk only the refresh's own objects (0.1-0.15 s of a 40,000-holding refresh). The
    # process ends after this one refresh and makes next to no cycles (reference counting
    # frees the rest): the collector is off until then (its passes over the 100,000s of young
    # objects a read makes cost ~20 ms).
    gc.freeze()
    gc.disable()
    egress = env.context.egress
    if egress is not None and egress.recorder is not None:
        # The process ends after this one refresh: the privacy ledger searches each large
        # request while the replies are awaited, instead of all of them at the end.
        egress.recorder.search_ahead = True
    result = asyncio.run(_run(env, only, store=not args.no_prices))
    gc.freeze()  # so are the 10,000s of balances read, until the document is printed
    specs = {str(c.chain_id): c for c in networks.all()}
    document = refresh_json(result, specs, priced=not args.no_prices)
    if args.json:
        env.print_json(document)
    else:
        _print_table(env, document, args.show_spam)
    return 0 if result.status in (RefreshStatus.OK, RefreshStatus.EMPTY) else 1


async def _run(env: CliEnv, only: list[str], *, store: bool) -> RefreshResult:
    from app.net import with_lookup_threads  # name lookups each get a thread (see there)

    with_lookup_threads(asyncio.get_running_loop())
    context = env.context
    try:
        result = await context.refresh.refresh(store=store, chains=only)
        # Background steps (price-history backfill) get their bounded time before exit.
        budget = float(env.settings.get("prices.backfill_budget_seconds"))
        await context.refresh.drain(budget + 5)
        return result
    finally:
        await context.aclose()


def _print_table(env: CliEnv, document: dict[str, Any], show_spam: bool) -> None:
    from app.domain.outcome import plain_reason

    for ch in document["chains"]:
        status = "ok" if ch["status"] == "ok" else f"FAILED: {plain_reason(ch['reason'])}"
        env.print(f"{ch['name']} ({ch['chain']}): {status}")
        for b in ch["balances"]:
            if b["spam"] and not show_spam:
                continue
            value = f"  = {b['value']} {document['currency']}" if b.get("value") else ""
            where = f"  [{b['position']}]" if b.get("position") else ""
            env.print(
                f"  {b['wallet'].rsplit(':', 1)[1]}  {b['amount']:>32} {b['symbol']}{value}{where}"
            )
        for f in ch["failures"]:
            reason = plain_reason(f["reason"])  # class names stay in the JSON and the log
            env.print(f"  {f['wallet'].rsplit(':', 1)[1]}  {f['asset']}: {reason}")
    if document.get("total") is None and "total" in document:
        env.print("Total: unknown (nothing was read, nothing stored)")
    elif "total" in document:
        stale = document["snapshot"]["stale_total"] if document["snapshot"] else "0"
        note = f" ({stale} of it from stale data)" if Decimal(stale) else ""
        env.print(f"Total: {document['total']} {document['currency']}{note}")
        for problem in document["price_errors"]:
            env.print(f"  prices: {problem}")
        for alert in document["alerts"]:
            env.print(f"Alert: {alert['title']}: {alert['message']}")
    env.print(document["summary"])


def refresh_json(
    result: RefreshResult, specs: dict[str, ChainSpec], *, priced: bool
) -> dict[str, Any]:
    """The document of ``refresh --once --json`` (schema in the module docstring)."""
    # Chains by their network's name; other sources (exchange accounts) by the refresh's own.
    names = {c.chain: c.name for c in result.chains}
    chains = [
        result_json(spec.name if (spec := specs.get(str(r.chain))) else names[str(r.chain)], r)
        for r in result.results
    ]
    document: dict[str, Any] = {
        "status": result.status.value,
        "summary": result.summary,
        "chains": chains,
    }
    if not priced:
        return document
    snapshot = result.snapshot
    values = (
        {}
        if snapshot is None
        else {(h.wallet, h.asset_id, h.position): h for h in snapshot.holdings}
    )
    # What every holding of an asset shares (price text, source, age), worked out once.
    quoted: dict[str, dict[str, Any]] = {}
    for q in () if result.prices is None else result.prices.quotes:
        source = getattr(q, "source", None)
        quoted[q.asset_id] = {
            "price": optional_text(q.price),
            "price_source": source,
            "price_manual": source == "manual",
            "price_age_seconds": getattr(q, "age_seconds", None),
            "price_stale": bool(getattr(q, "stale", False)),
        }
    unquoted = dict.fromkeys(("price", "price_source", "price_age_seconds")) | {
        "price_manual": False,
        "price_stale": False,
    }
    for chain in chains:
        for entry in chain["balances"]:
            held = values.get((entry["wallet"], entry["asset"], entry.get("position", "")))
            quote = quoted.get(entry["asset"], unquoted)
            entry["price"] = None if held is None or held.price is None else quote["price"]
            entry["value"] = optional_text(None if held is None else held.value)
            entry["price_source"] = quote["price_source"]
            entry["price_manual"] = quote["price_manual"]
            entry["price_age_seconds"] = quote["price_age_seconds"]
            entry["price_stale"] = quote["price_stale"]
    document.update(
        {
            "currency": result.currency,
            # Nothing stored (nothing could be read): no total rather than a made-up zero.
            "total": None if snapshot is None else decimal_text(snapshot.total),
            "price_errors": result.price_errors,
            "snapshot": None
            if snapshot is None or not result.stored
            else {
                "id": snapshot.id,
                "taken_at": snapshot.taken_at,
                "total": decimal_text(snapshot.total),
                "stale_total": decimal_text(snapshot.stale_total),
                "sources": [
                    {
                        "chain": s.source,
                        "state": s.state.value,
                        "reason": s.reason,
                        "as_of": s.as_of,
                    }
                    for s in snapshot.sources
                ],
            },
            "alerts": [
                {"rule": a.rule_id, "kind": a.kind.value, "title": a.title, "message": a.message}
                for a in result.alerts
            ],
        }
    )
    return document
