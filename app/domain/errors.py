"""Errors the domain raises; each message is meant for the person using the app."""

from __future__ import annotations

import errno
import logging


class ChainfolioError(Exception):
    """Base of every error the app reports to a person (CLI message or dialog text)."""


class InvalidAddressError(ChainfolioError, ValueError):
    """Text that is not a usable watch-only address."""


class SecretInputError(InvalidAddressError):
    """Text that looks like a private key or seed phrase.

    The message never repeats the input: the secret must not reach logs or tracebacks.
    """


class DuplicateWalletError(ChainfolioError):
    """The address is already being watched."""


class WalletNotFoundError(ChainfolioError):
    """No wallet with that address or id."""


class SettingsError(ChainfolioError, ValueError):
    """A setting key or value that is not valid."""


class DatabaseError(ChainfolioError):
    """The local database cannot be used (newer version, damaged, locked)."""


def os_error_sentence(exc: OSError) -> str | None:
    """One sentence for a file the app could not write, naming it; None for other errors."""
    where = exc.filename or "a file Chainfolio keeps"
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"The disk holding {where} is full: free some space and try again."
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"Chainfolio may not write {where} (read-only or not yours): make it writable, "
            "or choose another folder with --data-dir."
        )
    return None


def user_message(exc: BaseException, doing: str) -> str:
    """One plain sentence about ``exc`` for a person; ``doing`` names the action ("Saving the
    settings"). The caller logs ``exc`` with its traceback: the technical detail (exception class,
    backend, errno) belongs in the log, never on screen.

    - A :class:`ChainfolioError` is already written for a person: its text, minus any exception
      class name in parentheses.
    - A file problem (``OSError``) says what happened to which file.
    - Anything else is a bug: the action failed unexpectedly, and the log has the details.
    """
    from app.domain.outcome import plain_reason

    if isinstance(exc, ChainfolioError):
        return plain_reason(str(exc))
    if isinstance(exc, TimeoutError):
        return f"{doing} took too long and was stopped; try again."
    if isinstance(exc, OSError):
        sentence = os_error_sentence(exc)
        if sentence is not None:
            return sentence
        where = f" ({exc.filename})" if exc.filename else ""
        reason = (exc.strerror or "the system refused").rstrip(".").lower()
        return f"{doing} failed: {reason}{where}."
    return f"{doing} failed unexpectedly; the details are in the log."


def report(exc: BaseException, doing: str, logger: logging.Logger) -> str:
    """Log ``exc`` in full (traceback for anything that is not a :class:`ChainfolioError`) and
    return :func:`user_message` for the screen: the one path from an exception to a message."""
    if isinstance(exc, ChainfolioError):
        logger.info("%s: %s", doing, exc)
    else:
        logger.warning("%s failed", doing, exc_info=(type(exc), exc, exc.__traceback__))
    return user_message(exc, doing)
