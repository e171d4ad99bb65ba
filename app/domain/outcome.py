"""What a refresh tells the person: ok / partial / failed, and why, in plain words.

Chain readers report a human reason per chain ("the RPC endpoint timed out"); a refresh of a
dozen chains that all fail for the same cause should read as one sentence ("No network
connection: 11 chains unreachable"), never as a list of exception names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

_CLASS_NAME = re.compile(r"\s*\((?:[A-Za-z_][\w.]*(?:Error|Exception|Timeout|Warning))\)")


class RefreshStatus(enum.StrEnum):
    OK = "ok"  # every chain with a wallet on it was read in full
    PARTIAL = "partial"  # some were read; others failed or ran out of time (carried over)
    FAILED = "failed"  # nothing could be read
    EMPTY = "empty"  # nothing to read: no wallet is watched


class Cause(enum.StrEnum):
    OFFLINE = "offline"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    WRONG_CHAIN = "wrong_chain"
    BAD_REPLY = "bad_reply"
    REFUSED = "refused"
    OTHER = "other"


_PATTERNS: tuple[tuple[Cause, tuple[str, ...]], ...] = (
    (Cause.WRONG_CHAIN, ("serves chain", "wrong chain", "chain id")),
    (Cause.RATE_LIMITED, ("rate limit", "rate-limit", "429", "-32005", "limit exceeded")),
    (Cause.TIMEOUT, ("timed out", "did not answer within", "timeout")),
    (
        Cause.OFFLINE,
        (
            "could not be reached",
            "connecterror",
            "connection refused",
            "name or service",
            "name resolution",
            "dns",
            "getaddrinfo",
            "network is unreachable",
            "no route to host",
            "offline",
        ),
    ),
    (Cause.BAD_REPLY, ("not json", "malformed", "could not be decoded", "unreadable", "reply")),
    (Cause.REFUSED, ("refused", "http 4", "http 5", "forbidden", "unauthorized")),
)

_GROUP_TEXT = {
    Cause.OFFLINE: ("No network connection", "unreachable"),
    Cause.TIMEOUT: ("No answer in time", "timed out"),
    Cause.RATE_LIMITED: ("Too many requests", "rate-limited"),
    Cause.WRONG_CHAIN: ("Wrong network", "RPC URL serves another chain"),
    Cause.BAD_REPLY: ("Unreadable replies", "sent replies that could not be read"),
    Cause.REFUSED: ("Requests refused", "refused the requests"),
}


def plain_reason(reason: str | None) -> str:
    """The reason without exception class names in parentheses; never empty."""
    text = _CLASS_NAME.sub("", reason or "").strip()
    return text or "the reason is unknown"


def cause_of(reason: str | None) -> Cause:
    text = (reason or "").lower()
    for cause, needles in _PATTERNS:
        if any(n in text for n in needles):
            return cause
    return Cause.OTHER


def _chains(n: int) -> str:
    return f"{n} chain{'s' if n != 1 else ''}"


def summarize_failures(failed: Sequence[tuple[str, str | None]]) -> str:
    """One sentence for chains that could not be read, grouped by cause.

    ``failed`` holds (chain name, reason). One chain is named; several with one cause are
    counted: "No network connection: 11 chains unreachable".
    """
    groups: dict[Cause, list[tuple[str, str | None]]] = {}
    for name, reason in failed:
        groups.setdefault(cause_of(reason), []).append((name, reason))
    parts: list[str] = []
    for cause, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        if len(members) == 1:
            name, reason = members[0]
            parts.append(f"{name}: {plain_reason(reason).rstrip('.')}")
        elif cause is Cause.OTHER:
            names = ", ".join(n for n, _ in members[:3]) + ("…" if len(members) > 3 else "")
            parts.append(f"{_chains(len(members))} could not be read ({names})")
        else:
            head, tail = _GROUP_TEXT[cause]
            parts.append(f"{head}: {_chains(len(members))} {tail}")
    return "; ".join(parts)
