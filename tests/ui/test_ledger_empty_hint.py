"""A new person with wallets opens the empty Transactions tab: it names the two ways the ledger
fills itself (the wallets' on-chain history, an exchange account's history), not only manual
entry and CSV."""

from __future__ import annotations

from app.ui.ledger_page import NO_ACCOUNTS


def test_empty_ledger_points_at_scan_history_and_exchange_import() -> None:
    assert "Wallets → Scan history…" in NO_ACCOUNTS
    assert "File → Exchange accounts…" in NO_ACCOUNTS
