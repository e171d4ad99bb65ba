"""The ``storage.url`` setting: where the history lives (empty: the SQLite file on this computer).

Light on purpose (no SQLAlchemy): `chainfolio config` loads every feature's settings. The
password never goes here; it is kept in the keyring as ``storage.password``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.config import SETTING_NAMES, Setting
from app.domain.errors import SettingsError

URL_ENV = "CHAINFOLIO_DATABASE_URL"
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def check_database_url(value: Any) -> None:
    """Empty, or ``postgresql://user@host[:port]/name`` without a password (never repeated)."""
    url = str(value).strip()
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(
            "The database address is not valid: write it as postgresql://user@host:5432/name."
        ) from None
    if parts.scheme.lower() not in SCHEMES:
        raise SettingsError(
            "The database address must start with postgresql:// (or be empty for the file on "
            "this computer)."
        )
    if parts.password is not None:
        raise SettingsError(
            "The database address holds a password: remove it from the address and store it in "
            "the keyring instead (chainfolio keys set storage.password)."
        )
    if not parts.hostname or not parts.path.strip("/"):
        raise SettingsError(
            "The database address needs a server and a database name: "
            "postgresql://user@host:5432/name."
        )


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "storage.url",
        "",
        "A shared PostgreSQL database for the history (postgresql://user@host:5432/name; the "
        "password goes in the keyring as storage.password); empty: the file on this computer.",
        str,
        check_database_url,
    ),
)

SETTING_NAMES.update({"storage.url": "The database address"})
