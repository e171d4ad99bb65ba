"""Fixtures for the price tests: a fresh database and an in-memory secret store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.storage.database import open_database
from tests.support.fakes import MemorySecrets

__all__ = ["MemorySecrets"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    yield eng
    eng.dispose()
