"""A history import's price at a transaction's time: that day's stored price, or one of the two
days before; otherwise unknown (None), never a guess from further away or from later."""

from __future__ import annotations

from decimal import Decimal

from app.domain.fx_days import DAY, daily_price_lookup

D0 = 1_700_006_400 - 1_700_006_400 % DAY


def test_the_day_or_up_to_two_days_before() -> None:
    price = daily_price_lookup({"a": {D0: Decimal("1.5"), D0 + 5 * DAY: Decimal(2)}})
    assert price("a", D0 + 3600) == Decimal("1.5")
    assert price("a", D0 + 2 * DAY + 10) == Decimal("1.5")  # two days on: still that price
    assert price("a", D0 + 3 * DAY) is None  # three days on: unknown
    assert price("a", D0 - 1) is None  # before the first stored day: never a later price
    assert price("b", D0) is None
