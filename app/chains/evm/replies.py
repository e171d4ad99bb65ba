"""Strict checks of the node's replies: a node's trouble is never taken for a token's revert.

A token can only fail inside the reply: an aggregate3 sub-call with ``success = false``, or, in a
JSON-RPC batch (chains without Multicall3), an ``eth_call`` item whose error says the execution
reverted. Everything else that is not a well-formed answer to exactly the calls asked is the
node's fault: an error object such as -32000 "header not found", a result that is not hex, a
batch that is empty, short, repeats, invents or drops ids, or is no list at all. Those raise
:class:`~app.chains.http.ReplyError` (or ``RateLimited`` for -32005 and friends), so the
transport retries them, rotates to the next URL, and finally fails the chain, whose last
holdings are then carried over as stale.

A request the node refuses as too large or too costly (body size, gas) is neither: the reader
splits it, as it does when the whole aggregate3 reverted (a gas-burning token), to find out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.chains.evm import calls
from app.chains.http import RateLimited, ReplyError
from app.domain.text import clean_text

Reply = tuple[bool, bytes]
Kind = Literal["rate", "revert", "gas", "size", "node"]

_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_URL = re.compile(r"\w+://\S*")
_NOT_ONCE = "the RPC endpoint did not answer every request of a batch exactly once"


@dataclass(frozen=True, slots=True)
class Rejected:
    """The node refused a whole aggregate3 call for its size or cost, or it reverted as a
    whole: a smaller chunk may pass (``kind`` is "size", "gas" or "revert")."""

    kind: Kind
    reason: str


def classify(error: object) -> Kind:
    """What a JSON-RPC error object means, from its code and wording (providers differ)."""
    code = error.get("code") if isinstance(error, dict) else None
    text = str(error.get("message", "") if isinstance(error, dict) else error).lower()
    if code in (-32005, 429) or "rate limit" in text or "too many requests" in text:
        return "rate"
    if code == 3 or "revert" in text:
        return "revert"
    if "out of gas" in text or "gas required exceeds" in text or "gas limit" in text:
        return "gas"
    if code == -32600 or "too large" in text or "too big" in text or "size limit" in text:
        return "size"
    return "node"


def reason_of(error: object) -> str:
    """The node's own words, cleaned and short, without anything that looks like a URL."""
    message = error.get("message", "") if isinstance(error, dict) else error
    said = clean_text(_URL.sub("", str(message or "")), 80).strip(" .:")
    if classify(error) == "rate":
        return "the RPC endpoint is limiting requests" + (f" ({said})" if said else "")
    return "the RPC node answered an error" + (f" ({said})" if said else "")


def _raise_for(error: object) -> None:
    if classify(error) == "rate":
        raise RateLimited(reason_of(error))
    raise ReplyError(reason_of(error))


def hex_data(value: object) -> bytes:
    """``0x`` and whole bytes of hex digits, nothing else. ``bytes.fromhex`` refuses any other
    character but skips white space, hence the length check; a regex over each 1.5 MB reply
    cost 0.6 s of CPU per 40,000-balance refresh."""
    if isinstance(value, str) and value.startswith("0x"):
        try:
            data = bytes.fromhex(value[2:])
        except ValueError:
            pass
        else:
            if 2 * len(data) == len(value) - 2:
                return data
    raise ReplyError("the RPC node sent a result that is not hex data")


def quantity(value: object) -> int:
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise ReplyError("the RPC node sent a balance that is not a hex number")
    return int(value, 16)


def multicall_check(n: int, request_id: int) -> Callable[[Any], list[Reply] | Rejected]:
    """Checks the reply to one ``eth_call`` of aggregate3 with ``n`` sub-calls."""

    def check(reply: Any) -> list[Reply] | Rejected:
        if not isinstance(reply, dict):
            raise ReplyError("the RPC endpoint sent a malformed reply")
        if reply.get("error") is not None:
            kind = classify(reply["error"])
            if kind in ("revert", "gas", "size"):
                return Rejected(kind, reason_of(reply["error"]))
            _raise_for(reply["error"])
        if reply.get("id") != request_id:
            raise ReplyError("the RPC endpoint answered another request than the one sent")
        data = hex_data(reply.get("result"))
        try:
            out = calls.decode_aggregate3(data)
        except (ValueError, OverflowError):
            raise ReplyError("the RPC node sent a malformed multicall reply") from None
        if len(out) != n:
            raise ReplyError("the RPC node's multicall reply does not hold every call")
        return out

    return check


def batch_check(natives: Sequence[bool]) -> Callable[[Any], list[Reply]]:
    """Checks a JSON-RPC batch reply to requests with ids 0..n-1 (``natives[i]``: item i is
    ``eth_getBalance``, else ``eth_call``): every id exactly once, a result or an error."""
    n = len(natives)

    def check(reply: Any) -> list[Reply]:
        items = batch_items(reply, n)
        return [_item(items[i], natives[i]) for i in range(n)]

    return check


def batch_items(reply: Any, n: int) -> list[dict[str, Any]]:
    """The items of a batch reply to ids 0..n-1, in id order: every id exactly once. A reply
    that is one error object answers the whole batch (a rate limit, a body too large)."""
    if isinstance(reply, dict) and reply.get("error") is not None:
        _raise_for(reply["error"])
    if not isinstance(reply, list):
        raise ReplyError("the RPC endpoint did not answer the batch request with a batch")
    by_id: dict[int, dict[str, Any]] = {}
    for item in reply:
        i = item.get("id") if isinstance(item, dict) else None
        if type(i) is not int or not 0 <= i < n or i in by_id:
            raise ReplyError(_NOT_ONCE)
        by_id[i] = item
    if len(by_id) != n:
        raise ReplyError(_NOT_ONCE)
    return [by_id[i] for i in range(n)]


def _item(item: dict[str, Any], native: bool) -> Reply:
    error = item.get("error")
    if error is not None:
        if not native and classify(error) in ("revert", "gas"):
            return (False, b"")  # the token's own revert (or its gas burn): one CallFailure
        _raise_for(error)
    if native:
        value = quantity(item.get("result"))
        return (True, value.to_bytes(32, "big"))
    return (True, hex_data(item.get("result")))
