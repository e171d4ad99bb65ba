"""The APY alert rules ("APY of a position below X", "moved more than Y points in a day") on the
real SQLite stores (migration 0015 stores the rates with each snapshot), and through the CLI."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.domain.alerts import AlertKind, AlertRuleError
from app.domain.balances import SourceState
from app.domain.rates import PositionRate, RateSide
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.services.alerts import AlertService
from app.storage.alert_store import SqlAlertStore
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore

DAY = 86400
T0 = 1_750_000_000
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "eip155:1/erc20:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
MORPHO_KEY = "morpho-blue:0x" + "12" * 32 + ":supplied"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = open_database(tmp_path / "db.sqlite", tmp_path / "backups")
    yield e
    e.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def rate(apy: str, position: str = "aave-v3:supplied", asset: str = USDC,
         side: RateSide = RateSide.SUPPLY, protocol: str = "aave-v3") -> PositionRate:  # fmt: skip
    return PositionRate("eip155:1", asset, position, side, Decimal(apy), None, protocol)


def snap(t: int, *rates: PositionRate, wallet: str = ADDR, store: SqlSnapshotStore | None = None,
         borrowed: bool = True) -> Snapshot:  # fmt: skip
    holdings = [
        SnapshotHolding(f"eip155:1:{wallet}", USDC, "USDC", 6, 5000 * 10**6, Decimal(1),
                        Decimal(5000), SourceState.OK, t, position="aave-v3:supplied"),
        SnapshotHolding(f"eip155:1:{wallet}", USDC, "USDC", 6, 1000 * 10**6, Decimal(1),
                        Decimal(1000), SourceState.OK, t, position=MORPHO_KEY),
    ]  # fmt: skip
    if borrowed:
        holdings.append(
            SnapshotHolding(f"eip155:1:{wallet}", WETH, "WETH", 18, -(10**18), Decimal(3000),
                            Decimal(-3000), SourceState.OK, t, position="aave-v3:borrowed")
        )  # fmt: skip
    s = Snapshot(t, "USD", tuple(holdings), (SourceStatus("eip155:1", SourceState.OK, None, t),),
                 rates=rates)  # fmt: skip
    if store is not None:
        store.write(s)
    return s


def service(engine: Engine, clock: Clock | None = None) -> AlertService:
    return AlertService(
        SqlAlertStore(engine), SqlSnapshotStore(engine), clock=clock or Clock(),
        chain_names={"eip155:1": "Ethereum"},
    )  # fmt: skip


def test_rates_round_trip_exactly_with_their_snapshot(engine: Engine) -> None:
    store = SqlSnapshotStore(engine)
    exact = "0.05127109633435455501160300546893018100032076224688133936419"
    r = PositionRate("eip155:1", USDC, "aave-v3:supplied", RateSide.SUPPLY, Decimal(exact),
                     Decimal("0.05"), "aave-v3")  # fmt: skip
    snap(T0, r, rate("0.09", "aave-v3:borrowed", WETH, RateSide.BORROW), store=store)
    latest = store.latest()
    assert latest is not None
    assert set(latest.rates) == {r, rate("0.09", "aave-v3:borrowed", WETH, RateSide.BORROW)}
    assert next(x for x in latest.rates if x.asset_id == USDC).apy == Decimal(exact)


def test_apy_below_fires_once_per_crossing_and_rearms(engine: Engine) -> None:
    alerts = service(engine)
    rule = alerts.add(AlertKind.APY_BELOW, "3")
    # The borrow rate (9 %) never counts for "below": a debt getting cheaper is good news.
    sequence = ["0.05", "0.029", "0.025", "0.0305", "0.031", "0.02"]
    fired = [
        len(
            alerts.check(
                snap(
                    T0 + i * 60, rate(apy), rate("0.01", "aave-v3:borrowed", WETH, RateSide.BORROW)
                )
            )
        )
        for i, apy in enumerate(sequence)
    ]
    # 2.9 % fires; 2.5 % stays quiet; 3.05 % is inside the 2 % re-arm margin; 3.1 % re-arms;
    # 2 % fires again.
    assert fired == [0, 1, 0, 0, 0, 1]
    events = alerts.events()
    assert len(events) == 2 and all(e.rule_id == rule.id for e in events)
    assert events[0].message.startswith(  # newest first
        "USDC supplied on Aave v3 (Ethereum), wallet 0x5aAe…eAed: earning 2.00 % a year"
    )


def test_apy_below_watches_only_what_the_filters_name_and_is_held(engine: Engine) -> None:
    alerts = service(engine)
    snap(T0 - 60, store=SqlSnapshotStore(engine))  # WETH is held (borrowed): a known asset
    morpho = alerts.add(AlertKind.APY_BELOW, "4", protocol="morpho-blue")
    other_wallet = alerts.add(AlertKind.APY_BELOW, "4", wallet=OTHER)
    weth_only = alerts.add(AlertKind.APY_BELOW, "4", asset=WETH)
    s = snap(T0, rate("0.02"), rate("0.05", MORPHO_KEY, protocol="morpho-blue"),
             rate("0.001", "aave-v3:supplied", WETH))  # a rate nobody here holds  # fmt: skip
    assert alerts.check(s) == []
    assert {r.id: r.fired for r in alerts.rules()} == {
        morpho.id: False,
        other_wallet.id: False,
        weth_only.id: False,
    }
    s2 = snap(T0 + 60, rate("0.02"), rate("0.035", MORPHO_KEY, protocol="morpho-blue"))
    (fired,) = alerts.check(s2)
    assert fired.rule_id == morpho.id and "Morpho Blue" in fired.message


def test_apy_move_compares_with_a_day_ago(engine: Engine) -> None:
    clock = Clock()
    alerts = service(engine, clock)
    store = SqlSnapshotStore(engine)
    rule = alerts.add(AlertKind.APY_MOVE_ABOVE, "2")
    first = snap(T0, rate("0.04"), store=store)
    assert alerts.check(first) == []  # nothing a day old to compare with: no verdict
    day = snap(T0 + DAY, rate("0.065"), store=store)
    clock.now = T0 + DAY
    (fired,) = alerts.check(day)
    assert fired.rule_id == rule.id
    assert fired.title == "APY rose 2.50 points in 24 h"
    assert "from 4.00 % to 6.50 %" in fired.message
    later = snap(T0 + DAY + 3600, rate("0.066"), store=store)  # still 2.6 points: quiet
    assert alerts.check(later) == []
    calm = snap(T0 + 2 * DAY + 3600, rate("0.07"), store=store)  # 0.4 points since a day ago
    assert alerts.check(calm) == []
    assert not next(r for r in alerts.rules() if r.id == rule.id).fired  # re-armed
    # Borrow rates count for moves: a debt whose rate jumps is worth knowing about.
    jump = snap(T0 + 3 * DAY + 3600, rate("0.07"),
                rate("0.20", "aave-v3:borrowed", WETH, RateSide.BORROW), store=store)  # fmt: skip
    assert alerts.check(jump) == []  # the borrow rate was not read a day ago: no comparison
    jump2 = snap(T0 + 4 * DAY + 3600, rate("0.07"),
                 rate("0.05", "aave-v3:borrowed", WETH, RateSide.BORROW), store=store)  # fmt: skip
    (fired2,) = alerts.check(jump2)
    assert "WETH borrowed on Aave v3" in fired2.message and "fell" in fired2.title


@pytest.mark.parametrize(
    ("kind", "text", "kw"),
    [
        (AlertKind.APY_BELOW, "abc", {}),
        (AlertKind.APY_BELOW, "NaN", {}),
        (AlertKind.APY_BELOW, "-150", {}),
        (AlertKind.APY_MOVE_ABOVE, "0", {}),
        (AlertKind.APY_MOVE_ABOVE, "-1", {}),
        (AlertKind.APY_BELOW, "3", {"protocol": "<b>evil</b>"}),
        (AlertKind.APY_BELOW, "3", {"currency": "USD"}),
        (AlertKind.APY_BELOW, "3", {"wallet": "has space"}),
    ],
)
def test_bad_apy_rules_are_refused_with_a_reason(
    engine: Engine, kind: AlertKind, text: str, kw: dict[str, str]
) -> None:
    with pytest.raises(AlertRuleError) as err:
        service(engine).add(kind, text, **kw)
    assert str(err.value) and "Error" not in str(err.value)
    assert service(engine).rules() == []


def test_cli_adds_apy_rules(tmp_path: Path) -> None:
    from app.bootstrap import bootstrap
    from app.cli import main
    from app.config import Paths

    data_dir = tmp_path / "data"
    ctx = bootstrap(Paths.resolve(data_dir))
    snap(int(time.time()), rate("0.02"), store=SqlSnapshotStore(ctx.engine))
    ctx.close()

    def run(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()

    assert run("alerts", "add", "--apy-below", "3", "--protocol", "aave-v3") == (
        0, "Added alert 1: APY of a position below 3 % (Aave v3)\n"
    )  # fmt: skip
    assert run("alerts", "add", "--apy-move-above", "1.5") == (
        0, "Added alert 2: APY of a position moves more than 1.5 points in a day\n"
    )  # fmt: skip
    code, _ = run("alerts", "add", "--apy-below", "3", "--currency", "EUR")
    assert code != 0
    code, out = run("alerts", "check")
    assert code == 0 and "2.00 %" in out
