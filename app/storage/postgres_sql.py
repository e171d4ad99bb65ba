"""The stores' hand-written SQLite SQL, spoken to PostgreSQL.

The hot reads and writes (timelines, snapshot holdings) go straight to the driver with SQLite's
``?`` placeholders, ``json_each(?)`` for id lists and ``CAST(… AS REAL)`` for the floats a chart
draws: that is the embedded fast path and stays as it is. On PostgreSQL, the driver's cursor
rewrites those few constructs once per distinct statement (cached) before psycopg sees them:

- ``?`` → ``%s`` and ``:name`` → ``%(name)s`` (a literal ``%`` becomes ``%%``; text inside
  quotes is left alone);
- ``col IN (SELECT value FROM json_each(P))`` → ``col IN (SELECT value FROM
  json_array_elements_text(P::json) AS j(value))``, cast to ``bigint`` for the integer id columns;
- ``CAST(x AS REAL)`` → ``CAST(x AS DOUBLE PRECISION)`` (PostgreSQL's REAL is 4-byte).

Statements SQLAlchemy compiles for PostgreSQL contain none of these and pass through untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import psycopg

INTEGER_COLUMNS = frozenset({"id", "snapshot_id", "rule_id", "account_id", "portfolio_id"})
_QUOTED = re.compile(r"('(?:[^']|'')*')")
_JSON_IN = re.compile(
    r"(?P<col>[A-Za-z_][\w.]*)\s+IN\s+\(\s*SELECT\s+value\s+FROM\s+json_each\((?P<arg>%\(\w+\)s|[^()]+)\)\s*\)",
    re.IGNORECASE,
)
_REAL = re.compile(r"\bAS\s+REAL\)", re.IGNORECASE)
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_MARKERS = ("?", ":", "json_each", "REAL", "real")


def _json_in(match: re.Match[str]) -> str:
    col, arg = match["col"], match["arg"].strip()
    value = "value::bigint" if col.rsplit(".", 1)[-1].lower() in INTEGER_COLUMNS else "value"
    return f"{col} IN (SELECT {value} FROM json_array_elements_text(({arg})::json) AS j(value))"


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The statement as PostgreSQL (psycopg's ``%s`` style) understands it."""
    if not any(m in sql for m in _MARKERS):
        return sql
    parts = _QUOTED.split(sql)
    outside = parts[0::2]  # even parts lie outside quotes
    qmark = any("?" in p or _NAMED.search(p) for p in outside)
    for i in range(0, len(parts), 2):
        part = parts[i]
        if qmark:
            part = _NAMED.sub(r"%(\1)s", part.replace("%", "%%").replace("?", "%s"))
        part = _JSON_IN.sub(_json_in, part)
        parts[i] = _REAL.sub("AS DOUBLE PRECISION)", part)
    if qmark:
        for i in range(1, len(parts), 2):
            parts[i] = parts[i].replace("%", "%%")
    return "".join(parts)


class SqliteDialectCursor(psycopg.Cursor[Any]):
    """A psycopg cursor that accepts the stores' SQLite-flavoured statements."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if isinstance(query, str):
            query = translate(query)
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        if isinstance(query, str):
            query = translate(query)
        super().executemany(query, params_seq, **kwargs)
