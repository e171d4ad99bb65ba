"""Ledger accounts and transactions on SQLite (amounts as exact Decimal text).

A batch of transactions is written in one database transaction: an import either adds all of
its rows or none. Rows whose fingerprint is already stored are skipped (re-importing a file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.gc_pause import gc_paused
from app.domain.ledger import (
    Account,
    AccountKind,
    IncomeKind,
    LedgerError,
    Transaction,
    TxKind,
)
from app.domain.valuation import decimal_text
from app.storage.tables import ledger_accounts, ledger_transactions

_T = ledger_transactions
_COLUMNS = (
    "id, account_id, kind, ts, asset, amount, price, price_currency, fee, fee_currency, "
    "to_account_id, income_kind, note, fingerprint"
)
_INSERT = (
    "account_id", "kind", "ts", "asset", "amount", "price", "price_currency", "fee",
    "fee_currency", "to_account_id", "income_kind", "note", "fingerprint", "created_at",
)  # fmt: skip


class SqlLedgerStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ---- accounts ---------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        with self._engine.connect() as con:
            rows = con.execute(select(ledger_accounts).order_by(ledger_accounts.c.name)).fetchall()
        return [Account(r.id, r.name, AccountKind(r.kind), r.note, r.created_at) for r in rows]

    def add_account(self, name: str, kind: AccountKind, note: str, now: int) -> Account:
        try:
            with self._engine.begin() as con:
                new_id = con.execute(
                    ledger_accounts.insert().values(
                        name=name, kind=kind.value, note=note, created_at=now
                    )
                ).inserted_primary_key
        except IntegrityError:
            raise LedgerError(f"there is already an account named {name!r}") from None
        assert new_id is not None
        return Account(int(new_id[0]), name, kind, note, now)

    def remove_account(self, name: str) -> int:
        """Delete the account and its transactions (transfers to it too); returns how many
        transactions went with it."""
        with self._engine.begin() as con:
            acct = con.execute(
                select(ledger_accounts.c.id).where(ledger_accounts.c.name == name)
            ).scalar()
            if acct is None:
                raise LedgerError(f"no account named {name!r}")
            count = con.execute(
                select(func.count()).where((_T.c.account_id == acct) | (_T.c.to_account_id == acct))
            ).scalar_one()
            con.execute(delete(_T).where((_T.c.account_id == acct) | (_T.c.to_account_id == acct)))
            con.execute(delete(ledger_accounts).where(ledger_accounts.c.id == acct))
            _bump(con)
        return int(count)

    def transaction_count(self, account: str) -> int:
        ids = self._account_ids()
        if account not in ids:
            raise LedgerError(f"no account named {account!r}")
        acct = ids[account]
        with self._engine.connect() as con:
            return int(
                con.execute(
                    select(func.count()).where(
                        (_T.c.account_id == acct) | (_T.c.to_account_id == acct)
                    )
                ).scalar_one()
            )

    def _account_ids(self) -> dict[str, int]:
        with self._engine.connect() as con:
            return {
                r[0]: r[1]
                for r in con.execute(select(ledger_accounts.c.name, ledger_accounts.c.id))
            }

    # ---- transactions -----------------------------------------------------------------------
    def has_transactions(self) -> bool:
        with self._engine.connect() as con:
            return con.execute(select(ledger_transactions.c.id).limit(1)).first() is not None

    def transactions(self, account: str | None = None) -> list[Transaction]:
        """Every transaction (or one account's, transfers to it included), oldest first.

        Read as plain tuples through the driver: 50,000 rows through SQLAlchemy's row objects
        took twice as long, and P&L and returns read them all every time."""
        ids = self._account_ids()
        names = {v: k for k, v in ids.items()}
        sql = f"SELECT {_COLUMNS} FROM ledger_transactions"
        params: tuple[int, ...] = ()
        if account is not None:
            if account not in ids:
                raise LedgerError(f"no account named {account!r}")
            sql += " WHERE account_id = ? OR to_account_id = ?"
            params = (ids[account], ids[account])
        sql += " ORDER BY ts, id"
        with self._engine.connect() as con:
            rows = con.exec_driver_sql(sql, params).fetchall()
        kinds = {k.value: k for k in TxKind}
        incomes = {k.value: k for k in IncomeKind}
        zero = Decimal(0)
        with gc_paused():  # 50,000 new objects: no collection passes over them while built
            return [
                Transaction(
                    names[r[1]],
                    kinds[r[2]],
                    r[3],
                    r[4],
                    Decimal(r[5]),
                    None if r[6] is None else Decimal(r[6]),
                    r[7],
                    zero if r[8] == "0" else Decimal(r[8]),
                    r[9],
                    None if r[10] is None else names[r[10]],
                    None if r[11] is None else incomes[r[11]],
                    r[12],
                    r[0],
                    r[13],
                )
                for r in rows
            ]

    def get(self, tx_id: int) -> Transaction | None:
        names = {v: k for k, v in self._account_ids().items()}
        with self._engine.connect() as con:
            row = con.execute(select(_T).where(_T.c.id == tx_id)).fetchone()
        return None if row is None else _from_row(row._mapping, names)

    def known_fingerprints(self, fingerprints: Iterable[str]) -> set[str]:
        fps = list(set(fingerprints))
        found: set[str] = set()
        with self._engine.connect() as con:
            for i in range(0, len(fps), 500):
                found.update(
                    r[0]
                    for r in con.execute(
                        select(_T.c.fingerprint).where(_T.c.fingerprint.in_(fps[i : i + 500]))
                    )
                )
        return found

    def add(self, txs: Sequence[Transaction], now: int) -> list[int]:
        """Insert all of ``txs`` in one database transaction (ids in order); a fingerprint
        already stored is skipped. Unknown accounts: LedgerError, nothing written."""
        if not txs:
            return []
        ids = self._account_ids()
        rows = [_to_row(t, ids, now) for t in txs]
        fps = [r["fingerprint"] for r in rows if r["fingerprint"]]
        with self._engine.begin() as con:
            existing: set[str] = set()
            for i in range(0, len(fps), 500):
                chunk = fps[i : i + 500]
                existing.update(
                    r[0]
                    for r in con.exec_driver_sql(
                        "SELECT fingerprint FROM ledger_transactions WHERE fingerprint IN "
                        f"({','.join('?' * len(chunk))})",
                        tuple(chunk),
                    )
                )
            fresh = [
                r for r in rows if r["fingerprint"] is None or r["fingerprint"] not in existing
            ]
            if not fresh:
                return []
            first = (
                con.exec_driver_sql("SELECT max(id) FROM ledger_transactions").scalar() or 0
            ) + 1
            names = ["id", *_INSERT]
            values = [(first + i, *(r[c] for c in _INSERT)) for i, r in enumerate(fresh)]
            con.exec_driver_sql(
                f"INSERT INTO ledger_transactions ({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                values,
            )
            _bump(con)
        return [first + i for i in range(len(fresh))]

    def update(self, tx: Transaction) -> None:
        assert tx.id is not None
        ids = self._account_ids()
        row = _to_row(tx, ids, 0)
        row.pop("created_at")
        row.pop("fingerprint")  # an edited row still came from that CSV line
        with self._engine.begin() as con:
            done = con.execute(update(_T).where(_T.c.id == tx.id).values(**row)).rowcount
            _bump(con)
        if not done:
            raise LedgerError(f"no transaction {tx.id}")

    def remove(self, tx_id: int) -> bool:
        with self._engine.begin() as con:
            _bump(con)
            return bool(con.execute(delete(_T).where(_T.c.id == tx_id)).rowcount)

    def revision(self) -> int:
        """A number that changes with every write to the ledger, from any process (readers
        cache what they built on it)."""
        with self._engine.connect() as con:
            value = con.exec_driver_sql(
                "SELECT value FROM app_meta WHERE key = ?", (_REVISION_KEY,)
            ).scalar()
        return int(value or 0)


_REVISION_KEY = "ledger_revision"


def _bump(con: Any) -> None:
    con.exec_driver_sql(
        "INSERT INTO app_meta (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET "
        "value = CAST(CAST(app_meta.value AS INTEGER) + 1 AS TEXT)",
        (_REVISION_KEY,),
    )


def _to_row(t: Transaction, ids: dict[str, int], now: int) -> dict[str, Any]:
    if t.account not in ids:
        raise LedgerError(f"no account named {t.account!r}: add it with `chainfolio accounts add`")
    if t.to_account is not None and t.to_account not in ids:
        raise LedgerError(f"no account named {t.to_account!r}: add it first")
    return {
        "account_id": ids[t.account],
        "kind": t.kind.value,
        "ts": t.ts,
        "asset": t.asset,
        "amount": decimal_text(t.amount),
        "price": None if t.price is None else decimal_text(t.price),
        "price_currency": t.price_currency,
        "fee": decimal_text(t.fee),
        "fee_currency": t.fee_currency,
        "to_account_id": None if t.to_account is None else ids[t.to_account],
        "income_kind": None if t.income_kind is None else t.income_kind.value,
        "note": t.note,
        "fingerprint": t.fingerprint,
        "created_at": now,
    }


def _from_row(m: Any, names: dict[int, str]) -> Transaction:
    return Transaction(
        account=names[m["account_id"]],
        kind=TxKind(m["kind"]),
        ts=int(m["ts"]),
        asset=m["asset"],
        amount=Decimal(m["amount"]),
        price=None if m["price"] is None else Decimal(m["price"]),
        price_currency=m["price_currency"],
        fee=Decimal(m["fee"]),
        fee_currency=m["fee_currency"],
        to_account=None if m["to_account_id"] is None else names[m["to_account_id"]],
        income_kind=None if m["income_kind"] is None else IncomeKind(m["income_kind"]),
        note=m["note"],
        id=int(m["id"]),
        fingerprint=m["fingerprint"],
    )


class SqlLedgerMarket:
    """What the ledger needs of the price stores: cached quotes, daily history, FX rates."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def latest_usd(self, asset_ids: Iterable[str]) -> dict[str, tuple[Decimal, int]]:
        from app.storage.price_store import SqlPriceStore

        quotes = SqlPriceStore(self._engine).cached(asset_ids)
        return {k: (q.price, q.fetched_at) for k, q in quotes.items()}

    def daily_usd(self, asset_ids: Iterable[str], since: int) -> dict[str, list[tuple[int, float]]]:
        """asset id -> (day number, price) oldest first, as floats (returns only; P&L reads
        exact prices through :meth:`latest_usd` and :meth:`last_daily_usd`). SQLite converts
        and bounds-checks the text (the price store's bounds), so 180,000 rows cost little."""
        out: dict[str, list[tuple[int, float]]] = {}
        with self._engine.connect() as con:
            cursor = con.connection.cursor()  # plain tuples: no row objects for 180,000 rows
            try:
                for asset in sorted(set(asset_ids)):
                    cursor.execute(
                        "SELECT d, p FROM (SELECT ts, ts / 86400 AS d, CAST(price AS REAL) AS p "
                        "FROM price_history WHERE asset_id = ? AND currency = 'USD' AND ts >= ?) "
                        "AS h WHERE p = 0 OR p BETWEEN 1e-30 AND 1e15 ORDER BY ts",
                        (asset, since),
                    )
                    out[asset] = list(cursor.fetchall())
            finally:
                cursor.close()
        return out

    def last_daily_usd(self, asset_ids: Iterable[str]) -> dict[str, tuple[int, Decimal]]:
        """asset id -> (day start, price) of its newest daily history point (exact): one
        index seek per asset."""
        from app.domain.valuation import check_price

        out: dict[str, tuple[int, Decimal]] = {}
        with self._engine.connect() as con:
            for asset in sorted(set(asset_ids)):
                row = con.exec_driver_sql(
                    "SELECT ts, price FROM price_history WHERE asset_id = ? AND currency = 'USD' "
                    "ORDER BY ts DESC LIMIT 1",
                    (asset,),
                ).fetchone()
                if row is not None and (price := check_price(row[1])[0]) is not None:
                    out[asset] = (int(row[0]), price)
        return out

    def usd_rate(self, code: str) -> Decimal | None:
        from app.storage.price_store import SqlPriceStore

        quote = SqlPriceStore(self._engine).rate(code)
        return None if quote is None else quote.price

    # ---- daily history of each day's rate, and the closes of stocks, ETFs and metals --------
    def usd_rate_days(self, code: str) -> list[tuple[int, Decimal]]:
        """Stored daily rates of ``code`` (ECB history and each day's live rate): (day start,
        units per US dollar), oldest first."""
        from app.storage.price_store import SqlMarketStore

        return SqlMarketStore(self._engine).usd_rate_days(code)

    def last_closes(self, asset_ids: Iterable[str]) -> dict[str, tuple[int, str, Decimal]]:
        """asset id -> (day start, currency, close) of its newest stored daily close (exact)."""
        from app.domain.valuation import check_price

        out: dict[str, tuple[int, str, Decimal]] = {}
        with self._engine.connect() as con:
            for asset in sorted(set(asset_ids)):
                row = con.exec_driver_sql(
                    "SELECT ts, currency, price FROM price_history WHERE asset_id = ? "
                    "ORDER BY ts DESC LIMIT 1",
                    (asset,),
                ).fetchone()
                if row is not None and (price := check_price(row[2])[0]) is not None and price:
                    out[asset] = (int(row[0]), str(row[1]), price)
        return out

    def daily_closes(
        self, asset_ids: Iterable[str], since: int
    ) -> dict[str, tuple[str, list[tuple[int, float]]]]:
        """asset id -> (currency, [(day number, close)]) oldest first, as floats (returns only),
        in the currency of its newest close (a symbol changed to another market drops the old
        rows when it is set)."""
        out: dict[str, tuple[str, list[tuple[int, float]]]] = {}
        with self._engine.connect() as con:
            cursor = con.connection.cursor()
            try:
                for asset in sorted(set(asset_ids)):
                    cursor.execute(
                        "SELECT currency FROM price_history WHERE asset_id = ? "
                        "ORDER BY ts DESC LIMIT 1",
                        (asset,),
                    )
                    found = cursor.fetchone()
                    if found is None:
                        continue
                    cursor.execute(
                        "SELECT d, p FROM (SELECT ts, ts / 86400 AS d, CAST(price AS REAL) AS p "
                        "FROM price_history WHERE asset_id = ? AND currency = ? AND ts >= ?) "
                        "AS h WHERE p BETWEEN 1e-30 AND 1e15 ORDER BY ts",
                        (asset, found[0], since),
                    )
                    out[asset] = (str(found[0]), list(cursor.fetchall()))
            finally:
                cursor.close()
        return out
