"""Rates through the refresh pipeline (stored with the snapshot, carried over with a failed
chain's holdings) and the yield report built from the stored history."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.chains import ChainSpec
from app.domain.ids import AccountId
from app.domain.model import Wallet
from app.domain.rates import PositionRate, RateSide
from app.services.yields import YieldService
from app.storage.snapshot_store import SqlSnapshotStore
from app.storage.yield_store import SqlYieldHistory
from tests.unit.test_refresh_service import ADDR, A, B, refresh, service_of

DAY = 86400


def test_rates_are_stored_and_carried_with_a_failed_chain(storage_engine: Engine) -> None:
    """On SQLite and on PostgreSQL (tests/support/postgres.py)."""
    engine = storage_engine
    store = SqlSnapshotStore(engine)
    state = {"failing": False, "raw": 10_000 * 10**6}

    async def read(chain: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        if state["failing"] and chain is A:
            return ChainReadResult(chain.chain_id, SourceState.FAILED, error="down")
        acct = AccountId(chain.chain_id, ADDR)
        usdc = AssetInfo(chain.native_asset, "USDC", "USD Coin", 6)
        rate = PositionRate(str(chain.chain_id), str(chain.native_asset), "aave-v3:supplied",
                            RateSide.SUPPLY, Decimal("0.05"), Decimal("0.0488"), "aave-v3")  # fmt: skip
        return ChainReadResult(
            chain.chain_id, SourceState.OK,
            balances=(Balance(acct, usdc, int(state["raw"]), "aave-v3:supplied"),),
            rates=(rate,),
        )  # fmt: skip

    now = [1_750_000_000.0]
    service = service_of([A, B], read, store, now)
    first = refresh(service)
    assert {r.chain for r in first.rates} == {str(A.chain_id), str(B.chain_id)}
    for day in range(1, 11):  # ten days, growing with 5 % a year
        now[0] += DAY
        state["raw"] = int(10_000 * 10**6 * (Decimal("1.05") ** (Decimal(day) / 365)))
        refresh(service)
    state["failing"], now[0] = True, now[0] + 3600
    snap = refresh(service)
    stored = store.latest()
    assert stored is not None
    assert {r.chain for r in stored.rates} == {str(A.chain_id), str(B.chain_id)}  # A carried
    report = YieldService(SqlYieldHistory(engine)).report(stored)
    assert len(report.rows) == 2 and report.portfolio.apy == Decimal("0.05")
    realised = {r.chain: r.realised for r in report.rows}
    b = realised[str(B.chain_id)]
    # the last refresh came an hour later with no growth: a little under 5 %
    assert b is not None and Decimal("0.049") < b < Decimal("0.05")
    assert snap.id == stored.id
    engine.dispose()


def test_report_without_history_or_rates() -> None:
    from app.domain.snapshot import Snapshot

    assert YieldService().report(None).rows == ()
    report = YieldService(None).report(Snapshot(0, "EUR", (), ()))
    assert report.rows == () and report.portfolio.apy is None and report.currency == "EUR"


def test_cli_yield_lists_positions_and_the_portfolio(tmp_path: Path) -> None:
    import io
    import json
    import time

    from app.bootstrap import bootstrap
    from app.cli import main
    from app.config import Paths
    from app.domain.snapshot import Snapshot, SnapshotHolding

    data = tmp_path / "data"

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main(["--data-dir", str(data), *argv], stdout=out), out.getvalue()

    assert run("yield") == (
        0, "No snapshot yet: run `chainfolio refresh --once` first.\n"
    )  # fmt: skip
    ctx = bootstrap(Paths.resolve(data))
    usdc = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    holding = SnapshotHolding(f"eip155:1:{ADDR}", usdc, "USDC", 6, 10_000 * 10**6, Decimal(1),
                              Decimal(10_000), SourceState.OK, 0, "aave-v3:supplied")  # fmt: skip
    rate = PositionRate("eip155:1", usdc, "aave-v3:supplied", RateSide.SUPPLY,
                        Decimal("0.0345"), Decimal("0.0339"), "aave-v3")  # fmt: skip
    SqlSnapshotStore(ctx.engine).write(
        Snapshot(int(time.time()), "USD", (holding,), (), rates=(rate,))
    )
    ctx.close()
    code, text = run("yield")
    assert code == 0
    assert "USDC" in text and "APY    3.45 %" in text and "realised         -" in text
    assert "aave-v3:supplied" in text
    assert text.endswith("Portfolio yield: 3.45 %; about 345.00 USD a year.\n")
    code, out = run("yield", "--json")
    doc = json.loads(out)
    assert doc["portfolio"]["apy"] == "0.0345" and doc["currency"] == "USD"
    assert doc["positions"][0]["apy"] == "0.0345" and doc["positions"][0]["side"] == "supply"
