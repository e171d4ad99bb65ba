"""Exchange accounts: which exchanges are read, how an account is named, what its key may do,
and how an exchange's coin codes become holdings. Pure.

An exchange account is read like a chain: one source in the snapshot (ok / stale / failed),
named ``cex:<account>`` (CAIP-2 form), whose one "wallet" is ``cex:<account>:<exchange>`` and
whose coins are ``cex:<account>/coin:<CODE>``. Coins keep the exchange's own code (``BTC``,
``USDT``); a built-in table gives the common ones their CoinGecko price id, and any other code
can be priced with "Set price source…" like an unknown token.

Amounts come from the exchange as decimal text and are kept exact: a balance is stored as a raw
integer with as many decimals as its text has (at least :data:`MIN_DECIMALS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.domain.errors import ChainfolioError

EXCHANGES: dict[str, str] = {
    "binance": "Binance",
    "kraken": "Kraken",
    "coinbase": "Coinbase",
    "okx": "OKX",
    "bybit": "Bybit",
    "bitstamp": "Bitstamp",
}
# Exchanges whose API key needs a third credential (OKX calls it the passphrase).
NEEDS_PASSPHRASE: frozenset[str] = frozenset({"okx"})
# Exchanges whose API says what a key may do; for the others the person is told to make sure.
CHECKS_PERMISSIONS: frozenset[str] = frozenset({"binance", "coinbase", "okx", "bybit"})
NAMESPACE = "cex"
MIN_DECIMALS = 8
MAX_DECIMALS = 36
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$")

# Common codes -> CoinGecko ids. Exchanges use a few codes of their own (XBT) that ccxt already
# turns into the common one.
PRICE_IDS: dict[str, str] = {
    "BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "USDT": "tether", "USDC": "usd-coin",
    "DAI": "dai", "BNB": "binancecoin", "XRP": "ripple", "ADA": "cardano", "DOGE": "dogecoin",
    "DOT": "polkadot", "LTC": "litecoin", "TRX": "tron", "AVAX": "avalanche-2",
    "LINK": "chainlink", "MATIC": "matic-network", "POL": "polygon-ecosystem-token",
    "ATOM": "cosmos", "XLM": "stellar", "BCH": "bitcoin-cash", "ETC": "ethereum-classic",
    "UNI": "uniswap", "AAVE": "aave", "ARB": "arbitrum", "OP": "optimism", "TON": "the-open-network",
    "NEAR": "near", "APT": "aptos", "SUI": "sui", "XMR": "monero", "FIL": "filecoin",
    "PEPE": "pepe", "SHIB": "shiba-inu", "WBTC": "wrapped-bitcoin", "STETH": "staked-ether",
    "FDUSD": "first-digital-usd", "TUSD": "true-usd", "PYUSD": "paypal-usd", "USDE": "ethena-usde",
    "EURC": "euro-coin", "MKR": "maker", "LDO": "lido-dao", "CRV": "curve-dao-token",
    "COMP": "compound-governance-token", "SNX": "havven", "GRT": "the-graph", "ALGO": "algorand",
    "XTZ": "tezos", "EOS": "eos", "KSM": "kusama", "INJ": "injective-protocol", "TIA": "celestia",
}  # fmt: skip
# Fiat balances on an exchange are cash: priced through exchange rates, never a market price.
FIAT_CODES: frozenset[str] = frozenset({"USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "TRY"})


class ExchangeError(ChainfolioError):
    """An exchange account that cannot be added or read; the message says why in words."""


@dataclass(frozen=True, slots=True)
class ExchangeAccount:
    name: str  # the person's name for it: lower case letters, digits and dashes
    exchange: str  # a key of EXCHANGES
    created_at: int = 0

    @property
    def source(self) -> str:
        """The account's source id in snapshots (CAIP-2 form)."""
        return f"{NAMESPACE}:{self.name}"

    @property
    def wallet(self) -> str:
        """The account's one holder id in snapshots (CAIP-10 form)."""
        return f"{NAMESPACE}:{self.name}:{self.exchange}"

    @property
    def title(self) -> str:
        return f"{EXCHANGES.get(self.exchange, self.exchange)} ({self.name})"

    def asset_id(self, code: str) -> str:
        return f"{NAMESPACE}:{self.name}/coin:{code}"


@dataclass(frozen=True, slots=True)
class Permissions:
    """What an API key may do, as far as the exchange says; ``known`` is False when the
    exchange has no way to ask."""

    known: bool
    trade: bool = False
    withdraw: bool = False
    transfer: bool = False

    def refusal(self, exchange: str) -> str | None:
        """Why the key is refused, or None when it may only read."""
        if not self.known:
            return None
        rights = [
            what
            for what, has in (
                ("trade", self.trade),
                ("withdraw", self.withdraw),
                ("move funds", self.transfer),
            )
            if has
        ]
        if not rights:
            return None
        name = EXCHANGES.get(exchange, exchange)
        return (
            f"This {name} API key may {_join(rights)}. Chainfolio only reads balances: create a "
            f"read-only key on {name} (reading or viewing rights only) and add that one instead."
        )


@dataclass(frozen=True)
class Credentials:
    """An API key as the exchange issued it. Read from the keyring when needed, never stored
    anywhere else, never shown (not even in a repr)."""

    api_key: str
    secret: str
    passphrase: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


@dataclass(frozen=True, slots=True)
class CoinBalance:
    """One coin in one part of an exchange account (``part``: spot, funding, earn…)."""

    code: str
    amount: Decimal
    part: str = "spot"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def check_account_name(text: str) -> str:
    name = text.strip().lower()
    if not _NAME_RE.match(name):
        raise ExchangeError(
            "An exchange account name is 1 to 32 lower-case letters, digits or dashes, "
            "starting with a letter or digit (for example binance or kraken-savings)."
        )
    return name


def check_exchange(text: str) -> str:
    key = text.strip().lower()
    if key not in EXCHANGES:
        raise ExchangeError(
            f"Chainfolio does not read {text.strip()!r}. It reads: {', '.join(EXCHANGES.values())}."
        )
    return key


def coin_code(text: object) -> str | None:
    """The exchange's coin code when it is plain (letters, digits, dot, dash), else None: a code
    is untrusted text and becomes part of an asset id."""
    if not isinstance(text, str) or not _CODE_RE.match(text):
        return None
    return text.upper()


def exact_amount(value: object) -> Decimal | None:
    """An amount the exchange sent as text or integer, exactly; None when it is not a finite
    number (floats are refused: they have already lost digits)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def raw_of(amount: Decimal) -> tuple[int, int]:
    """``amount`` as (raw integer, decimals), exact, with at least MIN_DECIMALS decimals."""
    exponent = amount.as_tuple().exponent
    places = max(MIN_DECIMALS, -exponent if isinstance(exponent, int) else 0)
    if places > MAX_DECIMALS:
        raise ExchangeError("An exchange sent an amount with more decimals than any coin has.")
    return int(amount.scaleb(places)), places


def merge_parts(balances: list[CoinBalance]) -> dict[str, Decimal]:
    """Total per coin over the account's parts (spot + funding + earn)."""
    totals: dict[str, Decimal] = {}
    for b in balances:
        totals[b.code] = totals.get(b.code, Decimal(0)) + b.amount
    return totals


def price_id_of(code: str, overrides: Mapping[str, str] | None = None) -> str | None:
    if overrides and code in overrides:
        return overrides[code]
    cg = PRICE_IDS.get(code)
    return f"coingecko:{cg}" if cg else None
