"""Moving a history between the SQLite file and a PostgreSQL server (either way).

Both sides are brought to the same schema revision first (the normal open path). Then every
table is copied in dependency order (parents before the rows that point at them), inside ONE
transaction on the target, and checked before that transaction commits: row counts of every
table and the exact (Decimal) sums of the stored money columns. Stopping half-way (a crash, a
lost connection, Ctrl-C) therefore leaves the target as it was: PostgreSQL and SQLite both roll
an unfinished transaction back. A target that already holds data is refused, so nothing there
is ever mixed or overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select, text

from app.domain.errors import DatabaseError
from app.domain.valuation import money_context

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
# Exact money kept as text: summed as Decimal on both sides after the copy.
MONEY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("snapshots", "total"),
    ("snapshot_rows", "value"),  # snapshot_holdings is a view over it (revision 0018)
    ("snapshot_breakdown", "value"),
    ("ledger_transactions", "amount"),
)
SKIPPED = frozenset({"alembic_version"})

Progress = Callable[[float, str], None]


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    sums: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _tables(engine: Engine) -> list[Table]:
    meta = MetaData()
    meta.reflect(engine)
    return [t for t in meta.sorted_tables if t.name not in SKIPPED]


def _chunks(con: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = con.execution_options(yield_per=CHUNK_ROWS).execute(select(table).order_by(*order))
    for part in result.mappings().partitions(CHUNK_ROWS):
        yield [dict(row) for row in part]


def _money_sum(con: Connection, table: str, column: str) -> Decimal:
    total = Decimal(0)
    with money_context():
        for (value,) in con.execute(text(f"SELECT {column} FROM {table}")):
            if value is not None and value != "":
                total += Decimal(value)
    return total


def _counts(con: Connection, tables: Iterable[Table]) -> dict[str, int]:
    return {
        t.name: int(con.execute(select(func.count()).select_from(t)).scalar() or 0) for t in tables
    }


def _reset_sequences(con: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL's serial counters do not move when ids are copied in: set each to the
    largest copied id, so the next row the app adds gets a new one."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].type.python_type is not int:
            continue
        seq = con.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        ).scalar()
        if seq:
            con.execute(
                text(
                    f"SELECT setval(:s, COALESCE((SELECT max({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                ),
                {"s": seq},
            )


def copy_history(source: Engine, target: Engine, progress: Progress | None = None) -> CopyReport:
    """Copy every table of ``source`` into the empty ``target`` (both at the same revision) in
    one target transaction, checked before it commits; raises :class:`DatabaseError` (and
    leaves the target unchanged) on any difference."""
    say = progress or (lambda _f, _m: None)
    tables = _tables(source)
    by_name = {t.name: t for t in _tables(target)}
    missing = [t.name for t in tables if t.name not in by_name]
    if missing:
        raise DatabaseError(
            "The two databases are at different versions (tables missing in the target: "
            f"{', '.join(missing)}). Nothing was copied."
        )
    with source.connect() as src, target.begin() as dst:
        held = {name: n for name, n in _counts(dst, by_name.values()).items() if n}
        if held:
            raise DatabaseError(
                "The target database already holds a history "
                f"({sum(held.values())} rows in {len(held)} tables): copy only into an empty "
                "one. Nothing was copied."
            )
        for index, table in enumerate(tables):
            say(index / max(len(tables), 1), f"copying {table.name}")
            goal = by_name[table.name]
            names = [c.name for c in goal.columns]
            for rows in _chunks(src, table):
                dst.execute(insert(goal), [{k: r.get(k) for k in names} for r in rows])
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst, by_name.values())
        say(0.99, "checking")
        report = CopyReport(rows=_counts(src, tables))
        copied = _counts(dst, [by_name[t.name] for t in tables])
        if copied != report.rows:
            wrong = sorted(k for k in report.rows if report.rows[k] != copied.get(k))
            raise DatabaseError(
                f"The copy does not match the original (row counts differ in {', '.join(wrong)})."
                " Nothing was kept in the target."
            )
        for name, column in MONEY_COLUMNS:
            if name not in by_name:
                continue
            before, after = _money_sum(src, name, column), _money_sum(dst, name, column)
            if before != after:
                raise DatabaseError(
                    f"The copy does not match the original (the sum of {name}.{column} "
                    "differs). Nothing was kept in the target."
                )
            report.sums[f"{name}.{column}"] = before
    say(1.0, "done")
    log.info("copied %d rows in %d tables", report.total_rows, len(report.rows))
    return report
