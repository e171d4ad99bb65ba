"""The Performance tab's "Unexplained change" table: where a wallet linked to ledger accounts
holds more or less of an asset than those accounts' transactions explain.

Rows are built once in a worker thread (:func:`unexplained_rows`) from
``PortfolioService.unexplained``; they carry their display text, exact figures (tooltips,
copy) and sign. Token symbols, account names and wallet labels are untrusted plain text: cells
are plain, tooltips escaped (:func:`app.ui.models.ledger_models.tip`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from app.domain.model import short_address
from app.domain.text import clean_text
from app.ui.models.base import Index, ListTableModel
from app.ui.models.holdings_format import amount_text, exact, format_number
from app.ui.models.ledger_models import EXACT_ROLE, UNKNOWN, day_text, stamp_text, tip
from app.ui.theme import colours

if TYPE_CHECKING:
    from app.services.portfolios import UnexplainedReport

_DISPLAY = Qt.ItemDataRole.DisplayRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

EMPTY = (
    "No ledger account is linked to a wallet.\n\nLink one to compare what the wallet holds "
    "with what its transactions explain: select the account on the Transactions tab and "
    "choose \u201cLink to wallet\u2026\u201d, or run `chainfolio links add ACCOUNT WALLET`."
)
NO_SNAPSHOT = (
    "Linked wallets are compared with the ledger after the first refresh: there is no snapshot yet."
)
AGREES = "Every linked wallet holds exactly what its ledger accounts explain."
SHORT = (
    "Difference = observed at the snapshot of {when} minus what the linked ledger accounts "
    "record then. Positive: coins came in unrecorded; negative: coins left unrecorded. Record "
    "them on the Transactions tab (nothing is adjusted for you)."
)
EXPLANATION = (
    "Difference = what the wallet held at the snapshot of {when} minus what its linked ledger "
    "accounts' transactions add up to then. Positive: coins came in that the ledger does not "
    "record (a buy, an airdrop, a transfer in); negative: coins left unrecorded (a sale, a "
    "transfer out, gas). Record them on the Transactions tab to explain them; nothing is "
    "adjusted for you. Chains not read in full then are not compared; DeFi positions are not "
    "counted as holding their asset."
)


class UnexplainedColumn(enum.IntEnum):
    WALLET = 0
    ASSET = 1
    LEDGER = 2
    OBSERVED = 3
    DIFFERENCE = 4
    VALUE = 5
    SNAPSHOT = 6


HEADERS = (
    "Wallet", "Asset", "Ledger quantity", "Observed quantity", "Difference", "Value today",
    "Snapshot",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class UnexplainedRow:
    cells: tuple[str, ...]
    exact: tuple[str, ...]
    sign: int  # of the difference: 1 more held than recorded, -1 less
    value_known: bool
    tooltip: str


@dataclass(frozen=True, slots=True)
class UnexplainedView:
    """What the table and its caption show (computed off the GUI thread)."""

    rows: list[UnexplainedRow]
    empty_text: str  # the table's text when there is no row
    caption: str  # the line under the table
    details: str  # the caption in full (its tooltip)
    linked: int  # number of account-wallet links compared


def _qty(value: Decimal) -> str:
    return amount_text(value, 8)


def unexplained_rows(
    report: UnexplainedReport, labels: Mapping[str, str] | None = None
) -> list[UnexplainedRow]:
    """One row per linked wallet and asset; ``labels``: wallet address to its shown name."""
    labels = labels or {}
    rows: list[UnexplainedRow] = []
    for c in report.changes:
        wallet = clean_text(labels.get(c.wallet) or short_address(c.wallet), 40)
        accounts = ", ".join(clean_text(a, 64) for a in c.accounts)
        symbol = clean_text(c.symbol, 16) or clean_text(c.asset, 40)
        value = UNKNOWN if c.value is None else format_number(c.value, plus=True)
        cells = (
            wallet, symbol, _qty(c.ledger_quantity), _qty(c.observed_quantity),
            amount_text(c.difference, 8) if c.difference <= 0 else "+" + _qty(c.difference),
            value, day_text(c.snapshot_time),
        )  # fmt: skip
        exacts = (
            c.wallet, c.asset, exact(c.ledger_quantity), exact(c.observed_quantity),
            exact(c.difference), "" if c.value is None else exact(c.value),
            stamp_text(c.snapshot_time),
        )  # fmt: skip
        price = (
            "no price today: its value is unknown"
            if c.price is None
            else f"price today {exact(c.price)} {c.currency}"
        )
        tooltip = tip(
            f"Wallet {clean_text(c.wallet, 100)}, recorded by {accounts}\n"
            f"Asset {clean_text(c.asset, 120)}\n"
            f"Ledger {exact(c.ledger_quantity)}, observed {exact(c.observed_quantity)}\n"
            f"Difference {exact(c.difference)} ({price})\n"
            f"Value {'unknown' if c.value is None else exact(c.value) + ' ' + c.currency}\n"
            f"Snapshot {stamp_text(c.snapshot_time)}"
        )
        sign = 1 if c.difference > 0 else -1 if c.difference < 0 else 0
        rows.append(UnexplainedRow(cells, exacts, sign, c.value is not None, tooltip))
    return rows


def unexplained_view(
    report: UnexplainedReport, labels: Mapping[str, str] | None = None
) -> UnexplainedView:
    rows = unexplained_rows(report, labels)
    if not report.links:
        return UnexplainedView(rows, EMPTY, "", "", 0)
    if report.snapshot_time is None:
        return UnexplainedView(rows, NO_SNAPSHOT, "", "", len(report.links))  # said in the table
    # the service's first note says when and how it compared: said here in the table's words
    notes = [n for n in report.notes if not n.startswith("Compared at the latest snapshot")]
    when = stamp_text(report.snapshot_time)
    values = f"Values in {report.currency} at today's prices."
    caption = " ".join([values, SHORT.format(when=when), *notes])
    details = " ".join([values, EXPLANATION.format(when=when), *notes])
    return UnexplainedView(rows, AGREES, caption, details, len(report.links))


class UnexplainedModel(ListTableModel[UnexplainedRow]):
    HEADERS = HEADERS

    def set_rows(self, rows: list[UnexplainedRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[UnexplainedRow]:
        return list(self._rows)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        row = self.valid_row(index)
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return row.cells[column]
        if role == EXACT_ROLE:
            return row.exact[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip
        if role == Qt.ItemDataRole.TextAlignmentRole and (
            UnexplainedColumn.LEDGER <= column <= UnexplainedColumn.VALUE
        ):
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == UnexplainedColumn.VALUE and not row.value_known:
                return colours().muted
            if column in (UnexplainedColumn.DIFFERENCE, UnexplainedColumn.VALUE) and row.sign:
                return colours().gain if row.sign > 0 else colours().loss
        return None


def unexplained_tsv(rows: Sequence[UnexplainedRow]) -> str:
    lines = ["\t".join(HEADERS)]
    lines += ["\t".join(r.exact) for r in rows]
    return "\n".join(lines) + "\n"
