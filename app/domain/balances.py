"""What a chain read returns: exact raw balances per wallet and asset, with per-source status."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.chains import ChainSpec
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.positions import LendingAccount
from app.domain.rates import PositionRate


class SourceState(enum.StrEnum):
    OK = "ok"
    STALE = "stale"
    FAILED = "failed"


class AssetKind(enum.StrEnum):
    NATIVE = "native"
    TOKEN = "token"
    STAKE = "stake"
    POSITION = "position"


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """Metadata of an asset. ``symbol`` and ``name`` are sanitised plain text."""

    asset_id: AssetId
    symbol: str
    name: str
    decimals: int
    kind: AssetKind = AssetKind.TOKEN
    price_id: str | None = None  # e.g. "coingecko:usd-coin"
    is_spam: bool = False
    spam_reason: str | None = None
    # Valued as ``units`` of another asset per whole token (a liquid staking token at its
    # pool's own exchange rate: JitoSOL as 1.27 SOL): (that asset's CAIP-19 id, units).
    via: tuple[str, Decimal] | None = None


def native_info(spec: ChainSpec, *, coin_fallback: bool = False) -> AssetInfo:
    """The asset of ``spec``'s own coin, priced by its ``coingecko_native`` id. With
    ``coin_fallback`` the network's ``coingecko`` id names the coin too (Solana, Bitcoin); on EVM
    networks that id is the token platform's, not a coin's."""
    coin = spec.price_ids.get("coingecko_native")
    if coin is None and coin_fallback:
        coin = spec.price_ids.get("coingecko")
    return AssetInfo(
        asset_id=spec.native_asset,
        symbol=spec.native_symbol,
        name=spec.native_name,
        decimals=spec.native_decimals,
        kind=AssetKind.NATIVE,
        price_id=f"coingecko:{coin}" if coin else None,
    )


def to_decimal_amount(raw: int, decimals: int) -> Decimal:
    """Exact decimal amount of a raw integer (no float, no rounding)."""
    return Decimal(f"{raw}e-{decimals}") if decimals else Decimal(raw)


def amount_text(raw: int, decimals: int) -> str:
    """``format(to_decimal_amount(raw, decimals), "f")`` without the Decimal: every digit, the
    point placed by the decimals (``1500000, 6`` -> ``"1.500000"``). Twice as fast, for
    documents of 10,000s of balances."""
    if decimals <= 0:
        return str(raw)
    digits = str(-raw if raw < 0 else raw).rjust(decimals + 1, "0")
    return f"{'-' if raw < 0 else ''}{digits[:-decimals]}.{digits[-decimals:]}"


@dataclass(frozen=True, slots=True, init=False)
class Balance:
    """``position`` is empty for a wallet balance, else a DeFi position key (see
    :mod:`app.domain.positions`); a liability has a negative ``raw``.

    A refresh builds tens of thousands of these, so ``__init__`` sets the slots through their
    descriptors: 1.8x faster than the generated frozen ``__init__`` (one ``object.__setattr__``
    call per field). Assignment after construction still raises FrozenInstanceError."""

    wallet: AccountId
    asset: AssetInfo
    raw: int
    position: str = ""

    def __init__(self, wallet: AccountId, asset: AssetInfo, raw: int, position: str = "") -> None:
        _SET_WALLET(self, wallet)
        _SET_ASSET(self, asset)
        _SET_RAW(self, raw)
        _SET_POSITION(self, position)

    @property
    def amount(self) -> Decimal:
        return to_decimal_amount(self.raw, self.asset.decimals)


_SET_WALLET, _SET_ASSET, _SET_RAW, _SET_POSITION = (
    vars(Balance)[name].__set__ for name in ("wallet", "asset", "raw", "position")
)


@dataclass(frozen=True, slots=True)
class CallFailure:
    """One balance that could not be read while the rest of the chain succeeded."""

    wallet: AccountId
    asset: AssetId
    reason: str
    symbol: str = ""  # the token's symbol, when the reader knew it (shown in the window)
    is_spam: bool = False  # a token already known as spam (shown only with spam)


@dataclass(frozen=True, slots=True)
class ChainReadResult:
    chain: ChainId
    state: SourceState
    balances: tuple[Balance, ...] = ()
    failures: tuple[CallFailure, ...] = ()
    error: str | None = None  # human reason when state is FAILED
    http_requests: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    accounts: tuple[LendingAccount, ...] = ()  # lending markets' view of each wallet
    # Wallets whose holdings on this chain were not completely read (the chain ran out of time
    # part-way): the refresh carries their last good holdings over as stale instead of storing
    # a partial wallet. Empty when every wallet was read (or the chain failed as a whole).
    unread: tuple[AccountId, ...] = ()
    rates: tuple[PositionRate, ...] = ()  # protocols' current rates (app.domain.rates)

    @property
    def partial(self) -> bool:
        return self.state is SourceState.OK and bool(self.unread)
