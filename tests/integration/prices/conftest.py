"""Fixtures for the price tests: a fresh database and an in-memory secret store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.support.fakes import MemorySecrets

__all__ = ["MemorySecrets"]


@pytest.fixture
def engine(storage_engine: Engine) -> Iterator[Engine]:
    """The price store on SQLite and on PostgreSQL (tests/support/postgres.py)."""
    yield storage_engine
