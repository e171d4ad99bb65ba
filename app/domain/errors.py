"""Errors the domain raises; each message is meant for the person using the app."""

from __future__ import annotations

import errno


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
