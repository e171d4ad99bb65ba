"""Exchange history on SQLite (revision 0017): the records read from each account, the cursor of
each stream, the account's ledger account, and the ledger entries they make.

A page of records is written with its stream's cursor in ONE transaction, so an import stopped
anywhere resumes at the last stored page without a gap or a duplicate (records are keyed by
account, kind and the exchange's id). The ledger is kept in step in one transaction too
(:meth:`SqlExchangeHistoryStore.sync_ledger`): the entries whose fingerprint starts with
``exchange:<account>:`` become exactly the planned ones, and a deposit or withdrawal matched
with a wallet's on-chain entry turns that entry into the transfer in place. The on-chain entry
keeps its fingerprint, so the on-chain import leaves it alone; its original form is kept
(``exchange_matches.original``) and put back when the match no longer holds. Every method is
synchronous: the service calls them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, and_, delete, select
from sqlalchemy.dialects.sqlite import insert

from app.domain.exchange_history import (
    ChainEntry,
    ExchangeRecord,
    Match,
    account_prefix,
    txid_of,
)
from app.domain.ledger import AccountKind, Transaction, TxKind
from app.domain.onchain_ledger import PREFIX as ONCHAIN_PREFIX
from app.domain.valuation import decimal_text
from app.storage.ledger_store import _bump, _to_row
from app.storage.tables import (
    exchange_cursors,
    exchange_ledger_accounts,
    exchange_matches,
    exchange_records,
    ledger_accounts,
    ledger_transactions,
)

_T = ledger_transactions
_KEEP = ("account_id", "kind", "amount", "fee", "fee_currency", "to_account_id", "note")


@dataclass(frozen=True, slots=True)
class LedgerSync:
    added: int = 0
    removed: int = 0
    matched: int = 0  # on-chain entries turned into transfers by this sync
    unmatched: int = 0  # transfers put back to their on-chain form


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqlExchangeHistoryStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ---- records and cursors -------------------------------------------------------------------
    def cursors(self, account: str) -> dict[str, str]:
        with self._engine.connect() as con:
            rows = con.execute(
                select(exchange_cursors.c.stream, exchange_cursors.c.cursor).where(
                    exchange_cursors.c.account == account
                )
            )
            return {r[0]: r[1] for r in rows}

    def write_page(
        self, account: str, stream: str, records: Sequence[ExchangeRecord], cursor: str | None
    ) -> int:
        """Store a page and move its stream's cursor, in one transaction; returns how many
        records were new."""
        with self._engine.begin() as con:
            added = 0
            for r in records:
                stmt = insert(exchange_records).values(
                    account=account, kind=r.kind.value, record_id=r.id, ts=r.ts,
                    data=json.dumps(r.to_json(), sort_keys=True),
                ).on_conflict_do_nothing()  # fmt: skip
                added += con.execute(stmt).rowcount or 0
            if cursor is not None:
                con.execute(
                    insert(exchange_cursors)
                    .values(account=account, stream=stream, cursor=cursor)
                    .on_conflict_do_update(
                        index_elements=["account", "stream"], set_={"cursor": cursor}
                    )
                )
            return added

    def records(self, account: str) -> list[ExchangeRecord]:
        with self._engine.connect() as con:
            rows = con.execute(
                select(exchange_records.c.data)
                .where(exchange_records.c.account == account)
                .order_by(exchange_records.c.ts, exchange_records.c.record_id)
            )
            return [ExchangeRecord.from_json(json.loads(r[0])) for r in rows]

    # ---- ledger ------------------------------------------------------------------------------
    def ensure_account(self, account: str, title: str, now: int) -> str:
        """The ledger account of an exchange account (kind exchange), created on first import
        with a clear name; returns its name."""
        with self._engine.begin() as con:
            known = con.execute(
                select(ledger_accounts.c.name)
                .join(
                    exchange_ledger_accounts,
                    exchange_ledger_accounts.c.account_id == ledger_accounts.c.id,
                )
                .where(exchange_ledger_accounts.c.account == account)
            ).first()
            if known is not None:
                return str(known[0])
            names = {r[0] for r in con.execute(select(ledger_accounts.c.name))}
            name, n = title, 2
            while name in names:
                name = f"{title} {n}"
                n += 1
            account_id = con.execute(
                ledger_accounts.insert().values(
                    name=name,
                    kind=AccountKind.EXCHANGE.value,
                    note="Trades, deposits and withdrawals imported from the exchange by "
                    "Chainfolio",
                    created_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            con.execute(
                delete(exchange_ledger_accounts).where(
                    exchange_ledger_accounts.c.account == account
                )
            )
            con.execute(
                exchange_ledger_accounts.insert().values(account=account, account_id=account_id)
            )
            _bump(con)
            return name

    def chain_entries(self, account: str, since: int, until: int) -> list[ChainEntry]:
        """On-chain deposits and withdrawals of the wallets' ledger accounts between two times
        (seconds), as they were before any match: those matched by ``account`` in their
        original form, those matched by another exchange account left out."""
        with self._engine.connect() as con:
            names = {
                r[0]: r[1]
                for r in con.execute(select(ledger_accounts.c.id, ledger_accounts.c.name))
            }
            matched = {
                r[0]: (r[1], r[2])
                for r in con.execute(
                    select(
                        exchange_matches.c.onchain_fingerprint,
                        exchange_matches.c.account,
                        exchange_matches.c.original,
                    )
                )
            }
            rows = con.execute(
                select(_T.c.id, _T.c.fingerprint, _T.c.account_id, _T.c.kind, _T.c.asset,
                       _T.c.amount, _T.c.ts)
                .where(_T.c.fingerprint.like(_like(ONCHAIN_PREFIX), escape="\\"))
                .where(_T.c.ts >= since, _T.c.ts <= until)
            ).all()  # fmt: skip
        out = []
        for row_id, fp, account_id, kind, asset, amount, ts in rows:
            if fp in matched:
                owner, original = matched[fp]
                if owner != account:
                    continue
                o = json.loads(original)
                account_id, kind, amount = o["account_id"], o["kind"], o["amount"]
            if kind not in (TxKind.DEPOSIT.value, TxKind.WITHDRAWAL.value):
                continue
            out.append(
                ChainEntry(row_id, fp, names[account_id], TxKind(kind), asset,
                           Decimal(amount), int(ts), txid_of(fp))
            )  # fmt: skip
        return out

    def sync_ledger(
        self, account: str, txs: Sequence[Transaction], matches: Iterable[Match], now: int
    ) -> LedgerSync:
        """Make the account's exchange entries exactly ``txs`` and its matches exactly
        ``matches``, in one transaction (see the module docstring)."""
        wanted = {t.fingerprint: t for t in txs if t.fingerprint}
        want_matches = {m.entry.fingerprint: m for m in matches}
        with self._engine.begin() as con:
            ids = {
                r[0]: r[1]
                for r in con.execute(select(ledger_accounts.c.name, ledger_accounts.c.id))
            }
            stored = {
                r[0]: r[1]
                for r in con.execute(
                    select(_T.c.fingerprint, _T.c.id).where(
                        _T.c.fingerprint.like(_like(account_prefix(account)), escape="\\")
                    )
                )
            }
            gone = [row_id for fp, row_id in stored.items() if fp not in wanted]
            for i in range(0, len(gone), 500):
                con.execute(delete(_T).where(_T.c.id.in_(gone[i : i + 500])))
            fresh = [_to_row(t, ids, now) for fp, t in wanted.items() if fp not in stored]
            if fresh:
                con.execute(_T.insert(), fresh)
            # --- matches ------------------------------------------------------------------
            old = {
                r[1]: (r[0], r[2])
                for r in con.execute(
                    select(
                        exchange_matches.c.fingerprint,
                        exchange_matches.c.onchain_fingerprint,
                        exchange_matches.c.original,
                    ).where(exchange_matches.c.account == account)
                )
            }
            unmatched = 0
            for onchain_fp, (record_fp, original) in old.items():
                m = want_matches.get(onchain_fp)
                if m is not None and _record_fp(account, m) == record_fp:
                    continue
                values = {k: v for k, v in json.loads(original).items() if k in _KEEP}
                con.execute(_T.update().where(_T.c.fingerprint == onchain_fp).values(**values))
                con.execute(
                    delete(exchange_matches).where(exchange_matches.c.fingerprint == record_fp)
                )
                unmatched += 1
            matched = 0
            for onchain_fp, m in want_matches.items():
                if onchain_fp in old and old[onchain_fp][0] == _record_fp(account, m):
                    continue
                row = con.execute(
                    select(*(getattr(_T.c, k) for k in _KEEP)).where(_T.c.fingerprint == onchain_fp)
                ).first()
                if row is None:
                    continue
                original = dict(zip(_KEEP, row, strict=True))
                t = m.transfer
                con.execute(
                    _T.update().where(and_(_T.c.fingerprint == onchain_fp)).values(
                        account_id=ids[t.account], kind=t.kind.value,
                        amount=decimal_text(t.amount), fee=decimal_text(t.fee),
                        fee_currency=t.fee_currency, to_account_id=ids[t.to_account or ""],
                        note=t.note,
                    )
                )  # fmt: skip
                con.execute(
                    exchange_matches.insert().values(
                        fingerprint=_record_fp(account, m), account=account,
                        onchain_fingerprint=onchain_fp, original=json.dumps(original),
                    )
                )  # fmt: skip
                matched += 1
            if gone or fresh or matched or unmatched:
                _bump(con)
        return LedgerSync(len(fresh), len(gone), matched, unmatched)

    def matched_fingerprints(self, account: str) -> set[str]:
        with self._engine.connect() as con:
            return {
                r[0]
                for r in con.execute(
                    select(exchange_matches.c.fingerprint).where(
                        exchange_matches.c.account == account
                    )
                )
            }


def _record_fp(account: str, m: Match) -> str:
    from app.domain.exchange_history import fingerprint

    return fingerprint(account, m.record.kind.value, m.record.id)
