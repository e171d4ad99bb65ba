"""Alert rules on the real SQLite stores: once per crossing, across refreshes and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.bootstrap import build_alert_service
from app.domain.alerts import AlertKind, AlertRuleError, FiredAlert
from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.risk import AccountRisk, RiskStatus
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
from app.services.alerts import AlertService
from app.storage.alert_store import SqlAlertStore
from app.storage.database import open_database
from app.storage.snapshot_store import SqlSnapshotStore

DAY = 86400
T0 = 1_750_000_000
ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ETH = "eip155:1/slip44:60"
ARB_ETH = "eip155:42161/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


@pytest.fixture
def engine(storage_engine: Engine) -> Iterator[Engine]:
    """Alert rules and events on SQLite and on PostgreSQL (tests/support/postgres.py)."""
    yield storage_engine


def account(hf: str | None, wallet: str = ADDR, protocol: str = "aave-v3") -> LendingAccount:
    return LendingAccount(
        f"eip155:1:{wallet}", protocol, "eip155:1", "", Decimal(1000),
        Decimal(0) if hf is None else Decimal(800), Decimal("0.83"),
        None if hf is None else Decimal(hf), (ETH,), (USDC,),
    )  # fmt: skip


def holding(asset: str, symbol: str, price: str | None, value: str = "1000") -> SnapshotHolding:
    return SnapshotHolding(
        f"eip155:1:{ADDR}", asset, symbol, 18, 10**18, None if price is None else Decimal(price),
        Decimal(value), SourceState.OK, T0,
    )  # fmt: skip


def snap(
    t: int,
    *accounts: LendingAccount,
    eth: str | None = "3000",
    total: str = "1000",
    currency: str = "USD",
    failed: bool = False,
) -> Snapshot:
    holdings = (holding(ETH, "ETH", eth, total), holding(ARB_ETH, "ETH", eth, "0"))
    sources = (SourceStatus("eip155:1", SourceState.FAILED if failed else SourceState.OK, None, t),)
    return Snapshot(t, currency, holdings, sources, accounts=accounts)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def service(engine: Engine, clock: Clock | None = None, **kw: object) -> AlertService:
    return AlertService(
        SqlAlertStore(engine),
        SqlSnapshotStore(engine),
        clock=clock or Clock(),
        **kw,  # type: ignore[arg-type]
    )


def test_health_factor_fires_once_per_crossing(engine: Engine) -> None:
    alerts = service(engine, chain_names={"eip155:1": "Ethereum"})
    rule = alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2")
    sequence = ["1.5", "1.1", "1.1", "1.05", "1.21", "1.0", "1.3", "1.15", None, "1.1"]
    fired = [len(alerts.check(snap(T0 + i * 60, account(hf)))) for i, hf in enumerate(sequence)]
    # 1.1 fires; still below: quiet; 1.21 is inside the 2 % re-arm margin: still quiet;
    # 1.3 re-arms; 1.15 fires again; repaid (no debt) re-arms; 1.1 fires.
    assert fired == [0, 1, 0, 0, 0, 0, 0, 1, 0, 1]
    events = alerts.events()
    assert len(events) == 3 and all(e.rule_id == rule.id for e in events)
    assert "Aave v3 on Ethereum, wallet 0x5aAe…eAed" in events[0].message
    assert "health factor 1.100" in events[0].message


def test_a_restart_does_not_fire_the_same_crossing_again(tmp_path: Path) -> None:
    db, backups = tmp_path / "db.sqlite", tmp_path / "backups"
    engine = open_database(db, backups)
    service(engine).add(AlertKind.HEALTH_FACTOR_BELOW, "1.2")
    (alert,) = service(engine).check(snap(T0, account("1.1")))
    assert alert.title == "Health factor 1.10 is below 1.2"
    engine.dispose()

    engine = open_database(db, backups)  # the app starts again; the position is still low
    again = service(engine)
    assert again.check(snap(T0 + 900, account("1.05"))) == []
    (rule,) = again.rules()
    assert rule.fired and rule.last_fired_at == T0
    assert again.check(snap(T0 + 1800, account("1.5"))) == []
    engine.dispose()

    engine = open_database(db, backups)
    assert not service(engine).rules()[0].fired  # the re-arm survived too
    assert len(service(engine).check(snap(T0 + 2700, account("1.1")))) == 1
    engine.dispose()


def test_wallet_and_protocol_filters(engine: Engine) -> None:
    alerts = service(engine)
    mine = alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2", wallet=ADDR.lower())
    comp = alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2", protocol="compound-v3")
    fired = alerts.check(snap(T0, account("1.1", wallet=OTHER), account("1.6")))
    assert fired == []
    fired = alerts.check(snap(T0 + 60, account("1.1", protocol="compound-v3"), account("1.1")))
    assert sorted(a.rule_id for a in fired) == [mine.id, comp.id]
    with pytest.raises(AlertRuleError, match="unknown lending protocol"):
        alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2", protocol="maker")


def test_price_levels_in_their_own_currency(engine: Engine) -> None:
    SqlSnapshotStore(engine).write(snap(T0 - 60))  # the asset is known from the holdings
    alerts = service(engine, chain_names={"eip155:1": "Ethereum"})
    up = alerts.add(AlertKind.PRICE_ABOVE, "3500", asset=ETH, currency="USD")
    down = alerts.add(AlertKind.PRICE_BELOW, "2500", asset=ETH)
    assert down.filters == {"asset": ETH, "currency": "USD"}
    assert alerts.check(snap(T0, eth="3000")) == []
    (a,) = alerts.check(snap(T0 + 60, eth="3600"))
    assert (a.rule_id, a.title) == (up.id, "ETH on Ethereum above 3,500 USD")  # names the chain
    assert "ETH on Ethereum is at 3,600.00 USD" in a.message
    assert alerts.check(snap(T0 + 120, eth=None)) == []  # unpriced: state kept, nothing fires
    assert alerts.check(snap(T0 + 180, eth="3700")) == []
    assert alerts.check(snap(T0 + 240, eth="3000", currency="EUR")) == []  # not comparable
    assert alerts.rules()[0].fired
    assert alerts.check(snap(T0 + 300, eth="3000")) == []  # back under: re-armed
    assert not alerts.rules()[0].fired
    (b,) = alerts.check(snap(T0 + 360, eth="2400"))
    assert b.rule_id == down.id


def test_price_of_an_asset_not_held_comes_from_the_lookup(engine: Engine) -> None:
    SqlSnapshotStore(engine).write(snap(T0 - 60))
    wbtc = "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
    lookups: list[tuple[str, str]] = []

    def prices(asset: str, currency: str) -> Decimal | None:
        lookups.append((asset, currency))
        return Decimal("101000")

    alerts = service(engine, prices=prices, catalog=lambda: [(wbtc, "WBTC")])
    rule = alerts.add(AlertKind.PRICE_ABOVE, "100000", asset="wbtc", currency="usd")
    assert rule.filters["asset"] == wbtc
    assert alerts.resolve_asset(wbtc.lower()) == (wbtc, "WBTC")  # any case: the canonical id
    assert len(alerts.check(snap(T0))) == 1
    assert lookups == [(wbtc, "USD")]


def test_daily_move_against_the_snapshot_a_day_before(engine: Engine) -> None:
    store = SqlSnapshotStore(engine)
    store.write(snap(T0 - DAY - 600, total="1000"))
    alerts = service(engine)
    alerts.add(AlertKind.DAILY_MOVE_ABOVE, "10")
    assert alerts.check(snap(T0, total="950")) == []
    (a,) = alerts.check(snap(T0 + 60, total="850"))
    assert a.title == "Portfolio fell 15.0 % in 24 h"
    assert "1,000.00 → 850.00 USD" in a.message
    assert alerts.check(snap(T0 + 120, total="800")) == []
    assert alerts.check(snap(T0 + 180, total="300", failed=True)) == []  # a chain missing
    assert alerts.rules()[0].fired
    # With only a week-old snapshot to compare with, it is not a daily move: state kept.
    assert alerts.check(snap(T0 + 8 * DAY, total="5000")) == []
    assert alerts.rules()[0].fired


def test_liquidation_probability_from_the_risk_provider(engine: Engine) -> None:
    p = {"value": 0.01}
    calls: list[int] = []

    def risk(snapshot: Snapshot) -> Sequence[AccountRisk]:
        calls.append(snapshot.taken_at)
        status = RiskStatus.OK if p["value"] is not None else RiskStatus.UNKNOWN
        return [AccountRisk(a, status, p["value"], p["value"]) for a in snapshot.accounts]

    alerts = service(engine, risk=risk)
    assert alerts.check(snap(T0, account("1.1"))) == []
    assert calls == []  # no probability rule: no risk computed
    alerts.add(AlertKind.LIQUIDATION_PROBABILITY_ABOVE, "5%")
    assert alerts.check(snap(T0, account("1.1"))) == []
    p["value"] = 0.072
    (a,) = alerts.check(snap(T0 + 60, account("1.1")))
    assert a.title == "Liquidation risk 7.2 % within 24 h"
    p["value"] = None  # history missing: neither fires nor re-arms
    assert alerts.check(snap(T0 + 120, account("1.1"))) == []
    assert alerts.rules()[0].fired
    p["value"] = 0.01
    alerts.check(snap(T0 + 180, account("1.1")))
    assert not alerts.rules()[0].fired


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (AlertKind.HEALTH_FACTOR_BELOW, "-1", "positive number"),
        (AlertKind.HEALTH_FACTOR_BELOW, "abc", "not a number"),
        (AlertKind.HEALTH_FACTOR_BELOW, "NaN", "not a usable number"),
        (AlertKind.LIQUIDATION_PROBABILITY_ABOVE, "150", "between 0 and 100"),
        (AlertKind.LIQUIDATION_PROBABILITY_ABOVE, "0", "between 0 and 100"),
        (AlertKind.DAILY_MOVE_ABOVE, "-5", "above 0"),
        (AlertKind.PRICE_ABOVE, "0", "above zero"),
    ],
)
def test_bad_thresholds_are_refused(
    engine: Engine, kind: AlertKind, value: str, message: str
) -> None:
    SqlSnapshotStore(engine).write(snap(T0))
    with pytest.raises(AlertRuleError, match=message):
        service(engine).add(kind, value, asset=ETH if kind is AlertKind.PRICE_ABOVE else None)
    assert service(engine).rules() == []


def test_unknown_and_ambiguous_assets_are_refused(engine: Engine) -> None:
    alerts = service(engine)
    SqlSnapshotStore(engine).write(snap(T0))
    with pytest.raises(AlertRuleError, match="unknown asset 'DOGE'"):
        alerts.add(AlertKind.PRICE_ABOVE, "1", asset="DOGE")
    with pytest.raises(AlertRuleError, match="names several assets"):
        alerts.add(AlertKind.PRICE_ABOVE, "1", asset="eth")
    with pytest.raises(AlertRuleError, match="not in your holdings"):
        alerts.add(AlertKind.PRICE_ABOVE, "1", asset="eip155:10/slip44:60")
    with pytest.raises(AlertRuleError, match="only goes with a price alert"):
        alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2", asset=ETH)


def test_disable_enable_remove_and_listeners(engine: Engine) -> None:
    alerts = service(engine)
    rule = alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2")
    heard: list[FiredAlert] = []
    alerts.subscribe(heard.append)
    low = snap(T0, account("1.1"))
    assert len(asyncio.run(alerts.after_refresh(low))) == 1
    assert len(heard) == 1
    alerts.set_enabled(rule.id, False)
    assert asyncio.run(alerts.after_refresh(low)) == []
    alerts.set_enabled(rule.id, True)  # re-enabled: the condition still holds, so it tells again
    assert len(asyncio.run(alerts.after_refresh(low))) == 1
    assert len(heard) == 2
    alerts.remove(rule.id)
    assert alerts.rules() == [] and alerts.events() == []
    with pytest.raises(AlertRuleError, match="no alert rule with id"):
        alerts.remove(rule.id)


def test_a_failing_check_never_breaks_the_refresh(engine: Engine) -> None:
    def broken(snapshot: Snapshot) -> Sequence[AccountRisk]:
        raise RuntimeError("bug")

    alerts = service(engine, risk=broken)
    alerts.add(AlertKind.LIQUIDATION_PROBABILITY_ABOVE, "5")
    assert asyncio.run(alerts.after_refresh(snap(T0, account("1.1")))) == []


def test_built_service_uses_the_app_database(engine: Engine) -> None:
    SqlSnapshotStore(engine).write(snap(T0))
    alerts = build_alert_service(engine)
    alerts.add(AlertKind.LIQUIDATION_PROBABILITY_ABOVE, "5")
    alerts.add(AlertKind.PRICE_BELOW, "100", asset=ETH, currency="USD")
    assert alerts.check(snap(T0 + 60, account("1.1"))) == []  # no history yet: unknown
