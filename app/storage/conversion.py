"""Copying a database into a new file, encrypted or not, and swapping it in without loss.

One primitive, :func:`export_copy`, serves encryption, decryption, backup files and restores:
SQLCipher's ``sqlcipher_export`` writes every table, index, trigger and view of the open
database into a new attached file under that file's key, inside one read transaction (a
consistent copy even while WAL holds recent writes). The copy is then opened on its own, checked
with ``PRAGMA integrity_check`` and compared table by table (row counts) with the source before
anything else happens.

A conversion (:func:`convert`) holds the source exclusively while it copies, so no other
Chainfolio can write meanwhile (a running window makes it refuse, with a sentence). The original
stays whole until the copy is verified; then the copy replaces it in one ``os.replace`` and is
verified again where it now lies, and only then is the original removed. A failure (or a crash)
at any step before the swap leaves the original untouched; a stray ``*.converting`` file from a
crash is removed by the next conversion.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain.errors import DatabaseError
from app.storage.encryption import DatabaseKey, connect, sqlcipher

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
# (fraction done 0..1, what is happening) — called from the converting thread
Progress = Callable[[float, str], None]


def _no_progress(_fraction: float, _message: str) -> None:
    pass


@dataclass(frozen=True)
class CopyReport:
    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def in_use_sentence(path: Path) -> str:
    return (
        f"The database {path} is in use by another Chainfolio (the window, or a command still "
        "running). Quit it and try again; nothing was changed."
    )


def table_counts(con: Any, schema: str = "main") -> dict[str, int]:
    """Rows of every table (SQLite's own tables left out), by name."""
    names = [
        str(r[0])
        for r in con.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type='table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
    ]
    return {
        n: int(con.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0]) for n in names
    }


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def _is_busy(exc: BaseException) -> bool:
    module = sqlcipher()
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        code is not None and int(code) & 0xFF in (module.SQLITE_BUSY, module.SQLITE_LOCKED)
    ) or ("locked" in str(exc).lower())


def verify_copy(path: Path, key: DatabaseKey | None, expected: dict[str, int]) -> None:
    """Open ``path`` on its own with ``key``: intact, and the same rows in every table."""
    module = sqlcipher()
    con = connect(path, key)
    try:
        check = con.execute("PRAGMA integrity_check").fetchall()
        if [tuple(r) for r in check] != [("ok",)]:
            raise DatabaseError(f"The new copy {path} failed its integrity check.")
        counts = table_counts(con)
    except module.DatabaseError as exc:
        log.warning("verifying %s failed: %s", path, exc)
        raise DatabaseError(f"The new copy {path} could not be read back.") from None
    finally:
        con.close()
    if counts != expected:
        differ = sorted(n for n in {*counts, *expected} if counts.get(n) != expected.get(n))
        log.warning("copy %s differs in tables %s", path, differ)
        raise DatabaseError(
            f"The new copy {path} does not hold the same rows as the original "
            f"(tables {', '.join(differ[:5])}); the original was kept."
        )


def export_copy(
    source: Path,
    source_key: DatabaseKey | None,
    target: Path,
    target_key: DatabaseKey | None,
    *,
    exclusive: bool = False,
    progress: Progress = _no_progress,
) -> CopyReport:
    """Write a consistent copy of ``source`` into the new file ``target`` (encrypted with
    ``target_key``, or plaintext), verified. ``exclusive``: no other connection may hold the
    source meanwhile (a conversion); otherwise others keep reading and writing (a backup).
    On any failure ``target`` is removed and ``source`` is as it was."""
    module = sqlcipher()
    _create_private(target)
    con = None
    try:
        progress(0.05, "Opening the database")
        con = connect(source, source_key, isolation_level=None)
        if exclusive:
            con.execute("PRAGMA locking_mode = EXCLUSIVE")
        con.execute(
            "ATTACH DATABASE ? AS target KEY ?",
            (str(target), target_key.pragma_text() if target_key else ""),
        )
        con.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN")
        counts = table_counts(con)
        progress(0.15, f"Copying {sum(counts.values()):,} rows in {len(counts)} tables")
        con.execute("SELECT sqlcipher_export('target')")
        con.execute("COMMIT")
        con.execute("DETACH DATABASE target")
        if exclusive:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except module.Error as exc:
        if con is not None:
            con.close()
        target.unlink(missing_ok=True)
        if _is_busy(exc):
            raise DatabaseError(in_use_sentence(source)) from None
        log.warning("copying %s failed: %s", source, exc)
        raise DatabaseError(
            f"Copying the database {source} failed ({exc}); nothing was changed."
        ) from None
    except BaseException:
        if con is not None:
            con.close()
        target.unlink(missing_ok=True)
        raise
    con.close()
    try:
        progress(0.6, "Checking the copy")
        _fsync(target)
        verify_copy(target, target_key, counts)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return CopyReport(counts)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def swap_in(new: Path, path: Path, key: DatabaseKey | None, expected: dict[str, int]) -> Path:
    """Replace ``path`` by the verified ``new`` atomically, verify it there, and return where
    the original is kept (``*.before-conversion``) for the caller to remove or move."""
    keep = path.with_name(path.name + ".before-conversion")
    keep.unlink(missing_ok=True)
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links: a copy (the source is quiescent)
        import shutil

        shutil.copy2(path, keep)
    _remove_sidecars(path)
    os.replace(new, path)
    _fsync_dir(path.parent)
    try:
        verify_copy(path, key, expected)
    except BaseException:
        os.replace(keep, path)
        _fsync_dir(path.parent)
        raise
    return keep


def convert(
    path: Path,
    backups_dir: Path,
    old_key: DatabaseKey | None,
    new_key: DatabaseKey | None,
    *,
    progress: Progress = _no_progress,
) -> CopyReport:
    """Re-write the database at ``path`` under ``new_key`` (None: plaintext), and the
    pre-migration backups beside it with it. The original is removed only after the new file
    is verified in its place."""
    work = path.with_name(path.name + ".converting")
    work.unlink(missing_ok=True)  # left by a crash: the original is still whole
    report = export_copy(path, old_key, work, new_key, exclusive=True, progress=progress)
    progress(0.75, "Replacing the database with the new file")
    keep = swap_in(work, path, new_key, report.tables)
    keep.unlink()
    progress(0.85, "Converting the backups taken before upgrades")
    convert_backups(backups_dir, old_key, new_key)
    progress(1.0, "Done")
    log.info(
        "database %s converted to %s (%d rows)",
        path,
        "encrypted" if new_key else "plaintext",
        report.rows,
    )
    return report


def convert_backups(
    backups_dir: Path, old_key: DatabaseKey | None, new_key: DatabaseKey | None
) -> None:
    """The pre-migration backups follow the database: encrypted with the same key (and salt,
    so a backup put back in place finds the same keyring entry), or decrypted."""
    if not backups_dir.is_dir():
        return
    for backup in sorted(backups_dir.glob("chainfolio-r*.sqlite3")):
        work = backup.with_name(backup.name + ".converting")
        work.unlink(missing_ok=True)
        try:
            report = export_copy(backup, old_key, work, new_key)
            os.replace(work, backup)
            verify_copy(backup, new_key, report.tables)
        except DatabaseError as exc:
            # A backup that cannot be read with the old key is left as it is, never deleted.
            log.warning("backup %s was not converted: %s", backup.name, exc)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
