"""The price cache keeps the daily history current after its one-time backfill."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.domain.valuation import Quote
from app.storage.database import open_database
from app.storage.price_store import DAY, SqlBackfillStore, SqlPriceStore

ETH = "eip155:1/slip44:60"


def test_live_quotes_extend_history_without_replacing_backfilled_days(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "db.sqlite3", tmp_path / "b")
    prices, history = SqlPriceStore(engine), SqlBackfillStore(engine)
    history.save_history(ETH, [(10 * DAY, Decimal("2000"))], "coingecko")
    prices.save([Quote(ETH, "USD", Decimal("2100.5"), "defillama", 10 * DAY + 3600)])
    prices.save([Quote(ETH, "USD", Decimal("2200"), "defillama", 11 * DAY + 60)])
    prices.save([Quote(ETH, "USD", Decimal("2250.25"), "defillama", 11 * DAY + 7200)])
    prices.save([Quote(ETH, "EUR", Decimal("1"), "defillama", 12 * DAY)])  # not USD: no point
    prices.save([Quote("fx:EUR", "USD", Decimal("0.92"), "coingecko", 12 * DAY)])
    assert history.history(ETH) == [(10 * DAY, Decimal("2000")), (11 * DAY, Decimal("2250.25"))]
    # FX rates keep a daily point too: stored history can be converted at its own day's rate
    assert history.history("fx:EUR") == [(12 * DAY, Decimal("0.92"))]
    engine.dispose()
