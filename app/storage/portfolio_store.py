"""Portfolios, their members and wallet links on SQLite; and the reads of the snapshot history
a portfolio needs (per-wallet sums, one wallet's balances), bounded like the timeline's.

Members are stored by id, so a wallet or an account removed takes its memberships and links
with it (``ON DELETE CASCADE``, revision 0012). A portfolio's timeline reads the stored
per-wallet sums of ``snapshot_breakdown`` (one primary-key seek per snapshot and wallet), never
the holdings; the wallet–ledger comparison reads one snapshot's balances of the linked wallets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Engine, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from app.domain.portfolios import Portfolio, PortfolioError, WalletLink, same_wallet
from app.domain.valuation import money_context
from app.storage.tables import (
    ledger_accounts,
    ledger_wallet_links,
    portfolio_accounts,
    portfolio_wallets,
    portfolios,
    wallets,
)

SnapshotHead = tuple[int, int, str]  # (id, taken_at, currency)


class SqlPortfolioStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ---- portfolios -------------------------------------------------------------------------
    def portfolios(self) -> list[Portfolio]:
        with self._engine.connect() as con:
            rows = con.execute(select(portfolios).order_by(portfolios.c.name)).fetchall()
            members_w = con.execute(
                select(portfolio_wallets.c.portfolio_id, wallets.c.address)
                .join(wallets, wallets.c.id == portfolio_wallets.c.wallet_id)
                .order_by(wallets.c.address)
            ).fetchall()
            members_a = con.execute(
                select(portfolio_accounts.c.portfolio_id, ledger_accounts.c.name)
                .join(ledger_accounts, ledger_accounts.c.id == portfolio_accounts.c.account_id)
                .order_by(ledger_accounts.c.name)
            ).fetchall()
        by_w: dict[int, list[str]] = {}
        by_a: dict[int, list[str]] = {}
        for pid, address in members_w:
            by_w.setdefault(int(pid), []).append(str(address))
        for pid, name in members_a:
            by_a.setdefault(int(pid), []).append(str(name))
        return [
            Portfolio(
                int(r.id),
                str(r.name),
                tuple(by_w.get(int(r.id), ())),
                tuple(by_a.get(int(r.id), ())),
                int(r.created_at),
            )
            for r in rows
        ]

    def add(self, name: str, now: int) -> Portfolio:
        try:
            with self._engine.begin() as con:
                key = con.execute(
                    insert(portfolios).values(name=name, created_at=now)
                ).inserted_primary_key
        except IntegrityError:
            raise PortfolioError(f"There is already a portfolio named {name!r}.") from None
        assert key is not None
        return Portfolio(int(key[0]), name, created_at=now)

    def remove(self, portfolio_id: int) -> bool:
        with self._engine.begin() as con:
            return bool(
                con.execute(delete(portfolios).where(portfolios.c.id == portfolio_id)).rowcount
            )

    def set_wallet(self, portfolio_id: int, wallet_id: int, member: bool) -> bool:
        """Add (``member``) or drop a wallet; False when nothing changed."""
        return self._set(portfolio_wallets, "wallet_id", portfolio_id, wallet_id, member)

    def set_account(self, portfolio_id: int, account_id: int, member: bool) -> bool:
        """Add (``member``) or drop a ledger account; False when nothing changed."""
        return self._set(portfolio_accounts, "account_id", portfolio_id, account_id, member)

    def _set(self, table: Table, column: str, portfolio_id: int, key: int, member: bool) -> bool:
        with self._engine.begin() as con:
            where = (table.c.portfolio_id == portfolio_id) & (table.c[column] == key)
            present = con.execute(select(table.c.portfolio_id).where(where)).first() is not None
            if member == present:
                return False
            if member:
                con.execute(insert(table).values({"portfolio_id": portfolio_id, column: key}))
            else:
                con.execute(delete(table).where(where))
        return True

    # ---- links ------------------------------------------------------------------------------
    def links(self) -> list[WalletLink]:
        with self._engine.connect() as con:
            rows = con.execute(
                select(ledger_accounts.c.name, wallets.c.address)
                .select_from(ledger_wallet_links)
                .join(ledger_accounts, ledger_accounts.c.id == ledger_wallet_links.c.account_id)
                .join(wallets, wallets.c.id == ledger_wallet_links.c.wallet_id)
                .order_by(ledger_accounts.c.name)
            ).fetchall()
        return [WalletLink(str(r[0]), str(r[1])) for r in rows]

    def link(self, account_id: int, wallet_id: int) -> None:
        """Link (or re-link) the account to the wallet."""
        with self._engine.begin() as con:
            con.execute(
                delete(ledger_wallet_links).where(ledger_wallet_links.c.account_id == account_id)
            )
            con.execute(
                insert(ledger_wallet_links).values(account_id=account_id, wallet_id=wallet_id)
            )

    def unlink(self, account_id: int) -> bool:
        with self._engine.begin() as con:
            return bool(
                con.execute(
                    delete(ledger_wallet_links).where(
                        ledger_wallet_links.c.account_id == account_id
                    )
                ).rowcount
            )


class SqlPortfolioHistory:
    """The snapshot reads of a portfolio: heads, stored per-wallet sums, one wallet's
    balances and which chains a snapshot read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def heads(self, start: int | None, end: int | None) -> list[SnapshotHead]:
        """(id, taken_at, currency) of every snapshot in [start, end], oldest first (the
        timeline's covering index)."""
        query = "SELECT id, taken_at, currency FROM snapshots WHERE taken_at >= ? AND taken_at <= ?"
        lo = -(2**62) if start is None else start
        hi = 2**62 if end is None else end
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows = raw.execute(query + " ORDER BY taken_at, id", (lo, hi)).fetchall()
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    def head(self, when: int | None = None) -> SnapshotHead | None:
        """The newest snapshot at or before ``when`` (None: the newest)."""
        query = "SELECT id, taken_at, currency FROM snapshots WHERE taken_at <= ? "
        query += "ORDER BY taken_at DESC, id DESC LIMIT 1"
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            row = raw.execute(query, (2**62 if when is None else when,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), str(row[2]))

    def wallet_values(
        self, snapshot_ids: Sequence[int], addresses: Sequence[str]
    ) -> dict[int, dict[str, Decimal]]:
        """snapshot id -> {address: stored value} for the given wallets (as the wallet list
        spells them; EVM keys in any case). A wallet without a row had no valued holding."""
        if not snapshot_ids or not addresses:
            return {}
        keys = sorted({a for a in addresses} | {a.lower() for a in addresses if a.startswith("0x")})
        out: dict[int, dict[str, Decimal]] = {}
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows = raw.execute(
                "SELECT snapshot_id, key, value FROM snapshot_breakdown "
                "WHERE snapshot_id IN (SELECT value FROM json_each(?)) AND kind = 'wallet' "
                "AND key IN (SELECT value FROM json_each(?))",
                (json.dumps([int(i) for i in snapshot_ids]), json.dumps(keys)),
            ).fetchall()
        spelled = {k: a for a in addresses for k in (a, a.lower() if a.startswith("0x") else a)}
        zero = Decimal(0)
        with money_context():  # exact: no 28-digit rounding of the sums
            for sid, key, value in rows:
                wallet = spelled.get(key)
                if wallet is None:
                    continue
                sums = out.get(sid)
                if sums is None:
                    sums = out[sid] = {}
                sums[wallet] = sums.get(wallet, zero) + Decimal(value)
        return out

    def balances(self, snapshot_id: int, address: str) -> list[tuple[str, str, int, int, bool]]:
        """(asset id, symbol, decimals, raw, spam) of one wallet's balances (not DeFi
        positions) in one snapshot, on every chain it was read on."""
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            rows = raw.execute(
                "SELECT wallet, asset_id, symbol, decimals, raw, is_spam FROM snapshot_holdings "
                "WHERE snapshot_id = ? AND position = '' AND wallet LIKE ?",
                (snapshot_id, "%:" + address.replace("%", "").replace("_", "")),
            ).fetchall()
        return [
            (str(r[1]), str(r[2]), int(r[3]), int(r[4]), bool(r[5]))
            for r in rows
            if same_wallet(str(r[0]).rsplit(":", 1)[-1], address)
        ]

    def read_chains(self, snapshot_id: int) -> dict[str, str]:
        """Chain -> state (ok, stale, failed) of every chain the snapshot asked."""
        with self._engine.connect() as con:
            raw = con.connection.driver_connection
            assert raw is not None
            row = raw.execute(
                "SELECT sources FROM snapshots WHERE id = ?", (snapshot_id,)
            ).fetchone()
        if row is None:
            return {}
        try:
            sources = json.loads(row[0])
        except ValueError:
            return {}
        return {
            str(s["source"]): str(s.get("state", ""))
            for s in sources
            if isinstance(s, dict) and "source" in s
        }
