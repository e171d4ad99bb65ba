"""``chainfolio tokens add|list|remove``: user-added ERC-20 tokens, metadata read on-chain."""

from __future__ import annotations

import argparse
import asyncio

from app.cli.env import CliEnv


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tokens", help="add, list and remove tokens")
    ts = p.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)

    add = ts.add_parser("add", help="add a token by contract address (reads its metadata)")
    add.add_argument("chain", help="network, e.g. eip155:1 or Ethereum")
    add.add_argument("address")
    add.add_argument(
        "--price-id",
        default=None,
        metavar="ID",
        help="CoinGecko coin id that prices this token, e.g. usd-coin (or coingecko:usd-coin)",
    )
    add.set_defaults(func=_add)

    ls = ts.add_parser("list", help="list known tokens (curated and added)")
    ls.add_argument("--chain", default=None)
    ls.add_argument("--all", action="store_true", help="include tokens marked as spam")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    rm = ts.add_parser("remove", help="forget a token you added")
    rm.add_argument("chain")
    rm.add_argument("address")
    rm.set_defaults(func=_remove)


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    from app.chains.evm.metadata import read_metadata
    from app.chains.http import JsonRpcTransport
    from app.cli.networks_cmd import open_registry
    from app.domain.chains import ChainFamily
    from app.domain.secret_text import refuse_secret
    from app.storage.token_store import TokenStore

    refuse_secret(args.address, "token address")
    price_id = None
    if args.price_id is not None:  # checked before anything is read or written
        from app.domain.price_routing import parse_price_id

        price_id = parse_price_id(args.price_id)
    registry, _ = open_registry(env)
    spec = registry.get(args.chain)
    env.context.apply_network_settings()  # proxy, own-nodes-only and the privacy ledger
    transport = JsonRpcTransport(
        spec.rpc_urls,
        timeout=env.settings.get("chains.request_timeout_ms") / 1000,
        purpose="tokens",
    )

    async def read() -> object:
        try:
            if spec.family is ChainFamily.SOLANA:  # an SPL Token / Token-2022 mint
                from app.chains.solana.lookup import read_token

                return await read_token(spec, args.address, timeout=transport.timeout)
            return await read_metadata(transport, spec.chain_id, args.address)
        finally:
            await transport.aclose()

    info = asyncio.run(read())
    from app.domain.balances import AssetInfo

    assert isinstance(info, AssetInfo)
    if price_id is not None:
        from dataclasses import replace

        info = replace(info, price_id=price_id)
    TokenStore(env.context.engine).upsert(info, "user")
    env.print(f"Added {info.symbol} ({info.name}), {info.decimals} decimals: {info.asset_id}")
    if info.price_id:
        env.print(f"Priced as {info.price_id}")
    if info.is_spam:
        env.print(f"Marked as spam and hidden by default: {info.spam_reason}")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    from app.chains.evm.tokens import curated_tokens
    from app.cli.networks_cmd import open_registry
    from app.storage.token_store import TokenStore

    registry, _ = open_registry(env)
    specs = [registry.get(args.chain)] if args.chain else registry.all()
    store = TokenStore(env.context.engine)
    rows = []
    for spec in specs:
        added = store.list(spec.chain_id, include_spam=args.all)
        for source, infos in (("curated", curated_tokens(spec.chain_id)), ("added", added)):
            rows += [(source, i) for i in infos]
    if args.json:
        env.print_json([
            {"asset": str(i.asset_id), "symbol": i.symbol, "name": i.name, "decimals": i.decimals,
             "source": src, "price_id": i.price_id, "spam": i.is_spam, "spam_reason": i.spam_reason}
            for src, i in rows
        ])  # fmt: skip
        return 0
    for src, i in rows:
        env.print(
            f"{i.symbol:<12} {i.decimals:>3}  {src:<8} {i.asset_id}{'  [spam]' if i.is_spam else ''}"
        )
    return 0


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    from app.chains.evm.tokens import erc20_asset_id
    from app.cli.networks_cmd import open_registry
    from app.domain.chains import ChainFamily
    from app.domain.errors import ChainfolioError
    from app.domain.secret_text import refuse_secret
    from app.storage.token_store import TokenStore

    refuse_secret(args.address, "token address")
    spec = open_registry(env)[0].get(args.chain)
    if spec.family is ChainFamily.SOLANA:
        from app.chains.solana.lookup import spl_asset_id

        asset = spl_asset_id(spec.chain_id, args.address)
    else:
        asset = erc20_asset_id(spec.chain_id, args.address)
    if not TokenStore(env.context.engine).remove(asset):
        raise ChainfolioError(f"No added token {args.address} on {spec.name}.")
    env.print(f"Removed token {args.address} from {spec.name}")
    return 0
