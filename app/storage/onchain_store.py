"""On-chain history on SQLite: scan cursors, movements and fees, and the ledger they make.

A :class:`~app.domain.onchain.ScanBatch` is written with its cursors in ONE database
transaction: a scan stopped at any point (cancelled, the app closed, the network gone) leaves
every stored cursor pointing just past rows that are all stored, so it resumes without a gap
or a duplicate. A batch that re-reads blocks (re-org safety) first removes the wallet's stored
rows of that chain from that block on, in the same transaction.

The ledger entries made from the movements are kept in step by fingerprint
(:meth:`SqlOnchainStore.sync_ledger`), also in one transaction. Every method is synchronous:
the service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, and_, delete, func, select
from sqlalchemy.dialects.sqlite import insert

from app.domain.ledger import AccountKind, Transaction
from app.domain.onchain import Fee, Movement, MovementKind, ScanBatch
from app.domain.onchain_ledger import account_name_for, wallet_key
from app.domain.snapshot import SnapshotHolding
from app.storage.ledger_store import _bump, _to_row
from app.storage.tables import (
    ledger_accounts,
    ledger_transactions,
    ledger_wallet_links,
    onchain_accounts,
    onchain_cursors,
    onchain_fees,
    onchain_movements,
    wallets,
)

_M = onchain_movements
_F = onchain_fees
_C = onchain_cursors


@dataclass(frozen=True, slots=True)
class LedgerSync:
    added: int
    removed: int
    priced: int  # entries stored without a price that now have one


@dataclass(frozen=True, slots=True)
class WalletCount:
    chain: str
    wallet: str
    movements: int
    fees: int
    first_ts: int | None
    cursor: str | None


class SqlOnchainStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ---- scanning --------------------------------------------------------------------------
    def cursors(self, chain: str) -> dict[str, str]:
        """wallet -> the cursor its last stored batch ended at."""
        with self._engine.connect() as con:
            rows = con.execute(select(_C.c.wallet, _C.c.cursor).where(_C.c.chain == chain))
            return {r[0]: r[1] for r in rows}

    def write_batch(self, batch: ScanBatch, now: int) -> None:
        """Store the batch's movements, fees and cursors in one transaction; rows of a wallet
        re-read from a block on are replaced by the batch's."""
        chain = batch.chain
        with self._engine.begin() as con:
            for wallet, block in batch.reread_from.items():
                for table in (_M, _F):
                    con.execute(
                        delete(table).where(
                            table.c.chain == chain, table.c.wallet == wallet, table.c.block >= block
                        )
                    )
            if batch.movements:
                rows = [_movement_row(m) for m in batch.movements]
                stmt = insert(_M)
                con.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["chain", "tx", "wallet", "asset", "kind", "idx"],
                        set_={
                            k: stmt.excluded[k] for k in ("block", "ts", "delta", "counterparty")
                        },
                    ),
                    rows,
                )
            if batch.fees:
                stmt = insert(_F)
                con.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["chain", "tx", "wallet"],
                        set_={k: stmt.excluded[k] for k in ("block", "ts", "asset", "amount")},
                    ),
                    [_fee_row(f) for f in batch.fees],
                )
            for wallet, cursor in batch.cursors.items():
                stmt = insert(_C).values(chain=chain, wallet=wallet, cursor=cursor, updated_at=now)
                con.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["chain", "wallet"],
                        set_={"cursor": cursor, "updated_at": now},
                    )
                )

    def movements(self, chain: str | None = None) -> list[Movement]:
        q = select(_M).order_by(_M.c.ts, _M.c.chain, _M.c.tx, _M.c.idx, _M.c.id)
        if chain is not None:
            q = q.where(_M.c.chain == chain)
        with self._engine.connect() as con:
            rows = con.execute(q).fetchall()
        return [
            Movement(
                r.chain, r.tx, int(r.block), int(r.ts), r.wallet, r.asset, int(r.delta),
                MovementKind(r.kind), r.counterparty, int(r.idx),
            )
            for r in rows
        ]  # fmt: skip

    def fees(self, chain: str | None = None) -> list[Fee]:
        q = select(_F).order_by(_F.c.ts, _F.c.chain, _F.c.tx)
        if chain is not None:
            q = q.where(_F.c.chain == chain)
        with self._engine.connect() as con:
            rows = con.execute(q).fetchall()
        return [
            Fee(r.chain, r.tx, int(r.block), int(r.ts), r.wallet, r.asset, int(r.amount))
            for r in rows
        ]

    def counts(self) -> list[WalletCount]:
        """Per chain and wallet: stored movements, fees, the first movement's time, cursor."""
        out: dict[tuple[str, str], list[object]] = {}
        with self._engine.connect() as con:
            for chain, wallet, n, first in con.execute(
                select(_M.c.chain, _M.c.wallet, func.count(), func.min(_M.c.ts)).group_by(
                    _M.c.chain, _M.c.wallet
                )
            ):
                out[(chain, wallet)] = [n, 0, first, None]
            for chain, wallet, n in con.execute(
                select(_F.c.chain, _F.c.wallet, func.count()).group_by(_F.c.chain, _F.c.wallet)
            ):
                out.setdefault((chain, wallet), [0, 0, None, None])[1] = n
            for chain, wallet, cursor in con.execute(select(_C.c.chain, _C.c.wallet, _C.c.cursor)):
                out.setdefault((chain, wallet), [0, 0, None, None])[3] = cursor
        return [
            WalletCount(c, w, int(v[0]), int(v[1]), v[2], v[3])  # type: ignore[arg-type,call-overload]
            for (c, w), v in sorted(out.items())
        ]

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever the stored history, the first snapshot or the daily prices change
        (readers keep what they built from them until then): a few index reads."""
        with self._engine.connect() as con:
            row = con.exec_driver_sql(
                "SELECT (SELECT count(*) FROM onchain_movements), "
                "(SELECT coalesce(max(id), 0) FROM onchain_movements), "
                "(SELECT count(*) FROM onchain_fees), "
                "(SELECT coalesce(min(id), 0) FROM snapshots), "
                "(SELECT count(*) FROM price_history)"
            ).one()
        return tuple(int(v) for v in row)

    def forget(self, chain: str, wallet: str) -> None:
        """Drop a wallet's stored history and cursor on one chain (a full re-scan)."""
        with self._engine.begin() as con:
            for table in (_M, _F, _C):
                con.execute(delete(table).where(table.c.chain == chain, table.c.wallet == wallet))

    # ---- ledger ------------------------------------------------------------------------------
    def ensure_accounts(self, wanted: Sequence[tuple[str, str]], now: int) -> dict[str, str]:
        """The ledger account of each wallet ((address, label) pairs): created on first import
        with a clear name, linked to the wallet (so the wallet's coins are counted once, as its
        observed balance, wherever the two meet) and remembered. Returns address -> name."""
        result: dict[str, str] = {}
        with self._engine.begin() as con:
            known = {
                wallet_key(r[0]): (r[0], r[1])
                for r in con.execute(
                    select(onchain_accounts.c.wallet, ledger_accounts.c.name).join(
                        ledger_accounts, ledger_accounts.c.id == onchain_accounts.c.account_id
                    )
                )
            }
            names = {r[0] for r in con.execute(select(ledger_accounts.c.name))}
            ids = {
                wallet_key(r[0]): r[1] for r in con.execute(select(wallets.c.address, wallets.c.id))
            }
            created = False
            for address, label in wanted:
                key = wallet_key(address)
                if key in known:
                    result[address] = known[key][1]
                    continue
                name = account_name_for(label, address, names)
                names.add(name)
                note = f"On-chain history of {address}, imported by Chainfolio"
                account_id = con.execute(
                    ledger_accounts.insert().values(
                        name=name, kind=AccountKind.OTHER.value, note=note, created_at=now
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                con.execute(delete(onchain_accounts).where(onchain_accounts.c.wallet == address))
                con.execute(onchain_accounts.insert().values(wallet=address, account_id=account_id))
                wallet_id = ids.get(key)
                if wallet_id is not None:
                    con.execute(
                        ledger_wallet_links.insert().values(
                            account_id=account_id, wallet_id=wallet_id
                        )
                    )
                result[address] = name
                created = True
            if created:
                _bump(con)
        return result

    def onchain_accounts(self) -> dict[str, str]:
        """wallet address -> the name of its on-chain ledger account."""
        with self._engine.connect() as con:
            return {
                r[0]: r[1]
                for r in con.execute(
                    select(onchain_accounts.c.wallet, ledger_accounts.c.name).join(
                        ledger_accounts, ledger_accounts.c.id == onchain_accounts.c.account_id
                    )
                )
            }

    def sync_ledger(
        self, prefixes: Iterable[str], txs: Sequence[Transaction], now: int
    ) -> LedgerSync:
        """Make the ledger's entries whose fingerprint starts with one of ``prefixes`` exactly
        ``txs`` (matched by fingerprint), in one transaction: entries no longer made by the
        movements (a re-org, a transfer now matched with its other side) are removed, new ones
        added; an entry already stored is left as it is (an edit the person made stays), except
        that one stored without a price gets the price now known."""
        wanted = {t.fingerprint: t for t in txs if t.fingerprint}
        with self._engine.begin() as con:
            ids = {
                r[0]: r[1]
                for r in con.execute(select(ledger_accounts.c.name, ledger_accounts.c.id))
            }
            stored: dict[str, tuple[int, str | None]] = {}
            for prefix in set(prefixes):
                pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                for row in con.execute(
                    select(
                        ledger_transactions.c.fingerprint,
                        ledger_transactions.c.id,
                        ledger_transactions.c.price,
                    ).where(ledger_transactions.c.fingerprint.like(pattern + "%", escape="\\"))
                ):
                    stored[row[0]] = (row[1], row[2])
            gone = [row_id for fp, (row_id, _p) in stored.items() if fp not in wanted]
            for i in range(0, len(gone), 500):
                con.execute(
                    delete(ledger_transactions).where(
                        ledger_transactions.c.id.in_(gone[i : i + 500])
                    )
                )
            priced = 0
            for fp, (row_id, price) in stored.items():
                tx = wanted.get(fp)
                if tx is not None and price is None and tx.price is not None:
                    values = _to_row(tx, ids, now)
                    con.execute(
                        ledger_transactions.update()
                        .where(and_(ledger_transactions.c.id == row_id,
                                    ledger_transactions.c.price.is_(None)))
                        .values(price=values["price"], price_currency=values["price_currency"],
                                note=values["note"])
                    )  # fmt: skip
                    priced += 1
            fresh = [_to_row(t, ids, now) for fp, t in wanted.items() if fp not in stored]
            if fresh:
                con.execute(ledger_transactions.insert(), fresh)
            if gone or fresh or priced:
                _bump(con)
        return LedgerSync(len(fresh), len(gone), priced)

    def ledger_fingerprints(self, prefix: str) -> set[str]:
        with self._engine.connect() as con:
            pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return {
                r[0]
                for r in con.execute(
                    select(ledger_transactions.c.fingerprint).where(
                        ledger_transactions.c.fingerprint.like(pattern + "%", escape="\\")
                    )
                )
            }


def _movement_row(m: Movement) -> dict[str, object]:
    return {
        "chain": m.chain, "tx": m.tx, "block": m.block, "ts": m.ts, "wallet": m.wallet,
        "asset": m.asset, "delta": str(int(m.delta)), "kind": str(m.kind),
        "counterparty": m.counterparty, "idx": m.index,
    }  # fmt: skip


def _fee_row(f: Fee) -> dict[str, object]:
    return {
        "chain": f.chain, "tx": f.tx, "wallet": f.wallet, "block": f.block, "ts": f.ts,
        "asset": f.asset, "amount": str(int(f.amount)),
    }  # fmt: skip


class SqlFirstSnapshot:
    """What the rebuilt timeline needs of the stored snapshots: the first one, its holdings and
    its stored total."""

    def __init__(self, engine: Engine) -> None:
        from app.storage.history_store import SqlHistoryStore

        self._engine = engine
        self._history = SqlHistoryStore(engine)

    def snapshot_head(self, when: int, after: bool = False) -> tuple[int, int, str] | None:
        return self._history.snapshot_head(when, after)

    def holdings_of(self, snapshot_id: int) -> tuple[SnapshotHolding, ...]:
        return self._history.holdings_of(snapshot_id)

    def total_of(self, snapshot_id: int) -> Decimal | None:
        with self._engine.connect() as con:
            text = con.exec_driver_sql(
                "SELECT total FROM snapshots WHERE id = ?", (snapshot_id,)
            ).scalar()
        if text is None:
            return None
        try:
            value = Decimal(str(text))
        except ArithmeticError:
            return None
        return value if value.is_finite() else None
