"""The database encrypted at rest with SQLCipher: real files, real SQLCipher, the real CLI.

What a person relies on: the file on disk holds no address and no amount in the clear; it opens
only with its key (a wrong one says so and changes nothing); converting it either way keeps
every row of every table; a conversion that fails half-way leaves the original as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain.errors import DatabaseError
from app.storage import conversion
from app.storage.database import REVISIONS, open_database, read_revision
from app.storage.encryption import (
    KeyUnavailable,
    connect,
    encrypted_salt,
    new_passphrase_key,
    passphrase_key,
    unlock,
)
from tests.integration.storage.crypt_helpers import (
    AMOUNT,
    PASSPHRASE,
    digest,
    dump,
    plaintext_needles,
    seed_portfolio,
)
from tests.integration.storage.helpers import OTHER, ROOT, WALLET, cli, one_sentence

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    return seed_portfolio(tmp_path / "data")


def test_encrypted_file_holds_no_plaintext_and_opens_only_with_its_key(seeded: Path) -> None:
    db = seeded / "chainfolio.sqlite3"
    before = dump(db)
    assert any(WALLET in line for line in before) and any(AMOUNT in line for line in before)
    assert all(n in db.read_bytes() for n in (WALLET.encode(), AMOUNT.encode()))  # the control

    done = cli(seeded, "--passphrase-stdin", "storage", "encrypt", "--passphrase",
               stdin=PASSPHRASE + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "encrypted" in done.stdout
    raw = b"".join(p.read_bytes() for p in seeded.rglob("chainfolio*.sqlite3*"))
    for needle in plaintext_needles():
        assert needle not in raw, needle
    salt = encrypted_salt(db)
    assert salt is not None
    assert not (seeded / "chainfolio.sqlite3.before-conversion").exists()
    assert not (seeded / "chainfolio.sqlite3.converting").exists()

    # The same rows, read through the key; and any SQLCipher opens it with the passphrase.
    key = passphrase_key(PASSPHRASE, salt)
    assert dump(db, key) == before
    con = connect(db, None)
    con.execute(f"PRAGMA key = '{PASSPHRASE}'")
    assert con.execute("SELECT count(*) FROM wallets").fetchone() == (1,)
    con.close()

    # Wrong passphrase, and none: a sentence, the file untouched, nothing created over it.
    untouched = digest(db)
    wrong = cli(seeded, "--passphrase-stdin", "wallets", "list", stdin="not the passphrase\n")
    assert wrong.returncode == 1
    one_sentence(wrong.stderr, "passphrase does not open the database", "Nothing was changed")
    without = cli(seeded, "wallets", "list", stdin="")
    assert without.returncode == 1
    one_sentence(without.stderr, "is encrypted", "--passphrase-stdin", "Nothing was changed")
    assert digest(db) == untouched and encrypted_salt(db) == salt
    with pytest.raises(KeyUnavailable, match="is encrypted"):
        open_database(db, seeded / "backups")  # the library refuses too: no empty new file
    assert digest(db) == untouched

    right = cli(seeded, "--passphrase-stdin", "wallets", "list", stdin=PASSPHRASE + "\n")
    assert right.returncode == 0, right.stderr
    assert WALLET in right.stdout


def test_conversion_both_ways_keeps_every_row_of_every_table(seeded: Path) -> None:
    db, backups = seeded / "chainfolio.sqlite3", seeded / "backups"
    before = dump(db)
    key = new_passphrase_key(PASSPHRASE)
    report = conversion.convert(db, backups, None, key)
    assert report.tables["wallets"] == 1 and report.tables["snapshots"] == 3
    assert report.tables["ledger_transactions"] == 1 and report.tables["ledger_accounts"] >= 1
    assert dump(db, key) == before
    assert conversion.convert(db, backups, key, None).tables == report.tables
    assert db.read_bytes().startswith(b"SQLite format 3\x00")
    assert dump(db) == before
    # And the app opens the round-tripped file as its own.
    engine = open_database(db, backups)
    engine.dispose()
    assert dump(db) == before


def test_a_failure_half_way_leaves_the_original_intact(seeded: Path) -> None:
    db, backups = seeded / "chainfolio.sqlite3", seeded / "backups"
    original, rows = digest(db), dump(db)

    def fail_while_checking(_fraction: float, message: str) -> None:
        if message.startswith("Checking"):
            raise OSError("simulated power cut")

    with pytest.raises(OSError, match="simulated"):
        conversion.convert(db, backups, None, new_passphrase_key(PASSPHRASE),
                           progress=fail_while_checking)  # fmt: skip
    assert digest(db) == original and dump(db) == rows
    assert not (seeded / "chainfolio.sqlite3.converting").exists()

    # The copy is damaged behind the converter's back: the row check refuses it.
    key = new_passphrase_key(PASSPHRASE)

    def tamper(_fraction: float, message: str) -> None:
        if message.startswith("Checking"):
            con = connect(seeded / "chainfolio.sqlite3.converting", key)
            con.execute(
                "DELETE FROM snapshot_rows WHERE (snapshot_id, wallet_ref, asset_ref, "
                "position_ref) = (SELECT snapshot_id, wallet_ref, asset_ref, position_ref "
                "FROM snapshot_rows LIMIT 1)"
            )
            con.commit()
            con.close()

    with pytest.raises(DatabaseError, match="does not hold the same rows"):
        conversion.convert(db, backups, None, key, progress=tamper)
    assert digest(db) == original and dump(db) == rows
    assert encrypted_salt(db) is None


def test_a_killed_conversion_leaves_the_original_and_the_next_one_works(seeded: Path) -> None:
    """The process dies (no clean-up at all) after the encrypted copy is written."""
    db = seeded / "chainfolio.sqlite3"
    original, rows = digest(db), dump(db)
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from app.storage import conversion\n"
        "from app.storage.encryption import new_passphrase_key\n"
        "def die(fraction, message):\n"
        "    if message.startswith('Checking'): os._exit(9)\n"
        "db = Path(sys.argv[1])\n"
        "conversion.convert(db, db.parent / 'backups', None, new_passphrase_key('x' * 12),"
        " progress=die)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(db)], cwd=ROOT, timeout=120)
    assert done.returncode == 9
    assert (seeded / "chainfolio.sqlite3.converting").exists()  # the half-done copy
    assert digest(db) == original and dump(db) == rows
    assert cli(seeded, "wallets", "list").returncode == 0
    done2 = cli(seeded, "--passphrase-stdin", "storage", "encrypt", "--passphrase",
                stdin=PASSPHRASE + "\n")  # fmt: skip
    assert done2.returncode == 0, done2.stderr
    assert not (seeded / "chainfolio.sqlite3.converting").exists()
    salt = encrypted_salt(db)
    assert salt is not None and dump(db, passphrase_key(PASSPHRASE, salt)) == rows


def test_conversion_refuses_while_another_chainfolio_holds_the_database(seeded: Path) -> None:
    """Another process (a window) has the data open: converting under it would lose its
    writes, so the conversion refuses and touches nothing."""
    db = seeded / "chainfolio.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from app.storage.database import open_database\n"
         "from sqlalchemy import text\n"
         "from pathlib import Path\n"
         "db = Path(sys.argv[1])\n"
         "engine = open_database(db, db.parent / 'backups')\n"
         "with engine.connect() as c:\n"
         "    c.execute(text('SELECT count(*) FROM wallets')).fetchone()\n"
         "    print('ready', flush=True)\n"
         "    sys.stdin.readline()\n",
         str(db)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        before = digest(db)
        with pytest.raises(DatabaseError, match="in use by another Chainfolio"):
            conversion.convert(db, seeded / "backups", None, new_passphrase_key(PASSPHRASE))
        assert digest(db) == before
        assert not (seeded / "chainfolio.sqlite3.converting").exists()
    finally:
        holder.communicate("\n", timeout=30)
    assert encrypted_salt(db) is None


def test_pre_migration_backups_are_encrypted_with_the_database(tmp_path: Path) -> None:
    db, backups = tmp_path / "chainfolio.sqlite3", tmp_path / "backups"
    open_database(db, backups).dispose()
    # An older schema, with a backup of its own from an even older upgrade.
    from app.storage.database import backup, create_sqlite_engine, migrate

    db.unlink()
    engine = create_sqlite_engine(db)
    migrate(engine, REVISIONS[-2])
    engine.dispose()
    from sqlalchemy import create_engine, text

    eng = create_engine(f"sqlite:///{db}")
    with eng.begin() as c:
        c.execute(text("INSERT INTO wallets (address, family, created_at) "
                       "VALUES (:a, 'evm', '2024-01-01')"), {"a": OTHER})  # fmt: skip
    eng.dispose()
    old_backup = backup(db, backups, REVISIONS[-2])
    assert old_backup.read_bytes().startswith(b"SQLite format 3")

    key = new_passphrase_key(PASSPHRASE)
    conversion.convert(db, backups, None, key)
    assert encrypted_salt(old_backup) == key.salt  # the old backup was encrypted too
    assert OTHER.encode() not in old_backup.read_bytes()
    assert read_revision(db, backups, key) == REVISIONS[-2]

    engine = open_database(db, backups, key)  # upgrades: a new backup is taken first
    engine.dispose()
    assert read_revision(db, backups, key) == REVISIONS[-1]
    taken = [b for b in backups.glob("chainfolio-r*.sqlite3") if b != old_backup]
    assert len(taken) == 1
    new_backup = taken[0]
    assert encrypted_salt(new_backup) == key.salt
    assert OTHER.encode() not in new_backup.read_bytes()
    assert OTHER.lower().encode() not in new_backup.read_bytes()
    # Put back in place, a backup opens with the same key (same salt, same passphrase).
    assert unlock(new_backup, None, lambda _p: PASSPHRASE) is not None


def test_garbage_file_is_still_reported_damaged_not_encrypted(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    db.write_bytes(os.urandom(2500))  # not a whole number of pages: not an SQLCipher file
    assert encrypted_salt(db) is None
    with pytest.raises(DatabaseError, match="is damaged"):
        open_database(db, tmp_path / "b")
