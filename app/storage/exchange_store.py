"""Exchange accounts on SQLite (revision 0017). Keys and secrets are in the keyring, not here."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.domain.exchanges import ExchangeAccount, ExchangeError
from app.storage.tables import exchange_accounts


class SqlExchangeStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def accounts(self) -> list[tuple[ExchangeAccount, str | None]]:
        """Every account with its API address override (None: the exchange's own)."""
        with self._engine.connect() as con:
            rows = con.execute(select(exchange_accounts).order_by(exchange_accounts.c.name))
            return [
                (ExchangeAccount(r.name, r.exchange, int(r.created_at)), r.api_url) for r in rows
            ]

    def add(self, account: ExchangeAccount, api_url: str | None) -> None:
        try:
            with self._engine.begin() as con:
                con.execute(
                    insert(exchange_accounts).values(
                        name=account.name,
                        exchange=account.exchange,
                        api_url=api_url,
                        created_at=account.created_at,
                    )
                )
        except IntegrityError:
            raise ExchangeError(
                f"An exchange account named {account.name} exists already; choose another name."
            ) from None

    def remove(self, name: str) -> bool:
        with self._engine.begin() as con:
            gone = con.execute(delete(exchange_accounts).where(exchange_accounts.c.name == name))
            return bool(gone.rowcount)
