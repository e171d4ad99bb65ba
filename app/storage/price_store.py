"""Price cache, FX rates and manual overrides on SQLite. Prices are Decimal stored as text.

Cached market prices are kept in US dollars (currency "USD"); FX rates are rows with asset id
``fx:<CODE>`` holding units of CODE per dollar. Keeping USD + FX means a currency change
re-values everything without asking the price APIs again. Both also keep one point per day in
``price_history`` (the day's last live value), so a snapshot stored in one currency can later
be converted at the rate of its own day.

Rows are read back through the same bounds as fresh quotes (``check_price``): a price an older
version accepted (``1e-999999999999999999``) is never used again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.sqlite import insert

from app.domain.valuation import USD, Quote, check_price, optional_text
from app.storage.tables import (
    backfill_jobs,
    market_symbols,
    price_history,
    price_overrides,
    prices,
)

__all__ = ["DAY", "LIVE", "USD", "SqlBackfillStore", "SqlMarketStore", "SqlPriceStore", "fx_id"]

DAY = 86400
LIVE = "live"  # history points taken from live quotes, replaced until their day is over


def fx_id(code: str) -> str:
    return f"fx:{code.upper()}"


class SqlPriceStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def cached(self, asset_ids: Iterable[str], currency: str = USD) -> dict[str, Quote]:
        ids = list(set(asset_ids))
        out: dict[str, Quote] = {}
        with self._engine.connect() as con:
            for i in range(0, len(ids), 500):
                rows = con.execute(
                    select(prices).where(
                        prices.c.asset_id.in_(ids[i : i + 500]), prices.c.currency == currency
                    )
                ).fetchall()
                for r in rows:
                    m = r._mapping
                    price = check_price(m["price"])[0]
                    if price is not None:
                        out[m["asset_id"]] = Quote(
                            m["asset_id"], currency, price, m["source"], m["fetched_at"]
                        )
        return out

    def save(self, quotes: Iterable[Quote]) -> None:
        quotes = list(quotes)
        rows = [
            {
                "asset_id": q.asset_id,
                "currency": q.currency,
                "price": optional_text(q.price),
                "source": q.source,
                "fetched_at": q.fetched_at,
            }
            for q in quotes
        ]
        if not rows:
            return
        stmt = insert(prices)
        stmt = stmt.on_conflict_do_update(
            index_elements=[prices.c.asset_id, prices.c.currency],
            set_={
                "price": stmt.excluded.price,
                "source": stmt.excluded.source,
                "fetched_at": stmt.excluded.fetched_at,
            },
        )
        # Live USD quotes (and FX rates) also keep the daily history current after its one-time
        # backfill: the day's point is the latest live value of that day (a backfilled point is
        # never replaced).
        days = [
            {
                "asset_id": q.asset_id,
                "currency": USD,
                "ts": q.fetched_at - q.fetched_at % DAY,
                "price": optional_text(q.price),
                "source": LIVE,
            }
            for q in quotes
            if q.currency == USD
        ]
        with self._engine.begin() as con:
            con.execute(stmt, rows)
            if days:
                day = insert(price_history)
                con.execute(
                    day.on_conflict_do_update(
                        index_elements=[
                            price_history.c.asset_id,
                            price_history.c.currency,
                            price_history.c.ts,
                        ],
                        set_={"price": day.excluded.price},
                        where=price_history.c.source == LIVE,
                    ),
                    days,
                )

    def overrides(self) -> dict[str, tuple[Decimal, str]]:
        """asset id -> (price, currency of that price)."""
        with self._engine.connect() as con:
            rows = con.execute(select(price_overrides)).fetchall()
        out: dict[str, tuple[Decimal, str]] = {}
        for r in rows:
            price = check_price(r._mapping["price"])[0]
            if price is not None:
                out[r._mapping["asset_id"]] = (price, r._mapping["currency"])
        return out

    def set_override(self, asset_id: str, price: Decimal, currency: str, now: int) -> None:
        stmt = insert(price_overrides).values(
            asset_id=asset_id, currency=currency, price=optional_text(price), set_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[price_overrides.c.asset_id],
            set_={"currency": currency, "price": optional_text(price), "set_at": now},
        )
        with self._engine.begin() as con:
            con.execute(stmt)

    def remove_override(self, asset_id: str) -> bool:
        with self._engine.begin() as con:
            result = con.execute(
                delete(price_overrides).where(price_overrides.c.asset_id == asset_id)
            )
        return bool(result.rowcount)

    def save_rates(self, rates: Mapping[str, Decimal], source: str, now: int) -> None:
        self.save(Quote(fx_id(code), USD, rate, source, now) for code, rate in rates.items())

    def rate(self, code: str) -> Quote | None:
        return self.cached([fx_id(code)]).get(fx_id(code))


class SqlBackfillStore:
    """Daily price history (USD) and the progress of each asset's one-year backfill.

    Progress lives in ``backfill_jobs`` so an interrupted backfill resumes after a restart.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def enqueue(self, asset_ids: Iterable[str], now: int) -> int:
        """Add a pending job for every asset not seen before; returns how many were new."""
        rows = [
            {"asset_id": a, "currency": USD, "status": "pending", "attempts": 0, "updated_at": now}
            for a in set(asset_ids)
        ]
        if not rows:
            return 0
        with self._engine.begin() as con:
            result = con.execute(insert(backfill_jobs).on_conflict_do_nothing(), rows)
        return max(result.rowcount, 0)

    def pending(self, limit: int) -> list[tuple[str, int | None, int]]:
        """(asset id, done_until, attempts) of jobs still to do, oldest first."""
        with self._engine.connect() as con:
            rows = con.execute(
                select(
                    backfill_jobs.c.asset_id, backfill_jobs.c.done_until, backfill_jobs.c.attempts
                )
                .where(backfill_jobs.c.status == "pending")
                .order_by(backfill_jobs.c.updated_at, backfill_jobs.c.asset_id)
                .limit(limit)
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def finish(self, asset_id: str, done_until: int, now: int) -> None:
        self._update(asset_id, {"status": "done", "done_until": done_until, "updated_at": now})

    def failed_attempt(self, asset_id: str, attempts: int, give_up_after: int, now: int) -> None:
        status = "failed" if attempts >= give_up_after else "pending"
        self._update(asset_id, {"status": status, "attempts": attempts, "updated_at": now})

    def _update(self, asset_id: str, values: dict[str, object]) -> None:
        with self._engine.begin() as con:
            con.execute(
                update(backfill_jobs)
                .where(backfill_jobs.c.asset_id == asset_id, backfill_jobs.c.currency == USD)
                .values(**values)
            )

    def save_history(
        self, asset_id: str, points: Iterable[tuple[int, Decimal]], source: str
    ) -> None:
        rows = [
            {
                "asset_id": asset_id,
                "currency": USD,
                "ts": ts,
                "price": optional_text(p),
                "source": source,
            }
            for ts, p in points
        ]
        if rows:
            with self._engine.begin() as con:
                con.execute(insert(price_history).on_conflict_do_nothing(), rows)

    def usd_rate_days(self, code: str) -> dict[int, Decimal]:
        """Stored daily exchange rates of one currency: day start -> units of it per US dollar."""
        return dict(self.history(fx_id(code)))

    def history(self, asset_id: str, since: int = 0) -> list[tuple[int, Decimal]]:
        """Daily USD prices (day start, price), oldest first; for ``fx:<CODE>``, units of CODE
        per US dollar. Rows outside the price bounds are left out."""
        with self._engine.connect() as con:
            rows = con.execute(
                select(price_history.c.ts, price_history.c.price)
                .where(
                    price_history.c.asset_id == asset_id,
                    price_history.c.currency == USD,
                    price_history.c.ts >= since,
                )
                .order_by(price_history.c.ts)
            ).fetchall()
        points = [(int(r[0]), check_price(r[1])[0]) for r in rows]
        return [(ts, p) for ts, p in points if p is not None]


class SqlMarketStore:
    """Daily closes of the ledger's stocks, ETFs and metals (in the currency they trade in, one
    currency per asset), the daily exchange-rate history (``fx:<CODE>`` rows in US dollars, as
    the live rates), and per asset the symbol it is priced by and how its last fetch went.

    A fetched day replaces a live point of the same day (the published close or reference rate
    is the day's figure) and the same source's earlier answer for it (the newest day is asked
    again, since it may have been fetched before the close); nothing else is replaced.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save_daily(
        self, asset_id: str, currency: str, points: Iterable[tuple[int, Decimal]], source: str
    ) -> int:
        """Store (day start, price) points in one transaction; returns how many were given.
        Another currency's rows of the asset (an older symbol) are dropped first."""
        rows = [
            {
                "asset_id": asset_id,
                "currency": currency,
                "ts": ts - ts % DAY,
                "price": optional_text(p),
                "source": source,
            }
            for ts, p in points
        ]
        if not rows:
            return 0
        stmt = insert(price_history)
        stmt = stmt.on_conflict_do_update(
            index_elements=[price_history.c.asset_id, price_history.c.currency, price_history.c.ts],
            set_={"price": stmt.excluded.price, "source": stmt.excluded.source},
            # a live point, or this source's own figure asked again (the newest day is asked
            # again: it may have been fetched before that day's close)
            where=(price_history.c.source == LIVE) | (price_history.c.source == source),
        )
        with self._engine.begin() as con:
            con.execute(
                delete(price_history).where(
                    price_history.c.asset_id == asset_id,
                    price_history.c.currency != currency,
                    price_history.c.source == source,
                )
            )
            con.execute(stmt, rows)
        return len(rows)

    def span(self, asset_id: str, source: str) -> tuple[int, int] | None:
        """(first, last) day stored from ``source`` for the asset, or None."""
        from sqlalchemy import func

        with self._engine.connect() as con:
            row = con.execute(
                select(func.min(price_history.c.ts), func.max(price_history.c.ts)).where(
                    price_history.c.asset_id == asset_id, price_history.c.source == source
                )
            ).one()
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def point_before(self, asset_id: str, ts: int, source: str) -> tuple[int, Decimal] | None:
        """The newest stored (day, price) from ``source`` before ``ts`` (to check that a new
        answer continues the stored history believably)."""
        with self._engine.connect() as con:
            row = con.execute(
                select(price_history.c.ts, price_history.c.price)
                .where(
                    price_history.c.asset_id == asset_id,
                    price_history.c.source == source,
                    price_history.c.ts < ts,
                )
                .order_by(price_history.c.ts.desc())
                .limit(1)
            ).fetchone()
        if row is None or (price := check_price(row[1])[0]) is None or not price:
            return None
        return int(row[0]), price

    def closes(self, asset_id: str, since: int = 0) -> tuple[str | None, list[tuple[int, Decimal]]]:
        """(currency, [(day start, close)] oldest first) of a stock, ETF or metal; rows outside
        the price bounds are left out."""
        with self._engine.connect() as con:
            rows = con.execute(
                select(price_history.c.currency, price_history.c.ts, price_history.c.price)
                .where(price_history.c.asset_id == asset_id, price_history.c.ts >= since)
                .order_by(price_history.c.ts)
            ).fetchall()
        if not rows:
            return None, []
        currency = str(rows[-1][0])
        points = [(int(r[1]), check_price(r[2])[0]) for r in rows if r[0] == currency]
        return currency, [(ts, p) for ts, p in points if p is not None and p > 0]

    def usd_rate_days(self, code: str, since: int = 0) -> list[tuple[int, Decimal]]:
        """Stored daily rates of a currency (ECB history and each day's live rate): day start ->
        units of it per US dollar, oldest first."""
        return SqlBackfillStore(self._engine).history(fx_id(code), since)

    # ---- symbols and fetch status -------------------------------------------------------------
    def symbol(self, asset_id: str) -> str | None:
        with self._engine.connect() as con:
            return con.execute(
                select(market_symbols.c.symbol).where(market_symbols.c.asset_id == asset_id)
            ).scalar()

    def set_symbol(self, asset_id: str, symbol: str | None, now: int) -> None:
        """Price the asset by ``symbol`` from now on (None: derive it from the asset id again).
        Closes fetched under the old symbol are dropped, so the new one is backfilled."""
        stmt = insert(market_symbols).values(
            asset_id=asset_id, symbol=symbol, status=None, message="", checked_at=None,
            updated_at=now,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[market_symbols.c.asset_id],
            set_={"symbol": symbol, "status": None, "message": "", "checked_at": None,
                  "updated_at": now},
        )  # fmt: skip
        with self._engine.begin() as con:
            con.execute(stmt)
            con.execute(
                delete(price_history).where(
                    price_history.c.asset_id == asset_id, price_history.c.source != LIVE
                )
            )

    def status(self, asset_id: str) -> tuple[str | None, str, int | None]:
        """(status, message, checked_at) of the asset's last fetch."""
        with self._engine.connect() as con:
            row = con.execute(
                select(market_symbols.c.status, market_symbols.c.message,
                       market_symbols.c.checked_at)
                .where(market_symbols.c.asset_id == asset_id)
            ).fetchone()  # fmt: skip
        return (None, "", None) if row is None else (row[0], row[1], row[2])

    def record(self, asset_id: str, status: str, message: str, now: int) -> None:
        stmt = insert(market_symbols).values(
            asset_id=asset_id, symbol=None, status=status, message=message, checked_at=now,
            updated_at=now,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[market_symbols.c.asset_id],
            set_={"status": status, "message": message, "checked_at": now, "updated_at": now},
        )
        with self._engine.begin() as con:
            con.execute(stmt)
