"""What the holdings view writes in its cells and tooltips, Qt-free.

Display texts round for reading (:mod:`app.ui.models.holdings_format`); tooltips give the exact
figures, the CAIP ids and, for a marked row, why it is marked (stale since when and the
source's reason, failed, spam).
"""

from __future__ import annotations

import time

from app.domain.balances import SourceState
from app.domain.outcome import plain_reason
from app.ui.models.holdings_data import Column, Group, HoldingRow, Portfolio
from app.ui.models.holdings_format import (
    amount_text,
    describe_age,
    exact,
    format_number,
    format_percent,
)


def stamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def row_cell(row: HoldingRow, column: Column) -> str:
    h = row.holding
    if column == Column.ASSET:
        return h.symbol
    if column == Column.CHAIN:
        return row.chain_name
    if column == Column.WALLET:
        return row.wallet_name
    if column == Column.POSITION:
        return row.position_text
    if column == Column.AMOUNT:
        return "unreadable" if row.failure is not None else amount_text(row.amount)
    if column == Column.PRICE:
        return format_number(h.price)
    if column == Column.VALUE:
        return format_number(row.value)
    if column == Column.CHANGE:
        return change_text(row)
    return "—" if row.share is None else format_percent(row.share, plus=False)


def change_text(row: HoldingRow) -> str:
    if row.change is not None:
        pct = "" if row.change_pct is None else f"  ({format_percent(row.change_pct)})"
        return format_number(row.change, plus=True) + pct
    if row.price_change_pct is not None:
        lead = "new · price " if row.is_new else "price "
        return lead + format_percent(row.price_change_pct)
    return "new" if row.is_new else "—"


def status_text(row: HoldingRow, portfolio: Portfolio, now: float | None = None) -> str | None:
    """Why a row is marked: unreadable, stale (since when, and the source's reason), failed
    or spam."""
    h = row.holding
    if row.failure is not None:
        return (
            f"Could not be read: {plain_reason(row.failure).rstrip('.')}. The rest of "
            f"{row.chain_name} was read; this holding is missing from the total."
        )
    if h.state is not SourceState.OK:
        source = portfolio.sources.get(h.chain)
        reason = source.reason if source is not None and source.reason else "no answer"
        if h.state is SourceState.FAILED:
            return f"Failed: {row.chain_name} could not be read ({reason})."
        age = describe_age((time.time() if now is None else now) - h.as_of)
        return (
            f"Stale since {stamp(h.as_of)} ({age}): {row.chain_name} could not be read "
            f"in the last refresh ({reason}). Showing the last amount read."
        )
    if h.is_spam:
        return "Marked as spam: shown on request, never counted in any total."
    return None


def row_tooltip(row: HoldingRow, column: Column, portfolio: Portfolio) -> str | None:
    h = row.holding
    status = status_text(row, portfolio)
    if column == Column.ASSET:
        return h.asset_id if status is None else f"{status}\n{h.asset_id}"
    if column == Column.WALLET:
        return h.wallet
    if column == Column.POSITION:
        return (h.position + (" (a debt: negative in every total)" if row.is_debt else "")) or None
    if column == Column.AMOUNT:
        return status if row.failure is not None else f"{exact(row.amount)} {h.symbol}"
    if column == Column.PRICE:
        return price_tooltip(row, portfolio.currency)
    if column == Column.VALUE:
        if row.value is None:
            return price_tooltip(row, portfolio.currency) if row.unpriced else None
        manual = " (from your manual price)" if row.manual else ""
        return f"{exact(row.value)} {portfolio.currency}{manual}"
    if column == Column.CHANGE:
        return change_tooltip(row, portfolio)
    return status


UNPRICED_HELP = (
    "No price: this holding is left out of the total. Give it a price source with "
    '"Set price source…" in the row\'s menu, or a manual price with: '
    "chainfolio prices override ASSET PRICE"
)


def price_tooltip(row: HoldingRow, currency: str) -> str | None:
    price = row.holding.price
    if price is None:
        return UNPRICED_HELP if row.unpriced else None
    if row.manual:
        return (
            f"{exact(price)} {currency}: a manual price you set, not a market price "
            "(change or remove it with: chainfolio prices override)"
        )
    return f"{exact(price)} {currency}"


def change_tooltip(row: HoldingRow, portfolio: Portfolio) -> str:
    at = portfolio.baseline_at
    if at is None:
        return "No snapshot from 24 h ago yet."
    if row.change is not None:
        return f"{exact(row.change)} {portfolio.currency} since {stamp(at)}"
    if row.is_new:
        text = f"Not held at {stamp(at)}."
        if row.price_change_pct is not None:
            text += f" The price moved {format_percent(row.price_change_pct)} since then."
        return text
    return "No value to compare (no price then or now)."


def group_cell(group: Group, column: Column) -> str:
    if column == Column.ASSET:
        return f"{group.label}  ({len(group.rows)})"
    if column == Column.AMOUNT:
        return "" if group.amount is None else amount_text(group.amount)
    if column == Column.PRICE:
        return "" if group.price is None else format_number(group.price)
    if column == Column.VALUE:
        return format_number(group.value)
    if column == Column.CHANGE:
        if group.change is None:
            return ""
        pct = "" if group.change_pct is None else f"  ({format_percent(group.change_pct)})"
        return format_number(group.change, plus=True) + pct
    if column == Column.SHARE:
        return "" if group.share is None else format_percent(group.share, plus=False)
    return ""


def group_tooltip(group: Group) -> str:
    parts = [f"{len(group.rows)} holding{'s' if len(group.rows) != 1 else ''}"]
    if group.stale:
        parts.append(f"{group.stale} stale (from an earlier read)")
    if group.spam:
        parts.append(f"{group.spam} spam, not counted")
    return "; ".join(parts)
