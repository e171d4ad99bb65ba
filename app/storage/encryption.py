"""Encryption at rest: SQLCipher keys, where they are kept, and connections opened with them.

An encrypted database is a standard SQLCipher 4 file (AES-256 pages with an HMAC-SHA512 each).
Its first 16 bytes are a random salt instead of SQLite's "SQLite format 3" header, which is how
an encrypted file is recognised without a setting that could drift from the file.

Every connection is keyed with a *raw* key plus that salt (``PRAGMA key = "x'…'"``), so opening
a connection never runs the key derivation again. The key comes from one of two places:

- the OS keyring (the default when one is usable): 32 random bytes, stored under the service
  ``chainfolio-database`` with the file's salt as the entry name, so every data folder has its
  own key and a copy of the file (a pre-migration backup) finds the same one;
- a passphrase: the key is SQLCipher 4's own derivation (PBKDF2-HMAC-SHA512, 256,000 rounds,
  the file's salt), so the file also opens with ``PRAGMA key = 'passphrase'`` in any SQLCipher.

Keys are registered with the log redactor and never appear in a message or a ``repr``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from app.domain.errors import ChainfolioError, DatabaseError
from app.logging_setup import redact, register_secret

log = logging.getLogger(__name__)

PLAIN_MAGIC = b"SQLite format 3\x00"
SALT_BYTES = 16
KEY_BYTES = 32
KDF_ITERATIONS = 256_000  # SQLCipher 4's default for PBKDF2-HMAC-SHA512
MIN_PAGE = 512
KEYRING_SERVICE = "chainfolio-database"
BUSY_TIMEOUT_S = 5.0

# problem sentence (None on the first ask) -> passphrase, or None when the person cancels
PassphrasePrompt = Callable[[str | None], str | None]


class KeyUnavailable(DatabaseError):
    """The database is encrypted and no key that opens it was found or given."""


@dataclass(frozen=True, repr=False)
class DatabaseKey:
    """A raw SQLCipher key and the salt of the file it belongs to."""

    key: bytes
    salt: bytes
    from_passphrase: bool = False

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES or len(self.salt) != SALT_BYTES:
            raise ValueError("a database key is 32 bytes with a 16-byte salt")
        register_secret(self.key.hex())
        register_secret(self.key.hex().upper())

    def pragma_text(self) -> str:
        """The key as SQLCipher's raw-key literal (key and salt in hex), unquoted."""
        return f"x'{self.key.hex()}{self.salt.hex()}'"

    def __repr__(self) -> str:
        return "DatabaseKey(«hidden»)"

    @property
    def source(self) -> str:
        return "passphrase" if self.from_passphrase else "keyring"


def passphrase_key(passphrase: str, salt: bytes) -> DatabaseKey:
    """SQLCipher 4's key for ``passphrase`` on a file with ``salt`` (about 0.2 s of CPU)."""
    register_secret(passphrase)
    raw = hashlib.pbkdf2_hmac("sha512", passphrase.encode(), salt, KDF_ITERATIONS, KEY_BYTES)
    return DatabaseKey(raw, salt, from_passphrase=True)


def new_passphrase_key(passphrase: str) -> DatabaseKey:
    return passphrase_key(passphrase, os.urandom(SALT_BYTES))


def new_random_key() -> DatabaseKey:
    return DatabaseKey(secrets.token_bytes(KEY_BYTES), os.urandom(SALT_BYTES))


def encrypted_salt(path: Path) -> bytes | None:
    """The salt of the SQLCipher file at ``path``; None for a plaintext (or missing, or empty)
    database, and for a file that cannot be one (not a whole number of pages: damaged)."""
    try:
        size = path.stat().st_size
        if size < MIN_PAGE or size % MIN_PAGE:
            return None
        with path.open("rb") as f:
            head = f.read(SALT_BYTES)
    except OSError:
        return None
    return None if head == PLAIN_MAGIC else head


def is_encrypted(path: Path) -> bool:
    return encrypted_salt(path) is not None


def sqlcipher() -> ModuleType:
    """The SQLCipher DB-API module (imported on first use)."""
    try:
        import sqlcipher3.dbapi2 as dbapi  # static: the installer bundles what it sees
    except ImportError:  # pragma: no cover - a broken installation
        raise DatabaseError(
            "This installation of Chainfolio lacks its encryption library (SQLCipher), so "
            "an encrypted database cannot be opened: reinstall Chainfolio."
        ) from None
    module: ModuleType = dbapi
    return module


def connect(
    target: str | Path,
    key: DatabaseKey | None,
    *,
    uri: bool = False,
    isolation_level: str | None = "",
) -> Any:
    """An SQLCipher connection with ``key`` applied before anything else (no key: plaintext)."""
    module = sqlcipher()
    con = module.connect(
        str(target),
        uri=uri,
        timeout=BUSY_TIMEOUT_S,
        check_same_thread=False,
        isolation_level=isolation_level,
    )
    try:
        if key is not None:
            con.execute(f'PRAGMA key = "{key.pragma_text()}"')  # before anything else
        con.execute("PRAGMA cipher_log_level = NONE")  # wrong keys: no lines on stderr
    except BaseException:
        con.close()
        raise
    return con


def opens(path: Path, key: DatabaseKey) -> bool:
    """Whether ``key`` decrypts ``path`` (read-only, nothing written)."""
    from urllib.parse import quote

    module = sqlcipher()
    con = connect(f"file:{quote(str(path))}?mode=ro", key, uri=True)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except module.Error as exc:
        if getattr(exc, "sqlite_errorcode", None) == module.SQLITE_NOTADB:
            return False
        from app.storage.database import describe_storage_error

        log.info("checking the key of %s: %s", path, exc)
        sentence = describe_storage_error(exc, path, path.parent / "backups")
        raise DatabaseError(sentence or f"The database {path} cannot be read.") from None
    finally:
        con.close()


class KeyringKeys:
    """Database keys in the OS keyring (only the backends :mod:`app.secrets` accepts)."""

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from app.secrets import default_backend

            self._backend = default_backend()
        return self._backend

    def problem(self) -> str | None:
        """None when usable; else the sentence saying why not and how to fix it."""
        from app.secrets import secret_status

        status = secret_status(self.backend)
        return None if status.usable else f"{status.problem} {status.fix}"

    @property
    def usable(self) -> bool:
        return self.problem() is None

    def get(self, salt: bytes) -> DatabaseKey | None:
        if not self.usable:
            return None
        value = self._call("read", self.backend.get_password, salt.hex())
        if not value:
            return None
        register_secret(value)
        try:
            return DatabaseKey(bytes.fromhex(value), salt)
        except ValueError:
            log.warning("the keyring entry for database %s is not a key; ignored", salt.hex())
            return None

    def put(self, key: DatabaseKey) -> None:
        problem = self.problem()
        if problem is not None:
            raise KeyUnavailable(f"The key cannot be kept in the system keyring. {problem}")
        self._call("store", self.backend.set_password, key.salt.hex(), key.key.hex())
        if self.get(key.salt) != DatabaseKey(key.key, key.salt):
            raise KeyUnavailable(
                "The system keyring did not keep the database key; nothing was changed."
            )

    def delete(self, salt: bytes) -> None:
        if not self.usable:
            return
        from keyring.errors import PasswordDeleteError

        try:
            self.backend.delete_password(KEYRING_SERVICE, salt.hex())
        except PasswordDeleteError:
            pass
        except Exception as exc:
            log.warning("the keyring could not delete a database key: %s", redact(str(exc)))

    def _call(self, action: str, func: Callable[..., Any], *args: str) -> Any:
        try:
            return func(KEYRING_SERVICE, *args)
        except Exception as exc:
            log.warning(
                "the keyring could not %s the database key: %s",
                action,
                redact(f"{type(exc).__name__}: {exc}")[:300],
            )
            raise KeyUnavailable(
                f"The system keyring could not {action} the database key. Is it unlocked? "
                "The log has the details."
            ) from None


def wrong_passphrase_sentence(path: Path) -> str:
    return (
        f"That passphrase does not open the database {path}. Nothing was changed; "
        "check the passphrase (it is case-sensitive) and try again."
    )


def unlock(
    path: Path,
    keys: KeyringKeys | None,
    prompt: PassphrasePrompt | None,
    *,
    attempts: int = 3,
) -> DatabaseKey | None:
    """The key that opens ``path``: None for a plaintext database; from the keyring when it
    holds one; else from ``prompt`` (asked again after a wrong passphrase). Raises
    :class:`KeyUnavailable` (nothing touched) when no key opens the file."""
    salt = encrypted_salt(path)
    if salt is None:
        return None
    keyring_problem: str | None = None
    if keys is not None:
        try:
            keyring_problem = keys.problem()
            key = keys.get(salt) if keyring_problem is None else None
        except ChainfolioError as exc:
            key, keyring_problem = None, str(exc)
        if key is not None:
            if opens(path, key):
                return key
            log.warning("the keyring's key for %s does not open it; asking for a passphrase", path)
    problem: str | None = None
    if prompt is not None:
        for _ in range(max(1, attempts)):
            passphrase = prompt(problem)
            if passphrase is None:
                break
            key = passphrase_key(passphrase, salt)
            if opens(path, key):
                return key
            problem = wrong_passphrase_sentence(path)
        if problem is not None:
            raise KeyUnavailable(problem)
    # The file does not say whether its key is a passphrase or a keyring key: name both ways.
    where = (
        " The system keyring cannot be used here."
        if keyring_problem
        else " Its key is not in this computer's keyring."
    )
    if keyring_problem:
        log.info("database key: keyring not usable: %s", keyring_problem)
    raise KeyUnavailable(
        f"The database {path} is encrypted and cannot be opened without its key.{where} "
        "If you chose a passphrase, enter it when asked (on the command line: run in a "
        "terminal, or give it on standard input with --passphrase-stdin). If its key was kept "
        "in the system keyring, unlock that keyring (log in to the desktop session) and try "
        "again. Nothing was changed."
    )
