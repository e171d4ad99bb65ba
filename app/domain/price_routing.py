"""Ask the price sources in the configured order; each later source only gets what is missing.

Pure policy over the :class:`~app.domain.ports.PriceSource` port (no I/O of its own), so the
price service uses it without importing any adapter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.errors import ChainfolioError
from app.domain.ports import PriceSource
from app.domain.secret_text import refuse_secret
from app.domain.text import clean_text
from app.domain.valuation import PricedAsset, RefusedPrice

# A CoinGecko coin id as its API spells it: "usd-coin", "wrapped-bitcoin", "matic-network".
_COIN_ID = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?")
PRICE_ID_PREFIX = "coingecko:"


class PriceIdError(ChainfolioError, ValueError):
    """A price id a person typed that no price source could use."""


def parse_price_id(text: str) -> str:
    """``"coingecko:usd-coin"`` from ``"usd-coin"``, ``"coingecko:usd-coin"`` or the coin's
    CoinGecko page URL; refused in plain words otherwise. The one form stored and routed: every
    source (CoinGecko by coin id, DefiLlama as ``coingecko:<id>``) can price it on any chain,
    which is how holdings of a custom network get a price."""
    refuse_secret(text, "price id")
    raw = text.strip()
    coin = raw
    for prefix in ("https://www.coingecko.com/en/coins/", "https://coingecko.com/en/coins/"):
        if coin.lower().startswith(prefix):
            coin = coin[len(prefix) :].strip("/")
    if coin.lower().startswith(PRICE_ID_PREFIX):
        coin = coin[len(PRICE_ID_PREFIX) :]
    coin = coin.strip()
    if not coin:
        raise PriceIdError("Give a CoinGecko coin id, for example usd-coin or coingecko:usd-coin.")
    if not _COIN_ID.fullmatch(coin):
        raise PriceIdError(
            f"{clean_text(raw, 60)!r} is not a CoinGecko coin id: use the id from the coin's "
            "CoinGecko page, in lower case (for example usd-coin or wrapped-bitcoin)."
        )
    return PRICE_ID_PREFIX + coin


@dataclass
class Routed:
    prices: dict[str, tuple[Decimal, str]] = field(default_factory=dict)  # asset -> (usd, source)
    requests: dict[str, int] = field(default_factory=dict)  # source -> requests made
    errors: list[str] = field(default_factory=list)
    refused: list[RefusedPrice] = field(default_factory=list)  # every refused quote, in order


async def route(sources: Sequence[PriceSource], assets: Sequence[PricedAsset]) -> Routed:
    result = Routed()
    missing = list({str(a.asset_id): a for a in assets}.values())
    for source in sources:
        if not missing:
            break
        answer = await source.current_usd(missing)
        result.requests[source.name] = result.requests.get(source.name, 0) + answer.requests
        if answer.error:
            result.errors.append(answer.error)
        result.refused.extend(answer.rejected)
        for asset_id, price in answer.prices.items():
            result.prices[asset_id] = (price, source.name)
        missing = [a for a in missing if str(a.asset_id) not in result.prices]
    return result
