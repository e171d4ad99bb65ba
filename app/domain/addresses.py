"""Watch-only address parsing: EVM (EIP-55), Solana (base58 ed25519 public keys), ENS names.

Anything that looks like a secret is refused before any other check, with a message that
never repeats the input (it must not reach logs, tracebacks or the database).
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

import base58

from app.domain.errors import InvalidAddressError, SecretInputError
from app.domain.secret_text import refuse_secret

_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
_WORD = re.compile(r"^[a-zA-Z]+$")
_ENS = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+eth$")
_EXTENDED_PRIVATE = ("xprv", "yprv", "zprv", "tprv")

MNEMONIC_WORD_COUNTS = frozenset({12, 15, 18, 21, 24})


class AddressFamily(enum.StrEnum):
    EVM = "evm"
    SOLANA = "solana"
    BITCOIN = "bitcoin"


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """A validated watch-only address in its canonical form (EIP-55 or base58).

    A Bitcoin extended key or descriptor is named by its first receive address; ``watch`` is
    then the key or descriptor itself (see :mod:`app.domain.bitcoin`)."""

    family: AddressFamily
    address: str
    watch: str | None = None


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case checksum of a 20-byte hex address."""
    # eth-hash looks its own version up in the installed packages' metadata when imported
    # (~30 ms): imported by the first checksum, not by every process that parses an address.
    from eth_hash.auto import keccak

    lower = address.lower().removeprefix("0x")
    digest = keccak(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


def check_not_secret(text: str) -> None:
    """Raise SecretInputError when ``text`` looks like a private key or a seed phrase."""
    stripped = text.strip()
    if _HEX64.match(stripped):
        raise SecretInputError(
            "This looks like a private key (64 hex digits), not an address. It was not saved. "
            "Chainfolio only needs your public address; never paste a private key anywhere."
        )
    words = stripped.split()
    if len(words) >= 11 and all(_WORD.match(w) for w in words):
        raise SecretInputError(
            f"This looks like a seed phrase ({len(words)} words), not an address. It was not saved. "
            "Anyone with these words controls your funds: keep them offline, and paste only the "
            "public address here."
        )
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            values = json.loads(stripped)
        except ValueError:
            values = None
        if (
            isinstance(values, list)
            and len(values) in (32, 64)
            and all(isinstance(v, int) and 0 <= v <= 255 for v in values)
        ):
            raise SecretInputError(
                "This looks like a Solana secret key (a keypair file's byte array), not an address. "
                "It was not saved. Paste the wallet's public address instead."
            )
    if stripped[:4].lower() in _EXTENDED_PRIVATE and len(stripped) > 100:
        raise SecretInputError(
            "This looks like an extended private key, not an address. It was not saved."
        )
    if _BASE58.match(stripped) and 80 <= len(stripped) <= 90:
        try:
            decoded = base58.b58decode(stripped)
        except ValueError:
            return
        if len(decoded) == 64:
            raise SecretInputError(
                "This looks like a Solana secret key (64 bytes in base58), not an address. "
                "It was not saved. Paste the wallet's public address instead."
            )


def is_ens_name(text: str) -> bool:
    return bool(_ENS.match(text.strip().lower()))


def parse_evm_address(text: str) -> str:
    """Return the EIP-55 form of an EVM address; reject a mixed-case one with a bad checksum."""
    stripped = text.strip()
    if not _HEX40.match(stripped):
        raise InvalidAddressError("An EVM address is 0x followed by 40 hexadecimal digits.")
    body = stripped[2:]
    checksummed = to_checksum_address(stripped)
    is_mixed = body != body.lower() and body != body.upper()
    if is_mixed and checksummed != stripped:
        raise InvalidAddressError(
            "This EVM address has a wrong EIP-55 checksum (the upper/lower case letters do not "
            "match). It may have a typo: copy it again from your wallet."
        )
    return checksummed


def parse_solana_address(text: str) -> str:
    """Return a Solana public key (base58 of exactly 32 bytes)."""
    stripped = text.strip()
    if not _BASE58.match(stripped) or not 32 <= len(stripped) <= 44:
        raise InvalidAddressError(
            "A Solana address is 32 to 44 base58 characters (no 0, O, I or l)."
        )
    decoded = base58.b58decode(stripped)
    if len(decoded) != 32:
        raise InvalidAddressError(
            f"This base58 text decodes to {len(decoded)} bytes; a Solana address has 32."
        )
    return stripped


def parse_address(text: str) -> ParsedAddress:
    """Detect the family from the text and validate it.

    Secrets are checked first so that a pasted key gets the warning, not a format error.
    """
    check_not_secret(text)
    stripped = text.strip()
    if not stripped:
        raise InvalidAddressError("Enter an address.")
    refuse_secret(stripped, "wallet address")  # and the kinds above does not know (WIF, …)
    if stripped.lower().startswith("0x"):
        return ParsedAddress(AddressFamily.EVM, parse_evm_address(stripped))
    from app.domain.bitcoin import WatchKind, looks_like_bitcoin, parse_bitcoin

    if looks_like_bitcoin(stripped):
        key = parse_bitcoin(stripped)
        watch = None if key.kind is WatchKind.ADDRESS else key.text
        return ParsedAddress(AddressFamily.BITCOIN, key.first_address, watch)
    if _BASE58.match(stripped):
        return ParsedAddress(AddressFamily.SOLANA, parse_solana_address(stripped))
    raise InvalidAddressError(
        "Not a recognised address: enter an EVM address (0x…), a Solana address (base58), or "
        "a Bitcoin address, extended public key (xpub, ypub, zpub) or descriptor."
    )
