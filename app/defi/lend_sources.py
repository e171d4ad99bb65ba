"""Position sources of Morpho Blue, Sky savings and Spark Lend, from ``defi.toml`` entries.

Layouts (one table per entry, ``chain`` is the CAIP-2 id):

``[[morpho_blue]]`` ``morpho`` (the singleton), ``market`` (the 32-byte market id, 0x + 64 hex),
optionally ``clock`` (a contract with Multicall3's ``getCurrentBlockTimestamp()``, for the
interest since the market's last update; the canonical Multicall3 by default).
A person adds a Morpho market by adding one such entry to their own ``defi.toml``; for a chain
named there, the user file's entries replace the built-in ones, so a user list names every
market they want read on that chain.

``[[sky]]`` ``vault`` (sDAI / sUSDS), ``underlying`` (DAI / USDS, priced like any token),
``underlying_symbol``, ``underlying_decimals``, ``underlying_price_id`` and optionally
``rate_contract`` with ``rate_function`` (``"ssr()"`` on sUSDS, ``"dsr()"`` on Maker's Pot).

``[[spark]]`` the Aave v3 layout (``pool``, ``addresses_provider``, ``incentives``): Spark Lend
is an Aave v3 fork, read by the Aave code under its own protocol name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.domain.addresses import to_checksum_address
from app.domain.balances import AssetInfo
from app.domain.ids import AssetId, ChainId
from app.domain.text import clean_text

if TYPE_CHECKING:  # imported when a chain has entries (``app.defi.registry``)
    from app.defi.aave_v3 import AaveMarket
    from app.defi.ports import PositionSource
    from app.defi.tokens import TokenBook

PROTOCOLS = ("morpho_blue", "sky", "spark")


def aave_markets(entries: list[dict[str, Any]], protocol: str) -> list[AaveMarket]:
    from app.defi.aave_v3 import AaveMarket

    return [
        AaveMarket(
            str(t["pool"]),
            str(t["addresses_provider"]),
            bool(t.get("main", i == 0)),
            int(t.get("base_decimals", 8)),
            protocol,
            str(t["incentives"]) if t.get("incentives") else None,
        )
        for i, t in enumerate(entries)
    ]


def lend_sources(
    chain: ChainId, entries: dict[str, list[dict[str, Any]]], book: TokenBook
) -> list[PositionSource]:
    """``entries`` maps each of :data:`PROTOCOLS` to the chain's tables. KeyError, ValueError or
    TypeError for an incomplete entry (the registry turns them into a clear message)."""
    from app.defi.aave_v3 import AaveV3
    from app.defi.morpho import CLOCK, MorphoBlue
    from app.defi.sky import SavingsVault, SkySavings

    sources: list[PositionSource] = []
    by_morpho: dict[tuple[str, str], list[str]] = {}
    for t in entries.get("morpho_blue", []):
        key = (
            to_checksum_address(str(t["morpho"])),
            to_checksum_address(str(t.get("clock", CLOCK))),
        )
        by_morpho.setdefault(key, []).append(str(t["market"]))
    for (morpho, clock), markets in by_morpho.items():
        sources.append(MorphoBlue(morpho, markets, book, clock))
    vaults: list[SavingsVault] = []
    for t in entries.get("sky", []):
        address = to_checksum_address(str(t["underlying"]))
        underlying = book.get(address) or AssetInfo(
            AssetId(chain, "erc20", address),
            clean_text(str(t["underlying_symbol"]), 16),
            clean_text(str(t.get("underlying_name", t["underlying_symbol"])), 64),
            int(t["underlying_decimals"]),
            price_id=t.get("underlying_price_id"),
        )
        rate = t.get("rate_contract")
        vaults.append(
            SavingsVault(
                to_checksum_address(str(t["vault"])), underlying,
                to_checksum_address(str(rate)) if rate else None,
                str(t.get("rate_function", "ssr()")),
            )
        )  # fmt: skip
    if vaults:
        sources.append(SkySavings(vaults))
    spark = aave_markets(entries.get("spark", []), "spark")
    if spark:
        sources.append(AaveV3(spark, book, "spark", "Spark"))
    return sources
