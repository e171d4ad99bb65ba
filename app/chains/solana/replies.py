"""Checks of the replies the Solana reader uses, before any field is trusted.

Base64 replies go through solders' parsers. jsonParsed token accounts are decoded by msgspec into
typed structs that keep only the fields the reader uses (a wrong type or a missing field is a
malformed reply), then checked by hand: a solders round trip re-serialises every reply to JSON
and cost more than the rest of the parse together (4,000 accounts in a 200-wallet refresh).
solana-py's own client accepts every reply of the test server (an integration test), so both
views of the format agree.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import msgspec
from solders.pubkey import Pubkey

from app.chains.solana.rpc import CallResult

U64_LIMIT = 2**64


class BadReply(Exception):
    pass


def parse_reply(cls: Any, result: CallResult) -> Any:
    """solders-validated parse of one reply; errors were screened out by the batch client."""
    if result.result is None:
        raise BadReply(result.error or "no reply")
    try:
        text = bytes(result.result).decode()
        parsed = cls.from_json('{"jsonrpc":"2.0","id":0,"result":' + text + "}")
    except (ValueError, TypeError) as exc:
        raise BadReply("malformed RPC reply") from exc
    if not isinstance(parsed, cls):
        raise BadReply("RPC error reply")
    return parsed


# Only strings, ints and each other: no cycles, so the thousands decoded per refresh stay out of
# the garbage collector's tracking (gc=False).
class _Amount(msgspec.Struct, gc=False):
    amount: str
    decimals: Annotated[int, msgspec.Meta(ge=0, le=255)]


class _Info(msgspec.Struct, gc=False):
    mint: str
    owner: str
    token_amount: _Amount = msgspec.field(name="tokenAmount")


class _Parsed(msgspec.Struct, gc=False):
    info: _Info


class _Data(msgspec.Struct, gc=False):
    parsed: _Parsed


class _Account(msgspec.Struct, gc=False):
    data: _Data


class _Keyed(msgspec.Struct, gc=False):
    pubkey: str
    account: _Account


class _TokenAccounts(msgspec.Struct, gc=False):
    value: list[_Keyed]


_TOKEN_ACCOUNTS = msgspec.json.Decoder(_TokenAccounts)


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
    ``getTokenAccountsByOwner`` reply; an account listed twice counts once. Raises BadReply,
    or ValueError naming what is wrong."""
    if result.result is None:
        raise BadReply(result.error or "no reply")
    value = _TOKEN_ACCOUNTS.decode(result.result).value  # msgspec.ValidationError: a ValueError
    out = []
    seen: set[str] = set()
    for item in value:
        if item.pubkey in seen:
            continue
        seen.add(item.pubkey)
        info = item.account.data.parsed.info
        if info.owner != owner:
            raise ValueError("token account of another owner")
        text, decimals = info.token_amount.amount, info.token_amount.decimals
        if not (text.isascii() and text.isdigit()):
            raise ValueError("amount is not a whole number")
        raw = int(text)
        if raw >= U64_LIMIT:
            raise ValueError("amount exceeds u64")
        if raw:
            out.append((_mint_address(info.mint), raw, decimals))
    return out
