"""Wallet repository on SQLite."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from app.domain.addresses import AddressFamily
from app.domain.errors import DuplicateWalletError, WalletNotFoundError
from app.domain.model import Wallet
from app.storage.tables import bitcoin_wallets, wallets

# A Bitcoin wallet's extended key or descriptor comes with its row (revision 0016).
_WITH_WATCH = select(wallets, bitcoin_wallets.c.watch).select_from(
    wallets.outerjoin(bitcoin_wallets, bitcoin_wallets.c.wallet_id == wallets.c.id)
)


def _to_wallet(row: Row[tuple[object, ...]]) -> Wallet:
    m = row._mapping
    return Wallet(
        id=int(m["id"]),
        address=str(m["address"]),
        family=AddressFamily(m["family"]),
        label=str(m["label"]),
        group=str(m["wallet_group"]),
        ens_name=m["ens_name"],
        created_at=datetime.fromisoformat(str(m["created_at"])),
        watch=m.get("watch"),
    )


class SqlWalletRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def list(self) -> list[Wallet]:
        with self._engine.connect() as con:
            rows = con.execute(_WITH_WATCH.order_by(wallets.c.id)).fetchall()
        return [_to_wallet(r) for r in rows]

    def get_by_address(self, address: str) -> Wallet | None:
        with self._engine.connect() as con:
            row = con.execute(_WITH_WATCH.where(wallets.c.address == address)).fetchone()
        return _to_wallet(row) if row else None

    def add(self, wallet: Wallet) -> Wallet:
        values = {
            "family": wallet.family.value,
            "address": wallet.address,
            "label": wallet.label,
            "wallet_group": wallet.group,
            "ens_name": wallet.ens_name,
            "created_at": wallet.created_at.isoformat(),
        }
        try:
            with self._engine.begin() as con:
                result = con.execute(insert(wallets).values(**values))
                new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
                if wallet.watch is not None and new_id is not None:
                    con.execute(
                        insert(bitcoin_wallets).values(wallet_id=new_id, watch=wallet.watch)
                    )
        except IntegrityError:
            raise DuplicateWalletError(f"{wallet.address} is already in your wallets.") from None
        return Wallet(
            id=int(new_id) if new_id is not None else None,
            address=wallet.address,
            family=wallet.family,
            label=wallet.label,
            group=wallet.group,
            ens_name=wallet.ens_name,
            created_at=wallet.created_at,
            watch=wallet.watch,
        )

    def add_many(self, batch: Sequence[Wallet]) -> builtins.list[Wallet]:
        """All in one transaction, or none (an address already stored adds none)."""
        rows = [
            {
                "family": w.family.value,
                "address": w.address,
                "label": w.label,
                "wallet_group": w.group,
                "ens_name": w.ens_name,
                "created_at": w.created_at.isoformat(),
            }
            for w in batch
        ]
        if not rows:
            return []
        stmt = insert(wallets).returning(
            wallets.c.id, wallets.c.address, sort_by_parameter_order=True
        )
        try:
            with self._engine.begin() as con:
                ids = {str(r.address): int(r.id) for r in con.execute(stmt, rows)}
                watched = [
                    {"wallet_id": ids[w.address], "watch": w.watch}
                    for w in batch
                    if w.watch is not None
                ]
                if watched:
                    con.execute(insert(bitcoin_wallets), watched)
        except IntegrityError:
            raise DuplicateWalletError(
                "One of these addresses is already in your wallets (added meanwhile by another "
                "program?): nothing was added, run the command again."
            ) from None
        return [replace(w, id=ids[w.address]) for w in batch]

    def update(self, wallet: Wallet) -> Wallet:
        if wallet.id is None:
            raise WalletNotFoundError("cannot update a wallet that was never saved")
        with self._engine.begin() as con:
            result = con.execute(
                update(wallets)
                .where(wallets.c.id == wallet.id)
                .values(label=wallet.label, wallet_group=wallet.group, ens_name=wallet.ens_name)
            )
        if result.rowcount == 0:
            raise WalletNotFoundError(f"No wallet with id {wallet.id}.")
        return wallet

    def remove(self, wallet_id: int) -> None:
        with self._engine.begin() as con:
            result = con.execute(delete(wallets).where(wallets.c.id == wallet_id))
        if result.rowcount == 0:
            raise WalletNotFoundError(f"No wallet with id {wallet_id}.")
