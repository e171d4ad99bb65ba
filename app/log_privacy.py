"""No addresses in the logs once the database is encrypted.

An encrypted database is pointless if the log beside it lists the wallets. When encryption is
on, every log line (message, arguments and exception text) goes through :func:`mask_addresses`:
anything shaped like an address is replaced — EVM (``0x`` + 40 hex digits, also inside CAIP
ids), Solana and other base58 keys (32–44 characters), Bitcoin bech32 addresses and extended
public keys — and so is every watched address given by value (an ENS name, say).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from app import logging_setup

MASK = "«address»"
_SHAPES = (
    re.compile(r"0x[0-9a-fA-F]{40}(?![0-9a-fA-F])"),
    re.compile(r"(?<![0-9A-Za-z])[xyzXYZtuv]pub[1-9A-HJ-NP-Za-km-z]{100,112}(?![0-9A-Za-z])"),
    re.compile(r"(?<![0-9A-Za-z])(?:bc1|tb1|bcrt1)[02-9ac-hj-np-z]{11,87}(?![0-9A-Za-z])", re.I),
    re.compile(r"(?<![0-9A-Za-z])[1-9A-HJ-NP-Za-km-z]{32,44}(?![0-9A-Za-z])"),
)
_watched: set[str] = set()
_lock = threading.Lock()
_installed = False


def mask_addresses(text: str) -> str:
    for shape in _SHAPES:
        text = shape.sub(MASK, text)
    with _lock:
        values = sorted(_watched, key=len, reverse=True)
    for value in values:
        text = re.sub(re.escape(value), MASK, text, flags=re.IGNORECASE)
    return text


def watch(values: Iterable[str]) -> None:
    """Mask these values too (watched addresses and names), whatever their shape."""
    with _lock:
        _watched.update(v for v in values if len(v) >= 4)


class AddressFilter(logging_setup.RedactingFilter):
    """For handlers the app did not make (they lack the redacting filter)."""


_added: list[tuple[logging.Handler, logging.Filter]] = []


def mask_addresses_in_logs(watched: Iterable[str] = ()) -> None:
    """From now on, no log line in this process holds an address (idempotent)."""
    global _installed
    watch(watched)
    if not _installed:
        _installed = True
        logging_setup.EXTRA_REDACTORS.append(mask_addresses)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, logging_setup.RedactingFilter) for f in handler.filters):
            added = AddressFilter()
            handler.addFilter(added)
            _added.append((handler, added))


def stop_masking() -> None:
    """Undo :func:`mask_addresses_in_logs` (a process that goes on without the encrypted data,
    and tests that must leave the process as they found it)."""
    global _installed
    if mask_addresses in logging_setup.EXTRA_REDACTORS:
        logging_setup.EXTRA_REDACTORS.remove(mask_addresses)
    for handler, added in _added:
        handler.removeFilter(added)
    _added.clear()
    with _lock:
        _watched.clear()
    _installed = False


def masking() -> bool:
    return _installed


def scrub_log_files(log_dir: Path) -> int:
    """Mask addresses in the log files already written (when the database gets encrypted,
    the lines from before must not keep what the database now hides). Returns files changed."""
    changed = 0
    for path in sorted(log_dir.glob("chainfolio.log*")):
        try:
            with path.open("r+", encoding="utf-8", errors="replace") as f:
                text = f.read()
                masked = mask_addresses(text)
                if masked == text:
                    continue
                # In place, not replaced: the open log handler keeps appending to this file.
                f.seek(0)
                f.write(masked)
                f.truncate()
                changed += 1
        except OSError as exc:
            logging.getLogger(__name__).warning("could not clean the log file %s: %s", path, exc)
    return changed
