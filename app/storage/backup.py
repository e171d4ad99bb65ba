"""Encrypted backup files: the whole database in one file a person can carry to a new computer.

Format: a standard SQLCipher 4 database keyed by the backup's passphrase (PBKDF2-HMAC-SHA512
with 256,000 rounds and a random salt; AES-256 pages, each with an HMAC-SHA512). Why this and
not an AES-GCM archive of our own: it is the same, already tested path as the encrypted
database (``sqlcipher_export``, :mod:`app.storage.conversion`), the copy is consistent and is
verified by opening it, and the file stays readable without Chainfolio by any SQLCipher tool
(``PRAGMA key = 'passphrase'``), so a backup never depends on this program surviving.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from app.domain.errors import DatabaseError
from app.storage.conversion import CopyReport, export_copy, in_use_sentence, stamp
from app.storage.encryption import (
    DatabaseKey,
    connect,
    encrypted_salt,
    new_passphrase_key,
    opens,
    passphrase_key,
    sqlcipher,
)

log = logging.getLogger(__name__)

MIN_PASSPHRASE = 8


class WrongPassphrase(DatabaseError):
    """The passphrase does not open the backup file."""


def check_new_passphrase(passphrase: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise DatabaseError(
            f"Choose a passphrase of at least {MIN_PASSPHRASE} characters; a short one can be "
            "guessed by anyone who gets the file."
        )
    return passphrase


def create_backup(
    database: Path, database_key: DatabaseKey | None, file: Path, passphrase: str
) -> CopyReport:
    """Write the database into the new file ``file``, encrypted with ``passphrase``. Other
    Chainfolio processes may keep working meanwhile; ``file`` appears only when complete."""
    check_new_passphrase(passphrase)
    if not database.exists() or database.stat().st_size == 0:
        raise DatabaseError(f"There is no database at {database} to back up yet.")
    if file.exists():
        raise DatabaseError(f"{file} already exists; choose another file name.")
    if not file.parent.is_dir():
        raise DatabaseError(f"The folder {file.parent} does not exist.")
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    report = export_copy(database, database_key, partial, new_passphrase_key(passphrase))
    os.replace(partial, file)
    log.info("backup written (%d rows)", report.rows)
    return report


@dataclass(frozen=True)
class RestoreReport:
    copy: CopyReport
    revision: str | None
    kept: Path | None  # where the database that was replaced now is


def open_backup(file: Path, passphrase: str) -> DatabaseKey:
    """The key of the backup ``file`` for ``passphrase``; a clear sentence when it is not a
    backup or the passphrase is wrong."""
    if not file.is_file():
        raise DatabaseError(f"There is no backup file at {file}.")
    salt = encrypted_salt(file)
    if salt is None:
        raise DatabaseError(f"{file} is not an encrypted Chainfolio backup file.")
    key = passphrase_key(passphrase, salt)
    try:
        ok = opens(file, key)
    except sqlcipher().Error:
        ok = False
    if not ok:
        raise WrongPassphrase(
            f"That passphrase does not open the backup {file} (or the file is damaged). "
            "Nothing was changed; check the passphrase (it is case-sensitive) and try again."
        )
    return key


def _backup_revision(file: Path, key: DatabaseKey) -> str | None:
    from app.storage.database import HEAD_REVISION, REVISIONS

    con = connect(file, key)
    try:
        has = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        row = con.execute("SELECT version_num FROM alembic_version").fetchone() if has else None
    finally:
        con.close()
    if row is None:
        raise DatabaseError(f"{file} is not a Chainfolio backup (no schema version in it).")
    revision = str(row[0])
    if revision not in REVISIONS:
        raise DatabaseError(
            f"The backup {file} was written by a newer version of Chainfolio (schema "
            f"{revision}; this version knows up to {HEAD_REVISION}): update Chainfolio first."
        )
    return revision


def _check_not_in_use(database: Path, key: DatabaseKey | None) -> None:
    """Refuse when another Chainfolio holds the database (only checkable with its key)."""
    if key is None and encrypted_salt(database) is not None:
        return  # encrypted with a key we do not have: it is moved aside whole, unread
    module = sqlcipher()
    con = connect(database, key, isolation_level=None)
    try:
        con.execute("PRAGMA locking_mode = EXCLUSIVE")
        con.execute("BEGIN EXCLUSIVE")
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nothing left in a -wal file
    except module.Error as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise DatabaseError(in_use_sentence(database)) from None
        log.info("checking %s before restoring: %s", database, exc)
    finally:
        con.close()


def restore_backup(
    file: Path,
    passphrase: str,
    database: Path,
    backups_dir: Path,
    new_key: DatabaseKey | None,
    *,
    current_key: DatabaseKey | None = None,
    force: bool = False,
) -> RestoreReport:
    """Put the backup ``file`` in place of ``database`` (encrypted with ``new_key``, or
    plaintext). An existing database is replaced only with ``force``, and is then kept whole
    (as it was, encrypted or not) in ``backups_dir``."""
    key = open_backup(file, passphrase)
    revision = _backup_revision(file, key)
    exists = database.exists() and database.stat().st_size > 0
    if exists and not force:
        raise DatabaseError(
            f"{database} already holds a database. Restoring replaces it: run again with "
            "--force (the current database is then kept in the backups folder)."
        )
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = database.with_name(database.name + ".restoring")
    work.unlink(missing_ok=True)
    if exists:
        _check_not_in_use(database, current_key)
    report = export_copy(file, key, work, new_key)
    kept: Path | None = None
    if exists:
        backups_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        kept = backups_dir / f"chainfolio-before-restore-{stamp()}.sqlite3"
        try:
            os.link(database, kept)
        except OSError:
            import shutil

            shutil.copy2(database, kept)
        for suffix in ("-wal", "-shm", "-journal"):
            side = Path(f"{database}{suffix}")
            if side.exists():
                with contextlib.suppress(OSError):
                    os.replace(side, Path(f"{kept}{suffix}"))
    os.replace(work, database)
    log.info("backup restored (%d rows, schema %s)", report.rows, revision)
    return RestoreReport(report, revision, kept)
