"""Set-up only: holdings as ``SqlSnapshotStore`` stores them (revision 0018), for benchmarks
that bulk-load years of snapshots straight into a fresh database (the product writes through
its store). Each wallet, asset id, position and symbol is numbered once, in ``holding_texts``;
``snapshot_rows`` point at them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.snapshot import SnapshotHolding

INSERT_TEXTS = "INSERT INTO holding_texts (id, text) VALUES (?, ?)"
ROW_COLUMNS = (
    "snapshot_id, wallet_ref, asset_ref, position_ref, symbol_ref, decimals, raw, price, value, "
    "state, as_of, is_spam"
)
INSERT_ROWS = f"INSERT INTO snapshot_rows ({ROW_COLUMNS}) VALUES ({', '.join(['?'] * 12)})"


class HoldingRows:
    """Numbers texts as it meets them (for a database with no holding texts yet)."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}
        self._new: list[tuple[int, str]] = []

    def ref(self, text: str) -> int:
        number = self.texts.get(text)
        if number is None:
            number = self.texts[text] = len(self.texts) + 1
            self._new.append((number, text))
        return number

    def rows(self, snapshot_id: int, holdings: Iterable[SnapshotHolding]) -> list[tuple[Any, ...]]:
        """One ``snapshot_rows`` tuple per holding (``INSERT_ROWS``'s columns, in order)."""
        ref = self.ref
        return [
            (snapshot_id, ref(h.wallet), ref(h.asset_id), ref(h.position), ref(h.symbol),
             h.decimals, str(h.raw), None if h.price is None else str(h.price),
             None if h.value is None else str(h.value), h.state.value, h.as_of,
             bool(h.is_spam))
            for h in holdings
        ]  # fmt: skip

    def new_texts(self) -> list[tuple[int, str]]:
        """The texts numbered since the last call (``INSERT_TEXTS``'s columns)."""
        new, self._new = self._new, []
        return new
