"""The derived-address cache of Bitcoin watch-only wallets (revision 0016).

Addresses derived and asked about are remembered with whether they were used, so the next scan
asks for every known used address in its first round and derives nothing it derived before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from app.storage.tables import bitcoin_addresses, bitcoin_wallets


@dataclass(frozen=True, slots=True)
class CachedAddress:
    branch: int
    index: int
    address: str
    used: bool


class SqlBitcoinStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def addresses(self, wallet_id: int) -> list[CachedAddress]:
        c = bitcoin_addresses.c
        with self._engine.connect() as con:
            rows = con.execute(
                select(c.branch, c.idx, c.address, c.used)
                .where(c.wallet_id == wallet_id)
                .order_by(c.branch, c.idx)
            ).fetchall()
        return [CachedAddress(int(r[0]), int(r[1]), str(r[2]), bool(r[3])) for r in rows]

    def save_addresses(self, wallet_id: int, found: Iterable[CachedAddress]) -> None:
        """Replace the wallet's cache with ``found`` (one transaction). A wallet removed
        meanwhile keeps nothing (the foreign key refuses rows of a missing wallet)."""
        rows = [
            {"wallet_id": wallet_id, "branch": a.branch, "idx": a.index, "address": a.address,
             "used": a.used}
            for a in found
        ]  # fmt: skip
        with self._engine.begin() as con:
            exists = con.execute(
                select(bitcoin_wallets.c.wallet_id).where(bitcoin_wallets.c.wallet_id == wallet_id)
            ).first()
            if exists is None:
                return
            con.execute(delete(bitcoin_addresses).where(bitcoin_addresses.c.wallet_id == wallet_id))
            if rows:
                con.execute(insert(bitcoin_addresses), rows)
