"""Exchange history: trades, deposits and withdrawals of an exchange account, and the ledger
entries they make. Pure and exact.

**Records.** ccxt's unified trade and transaction structures (built with ``number=str``)
become :class:`ExchangeRecord` s through :func:`trade_record` and :func:`transfer_record`; a
record that is not whole and plain (an id that is not plain text, a coin code that is not, an
amount that is not a finite positive decimal, a time outside 2009..now, an unknown side) is
refused with a reason, never guessed. Only completed deposits and withdrawals are records;
pending ones are read again on the next import.

**Ledger entries** (:func:`plan_entries`), in the account's own ledger account:

- A trade against a **fiat** quote (BTC/EUR) is a ``buy`` or ``sell`` of the base priced in
  that currency; a fee in the quote currency is a fiat fee of that entry (part of the basis or
  less of the proceeds), a fee in the base is a fee in the asset. The cash leg is recorded too,
  as a ``withdrawal`` (a buy) or ``deposit`` (a sell) of ``fiat:EUR`` at its face value, so the
  account's cash follows its balance without a gain or loss of its own.
- A trade against a **crypto** quote (ETH/BTC, BTC/USDT) records both legs. Its value is the
  US-dollar price of one side at that time from the stored daily price history (the base
  first, else the quote): a ``sell`` of what was given and a ``buy`` of what was received at
  that value. Without a price of either side nothing is invented: what was given leaves as a
  ``withdrawal`` (lots leave at their basis, no gain) and what was received arrives as a
  ``deposit`` with an unknown basis. Fees in either leg's coin are fees in that asset.
- A fee in a third coin (BNB on Binance) is a ``fee`` entry of that coin.
- A deposit is a ``deposit`` (basis: the price at that time when known), a withdrawal a
  ``withdrawal``; their fee in the coin leaves on top.

Coins are the ledger's ids where the ledger knows the coin (``BTC``, ``ETH`` on Ethereum, ``USDT``
on Ethereum … see :data:`app.domain.assets.KNOWN_SYMBOLS`), so that an exchange's ETH and a
wallet's ETH are one asset; fiat codes are ``fiat:``; any other coin is the account's own
``cex:<account>/coin:<CODE>`` (the id its balance has in the snapshots).

Fingerprints are ``exchange:<account>:<kind>:<id>`` (kinds: ``trade``, ``trade-quote``,
``trade-fee``, ``deposit``, ``withdrawal``), so an import of the same records adds nothing.

**Own transfers** (:func:`match_transfers`): a withdrawal from the exchange that arrives in one of
the person's wallets, or a deposit sent from one, is a transfer between the two ledger accounts
(lots move with their basis: no gain, no loss) instead of a withdrawal and a deposit. A pair
matches when: the asset is the same ledger asset; the amounts agree within the fee (the
exchange's amount and the chain's differ by no more than the fee the exchange states; exactly
when it states none); the chain's time is within :data:`MATCH_BEFORE` before and
:data:`MATCH_AFTER` after the exchange's (a withdrawal is stamped when asked for and sent later;
a deposit is credited after the chain confirms it, so the window is mirrored); and, where both
sides name the transaction hash, the hashes are equal. Among several candidates the one with
the same hash wins, then the nearest in time; each side is used once.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from app.domain.assets import ISO_4217, KNOWN_SYMBOLS
from app.domain.exchanges import NAMESPACE, coin_code, exact_amount
from app.domain.ledger import MAX_AMOUNT, LedgerError, Transaction, TxKind, validate
from app.domain.text import clean_text
from app.domain.valuation import DIVISION, money_context

PREFIX = "exchange:"
FINGERPRINT_MAX = 80
EARLIEST_MS = 1_230_768_000_000  # 2009-01-01: nothing on an exchange is older
MATCH_BEFORE = 2 * 3600  # seconds the chain's time may precede a withdrawal's (clock skew)
MATCH_AFTER = 48 * 3600  # seconds a withdrawal may take to reach the chain (reviews, batching)
PRICE_CURRENCY = "USD"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/#\-]{0,159}$")
_TXID_RE = re.compile(r"^[A-Za-z0-9:_\-]{8,200}$")

PriceAt = Callable[[str, int], Decimal | None]  # (asset id, UTC seconds) -> USD per unit


class RecordKind(enum.StrEnum):
    TRADE = "trade"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One completed trade, deposit or withdrawal of an exchange account.

    ``code`` is the coin moved (a trade's base); ``amount`` is positive; ``ts`` is UTC
    milliseconds as the exchange stamps it. A trade has ``quote``, ``side`` and ``cost`` (quote
    units); ``fees`` are (coin, amount) pairs."""

    kind: RecordKind
    id: str
    ts: int
    code: str
    amount: Decimal
    quote: str | None = None
    side: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    fees: tuple[tuple[str, Decimal], ...] = ()
    txid: str | None = None
    network: str | None = None

    @property
    def seconds(self) -> int:
        return self.ts // 1000

    def fee_in(self, code: str) -> Decimal:
        return sum((a for c, a in self.fees if c == code), Decimal(0))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value, "id": self.id, "ts": self.ts, "code": self.code,
            "amount": str(self.amount), "quote": self.quote, "side": self.side,
            "price": None if self.price is None else str(self.price),
            "cost": None if self.cost is None else str(self.cost),
            "fees": [[c, str(a)] for c, a in self.fees], "txid": self.txid,
            "network": self.network,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: Mapping[str, object]) -> ExchangeRecord:
        def dec(v: object) -> Decimal | None:
            return None if v is None else Decimal(str(v))

        fees = d.get("fees") or []
        assert isinstance(fees, list)
        amount = dec(d["amount"])
        assert amount is not None
        return cls(
            RecordKind(str(d["kind"])), str(d["id"]), int(str(d["ts"])), str(d["code"]), amount,
            _opt(d.get("quote")), _opt(d.get("side")), dec(d.get("price")), dec(d.get("cost")),
            tuple((str(c), Decimal(str(a))) for c, a in fees), _opt(d.get("txid")),
            _opt(d.get("network")),
        )  # fmt: skip


def _opt(v: object) -> str | None:
    return None if v is None else str(v)


# ---- reading ccxt's structures ------------------------------------------------------------------
def _plain_id(value: object) -> str | None:
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else None
    if text is None or isinstance(value, bool) or not _ID_RE.match(text):
        return None
    return text


def _time(value: object, now_ms: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        ts = int(value)
    except ValueError:
        return None
    return ts if EARLIEST_MS <= ts <= now_ms + 300_000 else None


def _positive(value: object) -> Decimal | None:
    amount = exact_amount(value)
    if amount is None or amount <= 0 or amount > MAX_AMOUNT:
        return None
    return amount


def _fees(raw: Mapping[str, object]) -> tuple[tuple[str, Decimal], ...] | str:
    items: list[object] = []
    many = raw.get("fees")
    if isinstance(many, list) and many:
        items = list(many)
    elif isinstance(raw.get("fee"), dict):
        items = [raw["fee"]]
    totals: dict[str, Decimal] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("cost") in (None, "", "0"):
            continue
        cost = exact_amount(item.get("cost"))
        if cost is None or cost > MAX_AMOUNT:
            return "a fee that is not a number"
        if cost == 0:
            continue
        code = coin_code(item.get("currency"))
        if code is None:
            return "a fee without a plain coin code"
        totals[code] = totals.get(code, Decimal(0)) + abs(cost)
    return tuple(sorted(totals.items()))


def trade_record(raw: object, now_ms: int, id_prefix: str = "") -> ExchangeRecord | str:
    """A ccxt trade as a record, or the reason it is refused."""
    if not isinstance(raw, dict):
        return "a trade that is not an object"
    ident = _plain_id(raw.get("id"))
    if ident is None:
        return "a trade without a plain id"
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or symbol.count("/") != 1 or ":" in symbol:
        return f"trade {ident}: not a spot market"
    base, quote = (coin_code(p) for p in symbol.split("/"))
    if base is None or quote is None or base == quote:
        return f"trade {ident}: a market whose coins are not plain codes"
    ts = _time(raw.get("timestamp"), now_ms)
    if ts is None:
        return f"trade {ident}: no believable time"
    side = raw.get("side")
    if side not in ("buy", "sell"):
        return f"trade {ident}: neither a buy nor a sell"
    amount = _positive(raw.get("amount"))
    price = exact_amount(raw.get("price"))
    if amount is None or price is None or price < 0 or price > MAX_AMOUNT:
        return f"trade {ident}: an amount or price that is not a positive number"
    cost = _positive(raw.get("cost"))
    if cost is None:
        with money_context():
            cost = amount * price
        if cost <= 0:
            return f"trade {ident}: a trade worth nothing"
    fees = _fees(raw)
    if isinstance(fees, str):
        return f"trade {ident}: {fees}"
    return ExchangeRecord(
        RecordKind.TRADE, id_prefix + ident, ts, base, amount, quote, str(side), price, cost, fees
    )


def transfer_record(raw: object, kind: RecordKind, now_ms: int) -> ExchangeRecord | str | None:
    """A ccxt deposit or withdrawal as a record; None while it is not completed (pending: read
    again next time; failed or cancelled: nothing moved); else the reason it is refused."""
    if not isinstance(raw, dict):
        return f"a {kind.value} that is not an object"
    ident = _plain_id(raw.get("id"))
    if ident is None:
        return f"a {kind.value} without a plain id"
    if raw.get("status") != "ok":
        return None
    code = coin_code(raw.get("currency"))
    if code is None:
        return f"{kind.value} {ident}: a coin code that is not plain"
    ts = _time(raw.get("timestamp"), now_ms)
    if ts is None:
        return f"{kind.value} {ident}: no believable time"
    amount = _positive(raw.get("amount"))
    if amount is None:
        return f"{kind.value} {ident}: an amount that is not a positive number"
    fees = _fees(raw)
    if isinstance(fees, str):
        return f"{kind.value} {ident}: {fees}"
    txid = raw.get("txid")
    txid = txid if isinstance(txid, str) and _TXID_RE.match(txid) else None
    network = raw.get("network")
    network = clean_text(network, 32) if isinstance(network, str) else None
    return ExchangeRecord(kind, ident, ts, code, amount, fees=fees, txid=txid, network=network)


def is_pending(raw: object) -> bool:
    return isinstance(raw, dict) and raw.get("status") == "pending"


# ---- ledger entries ----------------------------------------------------------------------------
def asset_for(account: str, code: str) -> str:
    """The ledger asset id of a coin code on ``account`` (see the module docstring)."""
    if code in ISO_4217:
        return f"fiat:{code}"
    known = KNOWN_SYMBOLS.get(code)
    return known if known is not None else f"{NAMESPACE}:{account}/coin:{code}"


def is_fiat(code: str) -> bool:
    return code in ISO_4217


def fingerprint(account: str, kind: str, ident: str) -> str:
    """``exchange:<account>:<kind>:<id>``; an id that would make it longer than the ledger's
    fingerprint column (80) is replaced by a digest of it."""
    fp = f"{PREFIX}{account}:{kind}:{ident}"
    if len(fp) <= FINGERPRINT_MAX:
        return fp
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    return f"{PREFIX}{account}:{kind}:#{digest}"


def account_prefix(account: str) -> str:
    return f"{PREFIX}{account}:"


@dataclass(frozen=True, slots=True)
class Plan:
    transactions: tuple[Transaction, ...]
    unpriced: int = 0  # crypto-quoted trades recorded without a value (basis unknown)
    refused: tuple[str, ...] = ()


@dataclass(slots=True)
class _Out:
    txs: list[Transaction] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unpriced: int = 0

    def add(self, tx: Transaction, fp: str, now: int) -> None:
        try:
            self.txs.append(validate(tx, now, fp))
        except LedgerError as exc:
            self.refused.append(f"{fp}: {exc}")


def plan_entries(
    exchange_account: str,
    ledger_account: str,
    title: str,
    records: Iterable[ExchangeRecord],
    price: PriceAt,
    now: int,
) -> Plan:
    """The ledger entries of ``records`` (see the module docstring)."""
    out = _Out()
    acct = exchange_account
    for r in sorted(records, key=lambda r: (r.ts, r.kind.value, r.id)):
        ts = r.seconds
        asset = asset_for(acct, r.code)
        note = clean_text(f"{title}: {r.kind.value} {r.id}", 500)
        if r.kind is not RecordKind.TRADE:
            fee = r.fee_in(r.code)
            kind = TxKind.DEPOSIT if r.kind is RecordKind.DEPOSIT else TxKind.WITHDRAWAL
            p = None if is_fiat(r.code) or kind is TxKind.WITHDRAWAL else price(asset, ts)
            out.add(
                Transaction(
                    ledger_account, kind, ts, asset, r.amount,
                    price=p, price_currency=PRICE_CURRENCY if p is not None else None,
                    fee=fee, fee_currency=asset if fee else None,
                    note=note + ("" if p is not None or kind is TxKind.WITHDRAWAL
                                 or is_fiat(r.code) else "; no price at that time: basis unknown"),
                ),
                fingerprint(acct, r.kind.value, r.id), now,
            )  # fmt: skip
            for code, amount in r.fees:
                if code != r.code:
                    _fee_entry(out, acct, ledger_account, r, code, amount, note, now)
            continue
        _trade(out, acct, ledger_account, r, note, price, now)
    return Plan(tuple(out.txs), out.unpriced, tuple(out.refused))


def _fee_entry(
    out: _Out, acct: str, ledger: str, r: ExchangeRecord, code: str, amount: Decimal,
    note: str, now: int,
) -> None:  # fmt: skip
    out.add(
        Transaction(ledger, TxKind.FEE, r.seconds, asset_for(acct, code), amount,
                    note=note + f" (fee in {code})"),
        fingerprint(acct, f"{r.kind.value}-fee", f"{r.id}:{code}"), now,
    )  # fmt: skip


def _trade(
    out: _Out, acct: str, ledger: str, r: ExchangeRecord, note: str, price: PriceAt, now: int
) -> None:
    assert r.quote is not None and r.cost is not None and r.price is not None
    ts, buy = r.seconds, r.side == "buy"
    base, quote = asset_for(acct, r.code), asset_for(acct, r.quote)
    base_fee, quote_fee = r.fee_in(r.code), r.fee_in(r.quote)
    fp_base = fingerprint(acct, "trade", r.id)
    fp_quote = fingerprint(acct, "trade-quote", r.id)
    if is_fiat(r.quote):
        fiat_fee = quote_fee
        out.add(
            Transaction(
                ledger, TxKind.BUY if buy else TxKind.SELL, ts, base, r.amount,
                price=r.price, price_currency=r.quote,
                fee=base_fee or fiat_fee,
                fee_currency=base if base_fee else (r.quote if fiat_fee else None),
                note=note,
            ),
            fp_base, now,
        )  # fmt: skip
        if base_fee and fiat_fee:  # both: the fiat part as its own fee entry
            _fee_entry(out, acct, ledger, r, r.quote, fiat_fee, note, now)
        with money_context():
            cash = r.cost + fiat_fee if buy else r.cost - fiat_fee
        if cash > 0:
            out.add(
                Transaction(
                    ledger, TxKind.WITHDRAWAL if buy else TxKind.DEPOSIT, ts, quote, cash,
                    note=note + (" (paid)" if buy else " (received)"),
                ),
                fp_quote, now,
            )  # fmt: skip
    else:
        value = _value(r, base, quote, price)
        given, got = ((quote, r.cost, quote_fee), (base, r.amount, base_fee))[:: 1 if buy else -1]
        legs: tuple[tuple[tuple[str, Decimal, Decimal], TxKind, Decimal | None, str], ...]
        if value is None:
            out.unpriced += 1
            legs = (
                (given, TxKind.WITHDRAWAL, None, "; no price at that time"),
                (got, TxKind.DEPOSIT, None, "; no price at that time: basis unknown"),
            )
        else:
            legs = (
                (given, TxKind.SELL, DIVISION.divide(value, given[1]), ""),
                (got, TxKind.BUY, DIVISION.divide(value, got[1]), ""),
            )
        for (asset, amount, fee), kind, unit, more in legs:
            out.add(
                Transaction(
                    ledger, kind, ts, asset, amount,
                    price=unit, price_currency=PRICE_CURRENCY if unit is not None else None,
                    fee=fee, fee_currency=asset if fee else None, note=note + more,
                ),
                fp_base if asset == base else fp_quote, now,
            )  # fmt: skip
    for code, amount in r.fees:
        if code not in (r.code, r.quote):
            _fee_entry(out, acct, ledger, r, code, amount, note, now)


def _value(r: ExchangeRecord, base: str, quote: str, price: PriceAt) -> Decimal | None:
    assert r.cost is not None
    with money_context():
        p = price(base, r.seconds)
        if p is not None:
            return r.amount * p
        q = price(quote, r.seconds)
        return r.cost * q if q is not None else None


# ---- own transfers ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChainEntry:
    """A ledger entry made from a wallet's on-chain movements: a deposit into or a withdrawal
    from the wallet's account (``row``: its id in the ledger)."""

    row: int
    fingerprint: str
    account: str
    kind: TxKind  # DEPOSIT or WITHDRAWAL
    asset: str
    amount: Decimal
    ts: int
    txid: str | None


@dataclass(frozen=True, slots=True)
class Match:
    record: ExchangeRecord
    entry: ChainEntry
    transfer: Transaction  # what the chain entry becomes (its fingerprint kept)


def txid_of(fp: str) -> str | None:
    """The transaction hash named in an on-chain entry's fingerprint
    (``onchain:<chain>:<tx>:<role>:<digest>``)."""
    head, _, _digest = fp.rpartition(":")
    head, _, _role = head.rpartition(":")
    _chain, _, tx = head.rpartition(":")
    return tx or None


def _same_tx(a: str, b: str) -> bool:
    def norm(t: str) -> str:
        t = t.lower()
        return t[2:] if t.startswith("0x") else t

    return norm(a) == norm(b)


def match_transfers(
    exchange_account: str,
    ledger_account: str,
    title: str,
    records: Iterable[ExchangeRecord],
    entries: Sequence[ChainEntry],
    now: int,
) -> list[Match]:
    """Pairs of an exchange deposit/withdrawal and an on-chain entry (see the module docstring),
    each with the transfer that replaces both."""
    used: set[int] = set()
    out: list[Match] = []
    candidates = sorted(
        (r for r in records if r.kind is not RecordKind.TRADE and not is_fiat(r.code)),
        key=lambda r: (r.ts, r.id),
    )
    for r in candidates:
        asset = asset_for(exchange_account, r.code)
        fee = r.fee_in(r.code)
        withdrawal = r.kind is RecordKind.WITHDRAWAL
        want = TxKind.DEPOSIT if withdrawal else TxKind.WITHDRAWAL
        lo, hi = (
            (r.seconds - MATCH_BEFORE, r.seconds + MATCH_AFTER)
            if withdrawal
            else (r.seconds - MATCH_AFTER, r.seconds + MATCH_BEFORE)
        )
        best: tuple[int, int, ChainEntry] | None = None
        for e in entries:
            if e.row in used or e.kind is not want or e.asset != asset or not lo <= e.ts <= hi:
                continue
            if abs(e.amount - r.amount) > fee:
                continue
            same = r.txid is not None and e.txid is not None and _same_tx(r.txid, e.txid)
            if r.txid is not None and e.txid is not None and not same:
                continue
            rank = (0 if same else 1, abs(e.ts - r.seconds))
            if best is None or rank < best[:2]:
                best = (*rank, e)
        if best is None:
            continue
        e = best[2]
        note = clean_text(f"{title}: {r.kind.value} {r.id} matched with the wallet's "
                          f"transaction {e.txid or ''}", 500)  # fmt: skip
        if withdrawal:  # the exchange sent amount + fee; the wallet received e.amount
            with money_context():
                extra = r.amount + fee - e.amount
            tx = Transaction(
                ledger_account, TxKind.TRANSFER, e.ts, asset, e.amount,
                fee=extra if extra > 0 else Decimal(0),
                fee_currency=asset if extra > 0 else None, to_account=e.account, note=note,
            )  # fmt: skip
        else:  # the wallet sent e.amount; the exchange credited r.amount - fee
            with money_context():
                credited = r.amount - fee
                extra = e.amount - credited
            tx = Transaction(
                e.account, TxKind.TRANSFER, e.ts, asset, credited,
                fee=extra if extra > 0 else Decimal(0),
                fee_currency=asset if extra > 0 else None, to_account=ledger_account, note=note,
            )  # fmt: skip
        try:
            checked = validate(tx, now, e.fingerprint)
        except LedgerError:
            continue
        used.add(e.row)
        out.append(Match(r, e, checked))
    return out


def without_matched(plan: Plan, account: str, matches: Sequence[Match]) -> Plan:
    """The plan with the entries of matched deposits and withdrawals left out (the transfer
    stands for them)."""
    gone = {fingerprint(account, m.record.kind.value, m.record.id) for m in matches}
    return replace(
        plan, transactions=tuple(t for t in plan.transactions if t.fingerprint not in gone)
    )
