"""Settings of the price sources (base URLs, order, cache TTL).

Every base URL is a setting so that a paid host, a proxy or a local test server can be used.
"""

from __future__ import annotations

from typing import Any

from app.config import Setting, in_range, parse_int, parse_list, validate_url
from app.domain.errors import SettingsError

SOURCES = ("coingecko", "defillama")


def _valid_order(value: Any) -> None:
    if not value or any(v not in SOURCES for v in value) or len(set(value)) != len(value):
        raise SettingsError(f"Choose each price source at most once, from: {', '.join(SOURCES)}.")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "prices.coingecko.url",
        "https://api.coingecko.com/api/v3",
        "CoinGecko API base URL (keyless or Demo key).",
        str,
        validate_url("prices.coingecko.url"),
    ),
    Setting(
        "prices.coingecko.pro_url",
        "https://pro-api.coingecko.com/api/v3",
        "CoinGecko Pro API base URL (used when a Pro key is in the keyring).",
        str,
        validate_url("prices.coingecko.pro_url"),
    ),
    Setting(
        "prices.defillama.url",
        "https://coins.llama.fi",
        "DefiLlama coins API base URL.",
        str,
        validate_url("prices.defillama.url"),
    ),
    Setting(
        "prices.stooq.url",
        "https://stooq.com",
        "Stooq base URL: daily closes of stocks, ETFs and metals (CSV).",
        str,
        validate_url("prices.stooq.url"),
    ),
    Setting(
        "prices.fx_history.url",
        "https://api.frankfurter.dev/v1",
        "Frankfurter base URL: daily ECB exchange rates since 1999 (no key).",
        str,
        validate_url("prices.fx_history.url"),
    ),
    Setting(
        "prices.order",
        ["defillama", "coingecko"],
        "Price sources asked in order; later ones fill assets the earlier ones miss.",
        parse_list,
        _valid_order,
    ),
    Setting(
        "prices.ttl_seconds",
        300,
        "Seconds a fetched price is reused before asking the sources again.",
        parse_int,
        in_range("prices.ttl_seconds", 0, 86400),
    ),
    Setting(
        "prices.timeout_seconds",
        15,
        "Seconds to wait for one price request.",
        parse_int,
        in_range("prices.timeout_seconds", 1, 120),
    ),
    Setting(
        "prices.coingecko.per_minute",
        30,
        "Most CoinGecko requests per minute (free tier is about 30).",
        parse_int,
        in_range("prices.coingecko.per_minute", 1, 1000),
    ),
    Setting(
        "prices.backfill_budget_seconds",
        20,
        "How long `refresh --once` may spend backfilling price history (the rest resumes later).",
        parse_int,
        in_range("prices.backfill_budget_seconds", 0, 3600),
    ),
)
