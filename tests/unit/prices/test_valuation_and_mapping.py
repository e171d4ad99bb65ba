"""Pure valuation rules, CAIP-19 -> price API id mapping, and the price settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.config import SETTINGS, Settings
from app.domain.errors import SettingsError
from app.domain.ids import AssetId
from app.domain.valuation import (
    holding_value,
    parse_price,
    price_effect,
    quantity_effect,
    quantize_money,
)
from app.prices.mapping import price_keys

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


@pytest.mark.parametrize(
    "raw",
    [float("nan"), float("inf"), -1, -0.01, 1e30, Decimal("1e15") + 1, "abc", None, True, [1]],
)
def test_absurd_prices_are_refused(raw: object) -> None:
    assert parse_price(raw) is None


def test_prices_become_exact_decimals() -> None:
    assert parse_price(0.1) == Decimal("0.1")  # via str: no binary noise
    assert parse_price(0) == Decimal(0)
    assert parse_price("1e15") == Decimal("1e15")
    assert parse_price(3000) == Decimal(3000)


def test_value_and_effects_add_up_exactly() -> None:
    q0, q1, p0, p1 = Decimal("1.5"), Decimal("2.25"), Decimal("100.10"), Decimal("120.03")
    change = holding_value(q1, p1) - holding_value(q0, p0)
    assert price_effect(q0, p0, p1) + quantity_effect(q0, q1, p1) == change
    assert quantize_money(Decimal("1.005")) == Decimal("1.00")  # banker's rounding (display)


def test_mapping_erc20_native_solana_and_price_id() -> None:
    k = price_keys(AssetId.parse(f"eip155:1/erc20:{USDC}"))
    assert (k.defillama, k.coingecko_platform, k.contract) == (
        f"ethereum:{USDC.lower()}",
        "ethereum",
        USDC.lower(),
    )
    k = price_keys(AssetId.parse(f"eip155:42161/erc20:{USDC}"))
    assert k.coingecko_platform == "arbitrum-one" and k.defillama.startswith("arbitrum:")  # type: ignore[union-attr]
    k = price_keys(AssetId.parse("eip155:1/slip44:60"))
    assert (k.coingecko_id, k.defillama) == ("ethereum", "coingecko:ethereum")
    sol = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    assert price_keys(AssetId.parse(f"{sol}/slip44:501")).coingecko_id == "solana"
    k = price_keys(AssetId.parse(f"{sol}/token:{MINT}"))
    assert (k.defillama, k.coingecko_platform, k.contract) == (f"solana:{MINT}", "solana", MINT)
    k = price_keys(AssetId.parse(f"eip155:1/erc20:{USDC}"), "coingecko:usd-coin")
    assert (k.coingecko_id, k.defillama, k.contract) == ("usd-coin", "coingecko:usd-coin", None)
    assert not price_keys(AssetId.parse(f"eip155:999999/erc20:{USDC}")).any


def test_price_settings_are_registered_and_validated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for key in (
        "prices.coingecko.url",
        "prices.coingecko.pro_url",
        "prices.defillama.url",
        "prices.order",
        "prices.ttl_seconds",
    ):
        assert key in SETTINGS
    s = Settings.load(tmp_path / "s.toml")
    assert s.set("prices.order", "coingecko, defillama") == ["coingecko", "defillama"]
    for key, bad in (
        ("prices.order", "coingecko,binance"),
        ("prices.order", "coingecko,coingecko"),
        ("prices.defillama.url", "ftp://x"),
        ("prices.ttl_seconds", "-1"),
    ):
        with pytest.raises(SettingsError):
            s.set(key, bad)


def test_locked_keyring_means_keyless_coingecko() -> None:
    """A keyring that fails (locked, prompt dismissed) must not stop pricing."""
    import httpx

    from app.prices.coingecko import CoinGeckoSource
    from app.secrets import SecretStoreError

    class LockedStore:
        def get(self, name: str) -> str | None:
            raise SecretStoreError("The keyring could not read it. Is the keyring unlocked?")

        def set(self, name: str, value: str) -> None: ...

        def delete(self, name: str) -> None: ...

        def names(self) -> list[str]:
            return []

    source = CoinGeckoSource(
        httpx.AsyncClient(), "http://127.0.0.1:9/api/v3", "http://127.0.0.1:9/pro", LockedStore()
    )
    assert source._headers == {}
    assert source._base == "http://127.0.0.1:9/api/v3"
