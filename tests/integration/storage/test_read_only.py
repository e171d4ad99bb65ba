"""A read-only data folder or database file: reads keep working, writes say why not."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.storage.helpers import OTHER, WALLET, cli, history, one_sentence, seed

pytestmark = pytest.mark.integration


def _chmod_tree(root: Path, dirs: int, files: int) -> None:
    for here, subdirs, names in os.walk(root):
        for name in names:
            os.chmod(Path(here) / name, files)
        for name in subdirs:
            os.chmod(Path(here) / name, dirs)
    os.chmod(root, dirs)


def _seeded(tmp_path: Path) -> tuple[Path, list[tuple[object, ...]]]:
    data = tmp_path / "data"
    seed(data)
    assert cli(data, "config", "set", "currency", "EUR").returncode == 0
    assert cli(data, "wallets", "label", WALLET, "savings").returncode == 0
    return data, history(data)


def _reads_work(data: Path) -> None:
    listing = cli(data, "wallets", "list", drop_root=True)
    assert listing.returncode == 0, listing.stderr
    assert WALLET in listing.stdout and "savings" in listing.stdout
    assert quiet(listing.stderr)
    shown = cli(data, "history", "--json", drop_root=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count('"time"') == 3 and '"EUR"' in shown.stdout
    exported = cli(data, "export", "holdings", "--csv", drop_root=True)
    assert exported.returncode == 0, exported.stderr
    assert WALLET in exported.stdout


def quiet(stderr: str) -> bool:
    """At most one warning (the log file), never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "Traceback" not in stderr and len(lines) <= 1


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, list[tuple[object, ...]]]]:
    data, before = _seeded(tmp_path)
    _chmod_tree(data, 0o500, 0o400)
    try:
        yield data, before
    finally:
        _chmod_tree(data, 0o700, 0o600)


def test_read_only_folder_still_lists_and_shows_history(
    read_only_folder: tuple[Path, list[tuple[object, ...]]],
) -> None:
    data, before = read_only_folder
    _reads_work(data)
    listing = cli(data, "wallets", "list", drop_root=True)
    assert "log" in listing.stderr  # the one warning: the log file could not be opened
    added = cli(data, "wallets", "add", OTHER, drop_root=True)
    assert added.returncode == 1
    one_sentence(added.stderr, str(data / "chainfolio.sqlite3"), "read-only")
    saved = cli(data, "config", "set", "currency", "USD", drop_root=True)
    assert saved.returncode == 1
    one_sentence(saved.stderr, "settings.toml")
    assert history(data) == before
    assert "EUR" in (data / "settings.toml").read_text()


def test_read_only_database_file(tmp_path: Path) -> None:
    data, before = _seeded(tmp_path)
    db = data / "chainfolio.sqlite3"
    db.chmod(0o400)
    try:
        _reads_work(data)
        for argv in (("wallets", "add", OTHER), ("wallets", "label", WALLET, "x")):
            done = cli(data, *argv, drop_root=True)
            assert done.returncode == 1
            one_sentence(done.stderr, str(db), "read-only")
    finally:
        db.chmod(0o600)
    assert history(data) == before


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[tuple[Path, list[tuple[object, ...]]]]:
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root (the chmod test above covers the same case)")
    data, before = _seeded(tmp_path)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(data, mnt / "data")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        yield mnt / "data", before
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_read_only_file_system(read_only_mount: tuple[Path, list[tuple[object, ...]]]) -> None:
    data, before = read_only_mount
    _reads_work(data)
    added = cli(data, "wallets", "add", OTHER)
    assert added.returncode == 1
    one_sentence(added.stderr, "read-only")
    assert history(data) == before
