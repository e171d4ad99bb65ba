"""RiskService: inputs from a snapshot's positions and the stored price history."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.risk import DAY, RiskStatus, liquidation_probability
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.risk import RiskService
from app.storage.database import open_database
from app.storage.price_store import SqlBackfillStore

NOW = 1_750_000_000 - 1_750_000_000 % DAY + 3600
WALLET = "eip155:1:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH = "eip155:1/slip44:60"
WBTC = "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI = "eip155:1/erc20:0x6B175474E89094C44Da98b954EedeAC495271d0F"


def alternating(amplitude: float, days: int, start: float) -> list[tuple[int, Decimal]]:
    today = NOW - NOW % DAY
    level, out = start, []
    for i in range(days + 1):
        out.append((today - (days - i) * DAY, Decimal(repr(level))))
        level *= math.exp(amplitude if i % 2 == 0 else -amplitude)
    return out


class History:
    def __init__(self, series: dict[str, list[tuple[int, Decimal]]]) -> None:
        self.series = series
        self.asked: list[str] = []

    def history(self, asset_id: str, since: int = 0) -> list[tuple[int, Decimal]]:
        self.asked.append(asset_id)
        return [(t, p) for t, p in self.series.get(asset_id, []) if t >= since]


def position(asset: str, symbol: str, value: str, kind: str) -> SnapshotHolding:
    v = Decimal(value)
    return SnapshotHolding(
        WALLET, asset, symbol, 18, int(v * 10**18), Decimal(1), v, SourceState.OK, NOW,
        position=f"aave-v3:{kind}",
    )  # fmt: skip


def lending(hf: str, collateral: tuple[str, ...], debt: tuple[str, ...]) -> LendingAccount:
    return LendingAccount(
        WALLET, "aave-v3", "eip155:1", "", Decimal(10000), Decimal(8000), Decimal("0.83"),
        Decimal(hf), collateral, debt,
    )  # fmt: skip


def test_aave_account_near_liquidation_with_stablecoin_debt() -> None:
    history = History({ETH: alternating(0.04, 90, 2500)})  # USDC has no history yet
    snap = Snapshot(
        NOW, "USD",
        (position(ETH, "ETH", "10000", "supplied"), position(USDC, "USDC", "-8000", "borrowed")),
        (), accounts=(lending("1.04", (ETH,), (USDC.lower(),)),),  # any spelling of the id
    )  # fmt: skip
    (risk,) = RiskService(history, clock=lambda: NOW).assess(snap)
    assert risk.status is RiskStatus.OK
    assert risk.inputs is not None
    assert risk.inputs.sigma_daily == pytest.approx(0.04)
    assert risk.inputs.observations == 60 and risk.inputs.window_days == 60
    assert risk.inputs.assumed_stable == (USDC.lower(),)
    assert risk.p_24h == pytest.approx(liquidation_probability(Decimal("1.04"), 0.04, 1))
    assert 0.3 < risk.p_24h < risk.p_7d < 1  # type: ignore[operator]
    assert risk.collateral_value == Decimal(10000) and risk.debt_value == Decimal(8000)
    assert history.asked == [ETH, USDC]


def test_debt_with_history_uses_it_and_baskets_use_current_value_weights() -> None:
    history = History(
        {
            ETH: alternating(0.04, 90, 2500),
            WBTC: alternating(0.04, 90, 60000),
            USDC: [(t, Decimal(1)) for t, _ in alternating(0, 90, 1)],
        }
    )
    snap = Snapshot(
        NOW, "USD",
        (position(ETH, "ETH", "3000", "supplied"), position(WBTC, "WBTC", "1000", "supplied"),
         position(USDC, "USDC", "-2000", "borrowed")),
        (), accounts=(lending("1.6", (ETH, WBTC), (USDC,)),),
    )  # fmt: skip
    (risk,) = RiskService(history, clock=lambda: NOW).assess(snap)
    assert risk.inputs is not None
    assert dict(risk.inputs.collateral_weights) == {ETH: 0.75, WBTC: 0.25}
    assert risk.inputs.assumed_stable == ()
    assert risk.inputs.sigma_daily == pytest.approx(0.04, rel=0.01)  # same moves, any weights


def test_missing_history_or_values_give_a_reason_not_a_number() -> None:
    no_history = Snapshot(
        NOW, "USD",
        (position(ETH, "ETH", "100", "supplied"), position(DAI, "NOTDAI", "-50", "borrowed")),
        (), accounts=(lending("1.3", (ETH,), (DAI,)),),
    )  # fmt: skip
    (risk,) = RiskService(History({ETH: alternating(0.04, 90, 2500)}), clock=lambda: NOW).assess(
        no_history
    )
    assert risk.status is RiskStatus.UNKNOWN and risk.p_24h is None
    assert risk.reason == f"no price history yet for {DAI}"

    unweighted = Snapshot(
        NOW, "USD", (position(ETH, "ETH", "100", "supplied"),), (),
        accounts=(lending("1.3", (ETH, WBTC), (USDC,)),),
    )  # fmt: skip
    (risk,) = RiskService(History({})).assess(unweighted)
    assert risk.status is RiskStatus.UNKNOWN
    assert risk.reason == f"no current value for {WBTC} to weight the collateral basket"


def test_accounts_without_debt_and_empty_snapshots() -> None:
    account = LendingAccount(
        WALLET, "compound-v3", "eip155:1", "0xc3d688B66703497DAA19211EEdff47f25384cdc3",
        Decimal(500), Decimal(0), Decimal("0.9"), None, (ETH,), (),
    )  # fmt: skip
    service = RiskService(History({}))
    (risk,) = service.assess(Snapshot(NOW, "USD", (), (), accounts=(account,)))
    assert risk.status is RiskStatus.NO_DEBT and risk.p_24h is None
    assert service.assess(None) == ()


def test_real_price_store_feeds_the_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_database(tmp_path / "db.sqlite", tmp_path / "backups")
    store = SqlBackfillStore(engine)
    store.save_history(ETH, alternating(0.05, 70, 3000), "defillama")
    snap = Snapshot(
        NOW, "USD",
        (position(ETH, "ETH", "100", "supplied"), position(USDC, "USDC", "-70", "borrowed")),
        (), accounts=(lending("1.15", (ETH,), (USDC,)),),
    )  # fmt: skip
    (risk,) = RiskService(store, clock=lambda: NOW).assess(snap)
    assert risk.inputs is not None and risk.inputs.sigma_daily == pytest.approx(0.05)
    engine.dispose()
