"""Faults of the disk and the file, in-process: a full disk (simulated), a damaged page, the
sentence each gets, and what is left on disk afterwards."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.config import Paths, Settings
from app.domain.addresses import AddressFamily
from app.domain.errors import DatabaseError, SettingsError
from app.domain.model import Wallet
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from app.storage.wallet_store import SqlWalletRepository
from tests.integration.storage.helpers import damage_table, snapshot

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _enospc(*_args: Any, **_kw: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("call", ["write", "fsync", "replace"])
def test_settings_save_on_a_full_disk_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    path = tmp_path / "settings.toml"
    settings = Settings.load(path)
    settings.set("currency", "EUR")
    settings.save()
    before = path.read_bytes()
    settings.set("currency", "CHF")
    monkeypatch.setattr(os, call, _enospc)
    with pytest.raises(SettingsError) as raised:
        settings.save()
    monkeypatch.undo()
    message = str(raised.value)
    assert "disk is full" in message and str(path) in message and "damaged" not in message
    assert path.read_bytes() == before
    assert not (tmp_path / "settings.toml.tmp").exists()
    assert Settings.load(path).get("currency") == "EUR"


def _full_database(engine: Any) -> None:
    """Simulate a full disk: the database may not grow by a single page."""

    @event.listens_for(engine, "connect")
    def cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    engine.dispose()


def test_full_database_says_the_disk_is_full_and_keeps_what_was_stored(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = open_database(db, tmp_path / "backups")
    store = SqlSnapshotStore(engine)
    first = store.write(snapshot(1_700_000_000, 10**18))
    _full_database(engine)
    wallets = SqlWalletRepository(engine)
    with pytest.raises(DatabaseError) as raised:
        for i in range(2000):
            wallets.add(Wallet(address=f"0x{i:040x}", family=AddressFamily.EVM, label="x" * 60))
            store.write(snapshot(1_700_000_100 + i, 10**18 + i))
    message = str(raised.value)
    assert "full" in message and str(db) in message and "damaged" not in message
    assert store.count() >= 1 and store.at_or_before(1_700_000_000).id == first  # type: ignore[union-attr]
    engine.dispose()


def test_damaged_table_page_names_the_backup_folder(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    backups = tmp_path / "backups"
    engine = open_database(db, backups)
    SqlSnapshotStore(engine).write(snapshot(1_700_000_000, 10**18))
    engine.dispose()
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(db, copy / db.name)
    damage_table(copy / db.name, "snapshot_rows")
    engine = open_database(copy / db.name, copy / "backups")  # the schema page is fine
    with pytest.raises(DatabaseError) as raised:
        SqlSnapshotStore(engine).latest()
    engine.dispose()
    message = str(raised.value)
    assert "is damaged" in message and str(copy / "backups") in message
    assert "full" not in message
    # The original is untouched.
    assert SqlSnapshotStore(open_database(db, backups)).latest() is not None


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_files_and_folders_are_created_private(tmp_path: Path) -> None:
    from app.logging_setup import setup_logging

    paths = Paths.resolve(tmp_path / "data")
    paths.ensure()
    setup_logging(paths.log_dir)
    settings = Settings.load(paths.settings_file)
    settings.set("currency", "EUR")
    settings.save()
    engine = open_database(paths.database, paths.backups_dir)
    SqlWalletRepository(engine).add(Wallet(address=ADDR, family=AddressFamily.EVM))
    from app.storage.database import backup

    backup(paths.database, paths.backups_dir, "0007")
    engine.dispose()
    for d in (paths.data_dir, paths.log_dir, paths.backups_dir):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    made = [
        paths.database, paths.settings_file, Settings.load(paths.settings_file).last_good_path,
        paths.log_dir / "chainfolio.log", *paths.backups_dir.iterdir(),
    ]  # fmt: skip
    for f in made:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_existing_files_are_tightened_on_start(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path / "data")
    for d in (paths.data_dir, paths.log_dir, paths.backups_dir):
        d.mkdir(parents=True, mode=0o755)
        d.chmod(0o755)
    loose = [
        paths.database, paths.settings_file, paths.config_dir / "networks.toml",
        paths.log_dir / "chainfolio.log.1", paths.backups_dir / "chainfolio-r0006-1.sqlite3",
    ]  # fmt: skip
    for f in loose:
        f.write_text("x")
        f.chmod(0o644)
    other = paths.data_dir / "notes.txt"  # not ours: left alone
    other.write_text("x")
    other.chmod(0o644)
    paths.ensure()
    for d in (paths.data_dir, paths.log_dir, paths.backups_dir):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in loose:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert stat.S_IMODE(other.stat().st_mode) == 0o644
