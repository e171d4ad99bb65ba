"""``chainfolio refresh --once [--json]``: read every balance once and print it.

JSON schema (one object): ``{"chains": [{"chain": CAIP-2, "name", "status": "ok"|"failed",
"reason": str|null, "http_requests": int, "balances": [{"wallet": CAIP-10, "asset": CAIP-19,
"symbol", "name", "raw": str, "decimals": int, "amount": str}], "failures": [{"wallet", "asset",
"reason"}]}]}``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from app.cli.env import CliEnv
from app.domain.balances import ChainReadResult
from app.domain.chains import ChainSpec
from app.domain.model import Wallet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("refresh", help="read every balance on every enabled chain")
    p.add_argument("--once", action="store_true", required=True, help="read once and exit")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--chain", action="append", default=[], help="only this chain (repeatable)")
    p.set_defaults(func=_refresh)


def result_json(spec: ChainSpec, r: ChainReadResult) -> dict[str, Any]:
    return {
        "chain": str(r.chain),
        "name": spec.name,
        "status": r.state.value,
        "reason": r.error,
        "http_requests": r.http_requests,
        "balances": [
            {
                "wallet": str(b.wallet),
                "asset": str(b.asset.asset_id),
                "symbol": b.asset.symbol,
                "name": b.asset.name,
                "raw": str(b.raw),
                "decimals": b.asset.decimals,
                "amount": format(b.amount, "f"),
            }
            for b in r.balances
        ],
        "failures": [
            {"wallet": str(f.wallet), "asset": str(f.asset), "reason": f.reason} for f in r.failures
        ],
    }


def _refresh(args: argparse.Namespace, env: CliEnv) -> int:
    from app.chains.factory import ReaderContext, create_reader
    from app.cli.networks_cmd import open_registry
    from app.services.balances import BalanceService

    registry, secrets = open_registry(env)
    chains = [registry.get(c) for c in args.chain] if args.chain else registry.enabled()
    ctx = ReaderContext(env.settings, env.context.engine, secrets)
    service = BalanceService(
        lambda spec: create_reader(spec, ctx), float(env.settings.get("chains.chain_timeout_s"))
    )
    wallets = env.context.wallets.list()
    results = asyncio.run(service.refresh(chains, wallets))
    _remember_held(env, wallets, results)
    specs = {str(c.chain_id): c for c in chains}
    payload = [result_json(specs[str(r.chain)], r) for r in results]
    if args.json:
        env.print_json({"chains": payload})
    else:
        for ch in payload:
            status = "ok" if ch["status"] == "ok" else f"FAILED: {ch['reason']}"
            env.print(f"{ch['name']} ({ch['chain']}): {status}")
            for b in ch["balances"]:
                env.print(f"  {b['wallet'].rsplit(':', 1)[1]}  {b['amount']:>32} {b['symbol']}")
            for f in ch["failures"]:
                env.print(f"  {f['wallet'].rsplit(':', 1)[1]}  {f['asset']}: {f['reason']}")
    return 0 if all(c["status"] == "ok" for c in payload) else 1


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
