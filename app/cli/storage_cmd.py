"""``chainfolio storage status|encrypt|decrypt``: the database encrypted at rest (SQLCipher).

Passphrases are typed unseen at the terminal or given as lines on standard input with
``--passphrase-stdin``; never as arguments (they would land in shell history and ``ps``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.cli.env import CliEnv
from app.domain.errors import DatabaseError

if TYPE_CHECKING:
    from app.storage.encryption import DatabaseKey


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "storage",
        help="encrypt or decrypt the database (SQLCipher); move it to or from a shared PostgreSQL",
    )
    ss = p.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    st = ss.add_parser("status", help="whether the database is encrypted, and where its key is")
    st.set_defaults(func=_status)
    enc = ss.add_parser(
        "encrypt",
        help="encrypt the database (key in the OS keyring, or a passphrase with --passphrase)",
        description="Rewrites the database into an encrypted file, checks every table's rows, "
        "then swaps it in; the backups taken before upgrades are encrypted too. Quit the "
        "window first.",
    )
    enc.add_argument(
        "--passphrase",
        action="store_true",
        help="protect it with a passphrase asked at every start instead of a keyring key",
    )
    enc.set_defaults(func=_encrypt)
    dec = ss.add_parser("decrypt", help="turn the encrypted database back into a plain one")
    dec.set_defaults(func=_decrypt)
    from app.cli.storage_migrate import register_migrate  # storage migrate --to URL (PostgreSQL)

    register_migrate(ss)


def progress_printer(env: CliEnv) -> Callable[[float, str], None]:
    def show(fraction: float, message: str) -> None:
        if fraction < 1:
            print(f"  {message}…", file=sys.stderr)

    return show


def new_passphrase(env: CliEnv, what: str) -> str:
    """A new passphrase, typed twice at the terminal (once on stdin)."""
    from app.storage.backup import check_new_passphrase

    first = env.read_passphrase(f"New passphrase for the {what}")
    if first is None:
        raise DatabaseError(
            "A passphrase is needed: type it when asked (run in a terminal) or give it on "
            "standard input with --passphrase-stdin. Nothing was changed."
        )
    check_new_passphrase(first)
    if not env.passphrase_stdin and env.read_passphrase("The same passphrase again") != first:
        raise DatabaseError("The two passphrases differ. Nothing was changed.")
    return first


def keyring_key() -> DatabaseKey:
    """A new random key, already stored in the OS keyring."""
    from app.storage.encryption import KeyringKeys, KeyUnavailable, new_random_key

    keys = KeyringKeys()
    problem = keys.problem()
    if problem is not None:
        raise KeyUnavailable(
            "No usable system keyring to keep the key in, so nothing was changed. "
            f"{problem} Or use --passphrase."
        )
    key = new_random_key()
    keys.put(key)  # before the file exists: a crash afterwards never strands the data
    return key


def local_only(env: CliEnv, what: str) -> None:
    """Refuse ``what`` (encryption, backup files) while the history is on a database server:
    it acts on the local SQLite file, which is then not where the data lives."""
    from app.config import StorageSettings

    if StorageSettings(env.settings).shared:
        raise DatabaseError(
            f"{what} works on the database file on this computer, but your history is on a "
            "shared database server (the storage address setting). Use the server's own "
            "encryption and backups (pg_dump), or move the history back to a file first with "
            "chainfolio storage migrate --to sqlite:///PATH."
        )


def _status(args: argparse.Namespace, env: CliEnv) -> int:
    from app.config import StorageSettings
    from app.storage.encryption import KeyringKeys, encrypted_salt

    if StorageSettings(env.settings).shared:
        env.print(
            "Your history is on a shared database server (the storage address setting); "
            "the local file's encryption does not apply to it."
        )
        return 0
    path = env.paths.database
    salt = encrypted_salt(path)
    if not path.exists():
        env.print(f"No database yet at {path}.")
    elif salt is None:
        env.print(f"The database {path} is not encrypted.")
    else:
        keys = KeyringKeys()
        where = (
            "its key is in the system keyring"
            if keys.usable and keys.get(salt) is not None
            else "it opens with its passphrase"
        )
        env.print(f"The database {path} is encrypted (SQLCipher); {where}.")
    return 0


def _encrypt(args: argparse.Namespace, env: CliEnv) -> int:
    local_only(env, "Encrypting")
    from app.storage.conversion import convert
    from app.storage.database import open_database
    from app.storage.encryption import KeyringKeys, is_encrypted, new_passphrase_key

    paths = env.paths
    if is_encrypted(paths.database):
        env.print(f"The database {paths.database} is already encrypted.")
        return 0
    if not paths.database.exists() or paths.database.stat().st_size == 0:
        open_database(paths.database, paths.backups_dir).dispose()  # encrypted from the start
    key = new_passphrase_key(new_passphrase(env, "database")) if args.passphrase else keyring_key()
    try:
        report = convert(
            paths.database, paths.backups_dir, None, key, progress=progress_printer(env)
        )
    except BaseException:
        if not key.from_passphrase:
            KeyringKeys().delete(key.salt)
        raise
    from app.log_privacy import mask_addresses_in_logs, scrub_log_files

    mask_addresses_in_logs()
    scrub_log_files(paths.log_dir)
    env.print(
        f"The database is encrypted ({report.rows:,} rows in {len(report.tables)} tables "
        "checked). "
        + (
            "Its passphrase is asked at every start: without it the data cannot be read."
            if key.from_passphrase
            else "Its key is kept in the system keyring."
        )
    )
    env.print(
        "The unencrypted file was deleted; on an SSD its old blocks may stay readable until "
        "the disk reuses them. Addresses were removed from the log files, and are no longer "
        "recorded."
    )
    return 0


def _decrypt(args: argparse.Namespace, env: CliEnv) -> int:
    local_only(env, "Decrypting")
    from app.storage.conversion import convert
    from app.storage.encryption import KeyringKeys, unlock

    paths = env.paths
    keys = KeyringKeys()
    key = unlock(paths.database, keys, env.passphrase_prompt("database"))
    if key is None:
        env.print(f"The database {paths.database} is not encrypted.")
        return 0
    report = convert(paths.database, paths.backups_dir, key, None, progress=progress_printer(env))
    if not key.from_passphrase:
        keys.delete(key.salt)
    env.print(
        f"The database is no longer encrypted ({report.rows:,} rows in "
        f"{len(report.tables)} tables checked): anyone who can read {paths.database} can "
        "read your portfolio."
    )
    return 0
