"""The ledger: manual accounts and their transactions, validated. Pure and exact.

**Transactions** (all amounts positive Decimal, time in UTC seconds):

- ``buy``: ``amount`` of ``asset`` at ``price`` per unit (in ``price_currency``). A fee in a
  fiat currency is added to the cost basis; a fee in the asset itself is taken from the amount
  received (the full cost stays on the smaller quantity: the fee is in the basis either way).
- ``sell``: ``amount`` at ``price``; a fiat fee reduces the proceeds; a fee in the asset leaves
  the account on top of the amount sold (its basis is part of the cost of the sale).
- ``deposit`` / ``withdrawal``: the asset enters from / leaves to outside the ledger. A deposit's
  ``price`` (optional) is its cost basis per unit; without one its basis is *unknown*. A
  withdrawal removes lots at their basis: no gain or loss.
- ``transfer``: from ``account`` to ``to_account``, both the person's: lots move with their basis
  and acquisition time, no gain or loss. A fee in the asset leaves on top of the amount.
- ``income`` (interest, staking, airdrop, dividend, other): acquired at ``price`` (its value when
  received, also counted as income); without a price the basis is unknown.
- ``fee``: ``amount`` of the asset paid away with nothing received: a realised loss of its basis.

Fees on deposits, withdrawals, transfers, income and fee entries that are paid in a fiat currency
are expenses (``fees`` in the report, part of the total P&L). A fee is paid in a fiat currency or
in the transaction's own asset. Fiat assets (``fiat:EUR``) have price 1 in their own currency when
none is given.

The ledger is single-entry: a buy does not draw down a cash balance. Record cash as deposits
and withdrawals of ``fiat:`` assets if you want to follow it.

Cost basis and P&L: :mod:`app.domain.cost_basis`; returns: :mod:`app.domain.returns`.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from decimal import (
    Decimal,
    InvalidOperation,
)

from app.domain.assets import AssetError, currency_code, parse_asset
from app.domain.errors import ChainfolioError
from app.domain.text import clean_text
from app.domain.valuation import money_context

ZERO = Decimal(0)
MAX_AMOUNT = Decimal("1e30")
FUTURE_SLACK_SECONDS = 300  # clocks differ a little; a time further ahead is refused


class LedgerError(ChainfolioError, ValueError):
    """A ledger entry or request that cannot be accepted; the message says why."""


class AccountKind(enum.StrEnum):
    BROKER = "broker"
    BANK = "bank"
    EXCHANGE = "exchange"
    COLD_STORAGE = "cold-storage"
    OTHER = "other"


class TxKind(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    INCOME = "income"
    FEE = "fee"


class IncomeKind(enum.StrEnum):
    INTEREST = "interest"
    STAKING = "staking"
    AIRDROP = "airdrop"
    DIVIDEND = "dividend"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    kind: AccountKind
    note: str = ""
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Transaction:
    account: str
    kind: TxKind
    ts: int
    asset: str
    amount: Decimal
    price: Decimal | None = None
    price_currency: str | None = None
    fee: Decimal = ZERO
    fee_currency: str | None = None
    to_account: str | None = None
    income_kind: IncomeKind | None = None
    note: str = ""
    id: int | None = None
    fingerprint: str | None = None

    @property
    def fee_in_asset(self) -> Decimal:
        return self.fee if self.fee and self.fee_currency == self.asset else ZERO

    @property
    def fiat_fee(self) -> tuple[Decimal, str] | None:
        if self.fee and self.fee_currency and self.fee_currency != self.asset:
            return self.fee, self.fee_currency
        return None

    def sort_key(self) -> tuple[int, int]:
        return self.ts, self.id if self.id is not None else 0


def free_text(text: str, field: str) -> str:
    """A note or description a person typed: refused if it holds a wallet secret (a seed phrase
    or a private key is never stored), else cleaned of control characters. 64 hex digits pass:
    transaction hashes look exactly like that."""
    from app.domain.secret_text import refusal, secret_kind

    kind = secret_kind(text, allow_hex_key=True) if text else None
    if kind is not None:
        raise LedgerError(refusal(kind, field))
    return clean_text(text, 500)


@functools.lru_cache(maxsize=1024)
def account_name(text: str) -> str:
    from app.domain.secret_text import refusal, secret_kind

    kind = secret_kind(text)
    if kind is not None:
        raise LedgerError(refusal(kind, "account name"))
    name = clean_text(text, 64)
    if not name:
        raise LedgerError("an account needs a name")
    return name


def parse_amount(text: object, what: str, *, allow_zero: bool = False) -> Decimal:
    """A non-negative finite Decimal from text (never through float)."""
    if isinstance(text, float):
        raise LedgerError(f"{what}: amounts are read from text, never from floats")
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise LedgerError(f"{what}: {clean_text(str(text), 30)!r} is not a number") from None
    if not value.is_finite():
        raise LedgerError(f"{what}: must be a finite number")
    if value < 0:
        raise LedgerError(f"{what}: must not be negative")
    if value == 0 and not allow_zero:
        raise LedgerError(f"{what}: must be more than zero")
    if value > MAX_AMOUNT:
        raise LedgerError(f"{what}: too large")
    return value


def validate(tx: Transaction, now: int, fingerprint: str | None = None) -> Transaction:
    """The entry as stored: asset and currencies normalised, every rule of the module docstring
    checked; LedgerError with one sentence otherwise. ``fingerprint`` replaces the entry's."""
    try:
        asset = parse_asset(tx.asset)
        kind = TxKind(tx.kind)
    except (AssetError, ValueError) as exc:
        raise LedgerError(str(exc)) from None
    amount = parse_amount(tx.amount, "amount")
    fee = parse_amount(tx.fee, "fee", allow_zero=True)
    if tx.ts > now + FUTURE_SLACK_SECONDS:
        raise LedgerError("the date is in the future")
    if tx.ts < 0:
        raise LedgerError("the date is before 1970")
    price, price_currency = tx.price, tx.price_currency
    if price is None and asset.is_fiat:
        price, price_currency = Decimal(1), asset.code
    if price is not None:
        price = parse_amount(price, "price", allow_zero=True)
        if not price_currency:
            raise LedgerError("a price needs its currency (such as USD)")
        try:
            price_currency = currency_code(price_currency)
        except AssetError as exc:
            raise LedgerError(f"price currency: {exc}") from None
    else:
        price_currency = None
    if kind in (TxKind.BUY, TxKind.SELL) and price is None:
        raise LedgerError(f"a {kind.value} needs a price per unit and its currency")
    fee_currency = None
    if fee:
        if not tx.fee_currency:
            raise LedgerError("a fee needs its currency (a fiat code, or the asset itself)")
        fee_currency = _fee_currency(tx.fee_currency, asset.id)
        inflow = kind in (TxKind.BUY, TxKind.DEPOSIT, TxKind.INCOME)
        if fee_currency == asset.id and inflow and fee >= amount:
            raise LedgerError("a fee paid in the asset must be less than the amount")
    to_account = tx.to_account
    if kind is TxKind.TRANSFER:
        if not to_account:
            raise LedgerError("a transfer needs the account it goes to")
        to_account = account_name(to_account)
        if to_account == tx.account:
            raise LedgerError("a transfer goes to another account")
    elif to_account:
        raise LedgerError("only a transfer has a destination account")
    income_kind = None
    if kind is TxKind.INCOME:
        try:
            income_kind = IncomeKind(tx.income_kind or IncomeKind.OTHER)
        except ValueError:
            raise LedgerError(
                f"income is one of {', '.join(k.value for k in IncomeKind)}"
            ) from None
    return Transaction(
        account=account_name(tx.account),
        kind=kind,
        ts=tx.ts,
        asset=asset.id,
        amount=amount,
        price=price,
        price_currency=price_currency,
        fee=fee,
        fee_currency=fee_currency,
        to_account=to_account,
        income_kind=income_kind,
        note=clean_text(tx.note, 500) if tx.note else "",
        id=tx.id,
        fingerprint=fingerprint or tx.fingerprint,
    )


def _fee_currency(text: str, asset_id: str) -> str:
    raw = text.strip()
    if raw == asset_id:
        return asset_id
    try:
        if parse_asset(raw).id == asset_id:
            return asset_id
    except AssetError:
        pass
    try:
        return currency_code(raw.removeprefix("fiat:").removeprefix("FIAT:"))
    except AssetError:
        raise LedgerError(
            "a fee is paid in a fiat currency (such as USD) or in the transaction's own asset"
        ) from None


def quantity_changes(tx: Transaction) -> list[tuple[tuple[str, str], Decimal]]:
    """How one transaction changes each account's quantity of its asset (exact)."""
    fee_qty = tx.fee if tx.fee and tx.fee_currency == tx.asset else ZERO
    src = (tx.account, tx.asset)
    kind = tx.kind
    with money_context():
        if kind is TxKind.BUY or kind is TxKind.DEPOSIT or kind is TxKind.INCOME:
            return [(src, tx.amount - fee_qty)]
        if kind is TxKind.TRANSFER:
            assert tx.to_account is not None
            return [(src, -(tx.amount + fee_qty)), ((tx.to_account, tx.asset), tx.amount)]
        if kind is TxKind.FEE:
            return [(src, -tx.amount)]
        return [(src, -(tx.amount + fee_qty))]  # sell, withdrawal
