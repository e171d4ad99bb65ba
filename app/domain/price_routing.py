"""Ask the price sources in the configured order; each later source only gets what is missing.

Pure policy over the :class:`~app.domain.ports.PriceSource` port (no I/O of its own), so the
price service uses it without importing any adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.ports import PriceSource
from app.domain.valuation import PricedAsset, RefusedPrice


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
