"""What makes a message not written for a person: exception class names, dotted code paths and
setting keys. Tests of every screen and command that shows an error use :func:`leaks`."""

from __future__ import annotations

import re

# ClientConnectorDNSError, RuntimeError, ReadTimeout; keyring.backends.SecretService.Keyring
_CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout|Warning)\b")
_CODE_PATH = re.compile(r"\b[a-z_]+\.(?:[a-z_]+\.)+[A-Z][A-Za-z]+\b")


def leaks(text: str) -> list[str]:
    """What in ``text`` belongs in the log, not on screen (empty when it reads fine)."""
    from app.config import SETTINGS

    found = _CLASS_NAME.findall(text) + _CODE_PATH.findall(text)
    found += [key for key in SETTINGS if "." in key and key in text]
    return found
