"""The 24 h change of the portfolio total, as the tray and the summary show it.

Compared with the newest stored snapshot taken at least a day before the latest one (the usual
"24 h change" of a ticker). When that snapshot is much older than a day (the app was not
running), or in another currency, there is no honest 24 h figure and none is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.snapshot import Snapshot
from app.domain.valuation import exact_sub

DAY = 86_400
MAX_AGE = 2 * DAY  # a comparison point older than this is not a "24 h" change any more


@dataclass(frozen=True, slots=True)
class DayChange:
    amount: Decimal
    percent: Decimal | None  # None when the earlier total was zero
    since: int  # when the earlier snapshot was taken


def comparison_time(latest: Snapshot) -> int:
    """Pass this to ``SnapshotStore.at_or_before`` to get the snapshot to compare with."""
    return latest.taken_at - DAY


def day_change(latest: Snapshot, before: Snapshot | None) -> DayChange | None:
    if before is None or before.currency != latest.currency:
        return None
    if latest.taken_at - before.taken_at > MAX_AGE:
        return None
    was = before.total
    amount = exact_sub(latest.total, was)  # exact; the percentage is a (rounded) division
    percent = None if was == 0 else amount / abs(was) * 100
    return DayChange(amount, percent, before.taken_at)
