"""Writing the ledger's transactions as CSV: the generic template, Koinly's universal format,
CoinTracking's trade list (the layouts are described in :mod:`app.services.ledger_csv`).

Koinly and CoinTracking have no transfer between one's own accounts: a transfer is written as a
withdrawal and a deposit (CoinTracking keeps both account names in its Exchange column). Text a
person typed (account names, notes) is written so that a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext

from app.domain.assets import symbol_for_export
from app.domain.ledger import IncomeKind, Transaction, TxKind
from app.domain.text import safe_cell
from app.domain.valuation import CONVERSION_PREC, decimal_text, exact_mul
from app.services.ledger_csv import (
    COINTRACKING_COLUMNS,
    CT_INCOME_TYPE,
    GENERIC_COLUMNS,
    KOINLY_COLUMNS,
    KOINLY_INCOME_LABEL,
    CsvFormat,
)

_DIV = Context(prec=CONVERSION_PREC)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _plain(value: Decimal) -> str:
    """``18000.0`` -> ``18000``: no trailing zeros, never E-notation."""
    return decimal_text(value.normalize(_DIV)) if value else "0"


def _text(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value)


def _cell(text: str) -> str:
    return safe_cell(text)


def write(
    txs: Sequence[Transaction],
    fmt: CsvFormat,
    *,
    value_currency: str = "USD",
    to_value: Callable[[str], Decimal | None] | None = None,
) -> str:
    """The transactions in ``fmt``. Koinly and CoinTracking have no transfer between one's
    own accounts: a transfer is written as a withdrawal and a deposit (CoinTracking keeps the
    two account names in its Exchange column). ``to_value(code)``: units of
    ``value_currency`` per unit of a currency, for CoinTracking's value columns."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if fmt is CsvFormat.GENERIC:
        w.writerow(GENERIC_COLUMNS)
        for t in txs:
            w.writerow(
                [
                    _iso(t.ts), _cell(t.account), t.kind.value, t.asset, _text(t.amount),
                    _text(t.price), t.price_currency or "", _text(t.fee) if t.fee else "",
                    t.fee_currency or "", _cell(t.to_account or ""),
                    t.income_kind.value if t.income_kind else "", _cell(t.note),
                ]
            )  # fmt: skip
    elif fmt is CsvFormat.KOINLY:
        w.writerow(KOINLY_COLUMNS)
        for row in _koinly_rows(txs):
            w.writerow(row)
    else:
        w.writerow(
            [*COINTRACKING_COLUMNS, "Tx-ID", f"Buy Value in {value_currency}",
             f"Sell Value in {value_currency}"]
        )  # fmt: skip
        for row in _cointracking_rows(txs, to_value):
            w.writerow(row)
    return out.getvalue()


def _money(t: Transaction) -> tuple[str, str]:
    if t.price is None or t.price_currency is None:
        return "", ""
    return _plain(exact_mul(t.amount, t.price)), t.price_currency


def _fee_cells(t: Transaction) -> tuple[str, str]:
    if not t.fee or not t.fee_currency:
        return "", ""
    return decimal_text(t.fee), symbol_for_export(t.fee_currency) if ":" in t.fee_currency else (
        t.fee_currency
    )


def _koinly_rows(txs: Sequence[Transaction]) -> Iterator[list[str]]:
    for t in txs:
        sym = symbol_for_export(t.asset)
        amt = decimal_text(t.amount)
        money, cur = _money(t)
        fee_amt, fee_cur = _fee_cells(t)
        note = _cell(t.note)
        if t.kind is TxKind.BUY:
            yield [_iso(t.ts), money, cur, amt, sym, fee_amt, fee_cur, "", "", "", note, ""]
        elif t.kind is TxKind.SELL:
            yield [_iso(t.ts), amt, sym, money, cur, fee_amt, fee_cur, "", "", "", note, ""]
        elif t.kind in (TxKind.DEPOSIT, TxKind.INCOME):
            label = KOINLY_INCOME_LABEL[t.income_kind] if t.income_kind else ""
            yield [_iso(t.ts), "", "", amt, sym, fee_amt, fee_cur, money, cur, label, note, ""]
        elif t.kind in (TxKind.WITHDRAWAL, TxKind.FEE):
            label = "cost" if t.kind is TxKind.FEE else ""
            yield [_iso(t.ts), amt, sym, "", "", fee_amt, fee_cur, money, cur, label, note, ""]
        else:
            desc = _cell(f"transfer {t.account} -> {t.to_account}")
            yield [_iso(t.ts), amt, sym, "", "", fee_amt, fee_cur, "", "", "", desc, ""]
            yield [_iso(t.ts), "", "", amt, sym, "", "", "", "", "", desc, ""]


def _cointracking_rows(
    txs: Sequence[Transaction], to_value: Callable[[str], Decimal | None] | None
) -> Iterator[list[str]]:
    def val(t: Transaction) -> str:
        if t.price is None or t.price_currency is None or to_value is None:
            return ""
        factor = to_value(t.price_currency)
        if factor is None:
            return ""
        with localcontext(_DIV):
            return _plain(t.amount * t.price * factor)

    for t in txs:
        date = datetime.fromtimestamp(t.ts, UTC).strftime("%d.%m.%Y %H:%M:%S")
        sym = symbol_for_export(t.asset)
        amt = decimal_text(t.amount)
        money, cur = _money(t)
        fee_amt, fee_cur = _fee_cells(t)
        acct, note = _cell(t.account), _cell(t.note)
        v = val(t)
        if t.kind is TxKind.BUY:
            yield ["Trade", amt, sym, money, cur, fee_amt, fee_cur, acct, "", note, date, "", v, v]
        elif t.kind is TxKind.SELL:
            yield ["Trade", money, cur, amt, sym, fee_amt, fee_cur, acct, "", note, date, "", v, v]
        elif t.kind is TxKind.DEPOSIT:
            yield ["Deposit", amt, sym, "", "", fee_amt, fee_cur, acct, "", note, date, "", v, ""]
        elif t.kind is TxKind.INCOME:
            kind = CT_INCOME_TYPE[t.income_kind or IncomeKind.OTHER]
            yield [kind, amt, sym, "", "", fee_amt, fee_cur, acct, "", note, date, "", v, ""]
        elif t.kind is TxKind.WITHDRAWAL:
            yield ["Withdrawal", "", "", amt, sym, fee_amt, fee_cur, acct, "", note, date, "",
                   "", v]  # fmt: skip
        elif t.kind is TxKind.FEE:
            yield ["Other Fee", "", "", amt, sym, fee_amt, fee_cur, acct, "", note, date, "",
                   "", v]  # fmt: skip
        else:
            to = _cell(t.to_account or "")
            yield ["Withdrawal", "", "", amt, sym, fee_amt, fee_cur, acct, "", note, date, "",
                   "", ""]  # fmt: skip
            yield ["Deposit", amt, sym, "", "", "", "", to, "", note, date, "", "", ""]
