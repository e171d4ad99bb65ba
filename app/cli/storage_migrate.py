"""``chainfolio storage migrate --to URL``: copy the history into another database.

The source is the database this command opens (the SQLite file, or ``--database-url`` /
``storage.url``); the target is a PostgreSQL address (its password from the keyring entry
``storage.password``, or libpq's own ``PGPASSWORD`` / ``.pgpass``) or ``sqlite:///PATH`` for a
new SQLite file. The copy is all or nothing (see :mod:`app.storage.postgres_migrate`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.env import CliEnv
from app.domain.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register_migrate(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mig = actions.add_parser(
        "migrate",
        help="copy the whole history into a PostgreSQL database (or back into an SQLite file)",
        description="Copies every table, in one transaction, into an empty database, then "
        "checks row counts and money totals before committing: stopped half-way, the target "
        "keeps nothing. The source is left untouched.",
    )
    mig.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user@host:5432/name (password in the keyring as storage.password) "
        "or sqlite:///PATH for a new file",
    )
    mig.set_defaults(func=_migrate)


def _open_target(url: str, env: CliEnv) -> Engine:
    from app.storage.postgres import is_postgres_url

    if url.startswith("sqlite:///"):
        from app.storage.database import open_database

        path = Path(url.removeprefix("sqlite:///")).expanduser().resolve()
        return open_database(path, path.parent / "backups")
    if not is_postgres_url(url):
        raise DatabaseError(
            "The target must be postgresql://user@host:5432/name or sqlite:///PATH. Nothing "
            "was copied."
        )
    from app.bootstrap import open_shared_database

    env.paths  # noqa: B018 - redacting logging is set up before a password is read
    return open_shared_database(url)


def _migrate(args: argparse.Namespace, env: CliEnv) -> int:
    from app.storage.postgres import shown
    from app.storage.postgres_migrate import copy_history

    source = env.context.engine
    target = _open_target(str(args.to), env)

    def show(fraction: float, message: str) -> None:
        if fraction < 1:
            print(f"  {message}…", file=sys.stderr)

    try:
        report = copy_history(source, target, progress=show)
    finally:
        target.dispose()
    where = str(args.to) if str(args.to).startswith("sqlite") else shown(str(args.to))
    env.print(
        f"Copied {report.total_rows} rows in {len(report.rows)} tables to {where}; row counts "
        "and money totals match."
    )
    if where.startswith("postgresql"):
        env.print(f"To use it from now on: chainfolio config set storage.url {where}")
    else:
        env.print("To use it from now on: chainfolio config reset storage.url")
    return 0
