"""Exchange rates of each day: the rate of a past day, never today's, for past amounts.

Rates are stored per currency as (day start in seconds, units of the currency per US dollar).
No rate is published on weekends and bank holidays, so the rate of a day is the one stored for
that day or, when there is none, the nearest earlier day's. A gap longer than
:data:`NORMAL_GAP_DAYS` (more than a long weekend) is remembered so it can be said plainly; a day
before every stored rate has no rate at all (None): nothing is guessed.

Pure (no I/O): the rates are read by the storage adapter and handed in.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal

from app.domain.valuation import CONVERSION_PREC, USD

DAY = 86_400
NORMAL_GAP_DAYS = 4  # Friday to Tuesday after a bank holiday Monday: no rate, nothing to say
_DIV = Context(prec=CONVERSION_PREC)


def day_start(ts: int) -> int:
    return ts - ts % DAY


def iso_day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


# A day without a stored price takes the one before, at most this far back (history imports).
PRICE_DAYS_BACK = 2


def daily_price_lookup(
    daily: Mapping[str, Mapping[int, Decimal]],
) -> Callable[[str, int], Decimal | None]:
    """``price(asset, ts)`` from daily prices by day start: that day's, or one of the
    :data:`PRICE_DAYS_BACK` days before; None (unknown, never guessed) otherwise."""

    def price(asset: str, ts: int) -> Decimal | None:
        days = daily.get(asset)
        if not days:
            return None
        day = ts - ts % DAY
        for back in range(PRICE_DAYS_BACK + 1):
            p = days.get(day - back * DAY)
            if p is not None:
                return p
        return None

    return price


@dataclass(frozen=True, slots=True)
class DayRate:
    """A rate as used for one day: ``day`` is the day asked for, ``rate_day`` the day whose
    rate was stored (equal, or the nearest earlier one)."""

    rate: Decimal
    day: int
    rate_day: int

    @property
    def gap_days(self) -> int:
        return (self.day - self.rate_day) // DAY


@dataclass
class DayRates:
    """Daily rates of several currencies with nearest-earlier lookup; keeps what it had to
    substitute so a report can say so. Not thread-safe (one per report)."""

    loader: Callable[[str], Iterable[tuple[int, Decimal]]]
    _days: dict[str, list[int]] = field(default_factory=dict)
    _rates: dict[str, list[Decimal]] = field(default_factory=dict)
    long_gaps: dict[str, tuple[int, int]] = field(default_factory=dict)  # code -> (gap, day)
    missing: dict[str, list[int]] = field(default_factory=dict)  # code -> days without a rate

    def _load(self, code: str) -> None:
        if code in self._days:
            return
        points = sorted((day_start(ts), r) for ts, r in self.loader(code) if r > 0)
        self._days[code] = [d for d, _ in points]
        self._rates[code] = [r for _, r in points]

    def has_any(self, code: str) -> bool:
        code = code.upper()
        if code == USD:
            return True
        self._load(code)
        return bool(self._days[code])

    def usd_rate(self, code: str, ts: int) -> DayRate | None:
        """Units of ``code`` per US dollar on the day of ``ts`` (nearest earlier day's when that
        day has none); None when no rate at or before that day is stored."""
        code = code.upper()
        day = day_start(ts)
        if code == USD:
            return DayRate(Decimal(1), day, day)
        self._load(code)
        days = self._days[code]
        i = bisect.bisect_right(days, day) - 1
        if i < 0:
            self.missing.setdefault(code, []).append(day)
            return None
        found = DayRate(self._rates[code][i], day, days[i])
        gap = found.gap_days
        if gap > NORMAL_GAP_DAYS and gap > self.long_gaps.get(code, (0, 0))[0]:
            self.long_gaps[code] = (gap, day)
        return found

    def factor(self, code: str, target: str, ts: int) -> Decimal | None:
        """Units of ``target`` per unit of ``code`` on that day, or None (no rate for one of
        them at or before that day)."""
        code, target = code.upper(), target.upper()
        if code == target:
            return Decimal(1)
        have, want = self.usd_rate(code, ts), self.usd_rate(target, ts)
        if have is None or want is None:
            return None
        return _DIV.divide(want.rate, have.rate)

    def series(self, code: str) -> tuple[Sequence[int], Sequence[Decimal]]:
        """The stored days and rates of ``code`` (sorted), for vectorised lookups."""
        code = code.upper()
        self._load(code)
        return self._days[code], self._rates[code]

    def notes(self) -> list[str]:
        """Plain sentences about long gaps filled with an earlier day's rate, and days for which
        no rate is stored at all."""
        out = []
        for code, (gap, day) in sorted(self.long_gaps.items()):
            out.append(
                f"No {code} exchange rate is stored for some days (the longest gap is {gap} days, "
                f"up to {iso_day(day)}); the nearest earlier day's rate was used for them."
            )
        for code, days in sorted(self.missing.items()):
            first, last = iso_day(min(days)), iso_day(max(days))
            span = first if first == last else f"{first} to {last}"
            out.append(
                f"No {code} exchange rate is stored for {span} or any day before: fetch the "
                f"exchange rate history (chainfolio fx history {code}) while online."
            )
        return out


def from_mapping(rates: Mapping[str, Iterable[tuple[int, Decimal]]]) -> DayRates:
    """DayRates over fixed data (tests, and callers that already read the rates)."""
    return DayRates(lambda code: rates.get(code.upper(), ()))
