"""Price cache, FX rates and manual overrides on SQLite. Prices are Decimal stored as text.

Cached market prices are kept in US dollars (currency "USD"); FX rates are rows with asset id
``fx:<CODE>`` holding units of CODE per dollar. Keeping USD + FX means a currency change
re-values everything without asking the price APIs again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.sqlite import insert

from app.domain.valuation import Quote
from app.storage.tables import price_overrides, prices

USD = "USD"


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
                    out[m["asset_id"]] = Quote(
                        m["asset_id"], currency, Decimal(m["price"]), m["source"], m["fetched_at"]
                    )
        return out

    def save(self, quotes: Iterable[Quote]) -> None:
        rows = [
            {
                "asset_id": q.asset_id,
                "currency": q.currency,
                "price": str(q.price),
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
        with self._engine.begin() as con:
            con.execute(stmt, rows)

    def overrides(self) -> dict[str, tuple[Decimal, str]]:
        """asset id -> (price, currency of that price)."""
        with self._engine.connect() as con:
            rows = con.execute(select(price_overrides)).fetchall()
        return {
            r._mapping["asset_id"]: (Decimal(r._mapping["price"]), r._mapping["currency"])
            for r in rows
        }

    def set_override(self, asset_id: str, price: Decimal, currency: str, now: int) -> None:
        stmt = insert(price_overrides).values(
            asset_id=asset_id, currency=currency, price=str(price), set_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[price_overrides.c.asset_id],
            set_={"currency": currency, "price": str(price), "set_at": now},
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
