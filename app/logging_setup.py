"""Logging: a rotating file in the log dir, console only with ``--verbose``.

A filter redacts anything shaped like a secret (private keys, seed phrases) and every secret
value registered at run time (API keys read from the keyring), in messages and in arguments.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

LOG_FILE_NAME = "chainfolio.log"
_SECRET_SHAPES = (
    re.compile(r"\b(?:0x)?[0-9a-fA-F]{64}\b"),
    re.compile(r"\b(?:[a-z]{3,8}\s+){11,23}[a-z]{3,8}\b"),
)
_registered: set[str] = set()
_lock = threading.Lock()
REDACTED = "«redacted»"
# More redactors, applied after the secrets (app.log_privacy: addresses, with encryption on).
EXTRA_REDACTORS: list[Callable[[str], str]] = []


def register_secret(value: str) -> None:
    """Make sure ``value`` never appears in a log line from now on."""
    if len(value) >= 4:
        with _lock:
            _registered.add(value)


def redact(text: str) -> str:
    """``text`` without secrets: wallet-secret shapes, the keys of keyed URLs (every form
    :func:`app.domain.secret_text.split_url_secrets` knows, registered or not: httpx logs each
    request's URL) and every registered value."""
    from app.domain.secret_text import redact_secrets

    text = redact_secrets(text)
    for shape in _SECRET_SHAPES:
        text = shape.sub(REDACTED, text)
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for extra in list(EXTRA_REDACTORS):
        text = extra(text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now so that it goes through the redactor too.
            formatter = logging.Formatter()
            cleaned = cleaned + "\n" + redact(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg = cleaned
        record.args = None
        return True


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written any more (a full disk), it says so once on
    stderr and drops later lines instead of printing a traceback for each."""

    _failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self._failed:
            self._failed = True
            print(
                f"chainfolio: warning: the log file {self.baseFilename} cannot be written "
                "(is the disk full?); later log lines are dropped.",
                file=sys.stderr,
            )

    def emit(self, record: logging.LogRecord) -> None:
        if not self._failed:
            super().emit(record)


def _open_log_file(path: Path) -> logging.Handler | None:
    """The rotating log file, private to the user; None when it cannot be opened (a read-only
    or full data folder): the app then logs warnings to stderr, after saying so once."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        return _LogFile(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        print(
            f"chainfolio: warning: the log file {path} cannot be written "
            f"({exc.strerror or exc}); warnings go to the screen instead.",
            file=sys.stderr,
        )
        return None


def setup_logging(log_dir: Path, level: str = "info", verbose: bool = False) -> Path:
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_chainfolio", False):
            root.removeHandler(handler)
            handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    opened = _open_log_file(path)
    file_handler = opened or logging.StreamHandler()
    if opened is None and not verbose:
        level = "warning"
        file_handler.setFormatter(logging.Formatter("chainfolio: %(levelname)s: %(message)s"))
    else:
        file_handler.setFormatter(fmt)
    file_handler.addFilter(RedactingFilter())
    file_handler.setLevel(logging.DEBUG if verbose else getattr(logging, level.upper()))
    file_handler._chainfolio = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if verbose and opened is not None:
        console = logging.StreamHandler()
        console.setFormatter(fmt)
        console.addFilter(RedactingFilter())
        console.setLevel(logging.DEBUG)
        console._chainfolio = True  # type: ignore[attr-defined]
        root.addHandler(console)
    root.setLevel(logging.DEBUG if verbose else min(logging.INFO, file_handler.level))
    for noisy in ("httpx", "httpcore", "asyncio", "web3", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not verbose else logging.INFO)
    return path
