"""Checks of the replies the Solana reader uses, before any field is trusted.

Base64 replies go through solders' parsers. jsonParsed token accounts are checked by hand, field
by field: a solders round trip re-serialises every reply to JSON and cost more than the rest of
the parse together (4,000 accounts in a 200-wallet refresh). solana-py's own client accepts
every reply of the test server (an integration test), so both views of the format agree.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from solders.pubkey import Pubkey

from app.chains.solana.rpc import CallResult

U64_LIMIT = 2**64


class BadReply(Exception):
    pass


def parse_reply(cls: Any, result: CallResult) -> Any:
    """solders-validated parse of one reply; errors were screened out by the batch client."""
    if result.envelope is None:
        raise BadReply(result.error or "no reply")
    try:
        parsed = cls.from_json(json.dumps(result.envelope))
    except (ValueError, TypeError) as exc:
        raise BadReply("malformed RPC reply") from exc
    if not isinstance(parsed, cls):
        raise BadReply("RPC error reply")
    return parsed


def _mint_address(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError("mint is not text")
    return _checked_key(text)


@lru_cache(maxsize=65_536)  # a refresh sees thousands of accounts of a few mints
def _checked_key(text: str) -> str:
    Pubkey.from_string(text)  # raises ValueError for anything but a 32-byte base58 key
    return text


def token_holdings(result: CallResult, owner: str) -> list[tuple[str, int, int]]:
    """(mint, raw amount, decimals) of each non-empty account in a jsonParsed
    ``getTokenAccountsByOwner`` reply. Raises BadReply / ValueError / KeyError / TypeError."""
    if result.envelope is None:
        raise BadReply(result.error or "no reply")
    value = result.envelope["result"]["value"]
    if not isinstance(value, list):
        raise ValueError("value is not a list")
    out = []
    for item in value:
        info = item["account"]["data"]["parsed"]["info"]
        if info["owner"] != owner:
            raise ValueError("token account of another owner")
        amount = info["tokenAmount"]
        text, decimals = amount["amount"], amount["decimals"]
        if not (isinstance(text, str) and text.isascii() and text.isdigit()):
            raise ValueError("amount is not a whole number")
        if type(decimals) is not int or not 0 <= decimals <= 255:
            raise ValueError("decimals out of range")
        raw = int(text)
        if raw >= U64_LIMIT:
            raise ValueError("amount exceeds u64")
        if raw:
            out.append((_mint_address(info["mint"]), raw, decimals))
    return out
