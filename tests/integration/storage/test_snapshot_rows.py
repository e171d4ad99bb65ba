"""Snapshot holdings stored by number (revision 0018): ``snapshot_rows`` point at each wallet,
asset id, position and symbol kept once in ``holding_texts``; ``snapshot_holdings`` is a view
with the old columns. On a real SQLite file and a real PostgreSQL server: the migration keeps
every stored holding (up and down), the store writes and reads them exactly, texts are shared
between snapshots, and a snapshot's removal takes its rows with it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.storage.database import _alembic_config, create_sqlite_engine, migrate
from app.storage.postgres import create_postgres_engine
from app.storage.snapshot_store import SqlSnapshotStore
from tests.support.postgres import PASSWORD, PostgresServer, second_engine

pytestmark = pytest.mark.integration

W1 = "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
W2 = "eip155:10:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ETH = "eip155:1/slip44:60"
USDC = "eip155:10/erc20:0x0b2c639c533813f4aa9d7837caf62653d097ff85"
HOSTILE = "US\u202eDC <b>'; DROP TABLE snapshots; --"  # token text is untrusted plain text

OLD_ROWS = [  # as revision 0017 stored them
    (1, W1, ETH, "", "ETH", 18, str(2**256 - 1), "3000.5", "1.5", "ok", 100, 0, 0),
    (1, W2, USDC, "", HOSTILE, 6, "1", None, None, "stale", 90, 1, 0),
    (1, W2, USDC, "aave-v3:supply", "aUSDC", 6, "7", "1", "0.000007", "ok", 100, 0, 1),
    (2, W1, ETH, "", "ETH", 18, "5", "1", "0.000000000000000005", "ok", 200, 0, 0),
]
COLUMNS = (
    "snapshot_id, wallet, asset_id, position, symbol, decimals, raw, price, value, state, as_of, "
    "is_spam, manual_price"
)


def _old_database(engine: Engine) -> None:
    migrate(engine, "0017")
    with engine.begin() as con:
        con.execute(
            text(
                "INSERT INTO snapshots (id, taken_at, currency, total, stale_total, sources) "
                "VALUES (1, 100, 'USD', '0', '0', '[]'), (2, 200, 'USD', '0', '0', '[]')"
            )
        )
        marks = ", ".join(f":c{i}" for i in range(13))
        con.execute(
            text(f"INSERT INTO snapshot_holdings ({COLUMNS}) VALUES ({marks})"),
            [{f"c{i}": (bool(v) if i >= 11 else v) for i, v in enumerate(row)} for row in OLD_ROWS],
        )


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as con:
        rows = con.execute(text(f"SELECT {COLUMNS} FROM snapshot_holdings")).fetchall()
    return sorted(
        ((*r[:11], int(r[11]), int(r[12])) for r in rows),
        key=lambda r: (r[0], r[1], r[2], r[3]),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """An empty database with no schema yet, on SQLite and on the test PostgreSQL server."""
    if request.param == "sqlite":
        return create_sqlite_engine(tmp_path / "chainfolio.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return create_postgres_engine(server.url(server.create_database()), PASSWORD)


def test_migration_0018_keeps_every_holding_up_and_down(blank_engine: Engine) -> None:
    engine = blank_engine
    _old_database(engine)
    expected = sorted(OLD_ROWS, key=lambda r: (r[0], r[1], r[2], r[3]))
    assert _rows(engine) == expected
    migrate(engine, "0018")
    tables = set(inspect(engine).get_table_names())
    assert {"snapshot_rows", "holding_texts"} <= tables and "snapshot_holdings" not in tables
    assert "snapshot_holdings" in inspect(engine).get_view_names()
    assert _rows(engine) == expected
    with engine.connect() as con:  # each distinct text once, shared by both snapshots
        texts = [t for (t,) in con.execute(text("SELECT text FROM holding_texts"))]
    assert sorted(texts) == sorted({str(t) for r in OLD_ROWS for t in r[1:5]})
    latest = SqlSnapshotStore(engine).at_or_before(150)
    assert latest is not None and latest.id == 1
    by_key = {(h.wallet, h.asset_id, h.position): h for h in latest.holdings}
    assert by_key[(W1, ETH, "")].raw == 2**256 - 1  # exact, not a float
    assert by_key[(W2, USDC, "")].symbol == HOSTILE and by_key[(W2, USDC, "")].is_spam
    assert by_key[(W2, USDC, "")].state is SourceState.STALE
    assert by_key[(W2, USDC, "aave-v3:supply")].manual_price
    assert by_key[(W2, USDC, "aave-v3:supply")].value == Decimal("0.000007")
    command.downgrade(_alembic_config(engine), "0017")
    assert "snapshot_rows" not in set(inspect(engine).get_table_names())
    assert _rows(engine) == expected
    engine.dispose()


def _snapshot(taken_at: int, holdings: list[SnapshotHolding]) -> Snapshot:
    return Snapshot(
        taken_at,
        "USD",
        tuple(holdings),
        (SourceStatus("eip155:1", SourceState.OK, None, taken_at),),
    )


def _holding(wallet: str, asset: str, symbol: str, raw: int, position: str = "") -> SnapshotHolding:
    return SnapshotHolding(
        wallet, asset, symbol, 18, raw, Decimal("0.1"), Decimal(raw) / 10, SourceState.OK, 1,
        position,
    )  # fmt: skip


def test_texts_are_stored_once_across_snapshots_and_rows_go_with_their_snapshot(
    storage_engine: Engine,
) -> None:
    engine = storage_engine
    store = SqlSnapshotStore(engine)
    first = [_holding(W1, ETH, "ETH", 10), _holding(W2, USDC, HOSTILE, 20, "aave-v3:supply")]
    a = store.write(_snapshot(100, first))
    second = [*first, _holding(W2, ETH, "ETH", 30)]  # one new wallet-asset pair, no new text
    b = store.write(_snapshot(200, second))
    with engine.connect() as con:
        texts = sorted(t for (t,) in con.execute(text("SELECT text FROM holding_texts")))
        assert texts == sorted({"", W1, W2, ETH, USDC, "ETH", HOSTILE, "aave-v3:supply"})
        grouped = con.execute(text("SELECT snapshot_id, count(*) FROM snapshot_rows GROUP BY 1"))
        counts = {int(s): int(n) for s, n in grouped}
    assert counts == {a: 2, b: 3}
    stored = store.latest()
    assert stored is not None and stored.id == b
    assert sorted(stored.holdings, key=lambda h: (h.wallet, h.asset_id)) == sorted(
        second, key=lambda h: (h.wallet, h.asset_id)
    )
    with engine.begin() as con:  # the cascade still removes a snapshot's holdings
        con.execute(text("DELETE FROM snapshots WHERE id = :a"), {"a": a})
        assert con.execute(text("SELECT count(*) FROM snapshot_rows")).scalar() == 3
        assert con.execute(text("SELECT count(*) FROM snapshot_holdings")).scalar() == 3


def test_a_text_another_writer_added_meanwhile_is_reused(storage_engine: Engine) -> None:
    """Two writers (two desktops on one shared database) meet the same new token: the second
    reuses the first one's text instead of failing on the unique key."""
    other = second_engine(storage_engine)
    with other.begin() as con:
        con.execute(text("INSERT INTO holding_texts (text) VALUES (:t)"), {"t": USDC})
    other.dispose()
    store = SqlSnapshotStore(storage_engine)
    store.write(_snapshot(100, [_holding(W1, USDC, "USDC", 1)]))
    with storage_engine.connect() as con:
        found = con.execute(text("SELECT count(*) FROM holding_texts WHERE text = :t"), {"t": USDC})
        assert found.scalar() == 1
    stored = store.latest()
    assert stored is not None and [h.asset_id for h in stored.holdings] == [USDC]


@pytest.mark.parametrize("count", [99, 100, 250])
def test_every_holding_is_stored_whatever_the_count(storage_engine: Engine, count: int) -> None:
    """Rows go in many to a statement: a whole number of statements, one short, and a rest."""
    holdings = [
        _holding(f"eip155:1:0x{w:040x}", f"eip155:1/erc20:0x{a:040x}", f"T{a}", w * 1000 + a)
        for w in range(count // 10 + 1)
        for a in range(10)
    ][:count]
    store = SqlSnapshotStore(storage_engine)
    store.write(_snapshot(100, holdings))
    stored = store.latest()
    assert stored is not None
    assert sorted(stored.holdings) == sorted(holdings)


def test_prices_shared_by_holdings_are_stored_each_exactly(storage_engine: Engine) -> None:
    """The holdings of an asset share one price object (its text is made once per write);
    others have their own, or none: every row keeps its own price and value, to the digit."""
    shared = [Decimal("3000.123456789012345678901234567890"), Decimal("1"), Decimal("0E-18")]
    holdings = []
    for i in range(250):
        price: Decimal | None = (
            None if i % 7 == 0 else Decimal(f"{i}.{i:030d}") if i % 5 == 0 else shared[i % 3]
        )
        value = None if price is None else price * i
        holdings.append(
            SnapshotHolding(
                f"eip155:1:0x{i:040x}",
                f"eip155:1/erc20:0x{i % 11:040x}",
                f"T{i % 11}",
                18,
                i,
                price,
                value,
                SourceState.OK,
                1,
            )
        )
    store = SqlSnapshotStore(storage_engine)
    store.write(_snapshot(100, holdings))
    stored = store.latest()
    assert stored is not None
    by_wallet = {h.wallet: h for h in stored.holdings}
    for h in holdings:
        got = by_wallet[h.wallet]
        assert (str(got.price), str(got.value)) == (str(h.price), str(h.value)), h.wallet
