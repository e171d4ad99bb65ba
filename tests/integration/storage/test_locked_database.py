"""A database locked by another program: a bounded wait, then one sentence; nothing lost."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.storage.helpers import (
    OTHER,
    WALLET,
    cli,
    history,
    offline,
    one_sentence,
    seed,
)

pytestmark = pytest.mark.integration
LOCKED = "is locked by another program. Close it (or the other Chainfolio) and try again."


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[Path, list[tuple[object, ...]]]]:
    data = tmp_path / "data"
    before = seed(data)
    offline(data)
    holder = sqlite3.connect(data / "chainfolio.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield data, before
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    "argv",
    [
        ("wallets", "add", OTHER),
        ("wallets", "label", WALLET, "savings"),
        ("refresh", "--once", "--json", "--chain", "eip155:1"),
    ],
    ids=["wallets-add", "wallets-label", "refresh"],
)
def test_locked_database_gives_one_sentence_and_loses_nothing(
    locked: tuple[Path, list[tuple[object, ...]]], argv: tuple[str, ...]
) -> None:
    data, before = locked
    done = cli(data, *argv)
    assert done.returncode == 1, done.stderr
    one_sentence(done.stderr, str(data / "chainfolio.sqlite3"), LOCKED)
    assert done.stdout == ""
    assert history(data) == before


def test_reads_work_while_another_program_writes(
    locked: tuple[Path, list[tuple[object, ...]]],
) -> None:
    data, before = locked
    listing = cli(data, "wallets", "list")
    assert listing.returncode == 0, listing.stderr
    assert WALLET in listing.stdout
    shown = cli(data, "history", "--json")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count('"time"') == 3
    assert history(data) == before
