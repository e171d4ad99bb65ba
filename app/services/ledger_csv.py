"""CSV files of transactions: our generic template, Koinly's universal format, CoinTracking's.

Parsing turns text into validated transactions line by line and collects every problem with its
line number; nothing here touches the database (the ledger service decides to write all or none).

**Generic template** (header required, columns in any order, names case-insensitive)::

    date,account,type,asset,amount,price,price_currency,fee,fee_currency,to_account,income_kind,note

``date`` ISO 8601 (``2024-03-01``, ``2024-03-01 14:30``, ``2024-03-01T14:30:00+01:00``; no
offset means UTC), ``type`` one of buy sell deposit withdrawal transfer income fee, ``asset`` a
ledger asset id (``fiat:EUR``, ``stock:XNAS:AAPL``, ``etf:IE00B4L5Y983``, ``bond:…``,
``commodity:XAU``, a CAIP-19 id) or a symbol the other formats accept too (EUR, XAU, BTC, …),
amounts positive with ``.`` as decimal point.

**Koinly universal** (columns confirmed from several independent converters)::

    Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,
    Net Worth Amount,Net Worth Currency,Label,Description,TxHash

**CoinTracking** (the trade list's columns; "Cur." three times, read by position)::

    "Type","Buy","Cur.","Sell","Cur.","Fee","Cur.","Exchange","Group","Comment","Date"
    (optional: "Tx-ID", "Buy Value in XXX", "Sell Value in XXX", "Trade ID", "Imported From",
    "Add Date")

Currencies in Koinly and CoinTracking files are symbols: ISO 4217 codes become ``fiat:``, metal
codes ``commodity:``, a few coins are known (``app.domain.assets.KNOWN_SYMBOLS``); any other
symbol must be mapped by the person (``--asset SYMBOL=ID``) or written as a full id.

Every row gets a **fingerprint**: a hash of the format and the row's cells, plus how many
identical rows came before it in the file, so the same file imported twice adds nothing, while
two genuinely identical rows of one file are both kept.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext

from app.domain.assets import (
    AssetError,
    LedgerAsset,
    asset_from_symbol,
)
from app.domain.ledger import (
    IncomeKind,
    LedgerError,
    Transaction,
    TxKind,
    free_text,
    parse_amount,
    validate,
)
from app.domain.text import clean_text
from app.domain.valuation import CONVERSION_PREC

_DIV = Context(prec=CONVERSION_PREC)


class CsvFormat(enum.StrEnum):
    GENERIC = "generic"
    KOINLY = "koinly"
    COINTRACKING = "cointracking"


GENERIC_COLUMNS = (
    "date", "account", "type", "asset", "amount", "price", "price_currency", "fee",
    "fee_currency", "to_account", "income_kind", "note",
)  # fmt: skip
KOINLY_COLUMNS = (
    "Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency",
    "Fee Amount", "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label",
    "Description", "TxHash",
)  # fmt: skip
COINTRACKING_COLUMNS = (
    "Type", "Buy", "Cur.", "Sell", "Cur.", "Fee", "Cur.", "Exchange", "Group", "Comment", "Date",
)  # fmt: skip

KOINLY_INCOME = {
    "airdrop": IncomeKind.AIRDROP, "staking": IncomeKind.STAKING, "reward": IncomeKind.STAKING,
    "lending interest": IncomeKind.INTEREST, "interest": IncomeKind.INTEREST,
    "mining": IncomeKind.OTHER, "income": IncomeKind.OTHER, "other income": IncomeKind.OTHER,
    "fork": IncomeKind.AIRDROP, "cashback": IncomeKind.OTHER, "salary": IncomeKind.OTHER,
    "dividend": IncomeKind.DIVIDEND,
}  # fmt: skip
KOINLY_INCOME_LABEL = {
    IncomeKind.AIRDROP: "airdrop", IncomeKind.STAKING: "staking",
    IncomeKind.INTEREST: "lending interest", IncomeKind.DIVIDEND: "income",
    IncomeKind.OTHER: "other income",
}  # fmt: skip
CT_INCOME = {
    "income": IncomeKind.OTHER, "staking": IncomeKind.STAKING, "interest income":
    IncomeKind.INTEREST, "lending income": IncomeKind.INTEREST, "airdrop": IncomeKind.AIRDROP,
    "mining": IncomeKind.OTHER, "reward / bonus": IncomeKind.OTHER, "dividends income":
    IncomeKind.DIVIDEND, "gift/tip": IncomeKind.OTHER, "other income": IncomeKind.OTHER,
}  # fmt: skip
CT_INCOME_TYPE = {
    IncomeKind.STAKING: "Staking", IncomeKind.INTEREST: "Interest Income",
    IncomeKind.AIRDROP: "Airdrop", IncomeKind.DIVIDEND: "Dividends Income",
    IncomeKind.OTHER: "Income",
}  # fmt: skip
CT_OUT = {"withdrawal", "spend", "lost", "stolen", "donation", "gift"}


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    txs: tuple[Transaction, ...]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: tuple[ParsedRow, ...]
    errors: tuple[LineError, ...]


@dataclass(frozen=True, slots=True)
class ParseOptions:
    now: int
    account: str | None = None  # Koinly files name no account; CoinTracking's may not
    asset_map: Mapping[str, str] | None = None  # SYMBOL -> asset id


class _RowError(Exception):
    pass


def parse(text: str, fmt: CsvFormat, options: ParseOptions) -> ParsedFile:
    """Every line parsed and validated; problems collected per line (nothing raised)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return ParsedFile((), (LineError(1, "the file is empty"),))
    except csv.Error as exc:
        return ParsedFile((), (LineError(1, f"not readable as CSV ({exc})"),))
    try:
        row_parser = _parser(fmt, header, options)
    except _RowError as exc:
        return ParsedFile((), (LineError(1, str(exc)),))
    rows: list[ParsedRow] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    width = len(header)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(LineError(reader.line_num, f"not readable as CSV ({exc})"))
            continue
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != width:
            errors.append(LineError(line, f"has {len(cells)} columns where the header has {width}"))
            continue
        key = hashlib.sha256(("\x1f".join([fmt.value, *(c.strip() for c in cells)])).encode())
        digest = key.hexdigest()[:40]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        fp = f"{digest}#{n}"
        try:
            raw = row_parser(cells)
            txs = tuple(
                validate(t, options.now, fp if len(raw) == 1 else f"{fp}:{i}")
                for i, t in enumerate(raw)
            )
        except (_RowError, LedgerError, AssetError) as exc:
            errors.append(LineError(line, _sentence(str(exc))))
            continue
        rows.append(ParsedRow(line, txs))
    return ParsedFile(tuple(rows), tuple(errors))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


RowParser = Callable[[list[str]], list[Transaction]]


def _parser(fmt: CsvFormat, header: list[str], options: ParseOptions) -> RowParser:
    if fmt is CsvFormat.GENERIC:
        return _generic_parser(header, options)
    if fmt is CsvFormat.KOINLY:
        return _koinly_parser(header, options)
    return _cointracking_parser(header, options)


# ---- dates and numbers ------------------------------------------------------------------------

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
    "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
)  # fmt: skip


def parse_time(text: str) -> int:
    """UTC seconds from ISO 8601 or the day-first / year-first forms trackers write; a time
    without an offset is UTC."""
    raw = text.strip().removesuffix(" UTC").removesuffix("Z").strip()
    if not raw:
        raise _RowError("the date is missing")
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        dt = None
        for f in _DATE_FORMATS:
            try:
                dt = datetime.strptime(raw, f)
                break
            except ValueError:
                continue
    if dt is None:
        raise _RowError(f"{clean_text(text, 40)!r} is not a date (use 2024-03-01 14:30:00)")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _amount(text: str, what: str) -> Decimal:
    return parse_amount(text, what)


def _optional(text: str, what: str) -> Decimal | None:
    return parse_amount(text, what, allow_zero=True) if text.strip() else None


def _asset(text: str, mapping: Mapping[str, str] | None) -> LedgerAsset:
    return asset_from_symbol(text, dict(mapping or {}))


# ---- generic ----------------------------------------------------------------------------------


def _generic_parser(header: list[str], options: ParseOptions) -> RowParser:
    names = [h.strip().lower() for h in header]
    required = ("date", "account", "type", "asset", "amount")
    missing = [c for c in required if c not in names]
    unknown = [h for h in names if h not in GENERIC_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing the column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(clean_text(u, 30) for u in unknown)}")
        raise _RowError(
            f"The header is {' and '.join(parts)}; the template is: {','.join(GENERIC_COLUMNS)}"
        )
    at = [names.index(c) if c in names else -1 for c in GENERIC_COLUMNS]
    (i_date, i_acct, i_type, i_asset, i_amount, i_price, i_cur, i_fee, i_feecur, i_to,
     i_income, i_note) = at  # fmt: skip
    zero = Decimal(0)
    kinds = {k.value: k for k in TxKind}

    def parse_row(cells: list[str]) -> list[Transaction]:
        def get(i: int) -> str:
            return cells[i].strip() if i >= 0 else ""

        kind_text = get(i_type).lower()
        kind = kinds.get(kind_text)
        if kind is None:
            raise _RowError(
                f"type {clean_text(kind_text, 20)!r} is not one of "
                f"{', '.join(k.value for k in TxKind)}"
            )
        income = get(i_income).lower() or None
        if income is not None and kind is not TxKind.INCOME:
            raise _RowError("income_kind only goes with type income")
        try:
            income_kind = IncomeKind(income) if income else None
        except ValueError:
            raise _RowError(
                f"income_kind is one of {', '.join(k.value for k in IncomeKind)}"
            ) from None
        price, fee, fee_cur = get(i_price), get(i_fee), get(i_feecur)
        if fee_cur:
            fee_asset = _asset(fee_cur, options.asset_map)
            fee_cur = fee_asset.code if fee_asset.is_fiat else fee_asset.id
        return [
            Transaction(
                account=get(i_acct),
                kind=kind,
                ts=parse_time(get(i_date)),
                asset=_asset(get(i_asset), options.asset_map).id,
                amount=_amount(get(i_amount), "amount"),
                price=parse_amount(price, "price", allow_zero=True) if price else None,
                price_currency=get(i_cur) or None,
                fee=parse_amount(fee, "fee", allow_zero=True) if fee else zero,
                fee_currency=fee_cur or None,
                to_account=get(i_to) or None,
                income_kind=income_kind,
                note=free_text(get(i_note), "note"),
            )
        ]

    return parse_row


# ---- Koinly universal -------------------------------------------------------------------------


def _koinly_parser(header: list[str], options: ParseOptions) -> RowParser:
    names = [h.strip().lower() for h in header]
    need = [c for c in KOINLY_COLUMNS[:5] if c.lower() not in names]
    if need:
        raise _RowError(
            f"This is not a Koinly universal file: the header lacks {', '.join(need)} "
            f"(expected: {','.join(KOINLY_COLUMNS)})"
        )
    if not options.account:
        raise _RowError("Koinly files name no account: give one with --account")
    account = options.account
    index = {n: i for i, n in enumerate(names)}

    def get(cells: list[str], name: str) -> str:
        i = index.get(name.lower())
        return "" if i is None else cells[i].strip()

    def parse_row(cells: list[str]) -> list[Transaction]:
        ts = parse_time(get(cells, "Date"))
        note = _note(free_text(get(cells, "Description"), "description"), get(cells, "TxHash"))
        label = get(cells, "Label").lower()
        sent = _side(get(cells, "Sent Amount"), get(cells, "Sent Currency"), "sent", options)
        recv = _side(
            get(cells, "Received Amount"), get(cells, "Received Currency"), "received", options
        )
        fee = _side(get(cells, "Fee Amount"), get(cells, "Fee Currency"), "fee", options)
        worth = _worth(get(cells, "Net Worth Amount"), get(cells, "Net Worth Currency"))
        return _movement(account, ts, sent, recv, fee, worth, label, note, koinly=True)

    return parse_row


def _side(
    amount: str, currency: str, what: str, options: ParseOptions
) -> tuple[Decimal, LedgerAsset] | None:
    if not amount and not currency:
        return None
    if not amount or not currency:
        raise _RowError(f"the {what} amount and its currency go together")
    value = _amount(amount, f"{what} amount")
    return value, _asset(currency, options.asset_map)


def _worth(amount: str, currency: str) -> tuple[Decimal, str] | None:
    if not amount:
        return None
    value = parse_amount(amount, "net worth", allow_zero=True)
    code = currency.strip().upper()
    if not code:
        raise _RowError("the net worth needs its currency")
    return value, code


def _note(description: str, tx_hash: str) -> str:
    parts = [p for p in (description, f"tx {tx_hash}" if tx_hash else "") if p]
    return " · ".join(parts)


def _per_unit(total: Decimal, amount: Decimal) -> Decimal:
    with localcontext(_DIV):
        return total / amount


def _movement(
    account: str,
    ts: int,
    sent: tuple[Decimal, LedgerAsset] | None,
    recv: tuple[Decimal, LedgerAsset] | None,
    fee: tuple[Decimal, LedgerAsset] | None,
    worth: tuple[Decimal, str] | None,
    label: str,
    note: str,
    *,
    koinly: bool,
    sent_value: tuple[Decimal, str] | None = None,
    recv_value: tuple[Decimal, str] | None = None,
    income_kind: IncomeKind | None = None,
    kind_out: TxKind = TxKind.WITHDRAWAL,
) -> list[Transaction]:
    """One line of another tracker: a trade (both sides), an inflow or an outflow."""
    fee_amount, fee_cur = (fee[0], _fee_text(fee[1])) if fee else (Decimal(0), None)

    def tx(kind: TxKind, side: tuple[Decimal, LedgerAsset], price: tuple[Decimal, str] | None,
           with_fee: bool, income: IncomeKind | None = None) -> Transaction:  # fmt: skip
        return Transaction(
            account=account,
            kind=kind,
            ts=ts,
            asset=side[1].id,
            amount=side[0],
            price=None if price is None else price[0],
            price_currency=None if price is None else price[1],
            fee=fee_amount if with_fee else Decimal(0),
            fee_currency=fee_cur if with_fee else None,
            income_kind=income,
            note=note,
        )

    def fee_fits(side: tuple[Decimal, LedgerAsset]) -> bool:
        return fee is None or fee[1].is_fiat or fee[1].id == side[1].id

    if sent and recv:
        if sent[1].is_fiat and not recv[1].is_fiat:
            price = (_per_unit(sent[0], recv[0]), sent[1].code)
            if not fee_fits(recv):
                raise _RowError("the fee is paid in a third asset: record it as its own fee row")
            return [tx(TxKind.BUY, recv, price, True)]
        if recv[1].is_fiat and not sent[1].is_fiat:
            price = (_per_unit(recv[0], sent[0]), recv[1].code)
            if not fee_fits(sent):
                raise _RowError("the fee is paid in a third asset: record it as its own fee row")
            return [tx(TxKind.SELL, sent, price, True)]
        sv = sent_value or worth
        rv = recv_value or worth
        if sv is None or rv is None:
            raise _RowError(
                "a trade between two non-fiat assets needs its value in money "
                + ("(Net Worth Amount and Currency)" if koinly else "(Buy/Sell Value columns)")
            )
        sell_price = (_per_unit(sv[0], sent[0]), sv[1])
        buy_price = (_per_unit(rv[0], recv[0]), rv[1])
        fee_on_sell = fee is not None and (fee[1].id == sent[1].id or fee[1].is_fiat)
        if fee is not None and not fee_on_sell and fee[1].id != recv[1].id:
            raise _RowError("the fee is paid in a third asset: record it as its own fee row")
        return [
            tx(TxKind.SELL, sent, sell_price, fee_on_sell),
            tx(TxKind.BUY, recv, buy_price, fee is not None and not fee_on_sell),
        ]
    if recv:
        value = recv_value or worth
        in_price = None if value is None else (_per_unit(value[0], recv[0]), value[1])
        kind = income_kind
        if kind is None and koinly and label in KOINLY_INCOME:
            kind = KOINLY_INCOME[label]
        if not fee_fits(recv):
            raise _RowError("the fee is paid in another asset: record it as its own fee row")
        if kind is not None:
            return [tx(TxKind.INCOME, recv, in_price, True, kind)]
        return [tx(TxKind.DEPOSIT, recv, in_price, True)]
    if sent:
        out = kind_out
        if koinly and label in ("cost", "fee", "margin fee"):
            out = TxKind.FEE
        value = sent_value or worth
        out_price = None if value is None else (_per_unit(value[0], sent[0]), value[1])
        if not fee_fits(sent):
            raise _RowError("the fee is paid in another asset: record it as its own fee row")
        return [tx(out, sent, out_price, True)]
    if fee:
        return [tx(TxKind.FEE, fee, None, False)]
    raise _RowError("the row moves nothing: no amount sent, received or paid as a fee")


def _fee_text(asset: LedgerAsset) -> str:
    return asset.code if asset.is_fiat else asset.id


# ---- CoinTracking -----------------------------------------------------------------------------


def _cointracking_parser(header: list[str], options: ParseOptions) -> RowParser:
    names = [h.strip() for h in header]
    if [n.lower() for n in names[:7]] != [c.lower() for c in COINTRACKING_COLUMNS[:7]]:
        raise _RowError(
            "This is not a CoinTracking file: it starts with "
            f'"{",".join(COINTRACKING_COLUMNS[:7])}"'
        )
    lower = [n.lower() for n in names]
    if "date" not in lower:
        raise _RowError('This CoinTracking file has no "Date" column')
    index = {n: i for i, n in enumerate(lower) if i >= 7}
    buy_value = next((i for i, n in enumerate(lower) if n.startswith("buy value in ")), None)
    sell_value = next((i for i, n in enumerate(lower) if n.startswith("sell value in ")), None)

    def get(cells: list[str], name: str) -> str:
        i = index.get(name)
        return "" if i is None else cells[i].strip()

    def value(cells: list[str], i: int | None) -> tuple[Decimal, str] | None:
        if i is None or not cells[i].strip():
            return None
        return parse_amount(cells[i], names[i], allow_zero=True), names[i].split()[-1].upper()

    def parse_row(cells: list[str]) -> list[Transaction]:
        kind_text = cells[0].strip()
        lowered = kind_text.lower()
        account = get(cells, "exchange") or options.account
        if not account:
            raise _RowError("no account: the Exchange column is empty and no --account was given")
        ts = parse_time(get(cells, "date"))
        note = _note(free_text(get(cells, "comment"), "comment"), get(cells, "tx-id"))
        buy = _side(cells[1].strip(), cells[2].strip(), "buy", options)
        sell = _side(cells[3].strip(), cells[4].strip(), "sell", options)
        fee = _side(cells[5].strip(), cells[6].strip(), "fee", options)
        bv, sv = value(cells, buy_value), value(cells, sell_value)
        if lowered == "trade":
            if not (buy and sell):
                raise _RowError("a trade needs both a Buy and a Sell amount")
            return _movement(account, ts, sell, buy, fee, None, "", note, koinly=False,
                             sent_value=sv, recv_value=bv)  # fmt: skip
        if lowered == "deposit" or lowered in CT_INCOME:
            if not buy or sell:
                raise _RowError(f"a {clean_text(kind_text, 20)} row fills only Buy")
            income = CT_INCOME.get(lowered)
            return _movement(account, ts, None, buy, fee, None, "", note, koinly=False,
                             recv_value=bv, income_kind=income)  # fmt: skip
        if lowered in CT_OUT or lowered == "other fee":
            if not sell or buy:
                raise _RowError(f"a {clean_text(kind_text, 20)} row fills only Sell")
            out = TxKind.FEE if lowered == "other fee" else TxKind.WITHDRAWAL
            return _movement(account, ts, sell, None, fee, None, "", note, koinly=False,
                             sent_value=sv, kind_out=out)  # fmt: skip
        raise _RowError(f"type {clean_text(kind_text, 30)!r} is not one this import knows")

    return parse_row
