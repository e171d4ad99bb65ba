"""A shared PostgreSQL database (14+, through psycopg 3) instead of the embedded SQLite file.

The same tables and the same Alembic migrations run on both. What differs is kept here:

- the URL: stored without its password (settings, logs and messages never carry it); the
  password comes from the OS keyring (secret ``storage.password``) and is added only to the
  URL object handed to the driver;
- failures: a server that is down, a wrong password, a missing database come out as
  :class:`DatabaseError` sentences without the password or the driver's class names;
- the SQLite-only constructs the stores use (``INSERT … ON CONFLICT`` built with SQLAlchemy's
  SQLite ``insert``) compile on PostgreSQL too (see :func:`_sqlite_upserts_on_postgres`);
- migrations take a PostgreSQL advisory lock, so two desktops starting at once do not both
  upgrade the schema.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.sql import sqltypes

from app.domain.errors import DatabaseError

log = logging.getLogger(__name__)

PASSWORD_SECRET = "storage.password"
DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT_S = 5
# pg_advisory_lock keys (bigint): the schema upgrade, and the group's refresh.
MIGRATION_LOCK = 0x43_46_4D_47  # "CFMG"
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


class ServerUnreachable(DatabaseError):
    """The database server is down or cannot be reached (as opposed to refusing us)."""


def is_postgres_url(url: str) -> bool:
    return url.split(":", 1)[0].lower() in POSTGRES_SCHEMES


def parse_url(url: str) -> URL:
    """A PostgreSQL URL (``postgresql://user@host:5432/db``) as SQLAlchemy's URL for psycopg 3;
    refuses a password inside the URL (it belongs in the keyring) without repeating it."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise DatabaseError(
            "The database address is not valid: write it as postgresql://user@host:5432/name."
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise DatabaseError(
            "The database address must start with postgresql:// (or be empty for the file on "
            "this computer)."
        )
    if parsed.password is not None:
        raise DatabaseError(
            "The database address holds a password: remove it from the address and store it in "
            "the keyring instead (chainfolio keys set storage.password)."
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise DatabaseError(
            "The database address is not valid: write it as postgresql://user@host:5432/name."
        )
    if not parsed.host or not parsed.database:
        raise DatabaseError(
            "The database address needs a server and a database name: "
            "postgresql://user@host:5432/name."
        )
    return parsed.set(drivername=DRIVER)


def shown(url: URL | str) -> str:
    """The address as people and logs may see it: never a password."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed._replace(drivername="postgresql", password=None).render_as_string(
        hide_password=True
    )


def describe_error(exc: BaseException, where: str) -> str | None:
    """A sentence for a failure to reach or log in to the server, or None for other errors
    (a constraint, a bug) that must not be disguised as a connection problem."""
    import psycopg

    text_ = str(exc).lower()
    state = getattr(exc, "sqlstate", None) or ""
    if state and not state.startswith(("08", "28", "3D", "57P")):
        connection_problem = False  # a lock timeout, a serialisation failure: not the server
    else:
        connection_problem = True
    if isinstance(exc, psycopg.OperationalError) and connection_problem:
        if "password authentication failed" in text_ or "no password supplied" in text_:
            return (
                f"The database server {where} refused the password: store the right one with "
                "`chainfolio keys set storage.password`, then try again."
            )
        if "does not exist" in text_ and "database" in text_:
            return f"The database {where} does not exist: create it on the server first."
        return (
            f"The database server {where} cannot be reached: check that it is running and that "
            "this computer can reach it, then try again."
        )
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return (
            f"The database user has no right to change {where}: ask the server's owner to grant "
            "it, then try again."
        )
    return None


def create_postgres_engine(url: str | URL, password: str | None = None) -> Engine:
    """An engine on ``url`` (no password inside) logging in with ``password``. Failures to
    reach the server come out as :class:`DatabaseError` sentences naming the address without
    any password; the driver's own message goes to the log, redacted."""
    parsed = parse_url(url) if isinstance(url, str) else url.set(drivername=DRIVER)
    where = shown(parsed)
    if password:
        from app.logging_setup import register_secret

        register_secret(password)
    from app.storage.postgres_sql import SqliteDialectCursor

    engine = create_engine(
        parsed.set(password=password or None),
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "chainfolio",
            "cursor_factory": SqliteDialectCursor,
        },
        hide_parameters=True,
    )

    def translate(context: ExceptionContext) -> BaseException | None:
        sentence = describe_error(context.original_exception, where)
        if sentence is None:
            return None
        log.info("database %s: %s", where, _redacted(context.original_exception, password))
        if "cannot be reached" in sentence:
            return ServerUnreachable(sentence)
        return DatabaseError(sentence)

    event.listen(engine, "handle_error", translate)
    _sqlite_upserts_on_postgres()
    # Integer parameters go without a ``::INTEGER`` cast (psycopg types each value itself),
    # so a 64-bit value reaches its BIGINT column; PostgreSQL's catalog queries still work.
    colspecs = dict(engine.dialect.colspecs)
    colspecs[sqltypes.Integer] = _UncastInteger
    engine.dialect.colspecs = colspecs
    return engine


class _UncastInteger(sqltypes.Integer):
    render_bind_cast = False


def _redacted(exc: BaseException, password: str | None) -> str:
    detail = f"{type(exc).__name__}: {exc}"
    return detail.replace(password, "***") if password else detail


def read_revision(engine: Engine) -> str | None:
    with engine.connect() as con:
        has = con.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
        if not has:
            return None
        row = con.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None


def open_postgres(url: str, password: str | None) -> Engine:
    """Open (creating or upgrading) the schema on a PostgreSQL server and return its engine.

    A schema written by a newer Chainfolio is refused untouched. The upgrade runs under an
    advisory lock inside one transaction (PostgreSQL's DDL is transactional): a second
    process waits, then finds the schema current; a failed upgrade leaves nothing half-done.
    """
    from app.storage.database import HEAD_REVISION, REVISIONS, migrate

    engine = create_postgres_engine(url, password)
    where = shown(engine.url)
    try:
        current = read_revision(engine)
        if current is not None and current not in REVISIONS:
            raise DatabaseError(
                f"The database {where} was written by a newer version of Chainfolio (schema "
                f"{current}; this version knows up to {HEAD_REVISION}). Nothing was changed: "
                "update Chainfolio on this computer."
            )
        if current != HEAD_REVISION:
            log.info(
                "migrating database %s from %s to %s", where, current or "empty", HEAD_REVISION
            )
            with engine.connect() as con:
                con.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
                try:
                    con.commit()
                    if read_revision(engine) != HEAD_REVISION:  # not done by another meanwhile
                        migrate(engine)
                finally:
                    con.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                    con.commit()
    except BaseException:
        engine.dispose()
        raise
    return engine


def is_postgres(engine: Engine | Any) -> bool:
    return str(getattr(getattr(engine, "dialect", None), "name", "")) == "postgresql"


_UPSERTS_READY = False


def _sqlite_upserts_on_postgres() -> None:
    """The stores build upserts with SQLAlchemy's SQLite ``insert`` (the embedded fast path).
    Its ``ON CONFLICT (…) DO UPDATE SET … = excluded.…`` is also PostgreSQL's syntax: teach the
    PostgreSQL compiler to render SQLite's clause objects instead of forking every store. The
    same for SQLite's two-argument ``min(a, b)`` / ``max(a, b)``: LEAST / GREATEST there; and
    the column types keep SQLite's meaning: ``VARCHAR(n)`` without its length, ``INTEGER`` as
    64 bits (BIGINT)."""
    global _UPSERTS_READY
    if _UPSERTS_READY:
        return
    from sqlalchemy.dialects.sqlite.dml import OnConflictDoNothing, OnConflictDoUpdate
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.sql import functions

    @compiles(OnConflictDoUpdate, "postgresql")
    def _do_update(element: Any, compiler: Any, **kw: Any) -> str:
        if not hasattr(element, "constraint_target"):
            element.constraint_target = None
        return str(compiler.visit_on_conflict_do_update(element, **kw))

    @compiles(sqltypes.String, "postgresql")
    def _varchar(element: Any, compiler: Any, **kw: Any) -> str:
        # SQLite never enforces VARCHAR(n); neither does the shared database, so a long token
        # name or xpub stored on one is stored on the other (lengths stay documentation).
        return "VARCHAR"

    @compiles(sqltypes.Integer, "postgresql")
    def _bigint(element: Any, compiler: Any, **kw: Any) -> str:
        # SQLite's INTEGER holds 64 bits: millisecond times from exchanges, big counters. Only
        # in a column's DDL (the ids stay SERIAL: PostgreSQL's own choice for a key).
        if kw.get("type_expression") is not None:
            return "BIGINT"
        return str(compiler.visit_integer(element, **kw))

    @compiles(functions.min, "postgresql")
    def _least(element: Any, compiler: Any, **kw: Any) -> str:
        # SQLite's min(a, b) of two values is PostgreSQL's LEAST (min(x) stays an aggregate)
        if len(element.clauses) > 1:
            return f"LEAST({compiler.process(element.clause_expr.element, **kw)})"
        return str(compiler.visit_function(element, **kw))

    @compiles(functions.max, "postgresql")
    def _greatest(element: Any, compiler: Any, **kw: Any) -> str:
        if len(element.clauses) > 1:
            return f"GREATEST({compiler.process(element.clause_expr.element, **kw)})"
        return str(compiler.visit_function(element, **kw))

    @compiles(OnConflictDoNothing, "postgresql")
    def _do_nothing(element: Any, compiler: Any, **kw: Any) -> str:
        if not hasattr(element, "constraint_target"):
            element.constraint_target = None
        return str(compiler.visit_on_conflict_do_nothing(element, **kw))

    _UPSERTS_READY = True
