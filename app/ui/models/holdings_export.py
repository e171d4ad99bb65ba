"""Holdings rows as text for the clipboard (tab-separated) and for CSV files, Qt-free.

Amounts, prices, values and changes are exact (the snapshot's Decimals, never rounded);
percentages are rounded to 0.01. Token symbols and wallet labels are hostile or user text:
tabs and line breaks become spaces in the clipboard, and CSV text cells are made formula-safe
the same way ``chainfolio export holdings --csv`` does. Number cells are left alone, so a debt
stays a plain negative number a spreadsheet can add up.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.text import safe_cell
from app.ui.models.holdings_data import HoldingRow
from app.ui.models.holdings_format import exact

CENT = Decimal("0.01")
CSV_HEADER = (
    "asset", "asset_id", "chain", "chain_id", "wallet", "wallet_id", "position", "amount",
    "price", "value", "currency", "change_24h", "change_24h_pct", "share_pct", "status",
    "as_of", "spam", "price_manual", "error",
)  # fmt: skip


def _pct(value: Decimal | None) -> str:
    return "" if value is None else format(value.quantize(CENT), "f")


def _plain(text: str) -> str:
    return " ".join(text.replace("\t", " ").splitlines())


def tsv(rows: Iterable[HoldingRow], currency: str) -> str:
    """Rows for pasting into a spreadsheet or a message: a header line, then one line each."""
    lines = [
        "\t".join(
            (
                "Asset", "Chain", "Wallet", "Position", "Amount", f"Price ({currency})",
                f"Value ({currency})", f"24 h change ({currency})", "24 h change (%)", "Share (%)",
                "Note",
            )
        )
    ]  # fmt: skip
    for r in rows:
        h = r.holding
        cells = (
            _plain(h.symbol), _plain(r.chain_name), _plain(r.wallet_name),
            _plain(r.position_text), exact(r.amount), exact(h.price), exact(h.value),
            exact(r.change), _pct(r.change_pct), _pct(r.share), _note(r),
        )  # fmt: skip
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _note(row: HoldingRow) -> str:
    """What a spreadsheet reader needs to know about a row's price or amount."""
    if row.failure is not None:
        return _plain(f"could not be read: {row.failure}")
    if row.manual:
        return "manual price"
    if row.unpriced:
        return "no price"
    return ""


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def csv_text(rows: Iterable[HoldingRow], currency: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        h = r.holding
        writer.writerow(
            (
                safe_cell(h.symbol), h.asset_id, safe_cell(r.chain_name), h.chain,
                safe_cell(r.wallet_name), h.wallet, safe_cell(h.position), exact(r.amount),
                exact(h.price), exact(h.value), currency, exact(r.change), _pct(r.change_pct),
                _pct(r.share), h.state.value, _iso(h.as_of), "yes" if h.is_spam else "no",
                "yes" if r.manual else "no", safe_cell(r.failure or ""),
            )
        )  # fmt: skip
    return out.getvalue()
