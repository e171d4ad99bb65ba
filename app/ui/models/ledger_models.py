"""Table models of the Transactions and Performance tabs. Money stays Decimal here.

Rows are immutable and carry their display text, computed once off the GUI thread
(:func:`tx_rows`, :func:`arrange`); a model only hands out what a row already has, so a table of
50,000 transactions paints and scrolls without work on the GUI thread. Sorting and filtering are
pure functions over those rows (exact values: Decimal amounts, UTC seconds), run in a worker
thread by the page; the models only show the result.

Every text here is plain: asset ids, account names and notes come from CSV files and typing,
and tooltips (which Qt may read as rich text) are escaped.
"""

from __future__ import annotations

import enum
import heapq
import html
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from app.domain.assets import AssetError, parse_asset
from app.domain.ledger import Transaction, TxKind
from app.domain.text import clean_text
from app.ui.models.base import Index, ListTableModel
from app.ui.models.holdings_format import amount_text, exact, format_number
from app.ui.theme import colours

if TYPE_CHECKING:
    from app.domain.cost_basis import HoldingPnl, PnlReport, PnlTotals
    from app.domain.returns import ReturnFigures

SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1  # a transaction's id
EXACT_ROLE = Qt.ItemDataRole.UserRole + 2  # the exact figure of a cell ("" when none)
_DISPLAY = Qt.ItemDataRole.DisplayRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
UNKNOWN = "unknown"
SORT_CHUNK = 4096  # rows sorted in one go (a few milliseconds holding the interpreter lock)

KIND_TEXT = {
    TxKind.BUY: "Buy",
    TxKind.SELL: "Sell",
    TxKind.DEPOSIT: "Deposit",
    TxKind.WITHDRAWAL: "Withdrawal",
    TxKind.TRANSFER: "Transfer",
    TxKind.INCOME: "Income",
    TxKind.FEE: "Fee",
}


def tip(text: str) -> str:
    """Tooltips may be read as rich text: escape everything (names and notes are hostile)."""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"


def day_text(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def stamp_text(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) + " UTC"


def asset_text(asset_id: str) -> str:
    """A short name for a ledger asset: its ticker, code or coin symbol; a crypto asset we
    have no symbol for shows its chain and a shortened address."""
    try:
        parsed = parse_asset(asset_id)
    except AssetError:
        return clean_text(asset_id, 40)
    symbol = parsed.symbol
    if symbol != asset_id:
        return clean_text(symbol, 24)
    chain, _, rest = asset_id.partition("/")
    _ns, _, ref = rest.partition(":")
    if len(ref) > 14:
        ref = f"{ref[:6]}…{ref[-4:]}"
    return clean_text(f"{ref} ({chain})", 40)


# ------------------------------------------------------------------ transactions


class TxColumn(enum.IntEnum):
    DATE = 0
    ACCOUNT = 1
    TYPE = 2
    ASSET = 3
    AMOUNT = 4
    PRICE = 5
    FEE = 6
    DETAILS = 7
    NOTE = 8


TX_HEADERS = ("Date", "Account", "Type", "Asset", "Amount", "Price", "Fee", "Details", "Note")
TX_NUMERIC = {TxColumn.AMOUNT, TxColumn.PRICE, TxColumn.FEE}


@dataclass(frozen=True, slots=True)
class TxRow:
    tx: Transaction
    cells: tuple[str, ...]
    tooltip: str
    search: str  # lower-case text the free-text filter looks in

    @property
    def id(self) -> int:
        return self.tx.id or 0


def tx_row(tx: Transaction) -> TxRow:
    asset = asset_text(tx.asset)
    price = "" if tx.price is None else f"{format_number(tx.price)} {tx.price_currency or ''}"
    fee = ""
    if tx.fee:
        unit = asset if tx.fee_currency == tx.asset else (tx.fee_currency or "")
        fee = f"{amount_text(tx.fee)} {unit}"
    details = ""
    if tx.kind is TxKind.TRANSFER and tx.to_account:
        details = f"→ {clean_text(tx.to_account, 64)}"
    elif tx.kind is TxKind.INCOME and tx.income_kind is not None:
        details = tx.income_kind.value.capitalize()
    note = clean_text(tx.note, 120)
    cells = (
        day_text(tx.ts),
        clean_text(tx.account, 64),
        KIND_TEXT[tx.kind],
        asset,
        amount_text(tx.amount),
        price,
        fee,
        details,
        note,
    )
    lines = [
        f"{KIND_TEXT[tx.kind]} of {exact(tx.amount)} {asset} on {stamp_text(tx.ts)}",
        f"Asset: {tx.asset}",
    ]
    if tx.price is not None:
        lines.append(f"Price: {exact(tx.price)} {tx.price_currency or ''} per unit")
    if tx.fee:
        lines.append(f"Fee: {exact(tx.fee)} {tx.fee_currency or ''}")
    if tx.note:
        lines.append(f"Note: {clean_text(tx.note, 500)}")
    search = " ".join([*cells, tx.asset, tx.note]).lower()
    return TxRow(tx, cells, tip("\n".join(lines)), search)


def tx_rows(txs: Iterable[Transaction]) -> list[TxRow]:
    return [tx_row(t) for t in txs]


@dataclass(frozen=True, slots=True)
class TxFilter:
    account: str | None = None
    kind: TxKind | None = None
    asset: str | None = None
    since: int | None = None  # UTC seconds, inclusive
    until: int | None = None  # UTC seconds, exclusive
    text: str = ""

    def keeps(self, row: TxRow) -> bool:
        t = row.tx
        return (
            (self.account is None or self.account in (t.account, t.to_account))
            and (self.kind is None or t.kind is self.kind)
            and (self.asset is None or t.asset == self.asset)
            and (self.since is None or t.ts >= self.since)
            and (self.until is None or t.ts < self.until)
            and (not self.text or all(w in row.search for w in self.text.lower().split()))
        )


def _sort_key(column: TxColumn) -> Any:
    """Exact values: amounts as Decimal, dates as seconds, text case-folded; the id breaks ties
    so equal keys keep the ledger's order."""
    if column == TxColumn.DATE:
        return lambda r: (r.tx.ts, r.id)
    if column == TxColumn.AMOUNT:
        return lambda r: (r.tx.amount, r.tx.ts, r.id)
    if column == TxColumn.PRICE:
        return lambda r: (
            r.tx.price is not None,
            r.tx.price_currency or "",
            r.tx.price or 0,
            r.tx.ts,
            r.id,
        )
    if column == TxColumn.FEE:
        return lambda r: (r.tx.fee_currency or "", r.tx.fee, r.tx.ts, r.id)
    return lambda r: (r.cells[column].casefold(), r.tx.ts, r.id)


def arrange(rows: Sequence[TxRow], flt: TxFilter, column: int, order: Qt.SortOrder) -> list[TxRow]:
    """The rows the table shows: filtered, then sorted by ``column`` (a worker thread calls
    this: 50,000 rows take tens of milliseconds)."""
    kept = [r for r in rows if flt.keeps(r)]
    if not 0 <= column < len(TX_HEADERS):
        return kept
    key = _sort_key(TxColumn(column))
    reverse = order == Qt.SortOrder.DescendingOrder
    if len(kept) <= SORT_CHUNK:
        kept.sort(key=key, reverse=reverse)
        return kept
    # One sort of 50,000 rows is one C call that holds the interpreter lock for ~60 ms (Decimal
    # comparisons): the window could not draw meanwhile. Sorted in chunks and merged (the merge
    # runs Python code between rows), the lock changes hands every few milliseconds.
    chunks = [kept[i : i + SORT_CHUNK] for i in range(0, len(kept), SORT_CHUNK)]
    for chunk in chunks:
        chunk.sort(key=key, reverse=reverse)
    return list(heapq.merge(*chunks, key=key, reverse=reverse))


class TransactionsModel(ListTableModel[TxRow]):
    """The transactions shown. ``sort`` only records the wish; the page arranges the rows off
    the GUI thread and calls :meth:`set_rows` (``sort_wanted`` tells it to)."""

    HEADERS = TX_HEADERS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.sort_column = int(TxColumn.DATE)
        self.sort_order = Qt.SortOrder.DescendingOrder
        self.sort_wanted: list[Any] = []  # callbacks: the page's re-arrange

    def set_rows(self, rows: list[TxRow]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[TxRow]:
        return list(self._rows)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        for callback in self.sort_wanted:
            callback()

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return row.cells[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole and column in TX_NUMERIC:
            return _RIGHT
        if role == ID_ROLE:
            return row.id
        if role == EXACT_ROLE:
            return tx_exact_cell(row.tx, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == TxColumn.TYPE:
            kind = row.tx.kind
            if kind in (TxKind.BUY, TxKind.DEPOSIT, TxKind.INCOME):
                return colours().gain
            if kind in (TxKind.SELL, TxKind.WITHDRAWAL, TxKind.FEE):
                return colours().loss
        return None


def tx_exact_cell(tx: Transaction, column: int) -> str:
    """A cell as copied: exact amounts, full ids, the full time."""
    if column == TxColumn.DATE:
        return stamp_text(tx.ts)
    if column == TxColumn.ASSET:
        return tx.asset
    if column == TxColumn.AMOUNT:
        return exact(tx.amount)
    if column == TxColumn.PRICE:
        return "" if tx.price is None else f"{exact(tx.price)} {tx.price_currency or ''}"
    if column == TxColumn.FEE:
        return f"{exact(tx.fee)} {tx.fee_currency or ''}" if tx.fee else ""
    if column == TxColumn.NOTE:
        return clean_text(tx.note, 500)
    return tx_row(tx).cells[column]


def tx_tsv(rows: Sequence[TxRow]) -> str:
    """Selected transactions as tab-separated text with exact figures (Ctrl+C)."""
    lines = ["\t".join(TX_HEADERS)]
    for row in rows:
        lines.append("\t".join(tx_exact_cell(row.tx, c) for c in range(len(TX_HEADERS))))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ P&L


def money_cell(value: Decimal | None, unknown: bool = False, plus: bool = False) -> str:
    """A money figure for a P&L cell; ``unknown`` marks a figure that leaves out units of
    unknown cost ("+ unknown"), None is shown as unknown, never as 0."""
    if value is None:
        return UNKNOWN
    text = format_number(value, plus=plus)
    return f"{text} + {UNKNOWN}" if unknown else text


class PnlColumn(enum.IntEnum):
    ACCOUNT = 0
    ASSET = 1
    QUANTITY = 2
    COST_BASIS = 3
    MARKET_VALUE = 4
    UNREALISED = 5
    REALISED = 6
    INCOME = 7
    FEES = 8
    TOTAL = 9


PNL_HEADERS = (
    "Account", "Asset", "Quantity", "Cost basis", "Market value", "Unrealised", "Realised",
    "Income", "Fees", "Total",
)  # fmt: skip
SIGNED = {PnlColumn.UNREALISED, PnlColumn.REALISED, PnlColumn.TOTAL}


@dataclass(frozen=True, slots=True)
class PnlRow:
    """One holding, one account's totals, or the grand total (``asset`` empty for totals)."""

    account: str
    asset: str
    cells: tuple[str, ...]
    sort: tuple[Any, ...]
    exact: tuple[str, ...]
    signs: tuple[int, ...]  # -1 loss, 1 gain, 0 neither, 2 unknown (muted)
    tooltip: str
    total: bool = False


def _sign(value: Decimal | None) -> int:
    if value is None:
        return 2
    return 1 if value > 0 else -1 if value < 0 else 0


def holding_row(h: HoldingPnl, currency: str) -> PnlRow:
    unknown_basis = h.unknown_basis_quantity > 0
    all_unknown = unknown_basis and h.quantity == h.unknown_basis_quantity
    basis_cell = UNKNOWN if all_unknown else money_cell(h.cost_basis, unknown_basis)
    realised_unknown = h.realised_unknown_quantity > 0
    realised_cell = money_cell(h.realised, realised_unknown, plus=True)
    if realised_unknown and not h.realised:
        realised_cell = UNKNOWN
    total = h.total
    # units of unknown cost are left out of the unrealised figure: their gain is unknown
    total_unknown = h.unrealised is None or realised_unknown or unknown_basis
    asset = asset_text(h.asset)
    cells = (
        clean_text(h.account, 64),
        asset,
        amount_text(h.quantity),
        basis_cell,
        money_cell(h.market_value),
        money_cell(h.unrealised, unknown_basis, plus=True),
        realised_cell,
        format_number(h.income),
        format_number(h.fees),
        money_cell(total, total_unknown, plus=True),
    )
    lines = [f"{asset} in {clean_text(h.account, 64)} ({h.asset})",
             f"Quantity: {exact(h.quantity)}"]  # fmt: skip
    if unknown_basis:
        lines.append(
            f"Cost basis unknown for {exact(h.unknown_basis_quantity)} units (deposited or "
            "received without a price): their gain is not counted."
        )
    lines.append(f"Cost basis of the units of known cost: {exact(h.cost_basis)} {currency}")
    if h.price is not None and h.price_ts is not None:
        source = "a price source" if h.price_source == "market" else "the last transaction"
        lines.append(f"Price: {exact(h.price)} {currency} from {source}, {stamp_text(h.price_ts)}")
    else:
        lines.append("No price known: market value and unrealised P&L are unknown.")
    if h.unrealised is not None:
        lines.append(f"Unrealised: {exact(h.unrealised)} {currency}")
    lines.append(f"Realised: {exact(h.realised)} {currency}")
    if realised_unknown:
        lines.append(
            f"{exact(h.realised_unknown_quantity)} units disposed of with unknown cost basis, "
            f"for {exact(h.realised_unknown_proceeds)} {currency}: their gain is unknown."
        )
    lines.append(f"Income: {exact(h.income)} {currency} · fees: {exact(h.fees)} {currency}")
    return PnlRow(
        h.account,
        h.asset,
        cells,
        (
            h.account.casefold(),
            asset.casefold(),
            h.quantity,
            h.cost_basis,
            h.market_value if h.market_value is not None else Decimal("-Infinity"),
            h.unrealised if h.unrealised is not None else Decimal("-Infinity"),
            h.realised,
            h.income,
            h.fees,
            total,
        ),
        (
            h.account,
            h.asset,
            exact(h.quantity),
            UNKNOWN if all_unknown else exact(h.cost_basis),
            UNKNOWN if h.market_value is None else exact(h.market_value),
            UNKNOWN if h.unrealised is None else exact(h.unrealised),
            exact(h.realised),
            exact(h.income),
            exact(h.fees),
            exact(total),
        ),
        (
            0,
            0,
            0,
            2 if all_unknown else 0,
            2 if h.market_value is None else 0,
            _sign(h.unrealised),
            2 if realised_cell == UNKNOWN else _sign(h.realised),
            0,
            0,
            _sign(total),
        ),
        tip("\n".join(lines)),
    )


def totals_row(
    name: str, t: PnlTotals, currency: str, grand: bool = False, partial: int = 0
) -> PnlRow:
    """``partial``: holdings that also hold units of unknown cost (their gain is left out)."""
    realised_unknown = t.realised_unknown_quantity_holdings > 0
    unrealised_unknown = t.unrealised_unknown_holdings > 0 or partial > 0
    total = t.total
    cells = (
        "All accounts" if grand else clean_text(name, 64),
        "",
        "",
        format_number(t.cost_basis),
        format_number(t.market_value),
        money_cell(t.unrealised, unrealised_unknown, plus=True),
        money_cell(t.realised, realised_unknown, plus=True),
        format_number(t.income),
        format_number(t.fees),
        money_cell(total, unrealised_unknown or realised_unknown, plus=True),
    )
    lines = [f"{cells[0]}: totals in {currency}",
             f"Cost basis {exact(t.cost_basis)} · market value {exact(t.market_value)}",
             f"Unrealised {exact(t.unrealised)} · realised {exact(t.realised)}",
             f"Income {exact(t.income)} · fees {exact(t.fees)} · total {exact(total)}"]  # fmt: skip
    if t.unrealised_unknown_holdings:
        lines.append(
            f"{t.unrealised_unknown_holdings} holding(s) without a price or without any unit of "
            "known cost: their unrealised P&L is unknown and not in the sum."
        )
    if partial:
        lines.append(
            f"{partial} holding(s) also hold units of unknown cost: the gain of those units is "
            "unknown and not in the sum."
        )
    if realised_unknown:
        lines.append(
            f"{t.realised_unknown_quantity_holdings} holding(s) sold units of unknown cost basis "
            f"(for {exact(t.realised_unknown_proceeds)} {currency}): that gain is unknown."
        )
    return PnlRow(
        name,
        "",
        cells,
        (
            name.casefold(),
            "",
            Decimal(0),
            t.cost_basis,
            t.market_value,
            t.unrealised,
            t.realised,
            t.income,
            t.fees,
            total,
        ),
        (
            name,
            "",
            "",
            exact(t.cost_basis),
            exact(t.market_value),
            exact(t.unrealised),
            exact(t.realised),
            exact(t.income),
            exact(t.fees),
            exact(total),
        ),
        (0, 0, 0, 0, 0, _sign(t.unrealised), _sign(t.realised), 0, 0, _sign(total)),
        tip("\n".join(lines)),
        total=grand,
    )


def pnl_rows(report: PnlReport, by_account: bool) -> list[PnlRow]:
    """Rows for the P&L table (a worker thread builds them): every holding, or every account's
    totals; the grand total last either way."""
    partial: dict[str, int] = {}
    for h in report.holdings:
        if h.unknown_basis_quantity > 0 and h.unrealised is not None:
            partial[h.account] = partial.get(h.account, 0) + 1
    if by_account:
        rows = [
            totals_row(n, t, report.currency, partial=partial.get(n, 0))
            for n, t in report.accounts.items()
        ]
    else:
        rows = [holding_row(h, report.currency) for h in report.holdings]
    if rows:
        rows.append(
            totals_row("", report.total, report.currency, grand=True, partial=sum(partial.values()))
        )
    return rows


class PnlModel(ListTableModel[PnlRow]):
    HEADERS = PNL_HEADERS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.by_account = False

    def set_rows(self, rows: list[PnlRow], by_account: bool) -> None:
        self.beginResetModel()
        self.by_account = by_account
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[PnlRow]:
        return list(self._rows)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """By exact values, in the model (a few thousand rows: a proxy asking ``data`` for
        every comparison would stall the window); the grand total stays last."""
        if not 0 <= column < len(PNL_HEADERS):
            return
        self.layoutAboutToBeChanged.emit()
        body = [r for r in self._rows if not r.total]
        body.sort(key=lambda r: r.sort[column], reverse=order == Qt.SortOrder.DescendingOrder)
        self._rows = body + [r for r in self._rows if r.total]
        self.layoutChanged.emit()

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return row.cells[column]
        if role == SORT_ROLE:
            return row.sort[column]
        if role == EXACT_ROLE:
            return row.exact[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= PnlColumn.QUANTITY:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            sign = row.signs[column]
            if sign == 2:
                return colours().muted
            if column in SIGNED and sign:
                return colours().gain if sign > 0 else colours().loss
        if role == Qt.ItemDataRole.FontRole and row.total:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None


def pnl_tsv(rows: Sequence[PnlRow]) -> str:
    lines = ["\t".join(PNL_HEADERS)]
    lines += ["\t".join(r.exact) for r in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ returns


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+,.2f} %"
    return text.replace("-", "\u2212")


@dataclass(frozen=True, slots=True)
class ReturnsRow:
    name: str  # "" for the total
    figures: ReturnFigures | None
    problem: str = ""  # why there are no figures
    notes: tuple[str, ...] = field(default=())


RETURNS_HEADERS = (
    "Account", "TWR", "TWR a year", "IRR a year", "IRR", "Start value", "End value",
    "Money in", "Money out",
)  # fmt: skip


class ReturnsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ReturnsRow] = []
        self.currency = "USD"

    def set_rows(self, rows: list[ReturnsRow], currency: str) -> None:
        self.beginResetModel()
        self._rows = rows
        self.currency = currency
        self.endResetModel()

    def rows(self) -> list[ReturnsRow]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(RETURNS_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY:
            return RETURNS_HEADERS[section]
        return None

    def _values(self, row: ReturnsRow) -> list[float | None]:
        f = row.figures
        if f is None:
            return [None] * 8
        return [f.twr, f.twr_annualised, f.irr, f.irr_cumulative, f.start_value, f.end_value,
                f.inflows, f.outflows]  # fmt: skip

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        name = row.name or "All accounts"
        if column == 0:
            if role == _DISPLAY:
                return clean_text(name, 64)
            if role == Qt.ItemDataRole.ToolTipRole:
                return tip("\n".join([name, row.problem, *row.notes]).strip())
            return None
        value = self._values(row)[column - 1]
        if role == _DISPLAY:
            if row.figures is None:
                return "—"
            if column <= 4:
                return percent(value)
            return format_number(None if value is None else Decimal(str(value)))
        if role == EXACT_ROLE:
            return "" if value is None else repr(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.figures is None:
                return tip(row.problem or "No figures for this range.")
            if value is None:
                why = row.figures.irr_note if column in (3, 4) else "ranges under a year"
                return tip(f"Not computed: {why or 'no figure'}.")
            unit = "" if column <= 4 else f" {self.currency}"
            return tip(f"{RETURNS_HEADERS[column]}: {value!r}{unit}")
        if role == Qt.ItemDataRole.ForegroundRole and column <= 4 and value:
            return colours().gain if value > 0 else colours().loss
        if role == Qt.ItemDataRole.FontRole and not row.name:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None


def returns_tsv(rows: Sequence[ReturnsRow]) -> str:
    lines = ["\t".join(RETURNS_HEADERS)]
    for r in rows:
        f = r.figures
        values = (
            ["" for _ in range(8)]
            if f is None
            else [
                "" if v is None else repr(v)
                for v in (
                    f.twr,
                    f.twr_annualised,
                    f.irr,
                    f.irr_cumulative,
                    f.start_value,
                    f.end_value,
                    f.inflows,
                    f.outflows,
                )
            ]
        )
        lines.append("\t".join([r.name or "All accounts", *values]))
    return "\n".join(lines) + "\n"


def accounts_of(rows: Iterable[TxRow]) -> list[str]:
    return sorted({n for r in rows for n in (r.tx.account, r.tx.to_account) if n})


def assets_of(rows: Iterable[TxRow]) -> Mapping[str, str]:
    """asset id -> short name, by name."""
    found = {r.tx.asset: r.cells[TxColumn.ASSET] for r in rows}
    return dict(sorted(found.items(), key=lambda kv: (kv[1].casefold(), kv[0])))
