"""``wallets remove`` while a refresh runs: the snapshot written after it leaves that wallet out,
decided in the same transaction as the write, and keeps everything else."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from app.domain.addresses import AddressFamily
from app.domain.model import Wallet
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore
from app.storage.wallet_store import SqlWalletRepository
from tests.integration.storage.helpers import OTHER, WALLET, snapshot


def _two_wallet_snapshot(taken_at: int) -> Snapshot:
    mine, gone = snapshot(taken_at, 10**18), snapshot(taken_at, 3 * 10**18, wallet=OTHER)
    account = LendingAccount(
        wallet=f"eip155:1:{OTHER}", protocol="aave-v3", chain="eip155:1", market="",
        collateral=Decimal(5), debt=Decimal(1), liquidation_threshold=Decimal("0.8"),
        health_factor=Decimal(4), collateral_assets=(), debt_assets=(),
    )  # fmt: skip
    return replace(mine, holdings=mine.holdings + gone.holdings, accounts=(account,))


def test_holdings_of_a_wallet_removed_mid_refresh_are_left_out(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = open_database(db, tmp_path / "backups")
    repo = SqlWalletRepository(engine)
    repo.add(Wallet(address=WALLET, family=AddressFamily.EVM))
    other = repo.add(Wallet(address=OTHER, family=AddressFamily.EVM))
    store = SqlSnapshotStore(engine, watched_only=True)  # as the refresh pipeline's
    earlier = store.write(_two_wallet_snapshot(1_700_000_000))
    built = _two_wallet_snapshot(1_700_003_600)  # read while both were watched
    repo.remove(other.id or 0)  # then the person removes one
    later = store.write(built)
    stored = store.latest()
    assert stored is not None and stored.id == later
    assert {h.wallet for h in stored.holdings} == {f"eip155:1:{WALLET}"}
    assert stored.accounts == ()
    assert stored.total == snapshot(0, 10**18).total
    con = sqlite3.connect(db)
    (total,) = con.execute("SELECT total FROM snapshots WHERE id = ?", (later,)).fetchone()
    keys = {k for (k,) in con.execute(
        "SELECT key FROM snapshot_breakdown WHERE snapshot_id = ? AND kind = 'wallet'", (later,)
    )}  # fmt: skip
    assert Decimal(total) == stored.total and keys <= {WALLET, f"eip155:1:{WALLET}"}
    # The snapshot taken before the removal keeps the removed wallet's history.
    (kept,) = con.execute(
        "SELECT count(*) FROM snapshot_holdings WHERE snapshot_id = ?", (earlier,)
    ).fetchone()
    assert kept == 2
    con.close()
    engine.dispose()
