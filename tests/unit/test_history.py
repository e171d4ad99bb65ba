"""History queries on a real SQLite file: breakdown sums, "what changed" exactness, ranges,
the revision 0007 aggregate table (written atomically, removed by retention, backfilled)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from app.domain.balances import SourceState
from app.domain.changes import breakdown_sums, holding_change, what_changed
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.domain.valuation import exact_arithmetic, price_effect, quantity_effect
from app.services.history import HistoryService, series_label
from app.storage.database import create_sqlite_engine, migrate, open_database
from app.storage.history_store import SqlHistoryStore
from app.storage.snapshot_store import SqlSnapshotStore

A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ETH = "eip155:1/slip44:60"
ARB_ETH = "eip155:42161/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
SPAM = "eip155:1/erc20:0x000000000000000000000000000000000000dEaD"
NAMES = {"eip155:1": "Ethereum", "eip155:42161": "Arbitrum", A: "Ledger"}


def h(
    address: str,
    asset: str,
    symbol: str,
    decimals: int,
    raw: int,
    price: str | None,
    position: str = "",
    spam: bool = False,
) -> SnapshotHolding:
    chain = asset.split("/")[0]
    p = None if price is None else Decimal(price)
    with exact_arithmetic():
        value = None if p is None else Decimal(raw).scaleb(-decimals) * p
    return SnapshotHolding(
        f"{chain}:{address}", asset, symbol, decimals, raw, p, value, SourceState.OK, 0,
        position, spam,
    )  # fmt: skip


@pytest.fixture
def engine(storage_engine: Engine) -> Engine:
    """Each test runs on SQLite and on PostgreSQL (tests/support/postgres.py)."""
    return storage_engine


def write(engine: Engine, t: int, *holdings: SnapshotHolding) -> int:
    return SqlSnapshotStore(engine).write(Snapshot(t, "USD", holdings, ()))


# --- what changed: exact against hand-computed cases ----------------------------------------


def test_price_and_quantity_effect_by_hand() -> None:
    # 2 ETH at 2000 -> 2.5 ETH at 2100: price effect 2 x 100 = 200, quantity 0.5 x 2100 = 1050
    [row] = what_changed([h(A, ETH, "ETH", 18, 2 * 10**18, "2000")],
                         [h(A, ETH, "ETH", 18, 25 * 10**17, "2100")])  # fmt: skip
    assert (row.value_before, row.value_after) == (Decimal(4000), Decimal(5250))
    assert row.price_effect == Decimal(200)
    assert row.quantity_effect == Decimal(1050)
    assert row.change == Decimal(1250)
    assert (row.amount_before, row.amount_after) == (Decimal(2), Decimal("2.5"))


def test_effects_stay_exact_beyond_28_digits() -> None:
    """18-decimal amounts times 11-digit prices need ~40 digits; nothing may be rounded."""
    before = h(A, ETH, "ETH", 18, 1_234_567_890_123_456_789_012, "1999.99987654321")
    after = h(A, ETH, "ETH", 18, 1_234_567_890_123_456_789_013 * 3, "2100.12345678901")
    qb, qa = Decimal("1234.567890123456789012"), Decimal("3703.703670370370367039")
    pb, pa = Decimal("1999.99987654321"), Decimal("2100.12345678901")
    with exact_arithmetic():
        expected_pe = qb * (pa - pb)
        expected_qe = (qa - qb) * pa
        expected_change = qa * pa - qb * pb
    [row] = what_changed([before], [after])
    assert row.price_effect == expected_pe
    with exact_arithmetic():
        assert expected_pe == price_effect(qb, pb, pa)
    assert row.quantity_effect == expected_qe
    assert row.change == expected_change
    with exact_arithmetic():
        assert row.price_effect + row.quantity_effect == row.change
    assert len(str(row.value_after).replace(".", "")) > 28  # the default context would round


def test_debts_new_sold_unpriced_spam_and_wallet_sums() -> None:
    before = [
        h(A, ETH, "ETH", 18, 10**18, "2000"),
        h(B, ETH, "ETH", 18, 3 * 10**18, "2000"),  # same asset, other wallet: summed
        h(A, USDC, "USDC", 6, -1000 * 10**6, "1.00", position="aave-v3:borrowed"),
        h(A, ARB_ETH, "ETH", 18, 10**18, "2000"),  # sold
        h(A, USDC, "USDC", 6, 500 * 10**6, None),  # not priced yet
        h(A, SPAM, "FREE$", 0, 10**9, "1000", spam=True),
    ]
    after = [
        h(A, ETH, "ETH", 18, 10**18, "1500"),
        h(B, ETH, "ETH", 18, 4 * 10**18, "1500"),
        h(A, USDC, "USDC", 6, -1000 * 10**6, "1.01", position="aave-v3:borrowed"),
        h(A, USDC, "USDC", 6, 500 * 10**6, "1.01"),  # priced now: all quantity effect
        h(B, "eip155:1/erc20:0x01", "NEW", 0, 7, "3"),  # bought
        h(A, SPAM, "FREE$", 0, 10**10, "1000", spam=True),
    ]
    rows = {(r.symbol, r.position, r.chain): r for r in what_changed(before, after)}
    eth = rows[("ETH", "", "eip155:1")]
    assert (eth.value_before, eth.value_after) == (Decimal(8000), Decimal(7500))
    assert eth.price_effect == Decimal(4) * Decimal(-500) == Decimal(-2000)
    assert eth.quantity_effect == Decimal(1) * Decimal(1500)
    debt = rows[("USDC", "aave-v3:borrowed", "eip155:1")]
    assert debt.price_effect == Decimal("-10.00")  # a debt grows when its asset's price rises
    assert debt.quantity_effect == 0 and debt.change == Decimal("-10.00")
    sold = rows[("ETH", "", "eip155:42161")]
    assert (sold.price_effect, sold.quantity_effect) == (0, Decimal(-2000))
    priced = rows[("USDC", "", "eip155:1")]
    assert (priced.value_before, priced.price_effect, priced.quantity_effect) == (
        0, 0, Decimal("505.00"))  # fmt: skip
    new = rows[("NEW", "", "eip155:1")]
    assert (new.price_effect, new.quantity_effect) == (0, Decimal(21))
    assert "FREE$" not in {r.symbol for r in rows.values()}
    ordered = what_changed(before, after)
    assert [abs(r.change) for r in ordered] == sorted((abs(r.change) for r in ordered),
                                                      reverse=True)  # fmt: skip
    for r in ordered:
        with exact_arithmetic():
            assert r.price_effect + r.quantity_effect == r.change


def test_stored_value_that_is_not_amount_times_price_still_adds_up() -> None:
    odd = SnapshotHolding(f"eip155:1:{A}", ETH, "ETH", 18, 10**18, Decimal(2000),
                          Decimal("2000.5"), SourceState.OK, 0)  # fmt: skip
    qb, qa, vb, va, pe, qe = holding_change(odd, h(A, ETH, "ETH", 18, 10**18, "2100"))
    assert (vb, va, pe) == (Decimal("2000.5"), Decimal(2100), Decimal(100))
    assert pe + qe == va - vb and qe == quantity_effect(qb, qa, Decimal(2100)) - Decimal("0.5")


# --- breakdown sums, series and "Other" -------------------------------------------------------


def seed(engine: Engine) -> None:
    for t, eth_price in ((3600, "2000"), (7200, "2200"), (10800, "1800")):
        write(
            engine, t,
            h(A, ETH, "ETH", 18, 2 * 10**18, eth_price),
            h(B, ARB_ETH, "ETH", 18, 10**18, eth_price),
            h(A, USDC, "<b>USDC</b>", 6, 1000 * 10**6, "1"),
            h(A, USDC, "<b>USDC</b>", 6, -400 * 10**6, "1", position="aave-v3:borrowed"),
            h(B, SPAM, "SPAM", 0, 10**12, "5", spam=True),
        )  # fmt: skip


def test_breakdown_rows_sum_to_the_total_and_leave_spam_out(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as con:
        rows = con.execute(
            text("SELECT kind, key, value FROM snapshot_breakdown WHERE snapshot_id = 1")
        ).fetchall()
    sums = {(k, key): Decimal(v) for k, key, v in rows}
    assert sums[("chain", "eip155:1")] == Decimal(4600)  # 4000 + 1000 - 400
    assert sums[("chain", "eip155:42161")] == Decimal(2000)
    assert sums[("asset", USDC)] == Decimal(600)  # held minus borrowed
    assert sums[("wallet", A)] == Decimal(4600) and sums[("wallet", B)] == Decimal(2000)
    assert not any(SPAM in key for _k, key in sums)
    for kind in ("chain", "asset", "wallet"):
        assert sum(v for (k, _), v in sums.items() if k == kind) == Decimal(6600)


def test_breakdown_sums_are_digit_for_digit_the_sums_of_every_holding() -> None:
    """Against the plain definition (each value added to its chain's, asset's and address's
    sum), on values with 18-40 significant digits of many exponents, debts, spam, unpriced
    holdings and one address on two chains: the same keys, the same digits (str)."""
    import random

    rng = random.Random(7)
    holdings = []
    for i in range(3000):
        chain = ("eip155:1", "eip155:42161", "solana:mainnet")[i % 3]
        wallet = f"{chain}:0xW{i % 17}"  # 17 addresses, each on every chain
        asset = f"{chain}/erc20:0xT{i % 41}"
        digits = rng.randrange(10**17, 10**40)
        value = Decimal(digits).scaleb(-rng.randrange(0, 45)) * (-1 if i % 11 == 0 else 1)
        kind = i % 23
        holdings.append(
            SnapshotHolding(
                wallet, asset, "T", 18, 1, Decimal(1), None if kind == 0 else value,
                SourceState.OK, 0, "", kind == 1,
            )
        )  # fmt: skip
    expected: dict[tuple[str, str], Decimal] = {}
    with exact_arithmetic():
        for holding in holdings:
            if holding.value is None or holding.is_spam:
                continue
            for key in (
                ("chain", holding.asset_id.split("/", 1)[0]),
                ("asset", holding.asset_id),
                ("wallet", holding.wallet.rsplit(":", 1)[-1]),
            ):
                expected[key] = expected.get(key, Decimal(0)) + holding.value
    got = breakdown_sums(holdings)
    assert {k: str(v) for k, v in got.items()} == {k: str(v) for k, v in expected.items()}
    assert len([k for k in got if k[0] == "wallet"]) == 17  # an address is one wallet


def test_breakdown_series_top_keys_other_and_labels(engine: Engine) -> None:
    seed(engine)
    service = HistoryService(SqlHistoryStore(engine))
    b = service.breakdown("asset", 0, 20000, names=NAMES)
    assert [s.label for s in b.series] == [
        "ETH · Ethereum",
        "ETH · Arbitrum",
        "<b>USDC</b> · Ethereum",
    ]
    assert list(b.times) == [3600, 7200, 10800]
    assert [v for _, v in b.exact_at(1)] == [4400, 2200, 600]
    top1 = service.breakdown("chain", 0, 20000, top=1, names=NAMES)
    assert [s.label for s in top1.series] == ["Ethereum", "Other"]
    assert list(top1.series[1].values) == [2000.0, 2200.0, 1800.0]
    assert top1.exact_at(2) == [("Ethereum", Decimal(4200)), ("Other", Decimal(1800))]
    wallets = service.breakdown("wallet", 0, 20000, names=NAMES)
    assert [s.label for s in wallets.series] == ["Ledger", "0xfB69…d359"]


def test_breakdown_of_a_debt_is_negative(engine: Engine) -> None:
    write(engine, 100, h(A, USDC, "USDC", 6, -400 * 10**6, "1", position="aave-v3:borrowed"),
          h(A, ETH, "ETH", 18, 10**18, "1000"))  # fmt: skip
    b = HistoryService(SqlHistoryStore(engine)).breakdown("asset", 0, 200)
    values = {s.key: float(s.values[0]) for s in b.series}
    assert values == {ETH: 1000.0, USDC: -400.0}


def test_series_labels_clean_hostile_symbols() -> None:
    label = series_label("asset", USDC, NAMES, {USDC: "US\u202eDC\nfake"})
    assert label == "USDC fake · Ethereum"


def test_breakdown_at_many_snapshots_reads_only_the_picked_ones(engine: Engine) -> None:
    store = SqlSnapshotStore(engine)
    for i in range(300):
        price = "5000" if i == 137 else str(2000 + i % 7)
        store.write(Snapshot(i * 3600, "USD", (h(A, ETH, "ETH", 18, 10**18, price),), ()))
    service = HistoryService(SqlHistoryStore(engine))
    b = service.breakdown("chain", 0, 299 * 3600, buckets=20)
    assert len(b.times) <= 2 * 20 + 4
    assert 137 * 3600 in set(b.times.tolist())  # the spike is one of the points
    assert float(b.series[0].values.max()) == 5000.0


# --- ranges and net worth ---------------------------------------------------------------------


def test_net_worth_ranges_and_what_changed_between_times(engine: Engine) -> None:
    seed(engine)
    service = HistoryService(SqlHistoryStore(engine))
    assert service.span() == (3600, 10800)
    nw = service.net_worth()
    assert [Decimal(v) for v in nw.exact] == [6600, 7200, 6000] and list(nw.values) == [
        6600.0,
        7200.0,
        6000.0,
    ]
    assert list(service.net_worth(7200, 10800).times) == [7200, 10800]
    assert nw.nearest(7000) == 1 and nw.nearest(0) == 0 and nw.nearest(1e12) == 2
    cmp = service.what_changed(0, 8000)  # before the first snapshot: starts at the first
    assert (cmp.before_time, cmp.after_time) == (3600, 7200)
    assert cmp.change == Decimal(600) == cmp.price_effect and cmp.quantity_effect == 0
    assert (cmp.value_before, cmp.value_after) == (Decimal(6600), Decimal(7200))
    assert service.what_changed(3700, 4000).rows == []  # one snapshot only: nothing to compare
    empty = HistoryService(SqlHistoryStore(create_empty(engine)))
    assert empty.span() is None and len(empty.net_worth()) == 0
    assert empty.what_changed(0, 10).rows == []


def create_empty(engine: Engine) -> Engine:
    with engine.begin() as con:
        con.execute(text("DELETE FROM snapshots"))
    return engine


# --- the aggregate table: atomic, compacted, backfilled -----------------------------------------


def count(engine: Engine, table: str) -> int:
    with engine.connect() as con:
        return int(con.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_breakdown_rows_are_written_in_the_snapshot_transaction(engine: Engine) -> None:
    account = LendingAccount(f"eip155:1:{A}", "aave-v3", "eip155:1", "", Decimal(1), Decimal(0),
                             Decimal("0.8"), None)  # fmt: skip
    bad = Snapshot(
        100, "USD", (h(A, ETH, "ETH", 18, 10**18, "1"),), (), accounts=(account, account)
    )
    with pytest.raises(IntegrityError):  # the duplicate account fails after the breakdown insert
        SqlSnapshotStore(engine).write(bad)
    assert count(engine, "snapshots") == 0 and count(engine, "snapshot_breakdown") == 0


def test_retention_removes_breakdown_rows_with_their_snapshot(engine: Engine) -> None:
    day = 86400
    now = 200 * day
    for t in range(now - 120 * day, now, 6 * 3600):
        write(engine, t, h(A, ETH, "ETH", 18, 10**18, "1"), h(B, ARB_ETH, "ETH", 18, 1, "1"))
    removed = SqlSnapshotStore(engine).compact(now)
    assert removed > 0
    kept = count(engine, "snapshots")
    assert count(engine, "snapshot_breakdown") == kept * 6  # 2 chains + 2 assets + 2 wallets
    with engine.connect() as con:
        orphans = con.execute(text(
            "SELECT count(*) FROM snapshot_breakdown WHERE snapshot_id NOT IN (SELECT id FROM snapshots)"
        )).scalar_one()  # fmt: skip
    assert orphans == 0


def test_migration_0007_backfills_existing_snapshots(tmp_path: Path) -> None:
    db = tmp_path / "chainfolio.sqlite3"
    engine = create_sqlite_engine(db)
    migrate(engine, "0006")
    with engine.begin() as con:
        con.execute(text("INSERT INTO snapshots VALUES (1, 100, 'USD', '0.3', '0', '[]')"))
        con.execute(text(
            "INSERT INTO snapshot_holdings (snapshot_id, wallet, asset_id, position, symbol, "
            "decimals, raw, price, value, state, as_of, is_spam) VALUES "
            "(1, 'eip155:1:0xabc', 'eip155:1/slip44:60', '', 'ETH', 0, '1', '0.1', '0.1', 'ok', 100, 0),"
            "(1, 'eip155:10:0xabc', 'eip155:10/slip44:60', '', 'ETH', 0, '2', '0.1', '0.2', 'ok', 100, 0),"
            "(1, 'eip155:10:0xabc', 'eip155:10/erc20:0x1', '', 'X', 0, '9', '9', '81', 'ok', 100, 1)"
        ))  # fmt: skip
    engine.dispose()
    engine = open_database(db, tmp_path / "backups")
    with engine.connect() as con:
        rows = con.execute(text("SELECT kind, key, value FROM snapshot_breakdown")).fetchall()
    assert sorted(rows) == [
        ("asset", "eip155:1/slip44:60", "0.1"),
        ("asset", "eip155:10/slip44:60", "0.2"),
        ("chain", "eip155:1", "0.1"),
        ("chain", "eip155:10", "0.2"),
        ("wallet", "0xabc", "0.3"),  # exact: no float 0.30000000000000004
    ]
    engine.dispose()


def test_switching_back_converts_with_the_rates_stored_while_the_other_currency_was_used() -> None:
    from app.domain.history import StoredTotal, in_currency

    day = 86_400
    points = [
        StoredTotal(9 * day + 5, "EUR", Decimal("90")),
        StoredTotal(10 * day + 5, "EUR", Decimal("900")),
        StoredTotal(11 * day + 5, "EUR", Decimal("450")),
        StoredTotal(12 * day + 5, "USD", Decimal("1000")),
    ]
    asked: list[str] = []

    def rates(code: str) -> dict[int, Decimal]:
        asked.append(code)
        return {10 * day: Decimal("0.9")}  # EUR per USD, stored on day 10 only

    shown, notes = in_currency(points, "usd", rates)
    assert [(s.total, s.currency, s.rate_day) for s in shown] == [
        (Decimal("90"), "EUR", None),  # before every stored rate: kept, never guessed
        (Decimal("1000"), "USD", 10 * day),
        (Decimal("500"), "USD", 10 * day),  # day 11 has no rate: day 10's, and said so
        (Decimal("1000"), "USD", None),
    ]
    assert asked == ["EUR"]  # each currency's rates are read once
    assert notes == [
        "2 snapshots stored in EUR are shown in USD at the exchange rate stored for their day. "
        "For 1 of them no rate of that day is stored, so the nearest earlier day's rate was used.",
        "Earlier history is in EUR; no exchange rate is stored for those dates (1970-01-10) or "
        "before, so that total is shown in EUR.",
    ]


def test_what_changed_never_mixes_two_currencies(engine: Engine) -> None:
    store = SqlSnapshotStore(engine)
    store.write(Snapshot(3600, "USD", (h(A, ETH, "ETH", 18, 10**18, "2000"),), ()))
    store.write(Snapshot(7200, "EUR", (h(A, ETH, "ETH", 18, 10**18, "1800"),), ()))
    cmp = HistoryService(SqlHistoryStore(engine)).what_changed(0, 8000)
    assert cmp.rows == [] and cmp.change == 0
    assert "USD" in cmp.note and "EUR" in cmp.note and "currenc" in cmp.note
