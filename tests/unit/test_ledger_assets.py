"""Ledger asset ids: the scheme for non-crypto assets, validated on input (ISIN check digit,
ISO 4217, metals), and the symbols of other trackers' files."""

from __future__ import annotations

import pytest

from app.domain.assets import (
    AssetClass,
    AssetError,
    asset_from_symbol,
    isin_check_digit_ok,
    parse_asset,
    symbol_for_export,
)


@pytest.mark.parametrize(
    "isin",
    ["US0378331005", "IE00B4L5Y983", "US912828U816", "DE0007164600", "GB0002634946"],
)
def test_real_isins_pass_the_check_digit(isin: str) -> None:
    assert isin_check_digit_ok(isin)


@pytest.mark.parametrize("isin", ["US0378331006", "IE00B4L5Y984", "US037833100", "1S0378331005"])
def test_wrong_isins_fail(isin: str) -> None:
    assert not isin_check_digit_ok(isin)


@pytest.mark.parametrize(
    ("text", "expected", "cls"),
    [
        ("stock:us0378331005", "stock:US0378331005", AssetClass.STOCK),
        ("Stock:xnas:aapl", "stock:XNAS:AAPL", AssetClass.STOCK),
        ("etf:XETR:EUNL", "etf:XETR:EUNL", AssetClass.ETF),
        ("etf:IE00B4L5Y983", "etf:IE00B4L5Y983", AssetClass.ETF),
        ("bond:US912828U816", "bond:US912828U816", AssetClass.BOND),
        ("commodity:xau", "commodity:XAU", AssetClass.COMMODITY),
        ("fiat:eur", "fiat:EUR", AssetClass.FIAT),
        ("stock:XNYS:BRK.B", "stock:XNYS:BRK.B", AssetClass.STOCK),
        ("eip155:1/slip44:60", "eip155:1/slip44:60", AssetClass.CRYPTO),
    ],
)
def test_asset_ids_are_normalised(text: str, expected: str, cls: AssetClass) -> None:
    asset = parse_asset(text)
    assert (asset.id, asset.asset_class) == (expected, cls)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stock:US0378331006", "check digit"),
        ("bond:XNAS:AAPL", "ISIN"),
        ("fiat:ABC", "ISO 4217"),
        ("commodity:OIL", "XAU"),
        ("share:AAPL", "not an asset id"),
        ("crypto:BTC", "not an asset id"),
        ("stock:AAPL", "ISIN"),
        ("stock:X:AAPL", "EXCHANGE:TICKER"),
        ("eip155:1/slip44", "CAIP-19"),
        ("", "needed"),
    ],
)
def test_bad_asset_ids_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(AssetError, match=message):
        parse_asset(text)


def test_symbols_of_other_trackers() -> None:
    assert asset_from_symbol("usd").id == "fiat:USD"
    assert asset_from_symbol("XAU").id == "commodity:XAU"
    assert asset_from_symbol("BTC").id.startswith("bip122:")
    assert asset_from_symbol("ARB", {"ARB": "eip155:42161/erc20:0x912"}).id.startswith("eip155")
    with pytest.raises(AssetError, match="--asset"):
        asset_from_symbol("ARB")
    for asset in ("fiat:EUR", "commodity:XAG", "stock:XNAS:AAPL", asset_from_symbol("ETH").id):
        assert asset_from_symbol(symbol_for_export(asset)).id == asset  # round trip
