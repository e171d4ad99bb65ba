"""``chainfolio backup create FILE`` / ``backup restore FILE``: one encrypted file that holds
the whole portfolio (wallets, snapshots, ledger, settings kept in the database), and the way to
move to a new computer.

The file is an SQLCipher database keyed by its own passphrase (see :mod:`app.storage.backup`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.env import CliEnv
from app.cli.storage_cmd import keyring_key, local_only, new_passphrase
from app.domain.errors import ChainfolioError, DatabaseError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="encrypted backup file: create, or restore on any computer")
    bs = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    cr = bs.add_parser(
        "create",
        help="write the whole database into FILE, encrypted with a passphrase",
        description="A consistent copy, taken while Chainfolio may keep running. The "
        "passphrase is asked twice (or read from standard input with --passphrase-stdin).",
    )
    cr.add_argument("file", type=Path, metavar="FILE")
    cr.set_defaults(func=_create)
    rs = bs.add_parser(
        "restore",
        help="put the portfolio from a backup FILE in this data folder",
        description="On a new computer: install Chainfolio, then restore. An existing "
        "database is only replaced with --force, and is then kept in the backups folder.",
    )
    rs.add_argument("file", type=Path, metavar="FILE")
    rs.add_argument("--force", action="store_true", help="replace the database already here")
    rs.add_argument(
        "--encrypt",
        choices=("keyring", "passphrase", "none"),
        help="how to keep the restored database (default: encrypted with a key in the system "
        "keyring when there is one, else not encrypted)",
    )
    rs.set_defaults(func=_restore)


def _create(args: argparse.Namespace, env: CliEnv) -> int:
    local_only(env, "A backup file")
    from app.storage.backup import create_backup
    from app.storage.encryption import KeyringKeys, unlock

    paths = env.paths
    file = args.file.expanduser().resolve()
    if file.exists():
        raise DatabaseError(f"{file} already exists; choose another file name.")
    key = unlock(paths.database, KeyringKeys(), env.passphrase_prompt("database"))
    passphrase = new_passphrase(env, "backup file")
    report = create_backup(paths.database, key, file, passphrase)
    env.print(
        f"Backup written to {file} ({report.rows:,} rows in {len(report.tables)} tables). "
        "Keep its passphrase safe: without it the backup cannot be opened."
    )
    return 0


def _restore(args: argparse.Namespace, env: CliEnv) -> int:
    local_only(env, "Restoring a backup file")
    from app.storage.backup import WrongPassphrase, open_backup, restore_backup
    from app.storage.encryption import (
        DatabaseKey,
        KeyringKeys,
        encrypted_salt,
        new_passphrase_key,
        unlock,
    )

    paths = env.paths
    file = args.file.expanduser().resolve()
    passphrase: str | None = None
    for _ in range(1 if env.passphrase_stdin else 3):
        passphrase = env.read_passphrase(f"Passphrase of the backup {file.name}")
        if passphrase is None:
            break
        try:
            open_backup(file, passphrase)
            break
        except WrongPassphrase as exc:
            if env.passphrase_stdin:
                raise
            print(f"chainfolio: {exc}")
    if passphrase is None:
        raise DatabaseError(
            "The backup's passphrase is needed: type it when asked (run in a terminal) or give "
            "it on standard input with --passphrase-stdin. Nothing was changed."
        )
    open_backup(file, passphrase)  # a wrong one after the last try ends here, with its sentence
    keys = KeyringKeys()
    current: DatabaseKey | None = None
    if encrypted_salt(paths.database) is not None:
        try:
            current = unlock(paths.database, keys, None)
        except ChainfolioError:
            current = None  # moved aside whole, unread
    mode = args.encrypt or ("keyring" if keys.usable else "none")
    new_key: DatabaseKey | None = None
    if mode == "keyring":
        new_key = keyring_key()
    elif mode == "passphrase":
        new_key = new_passphrase_key(new_passphrase(env, "restored database"))
    try:
        result = restore_backup(
            file,
            passphrase,
            paths.database,
            paths.backups_dir,
            new_key,
            current_key=current,
            force=args.force,
        )
    except BaseException:
        if new_key is not None and not new_key.from_passphrase:
            keys.delete(new_key.salt)
        raise
    env.print(
        f"Restored {result.copy.rows:,} rows in {len(result.copy.tables)} tables into "
        f"{paths.database}"
        + {
            "keyring": ", encrypted with a key kept in the system keyring.",
            "passphrase": ", encrypted with the new passphrase (asked at every start).",
            "none": ", not encrypted (`chainfolio storage encrypt` encrypts it).",
        }[mode]
    )
    if result.kept is not None:
        env.print(f"The database that was here is kept as {result.kept}.")
    return 0
