"""A full disk (a small tmpfs, when the tests run as root): one sentence saying so, the old
settings and every stored snapshot intact, no ``settings.toml.tmp`` left behind. The same
faults are simulated without root in tests/unit/test_storage_faults.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.storage.helpers import OTHER, WALLET, cli, history, one_sentence, seed

pytestmark = pytest.mark.integration


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte (again: a failed command may have
    freed its journal); returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, Path, list[tuple[object, ...]]]]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; test_storage_faults.py simulates it")
    data = tmp_path / "data"
    seed(data)
    assert cli(data, "config", "set", "currency", "EUR").returncode == 0
    assert cli(data, "wallets", "label", WALLET, "savings").returncode == 0
    before = history(data)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(data, mnt / "data")
        yield mnt / "data", _fill(mnt), before
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def _check_full(data: Path, before: list[tuple[object, ...]], settings: bytes) -> None:
    for argv, names in (
        (("wallets", "add", OTHER), str(data / "chainfolio.sqlite3")),
        (("wallets", "label", WALLET, "cold"), str(data / "chainfolio.sqlite3")),
        (("config", "set", "currency", "CHF"), str(data / "settings.toml")),
    ):
        done = cli(data, *argv)
        if done.returncode == 0:  # there was room for this one after all
            continue
        assert done.returncode == 1
        sentence = one_sentence(done.stderr, names, "full")
        assert "damaged" not in sentence
        assert not (data / "settings.toml.tmp").exists()
    assert [row for row in history(data) if row in before] == before


def test_no_byte_free(full_disk: tuple[Path, Path, list[tuple[object, ...]]]) -> None:
    data, _filler, before = full_disk
    settings = (data / "settings.toml").read_bytes()
    for argv in (("wallets", "add", OTHER), ("config", "set", "currency", "CHF")):
        _fill(data.parent)
        done = cli(data, *argv)
        assert done.returncode == 1, done.stdout
        sentence = one_sentence(done.stderr, "full")
        assert "damaged" not in sentence
    assert (data / "settings.toml").read_bytes() == settings
    assert not (data / "settings.toml.tmp").exists()
    _fill(data.parent)
    listing = cli(data, "wallets", "list")  # reads work on a full disk
    assert listing.returncode == 0 and WALLET in listing.stdout, listing.stderr
    _filler.unlink()
    assert history(data) == before


def test_64_kib_free(full_disk: tuple[Path, Path, list[tuple[object, ...]]]) -> None:
    data, filler, before = full_disk
    os.truncate(filler, filler.stat().st_size - 64 * 1024)
    settings = (data / "settings.toml").read_bytes()
    _check_full(data, before, settings)
    assert not (data / "settings.toml.tmp").exists()
    text = (data / "settings.toml").read_text()
    assert "EUR" in text or "CHF" in text
