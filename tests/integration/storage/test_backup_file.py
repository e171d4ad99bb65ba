"""``chainfolio backup create FILE`` / ``backup restore FILE``: moving to a new computer.

Real CLI processes, real SQLCipher files; no keyring here (the keyring-backed restore is in
tests/integration/keyring/test_database_key.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.storage.encryption import connect, encrypted_salt, passphrase_key
from tests.integration.storage.crypt_helpers import (
    PASSPHRASE,
    digest,
    dump,
    plaintext_needles,
    seed_portfolio,
)
from tests.integration.storage.helpers import WALLET, cli, history, one_sentence

pytestmark = pytest.mark.integration
BACKUP_PASSPHRASE = "a long backup passphrase"


def backup_of(data: Path, file: Path, stdin: str = BACKUP_PASSPHRASE + "\n") -> None:
    done = cli(data, "--passphrase-stdin", "backup", "create", str(file), stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert str(file) in done.stdout


def test_backup_restored_on_a_fresh_data_dir_gives_the_same_portfolio(tmp_path: Path) -> None:
    old = seed_portfolio(tmp_path / "old-computer")
    file = tmp_path / "usb" / "chainfolio.backup"
    file.parent.mkdir()
    backup_of(old, file)
    raw = file.read_bytes()
    for needle in plaintext_needles():
        assert needle not in raw, needle
    assert file.stat().st_mode & 0o077 == 0
    # A standard SQLCipher file: any SQLCipher opens it with the passphrase alone.
    con = connect(file, None)
    con.execute(f"PRAGMA key = '{BACKUP_PASSPHRASE}'")
    assert con.execute("SELECT address FROM wallets").fetchall() == [(WALLET,)]
    con.close()

    new = tmp_path / "new-computer"
    done = cli(new, "--passphrase-stdin", "backup", "restore", str(file),
               stdin=BACKUP_PASSPHRASE + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "not encrypted" in done.stdout  # no keyring here: said, with the way to encrypt
    assert dump(new / "chainfolio.sqlite3") == dump(old / "chainfolio.sqlite3")
    assert history(new) == history(old)
    # The same portfolio through the app: wallets, ledger, history.
    for argv in (("wallets", "list"), ("tx", "list"), ("accounts", "list")):
        mine, theirs = cli(new, *argv), cli(old, *argv)
        assert mine.returncode == 0 and mine.stdout == theirs.stdout, argv


def test_backup_of_an_encrypted_database_restores_encrypted_with_a_passphrase(
    tmp_path: Path,
) -> None:
    old = seed_portfolio(tmp_path / "old")
    done = cli(old, "--passphrase-stdin", "storage", "encrypt", "--passphrase",
               stdin=PASSPHRASE + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    salt = encrypted_salt(old / "chainfolio.sqlite3")
    assert salt is not None
    file = tmp_path / "b.chainfolio"
    # Two passphrases on stdin: the database's, then the new backup's.
    backup_of(old, file, stdin=f"{PASSPHRASE}\n{BACKUP_PASSPHRASE}\n")
    assert encrypted_salt(file) != salt  # its own salt, its own passphrase

    new = tmp_path / "new"
    done = cli(new, "--passphrase-stdin", "backup", "restore", str(file),
               "--encrypt", "passphrase", stdin=f"{BACKUP_PASSPHRASE}\nnew computer pass\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    restored = new / "chainfolio.sqlite3"
    new_salt = encrypted_salt(restored)
    assert new_salt is not None
    assert dump(restored, passphrase_key("new computer pass", new_salt)) == dump(
        old / "chainfolio.sqlite3", passphrase_key(PASSPHRASE, salt)
    )
    listed = cli(new, "--passphrase-stdin", "wallets", "list", stdin="new computer pass\n")
    assert listed.returncode == 0 and WALLET in listed.stdout


def test_wrong_backup_passphrase_says_so_and_creates_nothing(tmp_path: Path) -> None:
    old = seed_portfolio(tmp_path / "old")
    file = tmp_path / "b.chainfolio"
    backup_of(old, file)
    before = digest(file)
    new = tmp_path / "new"
    done = cli(new, "--passphrase-stdin", "backup", "restore", str(file),
               stdin="not the passphrase\n")  # fmt: skip
    assert done.returncode == 1
    one_sentence(done.stderr, "passphrase does not open the backup", "Nothing was changed")
    assert not (new / "chainfolio.sqlite3").exists()
    assert digest(file) == before
    # Not a backup at all, and no backup there.
    done = cli(new, "--passphrase-stdin", "backup", "restore", str(old / "chainfolio.sqlite3"),
               stdin="whatever passphrase\n")  # fmt: skip
    one_sentence(done.stderr, "is not an encrypted Chainfolio backup")
    done = cli(new, "--passphrase-stdin", "backup", "restore", str(tmp_path / "none"),
               stdin="whatever passphrase\n")  # fmt: skip
    one_sentence(done.stderr, "There is no backup file")


def test_restore_over_a_database_needs_force_and_keeps_the_old_one(tmp_path: Path) -> None:
    old = seed_portfolio(tmp_path / "old")
    file = tmp_path / "b.chainfolio"
    backup_of(old, file)
    here = tmp_path / "here"
    assert cli(here, "wallets", "add", "0x8617E340B3D01FA5F11F306F4090FD50E238070D").returncode == 0
    mine = dump(here / "chainfolio.sqlite3")
    refused = cli(here, "--passphrase-stdin", "backup", "restore", str(file),
                  stdin=BACKUP_PASSPHRASE + "\n")  # fmt: skip
    assert refused.returncode == 1
    one_sentence(refused.stderr, "already holds a database", "--force")
    assert dump(here / "chainfolio.sqlite3") == mine

    done = cli(here, "--passphrase-stdin", "backup", "restore", str(file), "--force",
               stdin=BACKUP_PASSPHRASE + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert dump(here / "chainfolio.sqlite3") == dump(old / "chainfolio.sqlite3")
    (kept,) = (here / "backups").glob("chainfolio-before-restore-*.sqlite3")
    assert dump(kept) == mine
    assert str(kept) in done.stdout


def test_backup_passphrase_too_short_and_existing_file_are_refused(tmp_path: Path) -> None:
    old = seed_portfolio(tmp_path / "old")
    file = tmp_path / "b.chainfolio"
    done = cli(old, "--passphrase-stdin", "backup", "create", str(file), stdin="short\n")
    assert done.returncode == 1
    one_sentence(done.stderr, "at least 8 characters")
    assert not file.exists()
    file.write_bytes(b"precious")
    done = cli(old, "--passphrase-stdin", "backup", "create", str(file),
               stdin=BACKUP_PASSPHRASE + "\n")  # fmt: skip
    one_sentence(done.stderr, "already exists")
    assert file.read_bytes() == b"precious"
