"""``chainfolio prices ASSET...`` and ``chainfolio prices override ASSET PRICE [--remove]``.

ASSET is a CAIP-19 id (``eip155:1/erc20:0xA0b8…``, ``eip155:1/slip44:60``) or a CoinGecko coin
id written ``coingecko:<id>`` (priced as that coin, shown under that name).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING

from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId, ChainId
from app.domain.secret_text import refuse_secret
from app.domain.text import clean_text
from app.domain.valuation import PricedAsset, check_price, decimal_text, optional_text

if TYPE_CHECKING:
    from app.domain.ports import SecretStore
    from app.services.prices import PriceResult


class PriceInputError(ChainfolioError, ValueError):
    pass


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prices",
        help="current prices of assets; 'prices override ASSET PRICE' sets a manual price; "
        "'prices history [ASSET]' daily closes; 'prices symbol ASSET stooq:SYMBOL'",
    )
    p.add_argument("assets", nargs="+", metavar="ASSET", help="CAIP-19 id or coingecko:<id>")
    p.add_argument("--currency", help="display currency (default: the 'currency' setting)")
    p.add_argument("--remove", action="store_true", help="with 'override' or 'symbol': remove it")
    p.add_argument("--from", dest="since", help="with 'history': first day (YYYY-MM-DD)")
    p.add_argument(
        "--offline", action="store_true", help="with 'history': show what is stored only"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run)


def _shown(text: str) -> str:
    return repr(clean_text(text, 80))


def _parse_asset(text: str) -> PricedAsset:
    refuse_secret(text, "asset")
    if text.startswith("coingecko:"):
        coin = text.split(":", 1)[1]
        if not coin:
            raise PriceInputError(
                f"{_shown(text)}: write coingecko:<coin id>, e.g. coingecko:bitcoin"
            )
        # A synthetic CAIP-19 id in CoinGecko's own namespace, used only for this lookup.
        return PricedAsset(AssetId(ChainId("coingecko", "coins"), "coin", coin), text)
    if text.lower().startswith(("stock:", "etf:", "commodity:", "fiat:", "bond:")):
        raise PriceInputError(
            f"{_shown(text)}: stocks, ETFs and metals have daily closes, shown by "
            f"`chainfolio prices history {clean_text(text, 60)}`; currencies by "
            "`chainfolio fx history CODE`."
        )
    try:
        return PricedAsset(AssetId.parse(text))
    except ValueError:
        raise PriceInputError(
            f"{_shown(text)} is not an asset id; use e.g. eip155:1/slip44:60 or coingecko:bitcoin"
        ) from None


def _secrets() -> SecretStore | None:
    try:
        from app.secrets import KeyringSecretStore

        store = KeyringSecretStore()
        return store if store.available else None
    except (ImportError, ChainfolioError):
        return None


def _currency(code: str) -> str:
    from app.config import SUPPORTED_CURRENCIES

    refuse_secret(code, "currency")
    if code.upper() not in SUPPORTED_CURRENCIES:
        raise PriceInputError(
            f"{_shown(code)} is not a supported currency; use one of "
            f"{', '.join(SUPPORTED_CURRENCIES)}."
        )
    return code.upper()


def _run(args: argparse.Namespace, env: CliEnv) -> int:
    if args.assets[0] in ("history", "symbol"):  # the ledger's stocks, ETFs, metals (fx_cmd)
        from app.cli.fx_cmd import prices_history, prices_symbol

        if args.assets[0] == "history":
            return prices_history(args.assets[1:], args, env)
        return prices_symbol(args.assets[1:], args.remove, env)
    currency = _currency(args.currency or env.settings.get("currency"))
    if args.assets[0] == "override":
        return _override(args.assets[1:], args.remove, currency, env)
    assets = [_parse_asset(a) for a in args.assets]
    from app.prices.factory import build_price_service

    stack = build_price_service(env.context.engine, env.settings, _secrets())

    async def go() -> tuple[dict[str, PriceResult], list[str]]:
        try:
            results, _requests, errors = await stack.service.prices(assets, currency)
            return dict(results), errors
        finally:
            await stack.aclose()

    results, errors = asyncio.run(go())
    rows = []
    for a in assets:
        r = results[str(a.asset_id)]
        name = a.price_id or str(a.asset_id)
        rows.append((name, r))
    if args.json:
        env.print_json(
            {
                "currency": currency,
                "prices": [
                    {
                        "asset": name,
                        "price": optional_text(r.price),
                        "source": r.source,
                        "manual": r.source == "manual",
                        "age_seconds": r.age_seconds,
                        "stale": r.stale,
                    }
                    for name, r in rows
                ],
                "errors": errors,
            }
        )
    else:
        for name, r in rows:
            if r.price is None:
                env.print(f"{name}  no price")
                continue
            note = f" (stale, {r.age_seconds}s old)" if r.stale else ""
            if r.source == "manual":
                note += " (manual price, not a market price)"
            env.print(f"{name}  {decimal_text(r.price)} {currency}  [{r.source}]{note}")
        from app.domain.outcome import plain_reason

        for e in errors:
            env.print(f"warning: {plain_reason(e)}")
    return 0 if all(r.price is not None for _, r in rows) else 1


def _override(rest: list[str], remove: bool, currency: str, env: CliEnv) -> int:
    from app.storage.price_store import SqlPriceStore

    store = SqlPriceStore(env.context.engine)
    if remove:
        if len(rest) != 1:
            raise PriceInputError("usage: chainfolio prices override ASSET --remove")
        asset = _parse_asset(rest[0])
        removed = store.remove_override(str(asset.asset_id))
        env.print(f"{rest[0]}: manual price removed" if removed else f"{rest[0]}: no manual price")
        return 0
    if len(rest) != 2:
        raise PriceInputError("usage: chainfolio prices override ASSET PRICE [--currency CODE]")
    asset = _parse_asset(rest[0])
    refuse_secret(rest[1], "price")
    price, why = check_price(rest[1].strip())
    if price is None:
        raise PriceInputError(
            f"That is not a usable price ({why}): give a number from 0 to 1e15, "
            "at least 1e-30 unless zero, with at most 40 significant digits."
        )
    store.set_override(str(asset.asset_id), price, currency, int(time.time()))
    env.print(f"{rest[0]}: manual price {decimal_text(price)} {currency}")
    return 0
