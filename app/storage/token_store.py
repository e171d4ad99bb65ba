"""Known tokens (curated, user-added, detected), keyed by CAIP-19.

Chain-agnostic: EVM and Solana readers both store here. Metadata is stored already cleaned.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects.sqlite import insert

from app.domain.balances import AssetInfo, AssetKind
from app.domain.ids import AssetId, ChainId
from app.domain.model import utcnow
from app.storage.tables import tokens


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def upsert(self, info: AssetInfo, source: str) -> None:
        """Insert or update one token; ``source`` is "curated", "user" or "detected"."""
        values = {
            "asset_id": str(info.asset_id),
            "chain_id": str(info.asset_id.chain),
            "address": info.asset_id.asset_reference,
            "symbol": info.symbol,
            "name": info.name,
            "decimals": info.decimals,
            "source": source,
            "price_id": info.price_id,
            "is_spam": info.is_spam,
            "spam_reason": info.spam_reason,
            "added_at": utcnow().isoformat(),
        }
        stmt = insert(tokens).values(**values)
        changed = {k: stmt.excluded[k] for k in values if k not in ("asset_id", "added_at")}
        with self._engine.begin() as con:
            con.execute(stmt.on_conflict_do_update(index_elements=["asset_id"], set_=changed))

    def set_price_id(self, info: AssetInfo, price_id: str | None) -> None:
        """Price a token as ``price_id`` ("coingecko:usd-coin"; None: no own id). A token not
        stored yet (from a curated list, or seen only in a snapshot) is stored as the
        person's own with it; a stored one keeps everything else."""
        key = str(info.asset_id)
        with self._engine.begin() as con:
            changed = con.execute(
                update(tokens).where(tokens.c.asset_id == key).values(price_id=price_id)
            ).rowcount
        if not changed:
            self.upsert(replace(info, price_id=price_id), "user")

    def price_id(self, asset: AssetId) -> str | None:
        with self._engine.connect() as con:
            found = con.execute(
                select(tokens.c.price_id).where(tokens.c.asset_id == str(asset))
            ).scalar_one_or_none()
        return None if found is None else str(found)

    def list(self, chain: ChainId | None = None, *, include_spam: bool = True) -> list[AssetInfo]:
        q = select(tokens).order_by(tokens.c.chain_id, tokens.c.symbol)
        if chain is not None:
            q = q.where(tokens.c.chain_id == str(chain))
        if not include_spam:
            q = q.where(tokens.c.is_spam.is_(False))
        with self._engine.connect() as con:
            rows = con.execute(q).fetchall()
        return [
            AssetInfo(
                AssetId.parse(r.asset_id),
                r.symbol,
                r.name,
                int(r.decimals),
                AssetKind.TOKEN,
                price_id=r.price_id,
                is_spam=bool(r.is_spam),
                spam_reason=r.spam_reason,
            )
            for r in rows
        ]

    def remove(self, asset: AssetId) -> bool:
        with self._engine.begin() as con:
            return con.execute(delete(tokens).where(tokens.c.asset_id == str(asset))).rowcount > 0
