"""Untrusted text (labels, token names and symbols) cleaned to safe plain text, and the rules
for text a person types: wallet secrets refused, a length cap, URLs checked strictly.

Text a person types is refused, not cut, when it is over its cap: the person learns at once
that it did not fit (the window's fields stop typing at the cap). Text from chains and APIs
(token names and symbols) is cut with "…" by :func:`clean_text`: nobody can retype it.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from app.domain.errors import ChainfolioError
from app.domain.secret_text import refuse_secret, refuse_url_secret

# Caps of the free text a person types (the database and files never hold more).
MAX_NETWORK_NAME = 60
MAX_SYMBOL = 12
MAX_URL = 2048
MAX_CHAIN_REFERENCE = 100  # a network or asset named on the command line

# Bidirectional overrides and isolates can make "USDC" display as something else.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class InvalidTextError(ChainfolioError, ValueError):
    """Typed text that cannot be stored: too long, empty where it is needed, or not a URL."""


def _plain(text: str) -> str:
    """Control, format and bidi characters removed, whitespace folded to single spaces."""
    out: list[str] = []
    for ch in text:
        if ch in _BIDI:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            if ch in "\t\n\r":
                out.append(" ")
            continue
        out.append(ch)
    return " ".join("".join(out).split())


def clean_text(text: str, max_length: int) -> str:
    """Strip control, format and bidi characters, fold whitespace, cap the length."""
    cleaned = _plain(text)
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "…"
    return cleaned


def safe_cell(text: str) -> str:
    """Token symbols are hostile: keep spreadsheets from running them as formulas (CSV exports
    from the command line and from the window)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def person_text(text: str, field: str, max_length: int, *, required: bool = False) -> str:
    """Text a person typed, ready to store: never a wallet secret, never over ``max_length``.

    Raises SecretInputError or InvalidTextError with a message that names ``field`` and never
    repeats the text.
    """
    refuse_secret(text, field)
    cleaned = _plain(text)
    if len(cleaned) > max_length:
        raise InvalidTextError(
            f"The {field} is too long ({len(cleaned):,} characters): up to {max_length} fit. "
            "It was not saved."
        )
    if required and not cleaned:
        raise InvalidTextError(f"The {field} is empty: enter one.")
    return cleaned


_HOST = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def _bad_url(field: str, why: str) -> InvalidTextError:
    return InvalidTextError(f"The {field} is not a usable URL: {why} It was not saved.")


def check_url(
    text: str,
    field: str,
    *,
    schemes: tuple[str, ...] = ("http", "https"),
    max_length: int = MAX_URL,
    keyed: bool = True,
) -> str:
    """A URL exactly as typed, checked strictly: scheme, host, no spaces or control characters.

    Nothing is trimmed or repaired. The message names ``field`` but never repeats the URL: it
    may hold a provider key. ``keyed``: the URL may carry a provider key (an RPC URL, whose key
    goes to the keyring), so 64 hex digits in a key's place are a key, not a private key.
    """
    if keyed:
        refuse_url_secret(text, field)
    else:
        refuse_secret(text, field)
    if len(text) > max_length:
        raise _bad_url(field, f"it is longer than {max_length} characters.")
    if any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text):
        raise _bad_url(field, "it contains spaces, line breaks or invisible characters.")
    allowed = " or ".join(f"{s}://" for s in schemes)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _bad_url(field, "its host or port cannot be read.") from None
    if parts.scheme.lower() not in schemes or not text.lower().startswith(
        parts.scheme.lower() + "://"
    ):
        raise _bad_url(field, f"it must start with {allowed}.")
    host = parts.hostname or ""
    if not host:
        raise _bad_url(field, "it has no host name.")
    if not host.isascii() or not _valid_host(host):
        raise _bad_url(field, "its host name is not valid (use the punycode form of a name).")
    if port == 0:
        raise _bad_url(field, "port 0 cannot be used.")
    return text


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST.match(host))
    return True
