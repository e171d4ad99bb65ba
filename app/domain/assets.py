"""Asset ids of the ledger: crypto as CAIP-19, everything else in a small scheme of our own.

One string names one asset everywhere (database, CSV, CLI, price lookups):

=============  ==========================================  ======================================
class          id                                          notes
=============  ==========================================  ======================================
crypto         ``eip155:1/slip44:60``,                     CAIP-19, exactly as the wallets use
               ``eip155:1/erc20:0xA0b8…``
stock          ``stock:US0378331005``                      ISIN (the check digit is verified)
               ``stock:XNAS:AAPL``                         exchange code (ISO 10383 MIC or the
                                                           exchange's short code, 2-10 letters or
                                                           digits) and ticker (1-15 of A-Z 0-9 .-)
etf            ``etf:IE00B4L5Y983``, ``etf:XETR:EUNL``     as stock
bond           ``bond:US912828U816``                       ISIN only
commodity      ``commodity:XAU``                           XAU gold, XAG silver, XPT platinum,
                                                           XPD palladium; one unit = 1 troy ounce
fiat           ``fiat:EUR``                                ISO 4217 alphabetic code
=============  ==========================================  ======================================

Our ids never contain ``/`` and CAIP-19 ids always do, so the two never collide. Input is
normalised (class lower case, codes upper case) and validated: :func:`parse_asset` refuses an
ISIN whose check digit is wrong, a currency that is not ISO 4217, a metal we do not know.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId


class AssetError(ChainfolioError, ValueError):
    """Text that is not a valid ledger asset id."""


class AssetClass(enum.StrEnum):
    CRYPTO = "crypto"
    STOCK = "stock"
    ETF = "etf"
    BOND = "bond"
    COMMODITY = "commodity"
    FIAT = "fiat"


# ISO 4217 alphabetic codes of currencies in use (2025), without the precious metals (those are
# commodities here) and without the fund/testing codes (XTS, XXX, XDR, XSU, XUA, …).
ISO_4217: frozenset[str] = frozenset((
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
))  # fmt: skip
METALS: dict[str, str] = {"XAU": "Gold", "XAG": "Silver", "XPT": "Platinum", "XPD": "Palladium"}

_ISIN_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")
_EXCHANGE_RE = re.compile(r"^[A-Z0-9]{2,10}$")
_TICKER_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")


def isin_check_digit_ok(isin: str) -> bool:
    """ISO 6166: letters become two digits (A=10 … Z=35), then the Luhn check over all digits."""
    if not _ISIN_RE.match(isin):
        return False
    digits = "".join(str(int(c, 36)) for c in isin)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class LedgerAsset:
    """A validated asset id and what it is."""

    id: str
    asset_class: AssetClass
    code: str  # ISIN, EXCHANGE:TICKER, metal or currency code; the CAIP-19 id for crypto

    @property
    def is_fiat(self) -> bool:
        return self.asset_class is AssetClass.FIAT

    @property
    def symbol(self) -> str:
        """A short name for tables: the ticker, currency or metal code, or the crypto symbol
        when it is one we know."""
        if self.asset_class is AssetClass.CRYPTO:
            return KNOWN_SYMBOLS_BY_ID.get(self.id, self.id)
        return self.code.rsplit(":", 1)[-1]


def currency_code(text: str) -> str:
    """An ISO 4217 code (``eur`` -> ``EUR``), or AssetError."""
    code = text.strip().upper()
    if code not in ISO_4217:
        raise AssetError(f"{_shown(text)} is not an ISO 4217 currency code (such as USD or EUR)")
    return code


@functools.lru_cache(maxsize=8192)
def parse_asset(text: str) -> LedgerAsset:
    """Validate and normalise an asset id of any class (see the module docstring). Cached: a
    file of 50,000 rows names a few hundred assets."""
    raw = text.strip()
    if not raw:
        raise AssetError(
            "an asset id is needed (such as fiat:EUR, stock:XNAS:AAPL or a CAIP-19 id)"
        )
    if "/" in raw:
        try:
            AssetId.parse(raw)
        except ValueError:
            raise AssetError(f"{_shown(raw)} is not a valid CAIP-19 crypto asset id") from None
        return LedgerAsset(raw, AssetClass.CRYPTO, raw)
    kind, _, rest = raw.partition(":")
    try:
        cls = AssetClass(kind.lower())
    except ValueError:
        cls = None
    if cls is None or cls is AssetClass.CRYPTO or not rest:
        raise AssetError(
            f"{_shown(raw)} is not an asset id: use a CAIP-19 id for crypto, or stock:, etf:, "
            "bond:, commodity: or fiat: followed by its code"
        )
    rest = rest.upper()
    if cls is AssetClass.FIAT:
        code = currency_code(rest)
        return LedgerAsset(f"fiat:{code}", cls, code)
    if cls is AssetClass.COMMODITY:
        if rest not in METALS:
            raise AssetError(
                f"{_shown(raw)}: commodities are XAU (gold), XAG (silver), XPT (platinum) "
                "and XPD (palladium)"
            )
        return LedgerAsset(f"commodity:{rest}", cls, rest)
    if ":" in rest:
        if cls is AssetClass.BOND:
            raise AssetError(f"{_shown(raw)}: bonds are named by their ISIN (bond:US912828U816)")
        exchange, _, ticker = rest.partition(":")
        if not _EXCHANGE_RE.match(exchange) or not _TICKER_RE.match(ticker):
            raise AssetError(f"{_shown(raw)}: write EXCHANGE:TICKER, such as {cls.value}:XNAS:AAPL")
        return LedgerAsset(f"{cls.value}:{exchange}:{ticker}", cls, f"{exchange}:{ticker}")
    if not _ISIN_RE.match(rest):
        raise AssetError(
            f"{_shown(raw)}: give an ISIN (12 characters, such as US0378331005) or EXCHANGE:TICKER"
        )
    if not isin_check_digit_ok(rest):
        raise AssetError(f"{_shown(raw)}: the ISIN's check digit is wrong (a typing error?)")
    return LedgerAsset(f"{cls.value}:{rest}", cls, rest)


def _shown(text: str) -> str:
    from app.domain.text import clean_text

    return repr(clean_text(text, 60))


# Symbols other trackers' CSV files use, for the few coins whose id is beyond doubt. Any other
# symbol is mapped by the person (``--asset SYMBOL=ID``) or written as a full id in the file.
KNOWN_SYMBOLS: dict[str, str] = {
    "BTC": "bip122:000000000019d6689c085ae165831e93/slip44:0",
    "ETH": "eip155:1/slip44:60",
    "SOL": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp/slip44:501",
    "POL": "eip155:137/slip44:966",
    "BNB": "eip155:56/slip44:714",
    "AVAX": "eip155:43114/slip44:9000",
    "USDC": "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    "USDT": "eip155:1/erc20:0xdAC17F958D2ee523a2206206994597C13D831ec7",
    "DAI": "eip155:1/erc20:0x6B175474E89094C44Da98b954EedeAC495271d0F",
    "WBTC": "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
}
KNOWN_SYMBOLS_BY_ID: dict[str, str] = {v: k for k, v in KNOWN_SYMBOLS.items()}


def asset_from_symbol(text: str, mapping: dict[str, str] | None = None) -> LedgerAsset:
    """A currency column of another tracker's CSV: the person's mapping first, then a full
    asset id, an ISO 4217 code (fiat), a metal code, or a coin we know; else AssetError."""
    raw = text.strip()
    upper = raw.upper()
    if mapping and upper in mapping:
        return parse_asset(mapping[upper])
    if ":" in raw:
        return parse_asset(raw)
    if upper in ISO_4217:
        return LedgerAsset(f"fiat:{upper}", AssetClass.FIAT, upper)
    if upper in METALS:
        return LedgerAsset(f"commodity:{upper}", AssetClass.COMMODITY, upper)
    if upper in KNOWN_SYMBOLS:
        return LedgerAsset(KNOWN_SYMBOLS[upper], AssetClass.CRYPTO, KNOWN_SYMBOLS[upper])
    raise AssetError(
        f"unknown asset {_shown(raw)}: map it with --asset {clean(upper)}=ID (a CAIP-19 id, "
        "stock:…, etf:…) or write its full id in the file"
    )


def clean(text: str) -> str:
    from app.domain.text import clean_text

    return clean_text(text, 24)


def symbol_for_export(asset_id: str) -> str:
    """The currency text other trackers expect: a known coin's symbol, a currency or metal
    code, else the full id (which this app reads back)."""
    if asset_id in KNOWN_SYMBOLS_BY_ID:
        return KNOWN_SYMBOLS_BY_ID[asset_id]
    kind, _, code = asset_id.partition(":")
    if kind in ("fiat", "commodity"):
        return code
    return asset_id
