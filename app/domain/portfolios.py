"""Portfolios (named sets of wallets and ledger accounts) and the wallet–ledger comparison.
Pure and exact.

**Portfolio.** A name and its members: watched wallets (by address) and ledger accounts (by
name). A wallet or an account may belong to several portfolios. Names are text a person typed:
plain, at most :data:`MAX_NAME_LENGTH` characters, never a seed phrase or a key.

**Linked wallet.** A ledger account may be linked to one watched wallet: the account records
what went into and out of that wallet (the buys of the ETH that sits in 0x…). For on-chain
wallets the observed balances are the truth; where the linked accounts' ledger quantity of an
asset differs from the observed balance, the difference is an :class:`UnexplainedChange`
(observed minus ledger). Neither side is ever adjusted to match the other.

**Wallet returns** (:func:`wallet_twr`): the snapshots' values of the portfolio's wallets, linked
from one snapshot to the next: ``r_i = (V_i + Out_i) / (V_{i-1} + In_i) - 1`` with the cash
flows between the two snapshots (inflows at the start of the period, outflows at its end, as the
ledger's returns do). The cash flows known are the linked accounts' transactions (see
:func:`wallet_flows`) and a wallet's first value after it was added (money brought in, not
earned). Everything else that changes a wallet's value counts as return.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Context, Decimal, localcontext

from app.domain.cost_basis import PnlTotals
from app.domain.errors import ChainfolioError
from app.domain.ledger import ZERO, Transaction, TxKind, quantity_changes
from app.domain.text import person_text
from app.domain.valuation import CONVERSION_PREC, money_context

MAX_NAME_LENGTH = 40
MERGED_ACCOUNT = "\x00portfolio"  # the label of a set of accounts taken as one: no real name
_DIV = Context(prec=CONVERSION_PREC)


class PortfolioError(ChainfolioError, ValueError):
    """A portfolio request that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class Portfolio:
    id: int
    name: str
    wallets: tuple[str, ...] = ()  # addresses as watched (EIP-55 for EVM)
    accounts: tuple[str, ...] = ()  # ledger account names
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class WalletLink:
    """The ledger account ``account`` records the wallet ``wallet`` (its address)."""

    account: str
    wallet: str


def portfolio_name(text: str) -> str:
    """The name as stored: plain text, not empty, capped, never a wallet secret (raises
    SecretInputError or InvalidTextError naming the field, never repeating the text)."""
    return person_text(text, "portfolio name", MAX_NAME_LENGTH, required=True)


def same_wallet(a: str, b: str) -> bool:
    """EVM addresses compare in any case; others (Solana) exactly."""
    if a.startswith("0x") and b.startswith("0x"):
        return a.lower() == b.lower()
    return a == b


# ---------------------------------------------------------------------- ledger sets
def merged_accounts(txs: Iterable[Transaction], accounts: Collection[str]) -> list[Transaction]:
    """The transactions of ``accounts`` as if they were one account named
    :data:`MERGED_ACCOUNT`: a transfer between two members is internal (it moves nothing in or
    out of the set; a fee paid on it stays, as a fee entry), a transfer across the set's edge is
    an outflow or an inflow of the set. Pass the result to ``compute_returns`` with
    ``account=MERGED_ACCOUNT``."""
    members = set(accounts)
    out: list[Transaction] = []
    for t in txs:
        src = t.account in members
        dst = t.to_account is not None and t.to_account in members
        if not src and not dst:
            continue
        if t.kind is TxKind.TRANSFER and src and dst:
            if not t.fee:
                continue
            if t.fee_currency == t.asset:  # the fee in the asset leaves the set
                out.append(
                    replace(
                        t,
                        kind=TxKind.FEE,
                        amount=t.fee,
                        fee=ZERO,
                        fee_currency=None,
                        to_account=None,
                        account=MERGED_ACCOUNT,
                    )
                )
            else:  # a fiat fee paid from outside: money put in that buys nothing
                out.append(replace(t, kind=TxKind.FEE, amount=ZERO, to_account=None,
                                   account=MERGED_ACCOUNT))  # fmt: skip
            continue
        out.append(
            replace(
                t,
                account=MERGED_ACCOUNT if src else t.account,
                to_account=MERGED_ACCOUNT if dst else t.to_account,
            )
        )
    return out


def sum_totals(totals: Iterable[PnlTotals]) -> PnlTotals:
    """Several accounts' P&L totals as one (every figure is a plain sum)."""
    items = list(totals)
    with money_context():
        return PnlTotals(
            cost_basis=sum((t.cost_basis for t in items), ZERO),
            market_value=sum((t.market_value for t in items), ZERO),
            unrealised=sum((t.unrealised for t in items), ZERO),
            unrealised_unknown_holdings=sum(t.unrealised_unknown_holdings for t in items),
            realised=sum((t.realised for t in items), ZERO),
            realised_unknown_quantity_holdings=sum(
                t.realised_unknown_quantity_holdings for t in items
            ),
            realised_unknown_proceeds=sum((t.realised_unknown_proceeds for t in items), ZERO),
            income=sum((t.income for t in items), ZERO),
            fees=sum((t.fees for t in items), ZERO),
        )


def ledger_quantities(
    txs: Iterable[Transaction], accounts: Collection[str], until: int
) -> dict[str, Decimal]:
    """Asset -> quantity the ledger says ``accounts`` hold together at ``until`` (inclusive)."""
    members = set(accounts)
    held: dict[str, Decimal] = {}
    with money_context():
        for t in txs:
            if t.ts > until:
                continue
            for (account, asset), delta in quantity_changes(t):
                if account in members:
                    held[asset] = held.get(asset, ZERO) + delta
    return held


# ---------------------------------------------------------------------- unexplained change
@dataclass(frozen=True, slots=True)
class Observed:
    """A wallet's observed balance of one asset in a snapshot (wallet balances, not DeFi
    positions), summed over the holdings of that asset."""

    asset: str
    symbol: str
    quantity: Decimal
    is_spam: bool = False


@dataclass(frozen=True, slots=True)
class UnexplainedChange:
    """Where a linked wallet's observed balance and its ledger accounts disagree.

    ``difference`` is observed minus ledger: positive when the wallet holds more than the
    ledger explains (an unrecorded buy, an airdrop), negative when it holds less (an unrecorded
    sale, a transfer out, gas). ``value`` is the difference at today's ``price`` (None: no
    price)."""

    wallet: str
    accounts: tuple[str, ...]
    asset: str
    symbol: str
    ledger_quantity: Decimal
    observed_quantity: Decimal
    difference: Decimal
    price: Decimal | None
    value: Decimal | None
    snapshot_time: int
    currency: str


def unexplained_changes(
    wallet: str,
    accounts: Sequence[str],
    ledger: Mapping[str, Decimal],
    observed: Sequence[Observed],
    read_chains: Collection[str],
    prices: Mapping[str, Decimal],
    snapshot_time: int,
    currency: str,
) -> list[UnexplainedChange]:
    """Every asset where ``ledger`` (asset -> quantity) and ``observed`` disagree.

    Compared: on-chain assets (CAIP-19 ids) of the chains the snapshot read for the wallet
    (``read_chains``): an asset of a chain not read is not observed, so no difference is
    claimed for it. Ledger assets that are not on a chain (cash, stocks) are never compared.
    Spam tokens are left out, as from every total. Equal quantities give no entry."""
    chains = set(read_chains)
    seen: dict[str, Observed] = {}
    for o in observed:
        if not o.is_spam:
            seen[o.asset] = o
    spam = {o.asset for o in observed if o.is_spam}
    assets = {a for a in ledger if "/" in a and a not in spam} | set(seen)
    out: list[UnexplainedChange] = []
    for asset in sorted(assets):
        if asset.split("/", 1)[0] not in chains:
            continue
        have = seen.get(asset)
        observed_qty = have.quantity if have is not None else ZERO
        recorded = ledger.get(asset, ZERO)
        with money_context():
            diff = observed_qty - recorded
        if diff == 0:
            continue
        price = prices.get(asset)
        with money_context():
            value = None if price is None else diff * price
        symbol = have.symbol if have is not None else _symbol(asset)
        out.append(
            UnexplainedChange(wallet, tuple(accounts), asset, symbol, recorded, observed_qty,
                              diff, price, value, snapshot_time, currency)
        )  # fmt: skip
    return out


def _symbol(asset: str) -> str:
    from app.domain.assets import AssetError, parse_asset

    try:
        return parse_asset(asset).symbol
    except AssetError:
        return asset.rsplit(":", 1)[-1][:12]


# ---------------------------------------------------------------------- wallet returns
@dataclass(frozen=True, slots=True)
class Flow:
    """Money into (``amount`` > 0) or out of (< 0) the wallets, at ``ts``, in the report
    currency."""

    ts: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ValuePoint:
    """The portfolio's wallets at one snapshot: their summed value (report currency) and
    which wallets had any value in it."""

    ts: int
    value: Decimal
    wallets: frozenset[str]
    wallet_values: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class WalletReturns:
    start: int | None  # the first snapshot used
    end: int | None
    periods: int  # snapshot-to-snapshot periods linked
    start_value: Decimal | None
    end_value: Decimal | None
    inflows: Decimal
    outflows: Decimal
    twr: Decimal | None  # None: fewer than two snapshots
    flows_counted: int
    flows_unpriced: int  # linked transactions whose value is not known (counted as return)


def wallet_flows(
    txs: Iterable[Transaction],
    accounts: Collection[str],
    to_report: Mapping[str, Decimal],
) -> tuple[list[Flow], int]:
    """Cash flows of the wallets recorded by ``accounts`` (their linked accounts), and how
    many of their transactions moved value of unknown worth.

    Counted: a buy (cost plus a fiat fee) is money in; a sell (proceeds less a fiat fee) is
    money out; a deposit or withdrawal with a price recorded moves that value in or out; a
    transfer from or to an account outside the set moves its value at its recorded price; a
    fiat fee on anything else is money in that buys nothing. Not counted (return): income and
    fees paid in the asset. Unknown (counted as return, and reported): a deposit, withdrawal
    or transfer across the set without a price, or a price in a currency with no stored rate.
    ``to_report`` maps a currency code to report-currency units per unit."""
    members = set(accounts)
    flows: list[Flow] = []
    unknown = 0

    def fx(code: str | None) -> Decimal | None:
        return None if code is None else to_report.get(code)

    with localcontext(_DIV):
        for t in txs:
            src = t.account in members
            dst = t.to_account is not None and t.to_account in members
            if not src and not dst:
                continue
            fee = ZERO
            if t.fee and t.fee_currency and t.fee_currency != t.asset:
                rate = fx(t.fee_currency)
                if rate is None:
                    unknown += 1
                else:
                    fee = t.fee * rate
            rate = fx(t.price_currency)
            unit = None if t.price is None or rate is None else t.price * rate
            kind = t.kind
            amount: Decimal | None
            if kind is TxKind.TRANSFER and src and dst:
                amount = fee if fee else None
            elif kind in (TxKind.BUY, TxKind.DEPOSIT) or (kind is TxKind.TRANSFER and dst):
                amount = None if unit is None else t.amount * unit + fee
            elif kind in (TxKind.SELL, TxKind.WITHDRAWAL) or kind is TxKind.TRANSFER:
                amount = None if unit is None else -(t.amount * unit - fee)
            else:  # income, fee: part of the return; a fiat fee is money put in
                amount = fee if fee else None
                if amount is None:
                    continue
            if amount is None:
                if kind is not TxKind.TRANSFER or not (src and dst):
                    unknown += 1
                continue
            flows.append(Flow(t.ts, amount))
    return flows, unknown


def wallet_twr(
    points: Sequence[ValuePoint],
    flows: Sequence[Flow],
    unknown: int,
    added: Mapping[str, int] | None = None,
) -> WalletReturns:
    """Time-weighted return linked over the snapshots (oldest first), see the module text.

    A period whose starting capital is zero or less has no return (nothing to divide by): it
    is linked as 0. A wallet added to the app during a period (``added``: address -> when)
    brings its first value in as an inflow of that period: being added is not a gain. A wallet
    watched all along that first holds something has no such inflow (its coins came from
    somewhere: a recorded buy is a flow, anything else counts as return)."""
    added = added or {}
    if not points:
        return WalletReturns(None, None, 0, None, None, ZERO, ZERO, None, 0, unknown)
    ordered = sorted(flows, key=lambda f: f.ts)
    growth = Decimal(1)
    inflows = outflows = ZERO
    counted = 0
    j = 0
    while j < len(ordered) and ordered[j].ts <= points[0].ts:
        j += 1  # before the first snapshot: already in its value
    seen = set(points[0].wallets)
    with localcontext(_DIV):
        for prev, cur in itertools.pairwise(points):
            flow_in = flow_out = ZERO
            while j < len(ordered) and ordered[j].ts <= cur.ts:
                f = ordered[j]
                if f.amount > 0:
                    flow_in += f.amount
                else:
                    flow_out -= f.amount
                counted += 1
                j += 1
            for w in cur.wallets - seen:
                if added.get(w, 0) > prev.ts:
                    flow_in += cur.wallet_values.get(w, ZERO)
            seen |= cur.wallets
            start = prev.value + flow_in
            if start > 0:
                growth *= (cur.value + flow_out) / start
            inflows += flow_in
            outflows += flow_out
    twr = None if len(points) < 2 else _round(growth - 1)
    return WalletReturns(
        points[0].ts, points[-1].ts, len(points) - 1, points[0].value, points[-1].value,
        inflows, outflows, twr, counted, unknown,
    )  # fmt: skip


def _round(x: Decimal) -> Decimal:
    """Ten significant digits (a ratio of money: the digits beyond are division noise)."""
    if x == 0:
        return ZERO
    with localcontext(Context(prec=10)):
        return +x
