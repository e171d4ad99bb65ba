"""On-chain movements and fees as ledger transactions. Pure and exact.

What the chains said happened (:mod:`app.domain.onchain`, raw signed integers) becomes the
ledger's entries (:mod:`app.domain.ledger`, Decimal units), one ledger account per wallet:

- **Per transaction and wallet**, the movements of one asset are netted (a router that sends a
  token in and out again in one transaction moved nothing of it). Movements are assumed not to
  include the network fee: fees come as :class:`~app.domain.onchain.Fee` s.
- **Between the person's own wallets**: in one transaction, an asset that leaves one tracked
  wallet and enters another is one ``transfer`` between their accounts (lots move with their
  basis: no gain, no loss). Equal amounts are paired first; then what is left is paired by the
  smaller amount (the rest is a withdrawal or a deposit).
- **A swap**: a wallet that, in one transaction, sent some assets and received different ones
  (after own transfers are paired) disposed of what it sent and acquired what it received:
  a ``sell`` and a ``buy`` at the value at that time. The value of the swap is the market value
  of the side whose every leg has a price (what was received first, else what was sent); a leg
  without its own price gets its share of that value. When no value is known a price is never
  invented: what was sent is a ``withdrawal`` and what was received a ``deposit`` without a
  price (its basis is *unknown*), each noted as part of a swap without a price.
- **Plain incoming**: a ``deposit`` with the price at that time as its basis (unknown without
  one); **outgoing**: a ``withdrawal`` (lots leave at their basis).
- **Gas**: a ``fee`` of the chain's native coin in the wallet's account.
- **Staking**: coins moved into or out of the wallet's own stake accounts stay the person's
  (``MovementKind.STAKE``): no entry is made (rewards withdrawn with them are not yet told
  apart from the stake).
- **Spam and airdrop dust** are kept out: a token the token store marks as spam is left out of
  every transaction the wallet did not pay the fee of (airdrops, and the poisoning "transfers"
  from the wallet that spam contracts log without it); any other incoming token in a transaction
  the wallet did not send (no fee paid by it, nothing sent by it) is left out when it is not a
  listed token (curated, added or detected) and has no price at that
  time. In a transaction the wallet sent, what it received is kept (the person chose it). A
  listed token without a price is kept with an unknown basis (a price source being down never
  drops a real deposit). Native coins are never spam. An asset whose decimals are not known
  cannot be turned into units and is left out too, counted apart.

Every entry has a fingerprint ``onchain:<chain>:<tx>:<role>:<digest>`` (the digest names the
wallets and the asset), so importing the same stored movements again adds nothing, and a re-org
re-read that changed them changes exactly the entries that came from them.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.balances import to_decimal_amount
from app.domain.ledger import (
    MAX_AMOUNT,
    LedgerError,
    Transaction,
    TxKind,
    validate,
)
from app.domain.onchain import Fee, Movement, MovementKind
from app.domain.text import clean_text
from app.domain.valuation import DIVISION, money_context

PREFIX = "onchain:"
PRICE_CURRENCY = "USD"  # the daily price history is kept in US dollars

PriceAt = Callable[[str, int], Decimal | None]  # (asset, time) -> USD per unit, or None


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What is known of an asset: its decimals, and whether the token store marks it as spam
    (``listed``: the token store knows it, or it is a chain's native coin)."""

    decimals: int
    spam: bool = False
    listed: bool = True
    native: bool = False


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The ledger entries the movements make, and what was left out (counts of legs)."""

    transactions: tuple[Transaction, ...]
    spam: int = 0  # incoming dust and spam kept out
    unknown: int = 0  # assets whose decimals are not known
    unpriced: int = 0  # entries recorded without a price (basis or proceeds unknown)
    refused: tuple[str, ...] = ()  # legs the ledger cannot hold (sentences, for the log)


@dataclass(slots=True)
class _Leg:
    wallet: str
    asset: str
    raw: int  # signed net of the wallet in this transaction
    index: int  # the first movement's position (stable ordering)


@dataclass(slots=True)
class _Counts:
    spam: int = 0
    unknown: int = 0
    unpriced: int = 0
    refused: list[str] = field(default_factory=list)


def wallet_key(address: str) -> str:
    """One form per wallet for matching: EVM addresses compare without case."""
    return address.lower() if address.startswith("0x") else address


def fingerprint(chain: str, tx: str, role: str, *parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
    return f"{PREFIX}{chain}:{tx}:{role}:{digest}"


def chain_prefix(chain: str) -> str:
    """The fingerprint prefix of every entry made from one chain's movements."""
    return f"{PREFIX}{chain}:"


def plan_import(
    movements: Iterable[Movement],
    fees: Iterable[Fee],
    accounts: Mapping[str, str],
    facts: Callable[[str], AssetFacts | None],
    price: PriceAt,
    now: int,
) -> ImportPlan:
    """The ledger entries for ``movements`` and ``fees`` of the wallets in ``accounts``
    (wallet address -> ledger account name); movements of other wallets are ignored."""
    own = {wallet_key(w): name for w, name in accounts.items()}
    by_tx: dict[tuple[str, str], list[Movement]] = defaultdict(list)
    for m in movements:
        if wallet_key(m.wallet) in own and m.kind != MovementKind.STAKE:
            by_tx[(m.chain, m.tx)].append(m)
    fee_list = [f for f in fees if wallet_key(f.wallet) in own]
    senders: set[tuple[str, str, str]] = {(f.chain, f.tx, wallet_key(f.wallet)) for f in fee_list}
    counts = _Counts()
    out: list[Transaction] = []
    for (chain, tx), items in sorted(by_tx.items(), key=lambda kv: (_when(kv[1]), kv[0])):
        out.extend(_one_tx(chain, tx, items, own, senders, facts, price, now, counts))
    for f in sorted(fee_list, key=lambda f: (f.ts, f.chain, f.tx, f.wallet)):
        entry = _fee(f, own, facts, now, counts)
        if entry is not None:
            out.append(entry)
    out.sort(key=lambda t: (t.ts, t.fingerprint or ""))
    return ImportPlan(
        tuple(out), counts.spam, counts.unknown, counts.unpriced, tuple(counts.refused)
    )


def _when(items: Sequence[Movement]) -> int:
    return min(m.ts for m in items)


def _one_tx(
    chain: str,
    tx: str,
    items: Sequence[Movement],
    own: Mapping[str, str],
    senders: set[tuple[str, str, str]],
    facts: Callable[[str], AssetFacts | None],
    price: PriceAt,
    now: int,
    counts: _Counts,
) -> list[Transaction]:
    ts = max(m.ts for m in items)
    nets: dict[tuple[str, str], _Leg] = {}
    for m in sorted(items, key=lambda m: (m.index, m.wallet, m.asset)):
        key = (wallet_key(m.wallet), m.asset)
        leg = nets.get(key)
        if leg is None:
            nets[key] = _Leg(key[0], m.asset, m.delta, m.index)
        else:
            leg.raw += m.delta
    legs = [leg for leg in nets.values() if leg.raw]
    known: list[_Leg] = []
    for leg in legs:
        f = facts(leg.asset)
        if f is None:
            counts.unknown += 1
        elif f.spam and (chain, tx, leg.wallet) not in senders:
            counts.spam += 1  # an airdrop, or a poisoning "transfer" the wallet never sent
        else:
            known.append(leg)
    sending = {leg.wallet for leg in known if leg.raw < 0}  # before own transfers are paired
    out: list[Transaction] = []
    # --- own transfers: equal amounts first, then the smaller of each pair ---------------------
    by_asset: dict[str, list[_Leg]] = defaultdict(list)
    for leg in known:
        by_asset[leg.asset].append(leg)
    for asset, group in sorted(by_asset.items()):
        senders_ = sorted((g for g in group if g.raw < 0), key=lambda g: (g.index, g.wallet))
        takers = sorted((g for g in group if g.raw > 0), key=lambda g: (g.index, g.wallet))
        for exact in (True, False):
            for s in senders_:
                for r in takers:
                    if s.raw == 0 or r.raw == 0 or s.wallet == r.wallet:
                        continue
                    if exact and -s.raw != r.raw:
                        continue
                    moved = min(-s.raw, r.raw)
                    s.raw += moved
                    r.raw -= moved
                    entry = _entry(
                        Transaction(
                            own[s.wallet], TxKind.TRANSFER, ts, asset,
                            _units(moved, facts(asset)), to_account=own[r.wallet],
                            note=_note("transfer between own wallets", tx),
                        ),
                        fingerprint(chain, tx, "transfer", s.wallet, r.wallet, asset),
                        now, counts,
                    )  # fmt: skip
                    if entry is not None:
                        out.append(entry)
    # --- what is left, per wallet ----------------------------------------------------------------
    by_wallet: dict[str, list[_Leg]] = defaultdict(list)
    for leg in known:
        if leg.raw:
            by_wallet[leg.wallet].append(leg)
    for wallet, wlegs in sorted(by_wallet.items()):
        sent_tx = (chain, tx, wallet) in senders or wallet in sending
        ins: list[_Leg] = []
        for g in (g for g in wlegs if g.raw > 0):
            f = facts(g.asset)
            assert f is not None
            if (
                not sent_tx
                and not f.native
                and (f.spam or (not f.listed and price(g.asset, ts) is None))
            ):
                counts.spam += 1
                continue
            ins.append(g)
        outs = [g for g in wlegs if g.raw < 0]
        account = own[wallet]
        if ins and outs:
            out.extend(_swap(chain, tx, ts, account, wallet, outs, ins, facts, price, now, counts))
            continue
        for g in ins:
            p = price(g.asset, ts)
            if p is None:
                counts.unpriced += 1
            entry = _entry(
                Transaction(
                    account, TxKind.DEPOSIT, ts, g.asset, _units(g.raw, facts(g.asset)),
                    price=p, price_currency=PRICE_CURRENCY if p is not None else None,
                    note=_note("received" if p is not None
                               else "received; no price at that time: basis unknown", tx),
                ),
                fingerprint(chain, tx, "in", wallet, g.asset), now, counts,
            )  # fmt: skip
            if entry is not None:
                out.append(entry)
        for g in outs:
            entry = _entry(
                Transaction(
                    account, TxKind.WITHDRAWAL, ts, g.asset, _units(-g.raw, facts(g.asset)),
                    note=_note("sent", tx),
                ),
                fingerprint(chain, tx, "out", wallet, g.asset), now, counts,
            )  # fmt: skip
            if entry is not None:
                out.append(entry)
    return out


def _swap(
    chain: str,
    tx: str,
    ts: int,
    account: str,
    wallet: str,
    outs: Sequence[_Leg],
    ins: Sequence[_Leg],
    facts: Callable[[str], AssetFacts | None],
    price: PriceAt,
    now: int,
    counts: _Counts,
) -> list[Transaction]:
    """Disposals of ``outs`` and acquisitions of ``ins`` at the swap's value (see the module
    docstring); without any value, withdrawals and deposits of unknown basis."""
    units = {id(g): _units(abs(g.raw), facts(g.asset)) for g in (*outs, *ins)}
    own_price = {id(g): price(g.asset, ts) for g in (*outs, *ins)}
    value = _side_value(ins, units, own_price)
    if value is None:
        value = _side_value(outs, units, own_price)
    result: list[Transaction] = []
    if value is None:
        counts.unpriced += len(outs) + len(ins)
        for g in outs:
            entry = _entry(
                Transaction(account, TxKind.WITHDRAWAL, ts, g.asset, units[id(g)],
                            note=_note("swapped away; no price at that time", tx)),
                fingerprint(chain, tx, "swap-out", wallet, g.asset), now, counts,
            )  # fmt: skip
            if entry is not None:
                result.append(entry)
        for g in ins:
            entry = _entry(
                Transaction(account, TxKind.DEPOSIT, ts, g.asset, units[id(g)],
                            note=_note("swapped for; no price at that time: basis unknown", tx)),
                fingerprint(chain, tx, "swap-in", wallet, g.asset), now, counts,
            )  # fmt: skip
            if entry is not None:
                result.append(entry)
        return result
    for kind, legs, role in ((TxKind.SELL, outs, "sell"), (TxKind.BUY, ins, "buy")):
        for g, p in zip(legs, _leg_prices(legs, value, units, own_price), strict=True):
            entry = _entry(
                Transaction(
                    account, kind, ts, g.asset, units[id(g)], price=p,
                    price_currency=PRICE_CURRENCY, note=_note("swap", tx),
                ),
                fingerprint(chain, tx, role, wallet, g.asset), now, counts,
            )  # fmt: skip
            if entry is not None:
                result.append(entry)
    return result


def _side_value(
    legs: Sequence[_Leg], units: Mapping[int, Decimal], prices: Mapping[int, Decimal | None]
) -> Decimal | None:
    """The market value of one side of a swap when every leg of it has a price."""
    total = Decimal(0)
    with money_context():
        for g in legs:
            p = prices[id(g)]
            if p is None:
                return None
            total += units[id(g)] * p
    return total


def _leg_prices(
    legs: Sequence[_Leg],
    value: Decimal,
    units: Mapping[int, Decimal],
    prices: Mapping[int, Decimal | None],
) -> list[Decimal]:
    """A price per unit for each leg so that the legs together are worth ``value``: a single
    leg carries all of it; several legs share it in proportion to their own market values, or,
    where some have no price, the priced legs keep theirs and the others share the rest by
    count (never below zero)."""
    if len(legs) == 1:
        (g,) = legs
        return [DIVISION.divide(value, units[id(g)])]
    priced = {id(g): units[id(g)] * p for g in legs if (p := prices[id(g)]) is not None}
    with money_context():
        own_total = sum(priced.values(), Decimal(0))
    out: list[Decimal] = []
    if len(priced) == len(legs) and own_total > 0:
        for g in legs:
            share = DIVISION.divide(DIVISION.multiply(value, priced[id(g)]), own_total)
            out.append(DIVISION.divide(share, units[id(g)]))
        return out
    with money_context():
        rest = max(value - own_total, Decimal(0))
    unpriced = len(legs) - len(priced)
    for g in legs:
        if id(g) in priced:
            p = prices[id(g)]
            assert p is not None
            out.append(p)
        else:
            out.append(DIVISION.divide(DIVISION.divide(rest, Decimal(unpriced)), units[id(g)]))
    return out


def _fee(
    f: Fee,
    own: Mapping[str, str],
    facts: Callable[[str], AssetFacts | None],
    now: int,
    counts: _Counts,
) -> Transaction | None:
    if f.amount <= 0:
        return None
    known = facts(f.asset)
    if known is None:
        counts.unknown += 1
        return None
    wallet = wallet_key(f.wallet)
    return _entry(
        Transaction(
            own[wallet], TxKind.FEE, f.ts, f.asset, _units(f.amount, known),
            note=_note("network fee", f.tx),
        ),
        fingerprint(f.chain, f.tx, "fee", wallet, f.asset), now, counts,
    )  # fmt: skip


def _units(raw: int, f: AssetFacts | None) -> Decimal:
    assert f is not None
    return to_decimal_amount(raw, f.decimals)


def _note(what: str, tx: str) -> str:
    return f"On-chain: {what} (tx {tx})"  # validate() cleans it, as every note


def _entry(tx: Transaction, fp: str, now: int, counts: _Counts) -> Transaction | None:
    """The entry as the ledger stores it, or None (counted) when the ledger cannot hold it
    (an amount too small to be written or too large, a time in the future)."""
    if tx.amount > MAX_AMOUNT:
        counts.refused.append(f"{fp}: amount too large for the ledger")
        return None
    try:
        return validate(tx, now, fp)
    except LedgerError as exc:
        counts.refused.append(f"{fp}: {exc}")
        return None


def account_name_for(label: str, address: str, taken: Iterable[str]) -> str:
    """A clear ledger account name for a wallet's on-chain history, unique among ``taken``:
    ``Wallet Main (0x1234…abcd)``, or ``Wallet 0x1234…abcd`` without a label."""
    short = address if len(address) <= 13 else f"{address[:6]}…{address[-4:]}"
    label = clean_text(label, 30)
    base = f"Wallet {label} ({short})" if label else f"Wallet {short}"
    names = set(taken)
    name, n = base, 2
    while name in names:
        name = f"{base} {n}"
        n += 1
    return name
