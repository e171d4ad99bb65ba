"""The database key in a real Secret Service (private dbus + gnome-keyring, see conftest.py),
and what happens when the keyring is missing."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.storage.encryption import KEYRING_SERVICE, DatabaseKey, encrypted_salt
from tests.integration.storage.crypt_helpers import (
    PASSPHRASE,
    digest,
    dump,
    plaintext_needles,
    seed_portfolio,
)
from tests.integration.storage.helpers import ROOT, WALLET, one_sentence

pytestmark = pytest.mark.integration
SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
NO_KEYRING = "keyring.backends.fail.Keyring"


def run(
    session: Any, data: Path, *argv: str, backend: str = SECRET_SERVICE, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO_")}
    env.update(session.env)
    env["PYTHON_KEYRING_BACKEND"] = backend
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *argv],
        input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def database_keys(secret_backend: Any) -> Iterator[DatabaseKeys]:
    """The keyring backend; database keys this test made are removed afterwards."""
    made: list[str] = []
    yield DatabaseKeys(secret_backend, made)
    for name in made:
        with contextlib.suppress(Exception):  # already gone: the test removed it itself
            secret_backend.delete_password(KEYRING_SERVICE, name)


class DatabaseKeys:
    """The backend, and the database-key entries to remove after the test."""

    def __init__(self, backend: Any, made: list[str]) -> None:
        self.backend, self.made = backend, made

    def key_for(self, db: Path) -> str | None:
        salt = encrypted_salt(db)
        assert salt is not None
        self.made.append(salt.hex())
        value: str | None = self.backend.get_password(KEYRING_SERVICE, salt.hex())
        return value


def test_keyring_key_encrypts_opens_without_asking_and_decrypts(
    secret_service_session: Any, database_keys: Any, tmp_path: Path
) -> None:
    data = seed_portfolio(tmp_path / "data")
    db = data / "chainfolio.sqlite3"
    before = dump(db)
    done = run(secret_service_session, data, "storage", "encrypt")
    assert done.returncode == 0, done.stderr
    assert "kept in the system keyring" in done.stdout
    value = database_keys.key_for(db)
    assert value is not None and len(value) == 64
    salt = encrypted_salt(db)
    assert salt is not None
    key = DatabaseKey(bytes.fromhex(value), salt)
    assert dump(db, key) == before
    raw = db.read_bytes()
    for needle in [*plaintext_needles(), value.encode(), bytes.fromhex(value)]:
        assert needle not in raw
    # Opens with nothing asked; API-key listing never shows the database key.
    listed = run(secret_service_session, data, "wallets", "list")
    assert listed.returncode == 0 and WALLET in listed.stdout
    assert "keyring" in run(secret_service_session, data, "storage", "status").stdout
    keys = run(secret_service_session, data, "keys", "list")
    assert value not in keys.stdout and salt.hex() not in keys.stdout
    log = (data / "logs" / "chainfolio.log").read_text()
    assert value not in log and value.upper() not in log

    done = run(secret_service_session, data, "storage", "decrypt")
    assert done.returncode == 0, done.stderr
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    assert dump(db) == before
    assert database_keys.backend.get_password(KEYRING_SERVICE, salt.hex()) is None


def test_keyring_missing_gives_a_sentence_and_changes_nothing(
    secret_service_session: Any, database_keys: Any, tmp_path: Path
) -> None:
    data = seed_portfolio(tmp_path / "data")
    db = data / "chainfolio.sqlite3"
    plain = digest(db)
    refused = run(secret_service_session, data, "storage", "encrypt", backend=NO_KEYRING)
    assert refused.returncode == 1
    one_sentence(refused.stderr, "No usable system keyring", "--passphrase", "nothing was changed")
    assert digest(db) == plain

    assert run(secret_service_session, data, "storage", "encrypt").returncode == 0
    database_keys.key_for(db)
    encrypted = digest(db)
    # The same file on a session without a keyring: said plainly, the passphrase path offered.
    locked = run(secret_service_session, data, "wallets", "list", backend=NO_KEYRING)
    assert locked.returncode == 1
    one_sentence(locked.stderr, "is encrypted", "keyring cannot be used", "passphrase", "unlock")
    # A passphrase cannot open a keyring-keyed file: a sentence, never a crash, file untouched.
    wrong = run(secret_service_session, data, "--passphrase-stdin", "wallets", "list",
                backend=NO_KEYRING, stdin=PASSPHRASE + "\n")  # fmt: skip
    assert wrong.returncode == 1
    one_sentence(wrong.stderr, "passphrase does not open the database")
    assert digest(db) == encrypted


def test_restore_on_a_new_computer_keeps_the_data_encrypted_in_the_keyring(
    secret_service_session: Any, database_keys: Any, tmp_path: Path
) -> None:
    old = seed_portfolio(tmp_path / "old")
    file = tmp_path / "portfolio.backup"
    done = run(secret_service_session, old, "--passphrase-stdin", "backup", "create", str(file),
               stdin="backup passphrase\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = tmp_path / "new"
    done = run(secret_service_session, new, "--passphrase-stdin", "backup", "restore", str(file),
               stdin="backup passphrase\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "system keyring" in done.stdout
    restored = new / "chainfolio.sqlite3"
    value = database_keys.key_for(restored)
    assert value is not None
    salt = encrypted_salt(restored)
    assert salt is not None
    assert dump(restored, DatabaseKey(bytes.fromhex(value), salt)) == dump(
        old / "chainfolio.sqlite3"
    )
    for argv in (("wallets", "list"), ("tx", "list")):
        mine = run(secret_service_session, new, *argv)
        theirs = run(secret_service_session, old, *argv)
        assert mine.returncode == 0 and mine.stdout == theirs.stdout
