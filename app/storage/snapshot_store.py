"""Snapshots on SQLite: one transaction per snapshot, totals per snapshot for timelines."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import Connection, Engine, insert, select

from app.domain.balances import SourceState
from app.domain.history import StoredTotal
from app.domain.positions import LendingAccount
from app.domain.rates import PositionRate, RateSide
from app.domain.snapshot import HoldingFailure, Snapshot, SnapshotHolding, SourceStatus
from app.domain.valuation import decimal_text, optional_text
from app.storage.history_store import breakdown_rows
from app.storage.tables import (
    holding_texts,
    snapshot_accounts,
    snapshot_breakdown,
    snapshot_holdings,
    snapshot_rates,
    snapshot_rows,
    snapshots,
    wallets,
)

log = logging.getLogger(__name__)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _text(value: Decimal | None) -> str | None:
    return optional_text(value)  # every digit, never E-notation


_WALLET_NAMESPACES = ("eip155:", "solana:")


_ROW_COLUMNS = (
    "snapshot_id", "wallet_ref", "asset_ref", "position_ref", "symbol_ref", "decimals", "raw",
    "price", "value", "state", "as_of", "is_spam", "manual_price",
)  # fmt: skip
_TEXT_BATCH = 500  # texts per lookup (well under every driver's parameter limit)
_ROWS_PER_INSERT = 100  # 1,300 parameters a statement: under SQLite's and PostgreSQL's limits


def _mark(con: Connection) -> str:
    """The driver's parameter placeholder (SQLite ``?``, psycopg ``%s``)."""
    return "?" if con.dialect.paramstyle == "qmark" else "%s"


def _text_ids(con: Connection, texts: set[str]) -> dict[str, int]:
    """The ``holding_texts`` id of each text, adding the ones not stored yet.

    A few hundred distinct texts for 10,000s of holdings: added with ON CONFLICT DO NOTHING
    (two writers of a shared database may add the same one at once), then looked up."""
    mark = _mark(con)
    wanted = sorted(texts)
    ids: dict[str, int] = {}
    for added in (False, True):
        missing = [t for t in wanted if t not in ids]
        if not missing:
            break
        if added:
            con.exec_driver_sql(
                f"INSERT INTO {holding_texts.name} (text) VALUES ({mark}) "
                "ON CONFLICT (text) DO NOTHING",
                [(t,) for t in missing],
            )
        for i in range(0, len(missing), _TEXT_BATCH):
            part = missing[i : i + _TEXT_BATCH]
            query = (
                f"SELECT text, id FROM {holding_texts.name} "
                f"WHERE text IN ({', '.join([mark] * len(part))})"
            )
            ids.update((str(t), int(n)) for t, n in con.exec_driver_sql(query, tuple(part)))
    return ids


def _insert_holdings(
    con: Connection, snapshot_id: int, holdings: Sequence[SnapshotHolding]
) -> None:
    """Every holding of a snapshot as plain values, straight to the driver, a hundred rows to a
    statement.

    SQLAlchemy's per-row parameter processing was 0.25 s of a 40,000-holding refresh; the
    values here are already the stored types (text for exact numbers, ints, bools). Wallets,
    asset ids, positions and symbols are stored once, in ``holding_texts``, and each row points
    at them by number (revision 0018)."""
    ids = _text_ids(
        con,
        {h.wallet for h in holdings}
        | {h.asset_id for h in holdings}
        | {h.position for h in holdings}
        | {h.symbol for h in holdings},
    )
    mark = _mark(con)
    # The snapshot's id is written into the statement (an int from the database itself), so
    # each row binds twelve values, not thirteen.
    head = f"INSERT INTO {snapshot_rows.name} ({', '.join(_ROW_COLUMNS)}) VALUES "
    one = f"({int(snapshot_id)}, {', '.join([mark] * (len(_ROW_COLUMNS) - 1))})"
    states = {state: state.value for state in SourceState}
    prices: dict[int, str] = {}  # a price's text by object: the holdings of an asset share one
    batches: list[tuple[object, ...]] = []
    flat: list[object] = []
    extend = flat.extend
    # Each statement's parameters are laid out flat as the rows are read, a hundred rows to a
    # statement: no tuple per row to chain afterwards (40,200 holdings: 8 ms less).
    for n, (
        wallet,
        asset,
        symbol,
        decimals,
        raw,
        price,
        value,
        state,
        as_of,
        position,
        spam,
        manual,
    ) in enumerate(holdings, 1):  # unpacked by position (a named tuple): faster than by name
        if price is None:
            price_text = None
        else:
            price_text = prices.get(id(price))
            if price_text is None:
                price_text = prices[id(price)] = decimal_text(price)
        extend((
            ids[wallet], ids[asset], ids[position], ids[symbol], decimals, str(raw), price_text,
            None if value is None else decimal_text(value), states[state], as_of, bool(spam),
            bool(manual),
        ))  # fmt: skip
        if n % _ROWS_PER_INSERT == 0:
            batches.append(tuple(flat))
            flat.clear()
    # Many rows per statement: a quarter less time in SQLite than one statement per row.
    if batches:
        con.exec_driver_sql(head + ", ".join([one] * _ROWS_PER_INSERT), batches)
    if flat:
        width = len(_ROW_COLUMNS) - 1
        con.exec_driver_sql(
            head + one, [tuple(flat[i : i + width]) for i in range(0, len(flat), width)]
        )


def _failures_json(failures: tuple[HoldingFailure, ...]) -> dict[str, object]:
    """Holdings a chain read could not read, kept in the source's JSON (no key when none)."""
    if not failures:
        return {}
    return {"failures": [[f.wallet, f.asset_id, f.reason, f.symbol, f.is_spam] for f in failures]}


def _failures_from(stored: object) -> tuple[HoldingFailure, ...]:
    if not isinstance(stored, list):
        return ()
    return tuple(
        HoldingFailure(str(f[0]), str(f[1]), str(f[2]), str(f[3]), f[4] is True)
        for f in stored
        if isinstance(f, list) and len(f) == 5
    )


def _wallet_key(account: str) -> str | None:
    """The wallets-table address of a CAIP-10 wallet (EVM: any case), or None when the
    holding belongs to no watched address (a source that is not a wallet)."""
    if not account.startswith(_WALLET_NAMESPACES):
        return None
    address = account.rsplit(":", 1)[-1]
    return address.lower() if account.startswith("eip155:") else address


def _watched_only(con: Connection, snapshot: Snapshot) -> Snapshot:
    accounts = {h.wallet for h in snapshot.holdings} | {a.wallet for a in snapshot.accounts}
    keys = {_wallet_key(w) for w in accounts}  # per wallet, not per holding
    keys.discard(None)
    if not keys:
        return snapshot
    watched = set()
    for address, family in con.execute(select(wallets.c.address, wallets.c.family)):
        watched.add(str(address).lower() if family == "evm" else str(address))
    gone = keys - watched
    if not gone:
        return snapshot
    log.info("left %d wallet(s) removed during the refresh out of the snapshot", len(gone))
    return replace(
        snapshot,
        holdings=tuple(h for h in snapshot.holdings if _wallet_key(h.wallet) not in gone),
        accounts=tuple(a for a in snapshot.accounts if _wallet_key(a.wallet) not in gone),
    )


def _rate_rows(snapshot_id: int, rates: Sequence[PositionRate]) -> list[dict[str, object]]:
    """One row per (asset, position key): the last rate a refresh reported for it wins."""
    by_key = {r.key: r for r in rates}
    return [
        {
            "snapshot_id": snapshot_id,
            "asset_id": r.asset_id,
            "position": r.position,
            "chain": r.chain,
            "side": r.side.value,
            "apy": decimal_text(r.apy),
            "apr": _text(r.apr),
            "protocol": r.protocol,
        }
        for r in by_key.values()
    ]


class SqlSnapshotStore:
    def __init__(self, engine: Engine, *, watched_only: bool = False) -> None:
        """``watched_only``: each write leaves out wallets no longer in the wallet table (the
        refresh's store: a wallet removed while it ran). Off for tools and tests that write
        snapshots of their own."""
        self._engine = engine
        self._watched_only = watched_only

    def write(self, snapshot: Snapshot) -> int:
        """All or nothing: the totals row and every holding in one transaction.

        A wallet removed while the refresh ran is left out of the snapshot (holdings, lending
        accounts, sums), decided in the same transaction, so it never comes back as history.
        """
        with self._engine.begin() as con:
            if self._watched_only:
                snapshot = _watched_only(con, snapshot)
            result = con.execute(
                insert(snapshots).values(
                    taken_at=snapshot.taken_at,
                    currency=snapshot.currency,
                    total=decimal_text(snapshot.total),
                    stale_total=decimal_text(snapshot.stale_total),
                    sources=json.dumps(
                        [
                            {
                                "source": s.source,
                                "state": s.state.value,
                                "reason": s.reason,
                                "as_of": s.as_of,
                                **_failures_json(s.failures),
                            }
                            for s in snapshot.sources
                        ]
                    ),
                )
            )
            snapshot_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            if snapshot.holdings:
                _insert_holdings(con, snapshot_id, snapshot.holdings)
            # Timeline breakdown sums (revision 0007), in the same transaction.
            breakdown = breakdown_rows(snapshot_id, snapshot.holdings)
            if breakdown:
                con.execute(insert(snapshot_breakdown), breakdown)
            if snapshot.accounts:
                con.execute(
                    insert(snapshot_accounts),
                    [
                        {
                            "snapshot_id": snapshot_id,
                            "wallet": a.wallet,
                            "protocol": a.protocol,
                            "chain": a.chain,
                            "market": a.market,
                            "collateral": str(a.collateral),
                            "debt": str(a.debt),
                            "liquidation_threshold": str(a.liquidation_threshold),
                            "health_factor": _text(a.health_factor),
                            "collateral_assets": json.dumps(list(a.collateral_assets)),
                            "debt_assets": json.dumps(list(a.debt_assets)),
                        }
                        for a in snapshot.accounts
                    ],
                )
            if snapshot.rates:
                con.execute(insert(snapshot_rates), _rate_rows(snapshot_id, snapshot.rates))
            if con.dialect.name == "postgresql":  # other desktops hear of it at the commit
                from app.storage.postgres_group import notify_snapshot

                notify_snapshot(con, snapshot_id)
        return snapshot_id

    def latest(self) -> Snapshot | None:
        return self.at_or_before(None)

    def at_or_before(self, when: int | None) -> Snapshot | None:
        """The newest snapshot taken at or before ``when`` (epoch seconds; None: the latest).

        Used for "24 h change" (the snapshot nearest to a day ago) and "what changed".
        """
        query = select(snapshots).order_by(snapshots.c.taken_at.desc(), snapshots.c.id.desc())
        if when is not None:
            query = query.where(snapshots.c.taken_at <= when)
        with self._engine.connect() as con:
            row = con.execute(query.limit(1)).fetchone()
            if row is None:
                return None
            rows = con.execute(
                select(snapshot_holdings).where(snapshot_holdings.c.snapshot_id == row.id)
            ).fetchall()
            account_rows = con.execute(
                select(snapshot_accounts).where(snapshot_accounts.c.snapshot_id == row.id)
            ).fetchall()
            rate_rows = con.execute(
                select(snapshot_rates).where(snapshot_rates.c.snapshot_id == row.id)
            ).fetchall()
        states = {state.value: state for state in SourceState}
        return Snapshot(
            id=int(row.id),
            taken_at=int(row.taken_at),
            currency=str(row.currency),
            sources=tuple(
                SourceStatus(
                    s["source"],
                    SourceState(s["state"]),
                    s["reason"],
                    int(s["as_of"]),
                    _failures_from(s.get("failures")),
                )
                for s in json.loads(row.sources)
            ),
            holdings=tuple(
                SnapshotHolding(  # by position: 10,000s per snapshot, a third faster
                    r.wallet,
                    r.asset_id,
                    r.symbol,
                    int(r.decimals),
                    int(r.raw),
                    _dec(r.price),
                    _dec(r.value),
                    states[r.state],
                    int(r.as_of),
                    str(r.position),
                    bool(r.is_spam),
                    bool(r.manual_price),
                )
                for r in rows
            ),
            accounts=tuple(
                LendingAccount(
                    wallet=a.wallet,
                    protocol=a.protocol,
                    chain=a.chain,
                    market=a.market,
                    collateral=Decimal(a.collateral),
                    debt=Decimal(a.debt),
                    liquidation_threshold=Decimal(a.liquidation_threshold),
                    health_factor=_dec(a.health_factor),
                    collateral_assets=tuple(json.loads(a.collateral_assets)),
                    debt_assets=tuple(json.loads(a.debt_assets)),
                )
                for a in account_rows
            ),
            rates=tuple(
                PositionRate(
                    r.chain,
                    r.asset_id,
                    r.position,
                    RateSide(r.side),
                    Decimal(r.apy),
                    _dec(r.apr),
                    r.protocol,
                )
                for r in rate_rows
            ),
        )

    def totals(self, start: int | None = None, end: int | None = None) -> list[tuple[int, Decimal]]:
        """(time, total) per snapshot in a range, oldest first: the net-worth timeline."""
        query = select(snapshots.c.taken_at, snapshots.c.total).order_by(snapshots.c.taken_at)
        if start is not None:
            query = query.where(snapshots.c.taken_at >= start)
        if end is not None:
            query = query.where(snapshots.c.taken_at <= end)
        with self._engine.connect() as con:
            return [(int(t), Decimal(v)) for t, v in con.execute(query)]

    def currency_totals(
        self, start: int | None = None, end: int | None = None
    ) -> list[StoredTotal]:
        """Like :meth:`totals`, with the currency each snapshot was stored in."""
        query = select(snapshots.c.taken_at, snapshots.c.currency, snapshots.c.total).order_by(
            snapshots.c.taken_at, snapshots.c.id
        )
        if start is not None:
            query = query.where(snapshots.c.taken_at >= start)
        if end is not None:
            query = query.where(snapshots.c.taken_at <= end)
        with self._engine.connect() as con:
            return [StoredTotal(int(t), str(c), Decimal(v)) for t, c, v in con.execute(query)]

    def compact(self, now: int) -> int:
        """Apply the retention rule (see :func:`compact`)."""
        return compact(self._engine, now)

    def count(self) -> int:
        with self._engine.connect() as con:
            return len(con.execute(select(snapshots.c.id)).fetchall())


HOUR = 3600
DAY = 86400
KEEP_ALL_SECONDS = 7 * DAY
KEEP_HOURLY_SECONDS = 90 * DAY


def compact(engine: Engine, now: int) -> int:
    """Retention: every snapshot for 7 days, the last of each hour for 90 days, the last of each
    day after that. Returns how many snapshots were removed (their holdings go with them)."""
    from sqlalchemy import text

    with engine.begin() as con:
        result = con.execute(
            text(
                """
                DELETE FROM snapshots
                WHERE taken_at < :recent
                  AND id NOT IN (
                    SELECT max(id) FROM snapshots
                    WHERE taken_at < :recent
                    GROUP BY CASE WHEN taken_at >= :hourly THEN taken_at / :hour
                                  ELSE -1 - taken_at / :day END
                  )
                """
            ),
            {
                "recent": now - KEEP_ALL_SECONDS,
                "hourly": now - KEEP_HOURLY_SECONDS,
                "hour": HOUR,
                "day": DAY,
            },
        )
        return int(result.rowcount or 0)
