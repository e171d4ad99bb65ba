"""``chainfolio networks list|add|remove|set-rpc|enable|disable``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError

if TYPE_CHECKING:
    from app.chains.registry import ChainRegistry
    from app.domain.ports import SecretStore


class NetworkCheckError(ChainfolioError):
    """A URL given for a new network did not answer that network's chain id."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("networks", help="list, add and configure networks and RPC URLs")
    ns = p.add_subparsers(dest="networks_command", metavar="ACTION", required=True)

    ls = ns.add_parser("list", help="list networks")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_list)

    add = ns.add_parser("add", help="add a custom EVM network")
    add.add_argument("chain_id", type=int, help="EVM chain id, e.g. 1337")
    add.add_argument("name")
    add.add_argument("symbol", help="native coin symbol")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.add_argument("--multicall3", default="", help="Multicall3 address, if deployed")
    add.add_argument("--explorer", default="", help="block explorer URL")
    add.add_argument(
        "--price-id",
        default="",
        metavar="ID",
        help="CoinGecko coin id that prices the native coin, e.g. ethereum (or coingecko:ethereum)",
    )
    add.add_argument(
        "--no-check",
        action="store_true",
        help="add without asking each URL for its chain id (e.g. while offline)",
    )
    add.set_defaults(func=_add)

    rm = ns.add_parser("remove", help="remove a custom network")
    rm.add_argument("chain")
    rm.set_defaults(func=_remove)

    rpc = ns.add_parser(
        "set-rpc",
        help="replace a network's RPC URLs (none: back to defaults)",
        description="Replace a network's RPC URLs, tried in order. For Bitcoin the URL is an "
        "Esplora API (https://my-node.local:3002/api); an Electrum server is set with "
        "`chainfolio config set bitcoin.electrum_server`.",
    )
    rpc.add_argument("chain", help="network id or name, as `networks list` shows it")
    rpc.add_argument("urls", nargs="*", metavar="URL", help="the URLs; none: back to the defaults")
    rpc.set_defaults(func=_set_rpc)

    price = ns.add_parser(
        "price-id", help="set (or with no ID, reset) the CoinGecko coin id of a native coin"
    )
    price.add_argument("chain")
    price.add_argument("price_id", nargs="?", default=None, metavar="ID")
    price.set_defaults(func=_price_id)

    for name, enabled in (("enable", True), ("disable", False)):
        e = ns.add_parser(name, help=f"{name} a network")
        e.add_argument("chain")
        e.set_defaults(func=_toggle, enabled=enabled)


def open_registry(env: CliEnv) -> tuple[ChainRegistry, SecretStore]:
    from app.chains.registry import ChainRegistry

    secrets = _secret_store()
    return ChainRegistry(env.paths.config_dir / "networks.toml", secrets), secrets


def _secret_store() -> SecretStore:
    from app.secrets import KeyringSecretStore  # type: ignore[import-not-found,unused-ignore]

    store: SecretStore = KeyringSecretStore()
    return store


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    from app.domain.secret_text import redact_url

    registry, _ = open_registry(env)
    specs = registry.all()
    if args.json:
        env.print_json([
            {
                "chain": str(s.chain_id), "name": s.name, "family": s.family.value,
                "enabled": s.enabled, "custom": s.custom, "native": s.native_symbol,
                "multicall3": s.multicall3, "rpc_urls": [redact_url(u) for u in s.rpc_urls],
                "price_id": _native_price_id(s.price_ids),
            }
            for s in specs
        ])  # fmt: skip
        return 0
    for s in specs:
        flag = "on " if s.enabled else "off"
        env.print(f"[{flag}] {s.chain_id!s:<50} {s.name}{' (custom)' if s.custom else ''}")
    return 0


def _add(args: argparse.Namespace, env: CliEnv) -> int:
    registry, _ = open_registry(env)
    fields = {
        "multicall3": args.multicall3,
        "explorer_url": args.explorer,
        "price_id": args.price_id,
    }
    registry.check_new(args.chain_id, args.name, args.symbol, args.urls, **fields)
    if not args.no_check:
        for url, found in zip(args.urls, _check_chain_ids(args.urls, args.chain_id), strict=True):
            env.print(f"{_shown(url)}: chain id {found}")
    spec = registry.add(args.chain_id, args.name, args.symbol, args.urls, **fields)
    env.print(f"Added network {spec.name} ({spec.chain_id})")
    price_id = _native_price_id(spec.price_ids)
    if price_id:
        env.print(f"{spec.native_symbol} is priced as {price_id}")
    else:
        env.print(
            f"{spec.native_symbol} has no price id, so its balances are left out of totals; "
            f"give one with: chainfolio networks price-id {spec.chain_id} COIN_ID"
        )
    return 0


def _native_price_id(price_ids: dict[str, str]) -> str | None:
    coin = price_ids.get("coingecko_native")
    return f"coingecko:{coin}" if coin else None


def _price_id(args: argparse.Namespace, env: CliEnv) -> int:
    registry, _ = open_registry(env)
    spec = registry.set_price_id(args.chain, args.price_id)
    price_id = _native_price_id(spec.price_ids)
    if args.price_id is None:
        shown = f"back to the default ({price_id})" if price_id else "removed (no price)"
        env.print(f"Price id of {spec.native_symbol} on {spec.name}: {shown}")
    else:
        env.print(
            f"{spec.native_symbol} on {spec.name} is priced as {price_id} from the next refresh"
        )
    return 0


def _shown(url: str) -> str:
    from app.domain.secret_text import redact_url

    return redact_url(url)


def _check_chain_ids(urls: list[str], expected: int) -> list[int]:
    """Ask every URL for its chain id, as the Settings dialog does before it adds a network:
    one that answers another id, or cannot be reached, refuses the network with the reason."""
    import asyncio

    from app.chains.probe import ProbeResult, probe_chain_id
    from app.domain.errors import ChainfolioError

    async def ask() -> list[ProbeResult | BaseException]:
        return await asyncio.gather(*(probe_chain_id(u) for u in urls), return_exceptions=True)

    found: list[int] = []
    for url, result in zip(urls, asyncio.run(ask()), strict=True):
        if isinstance(result, ChainfolioError):
            raise NetworkCheckError(
                f"{_shown(url)} could not be checked: {result} The network was not added; to "
                "add it without the check (for example while offline), run the command again "
                "with --no-check."
            )
        if isinstance(result, BaseException):
            raise result
        if result.chain_id != expected:
            raise NetworkCheckError(
                f"{_shown(url)} answers chain id {result.chain_id}, not {expected}: it belongs "
                "to another network, so the network was not added."
            )
        found.append(result.chain_id)
    return found


def _remove(args: argparse.Namespace, env: CliEnv) -> int:
    registry, _ = open_registry(env)
    registry.remove(args.chain)
    env.print(f"Removed network {args.chain}")
    return 0


def _set_rpc(args: argparse.Namespace, env: CliEnv) -> int:
    registry, _ = open_registry(env)
    registry.set_rpc(args.chain, args.urls)
    env.print(f"RPC URLs of {args.chain} {'set' if args.urls else 'back to defaults'}")
    return 0


def _toggle(args: argparse.Namespace, env: CliEnv) -> int:
    registry, _ = open_registry(env)
    registry.set_enabled(args.chain, args.enabled)
    env.print(f"{args.chain} {'enabled' if args.enabled else 'disabled'}")
    return 0
