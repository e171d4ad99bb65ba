"""Opening the database: WAL mode, schema version check, backup, then Alembic migrations.

Start-up takes a fast path: when the stored revision is already the head, Alembic (and its
script parsing) is not loaded at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from app.domain.errors import DatabaseError
from app.storage import encryption
from app.storage.encryption import DatabaseKey

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Revisions in order; a test checks this against Alembic's own history.
REVISIONS: tuple[str, ...] = (
    "0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
    "0011", "0012", "0013", "0014", "0015", "0016", "0017",
    "0018",
)  # fmt: skip
HEAD_REVISION = REVISIONS[-1]
BUSY_TIMEOUT_MS = 5000
BACKUPS_KEPT = 5
PRIVATE_FILE = 0o600
# Pages the WAL may hold before a commit copies them into the file itself. SQLite's default
# (1,000) made every other snapshot of 40,000 holdings also pay that copy inside its write (~15
# ms a time, 0.13 s for the first); the refresh instead checkpoints after each stored snapshot,
# off the path the person waits on (:func:`checkpoint`), and this stays as the backstop (40 MB).
WAL_AUTOCHECKPOINT_PAGES = 10_000


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


def checkpoint(engine: Engine) -> None:
    """Copy what the WAL holds into the database file without waiting for readers or writers
    (a PASSIVE checkpoint; a no-op on PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as con:
        con.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _on_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA query_only = ON")
    cur.close()


def describe_storage_error(exc: BaseException, path: Path, backups_dir: Path) -> str | None:
    """The sentence a person reads for an SQLite failure on ``path``, or None when the error
    is not about the file itself (a constraint, a bug) and must not be disguised as one."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else int(code) & 0xFF
    text = str(exc).lower()
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in text:
        return (
            f"The database {path} is locked by another program. "
            "Close it (or the other Chainfolio) and try again."
        )
    if (
        primary == sqlite3.SQLITE_FULL
        or "disk is full" in text
        or (primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and disk_nearly_full(path))
    ):
        return full_sentence(path)
    if primary == sqlite3.SQLITE_READONLY or "readonly database" in text:
        return (
            f"The database {path} is read-only, so nothing can be saved: make the file and its "
            "folder writable, then try again."
        )
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text:
        return damaged_sentence(path, backups_dir)
    if primary == sqlite3.SQLITE_CANTOPEN:
        return (
            f"The database {path} cannot be opened: check that the file and its folder exist "
            "and are readable, then try again."
        )
    if primary == sqlite3.SQLITE_IOERR:
        return (
            f"The disk holding the database {path} failed to read or write it: check the disk "
            "and its free space, then try again."
        )
    return None


NEARLY_FULL_BYTES = 1 << 20


def disk_nearly_full(path: Path) -> bool:
    """Less than 1 MiB free where the database lives: SQLite then fails to grow its shared
    memory file and says "disk I/O error", which really means "disk full"."""
    try:
        return shutil.disk_usage(path.parent).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def full_sentence(path: Path) -> str:
    return (
        f"The disk holding the database {path} is full: free some space and try again "
        "(nothing stored so far was lost)."
    )


def damaged_sentence(path: Path, backups_dir: Path) -> str:
    newest = sorted(backups_dir.glob("chainfolio-r*.sqlite3")) if backups_dir.is_dir() else []
    if newest:
        return (
            f"The database {path} is damaged: quit Chainfolio and replace it with the newest "
            f"backup in {backups_dir} ({newest[-1].name})."
        )
    return (
        f"The database {path} is damaged and the backup folder {backups_dir} has no backup "
        "yet: quit Chainfolio and move the file aside (or restore your own copy) to start again."
    )


def _read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """Read without writing. Without its shared-memory file (a WAL database closed cleanly),
    SQLite must create one even to read; where it cannot (a read-only folder, a full disk) the
    file is read as immutable: safe there, since nothing can change it meanwhile."""
    from urllib.parse import quote

    if Path(f"{path}-shm").exists():
        immutable = False
    elif not os.access(path.parent, os.W_OK):
        immutable = True
    return f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")


def create_sqlite_engine(
    path: Path,
    *,
    read_only: bool = False,
    backups_dir: Path | None = None,
    full_disk: bool = False,
    key: DatabaseKey | None = None,
) -> Engine:
    """An engine whose SQLite failures on the file (locked, full, read-only, damaged) come out
    as :class:`DatabaseError` sentences; ``read_only`` opens it for reading only (a read-only
    file or folder), without the shared-memory file when the folder cannot hold one;
    ``full_disk``: read-only because the disk is full, and a write says so; ``key``: an
    SQLCipher database, keyed on every connection before anything else runs on it."""
    if key is not None:
        target = _read_only_uri(path, immutable=full_disk) if read_only else str(path)

        def connect_encrypted() -> Any:
            return encryption.connect(target, key, uri=read_only, isolation_level="")

        engine = create_engine(
            f"sqlite:///{path}", creator=connect_encrypted, module=encryption.sqlcipher()
        )
        event.listen(engine, "connect", _on_connect_read_only if read_only else _on_connect)
    elif read_only:
        uri = _read_only_uri(path, immutable=full_disk)

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(
                uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )

        engine = create_engine("sqlite://", creator=connect)
        event.listen(engine, "connect", _on_connect_read_only)
    else:
        engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        event.listen(engine, "connect", _on_connect)
    backups = backups_dir if backups_dir is not None else path.parent / "backups"

    def translate(context: ExceptionContext) -> BaseException | None:
        sentence = describe_storage_error(context.original_exception, path, backups)
        if full_disk and sentence is not None and "read-only" in sentence:
            sentence = full_sentence(path)
        if sentence is None:
            return None
        log.info("database %s: %s", path, context.original_exception)
        return DatabaseError(sentence)

    event.listen(engine, "handle_error", translate)
    return engine


def read_revision(
    path: Path, backups_dir: Path | None = None, key: DatabaseKey | None = None
) -> str | None:
    """The schema revision stored in the file, or None for a new/empty database."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    backups = backups_dir if backups_dir is not None else path.parent / "backups"
    uri = _read_only_uri(path, immutable=disk_nearly_full(path))
    try:
        if key is not None:
            con = encryption.connect(uri, key, uri=True)
        else:
            con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except (sqlite3.Error, encryption.sqlcipher().Error) as exc:
        raise DatabaseError(
            describe_storage_error(exc, path, backups) or f"Cannot open the database {path}."
        ) from None
    try:
        has_table = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
            if tables and tables[0]:
                raise DatabaseError(
                    f"{path} is an SQLite file that Chainfolio did not create; "
                    "choose another data directory."
                )
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except (sqlite3.DatabaseError, encryption.sqlcipher().DatabaseError) as exc:
        sentence = describe_storage_error(exc, path, backups)
        raise DatabaseError(sentence or damaged_sentence(path, backups)) from None
    finally:
        con.close()


def backup(path: Path, backups_dir: Path, revision: str, key: DatabaseKey | None = None) -> Path:
    """Copy the database with SQLite's online backup API (consistent even in WAL mode); an
    encrypted database's backup is encrypted with the same key (and salt)."""
    backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = backups_dir / f"chainfolio-r{revision}-{stamp}.sqlite3"
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    if key is not None:
        src, dst = encryption.connect(path, key), encryption.connect(target, key)
    else:
        src, dst = sqlite3.connect(path), sqlite3.connect(target)
    try:
        src.backup(dst)
    except (sqlite3.Error, encryption.sqlcipher().Error) as exc:
        dst.close()
        target.unlink(missing_ok=True)
        raise DatabaseError(
            describe_storage_error(exc, path, backups_dir)
            or f"Backing up the database {path} before its upgrade failed; nothing was changed."
        ) from None
    finally:
        dst.close()
        src.close()
    old = sorted(backups_dir.glob("chainfolio-r*.sqlite3"))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    log.info("backed up database before migration to %s", target)
    return target


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, target: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(engine), target)


def writable(path: Path) -> bool:
    """Whether the database file (or, before it exists, its folder) can be written."""
    if not os.access(path.parent, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def open_database(path: Path, backups_dir: Path, key: DatabaseKey | None = None) -> Engine:
    """Open (creating or upgrading) the database and return its engine.

    Refuses a database written by a newer version instead of touching it. A read-only file or
    folder is opened for reading: lists, history and exports work, and a write says why not.
    An encrypted (SQLCipher) file needs its ``key`` (:func:`encryption.unlock`); without it
    nothing is touched: never an empty new database over the encrypted one.
    """
    if key is None and encryption.is_encrypted(path):
        raise encryption.KeyUnavailable(
            f"The database {path} is encrypted and cannot be opened without its key. "
            "Nothing was changed."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() and writable(path):
            # Private from its first byte: SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    except OSError as exc:
        raise DatabaseError(
            f"The database {path} cannot be created ({exc.strerror or exc}): choose a data "
            "folder you can write to, with --data-dir."
        ) from None
    current = read_revision(path, backups_dir, key)
    if current is not None and current not in REVISIONS:
        raise DatabaseError(
            f"This database ({path}) was written by a newer version of Chainfolio "
            f"(schema {current}; this version knows up to {HEAD_REVISION}). Nothing was changed: "
            "update Chainfolio, or start it with another --data-dir."
        )
    if not writable(path):
        if current != HEAD_REVISION:
            raise DatabaseError(
                f"The database {path} is read-only and cannot be "
                + ("created" if current is None else "upgraded to this version")
                + ": make the file and its folder writable, then try again."
            )
        log.info("the database %s is read-only: it is opened for reading only", path)
        return create_sqlite_engine(path, read_only=True, backups_dir=backups_dir, key=key)
    if current == HEAD_REVISION and disk_nearly_full(path) and not Path(f"{path}-shm").exists():
        # SQLite cannot even create its shared-memory file to read: read without it, and let a
        # write say that the disk is full.
        log.warning("the disk holding %s is full: the database is opened for reading only", path)
        return create_sqlite_engine(
            path, read_only=True, backups_dir=backups_dir, full_disk=True, key=key
        )
    engine = create_sqlite_engine(path, backups_dir=backups_dir, key=key)
    if current != HEAD_REVISION:
        if current is not None:
            backup(path, backups_dir, current, key)
        log.info("migrating database %s from %s to %s", path, current or "empty", HEAD_REVISION)
        try:
            migrate(engine)
        except DatabaseError:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            sentence = describe_storage_error(exc.__cause__ or exc, path, backups_dir)
            if sentence is not None:
                raise DatabaseError(sentence) from None
            raise DatabaseError(
                f"Upgrading the database failed ({exc}); a backup taken just before is in "
                f"{backups_dir}."
            ) from exc
    return engine
