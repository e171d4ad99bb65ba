"""Untrusted text (labels, token names and symbols) cleaned to safe plain text."""

from __future__ import annotations

import unicodedata

# Bidirectional overrides and isolates can make "USDC" display as something else.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def clean_text(text: str, max_length: int) -> str:
    """Strip control, format and bidi characters, fold whitespace, cap the length."""
    out: list[str] = []
    for ch in text:
        if ch in _BIDI:
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            if ch in "\t\n\r":
                out.append(" ")
            continue
        out.append(ch)
    cleaned = " ".join("".join(out).split())
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "…"
    return cleaned


def safe_cell(text: str) -> str:
    """Token symbols are hostile: keep spreadsheets from running them as formulas (CSV exports
    from the command line and from the window)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
