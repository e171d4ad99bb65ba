"""Spam heuristics for token metadata: airdrop bait names, URLs, "claim"/"visit" calls to action.

A pure function so every chain family (EVM, Solana) marks spam the same way. Spam tokens are
hidden by default, never deleted: a false positive costs one click to show.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(https?://|www\.|\b[a-z0-9-]{2,}\.(com|io|org|net|xyz|app|finance|site|top|gift|me|co|cc|vip|pro|link|claims?)\b)", re.I)  # fmt: skip
_BAIT = re.compile(r"\b(claim|visit|airdrop|reward|voucher|free|bonus|giveaway|redeem|eligible)\b", re.I)  # fmt: skip
_MONEY_BAIT = re.compile(r"[$€]\s?\d", re.I)


def spam_reason(symbol: str, name: str) -> str | None:
    """Why a token looks like spam, or None. Inputs should already be cleaned text."""
    for text in (symbol, name):
        if _URL.search(text):
            return "its name contains a web address"
        if m := _BAIT.search(text):
            return f"its name says {m.group(0).lower()!r}, a common airdrop-scam bait"
        if _MONEY_BAIT.search(text):
            return "its name advertises an amount of money"
    return None
