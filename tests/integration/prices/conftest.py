"""Fixtures for the price tests: a fresh database and an in-memory secret store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.storage.database import open_database


class MemorySecrets:
    """In-memory SecretStore (the keyring adapter is tested elsewhere)."""

    def __init__(self, **values: str) -> None:
        self._values = {k.replace("_", "."): v for k, v in values.items()}

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        self._values[name] = value

    def delete(self, name: str) -> None:
        self._values.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._values)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    yield eng
    eng.dispose()
