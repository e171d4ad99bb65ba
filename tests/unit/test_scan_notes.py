"""The scan's notes read as sentences: one entry "has", several "have" (no "entr(ies)")."""

from __future__ import annotations

from app.services.onchain_history import unpriced_note


def test_unpriced_note_counts_in_words() -> None:
    assert unpriced_note(1) == ("1 entry has no price at its time: its cost basis is unknown.")
    assert unpriced_note(3) == (
        "3 entries have no price at their time: their cost basis is unknown."
    )
