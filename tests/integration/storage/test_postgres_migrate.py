"""``chainfolio storage migrate --to URL``: an SQLite history into PostgreSQL and back, checked;
a copy stopped half-way leaves the target empty; a target with data is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.domain.errors import DatabaseError
from app.domain.ledger import Transaction, TxKind
from app.storage.database import open_database
from app.storage.ledger_store import SqlLedgerStore
from app.storage.postgres import open_postgres
from app.storage.postgres_migrate import copy_history
from app.storage.snapshot_store import SqlSnapshotStore
from app.storage.tables import ledger_accounts, snapshot_holdings, snapshots
from tests.integration.storage.helpers import ROOT, TRACEBACK, WALLET, seed, snapshot
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.integration
HUGE = Decimal("123456789012345678901234567.123456789012345678")


def _cli(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO_")}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", PGPASSWORD=PASSWORD)
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *argv],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=180,
    )  # fmt: skip


def _history(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as con:
        rows = con.execute(
            select(snapshots.c.id, snapshots.c.taken_at, snapshots.c.total).order_by(snapshots.c.id)
        ).all()
        holdings = con.execute(
            select(
                snapshot_holdings.c.snapshot_id,
                snapshot_holdings.c.raw,
                snapshot_holdings.c.value,
                snapshot_holdings.c.is_spam,
            ).order_by(snapshot_holdings.c.snapshot_id)
        ).all()
    return [tuple(r) for r in rows] + [tuple(h) for h in holdings]


def _seeded(data: Path) -> Engine:
    seed(data, snapshots=3)
    engine = open_database(data / "chainfolio.sqlite3", data / "backups")
    ledger = SqlLedgerStore(engine)
    with engine.begin() as con:
        con.execute(ledger_accounts.insert().values(name="Broker", kind="exchange", created_at=1))
    ledger.add([Transaction("Broker", TxKind.DEPOSIT, 1_700_000_000, "stock:XNAS:AAPL", HUGE)], 1)
    return engine


def test_into_postgresql_and_back_with_every_row_and_total(
    tmp_path: Path, postgres_url: str
) -> None:
    data = tmp_path / "data"
    original = _seeded(data)
    before = _history(original)
    original.dispose()
    moved = _cli(data, "storage", "migrate", "--to", postgres_url)
    assert moved.returncode == 0, moved.stderr
    assert "row counts and money totals match" in moved.stdout
    assert PASSWORD not in moved.stdout + moved.stderr and TRACEBACK not in moved.stderr
    pg = open_postgres(postgres_url, PASSWORD)
    try:
        assert _history(pg) == before
        assert [t.amount for t in SqlLedgerStore(pg).transactions()] == [HUGE]
        # the server's id counters moved past the copied ids: the next snapshot gets a new one
        new_id = SqlSnapshotStore(pg).write(snapshot(1_800_000_000, 5))
        assert new_id == max(int(r[0]) for r in before[:3]) + 1  # type: ignore[call-overload]
        after = _history(pg)
    finally:
        pg.dispose()
    listed = _cli(data, "--database-url", postgres_url, "wallets", "list")
    assert WALLET in listed.stdout
    again = _cli(data, "storage", "migrate", "--to", postgres_url)  # the target has data now
    assert again.returncode == 1 and "already holds a history" in again.stderr
    assert TRACEBACK not in again.stderr
    back = tmp_path / "back" / "chainfolio.sqlite3"
    returned = _cli(
        data, "--database-url", postgres_url, "storage", "migrate", "--to", f"sqlite:///{back}"
    )
    assert returned.returncode == 0, returned.stderr
    engine = open_database(back, back.parent / "backups")
    try:
        assert _history(engine) == after
    finally:
        engine.dispose()


def test_a_copy_stopped_half_way_leaves_the_target_empty(tmp_path: Path, postgres_url: str) -> None:
    source = _seeded(tmp_path / "data")
    target = open_postgres(postgres_url, PASSWORD)
    seen: list[str] = []

    def stop_after_snapshots(_fraction: float, message: str) -> None:
        seen.append(message)
        if len(seen) > 1 and "snapshot" in seen[-2]:
            raise KeyboardInterrupt  # Ctrl-C (or a crash) in the middle of the copy

    try:
        with pytest.raises(KeyboardInterrupt):
            copy_history(source, target, progress=stop_after_snapshots)
        with target.connect() as con:
            assert con.execute(select(func.count()).select_from(snapshots)).scalar() == 0
        report = copy_history(source, target)  # finished later: the whole history, once
        assert report.rows["snapshots"] == 3 and report.rows["ledger_transactions"] == 1
        assert report.sums["ledger_transactions.amount"] == HUGE
        with pytest.raises(DatabaseError, match="already holds a history"):
            copy_history(source, target)
    finally:
        source.dispose()
        target.dispose()


def test_a_bad_target_is_refused_without_touching_anything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data, snapshots=1)
    for bad in ("mysql://me@h/x", "postgresql://me:pw-in-url@127.0.0.1:1/x"):
        done = _cli(data, "storage", "migrate", "--to", bad)
        assert done.returncode == 1 and TRACEBACK not in done.stderr
        assert "pw-in-url" not in done.stderr
