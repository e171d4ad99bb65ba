"""Give an asset a price source: a CoinGecko coin id for a token or a network's native coin.

This is how holdings that no price source recognises (every token of a custom network, the
native coin of one) get a price: the id is stored with the token (the token store) or with the
network (``networks.toml``), the readers hand it on as the asset's ``price_id``, and the price
router asks every source for that coin. The id is checked against the price sources before it
is saved, so a typo does not silently leave the holding unpriced.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.ids import AssetId
from app.domain.price_routing import PriceIdError, parse_price_id

# (price id, currency) -> (price or None, what went wrong reaching the sources)
Quote = Callable[[str, str], Awaitable[tuple[Decimal | None, list[str]]]]


class Check(enum.StrEnum):
    PRICED = "priced"  # a source knows the coin: here is its price
    UNKNOWN = "unknown"  # the sources answered and none knows it
    UNREACHABLE = "unreachable"  # no source could be asked (offline, rate limited)


@dataclass(frozen=True, slots=True)
class PriceIdCheck:
    price_id: str  # "coingecko:usd-coin"
    outcome: Check
    price: Decimal | None = None

    @property
    def sentence(self) -> str:
        if self.outcome is Check.PRICED:
            return f"{self.price_id} is known to the price sources."
        if self.outcome is Check.UNKNOWN:
            return (
                f"No price source knows {self.price_id}: check the id on the coin's CoinGecko "
                "page (the last part of its address)."
            )
        return (
            f"The price sources could not be reached to check {self.price_id}. You can save "
            "it anyway; the next refresh with a connection uses it."
        )


@dataclass(frozen=True, slots=True)
class PricedThing:
    """What gets the price id: a token (stored with it) or a native coin (with its network)."""

    asset_id: str  # CAIP-19
    symbol: str
    name: str
    decimals: int

    @property
    def is_native(self) -> bool:
        return AssetId.parse(self.asset_id).asset_namespace == "slip44"


class PriceIdService:
    def __init__(
        self,
        quote: Quote,
        save_token: Callable[[PricedThing, str], None],
        save_native: Callable[[str, str], None],
    ) -> None:
        self._quote = quote
        self._save_token = save_token
        self._save_native = save_native  # (CAIP-2 chain, price id)

    async def check(self, text: str, currency: str) -> PriceIdCheck:
        """Parse ``text`` (raises :class:`PriceIdError` in plain words) and ask the sources."""
        price_id = parse_price_id(text)
        price, errors = await self._quote(price_id, currency)
        if price is not None:
            return PriceIdCheck(price_id, Check.PRICED, price)
        return PriceIdCheck(price_id, Check.UNREACHABLE if errors else Check.UNKNOWN)

    async def save(self, thing: PricedThing, text: str) -> str:
        """Store the price id (checked for form only: :meth:`check` asks the sources);
        the next refresh prices the asset with it. Returns the stored form."""
        price_id = parse_price_id(text)
        if thing.is_native:
            chain = thing.asset_id.split("/", 1)[0]
            await asyncio.to_thread(self._save_native, chain, price_id)
        else:
            await asyncio.to_thread(self._save_token, thing, price_id)
        return price_id


__all__ = ["Check", "PriceIdCheck", "PriceIdError", "PriceIdService", "PricedThing"]
