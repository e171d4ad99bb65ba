"""Risk page: the model (qtmodeltester), colours, tooltips with the inputs, empty state, and the
estimate run off the GUI thread through the TaskRunner."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot

from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.risk import AccountRisk, RiskInputs, RiskStatus
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.ui.models.risk_model import LEVEL_ROLE, RiskColumn, RiskModel, format_probability
from app.ui.risk_page import RiskPage
from app.ui.tasks import TaskRunner

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
NAMES = {"eip155:1": "Ethereum"}


@pytest.fixture
def loop(qasync_loop: object) -> object:
    """The qasync loop (its worker threads end with the test: see tests/ui/conftest.py)."""
    return qasync_loop


def account(hf: str | None, protocol: str = "aave-v3") -> LendingAccount:
    return LendingAccount(
        f"eip155:1:{ADDR}", protocol, "eip155:1", "", Decimal("10000.5"),
        Decimal(0) if hf is None else Decimal(8000), Decimal("0.83"),
        None if hf is None else Decimal(hf), (ETH,), (USDC,),
    )  # fmt: skip


INPUTS = RiskInputs(
    Decimal("1.04"), 0.0412, 60, 59, 1_745_000_000, 1_750_000_000,
    ((ETH, 1.0),), ((USDC, 1.0),), (USDC,),
)  # fmt: skip


def risks() -> list[AccountRisk]:
    return [
        AccountRisk(account("1.04"), RiskStatus.OK, 0.34, 0.81, INPUTS, None, Decimal(10000),
                    Decimal(8000)),
        AccountRisk(account("1.8", "compound-v3"), RiskStatus.UNKNOWN,
                    reason="no price history yet for <b>X</b>"),
        AccountRisk(account(None), RiskStatus.NO_DEBT),
    ]  # fmt: skip


def snapshot(*accounts: LendingAccount) -> Snapshot:
    eth = SnapshotHolding(
        f"eip155:1:{ADDR}", ETH, "<i>ETH</i>", 18, 10**18, Decimal(3000), Decimal(3000),
        SourceState.OK, 1, position="aave-v3:supplied",
    )  # fmt: skip
    return Snapshot(1_750_000_000, "EUR", (eth,), (), accounts=accounts)


def test_risk_model_passes_modeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = RiskModel()
    model.set_risks(risks(), "EUR", NAMES, {ADDR: "Ledger"}, {ETH: "ETH", USDC: "USDC"})
    qtmodeltester.check(model)
    row = [model.index(0, c).data() for c in RiskColumn]
    assert row == ["Ledger", "Aave v3", "Ethereum", "10,000.00 EUR", "8,000.00 EUR", "1.04",
                   "34.0 %", "81.0 %"]  # fmt: skip
    assert model.index(1, RiskColumn.P_24H).data() == "unknown"
    assert model.index(1, RiskColumn.COLLATERAL).data() == "10,000.5"  # protocol units
    assert model.index(2, RiskColumn.HEALTH).data() == "—"
    assert model.index(2, RiskColumn.P_7D).data() == "—"


def test_colours_follow_the_risk_levels() -> None:
    model = RiskModel()
    model.set_risks(risks(), "EUR", NAMES, {}, {})
    assert model.index(0, RiskColumn.HEALTH).data(LEVEL_ROLE) == "danger"
    assert model.index(0, RiskColumn.P_24H).data(LEVEL_ROLE) == "danger"
    assert model.index(1, RiskColumn.HEALTH).data(LEVEL_ROLE) == "safe"
    assert model.index(1, RiskColumn.P_24H).data(LEVEL_ROLE) == ""  # unknown: not coloured
    assert model.index(0, RiskColumn.WALLET).data(LEVEL_ROLE) == ""


def test_probability_tooltip_shows_the_inputs_escaped() -> None:
    model = RiskModel()
    model.set_risks(risks(), "EUR", NAMES, {}, {ETH: "<i>ETH</i>", USDC: "USDC"})
    tip = model.index(0, RiskColumn.P_24H).data(0x03)  # ToolTipRole
    assert tip.startswith("<qt>") and "<i>" not in tip and "&lt;i&gt;ETH&lt;/i&gt; 100 %" in tip
    for part in ("4.12 % a day", "60 days, 59 daily moves", "Health factor now: 1.0400",
                 "USDC 100 % (taken as 1 USD: no price history)", "Model: first passage"):  # fmt: skip
        assert part in tip
    unknown = model.index(1, RiskColumn.P_7D).data(0x03)
    assert "Not estimated: no price history yet for &lt;b&gt;X&lt;/b&gt;" in unknown


def test_probability_formatting() -> None:
    assert [format_probability(p) for p in (None, 0.0, 0.00001, 0.0123, 0.5, 0.99995, 1.0)] == [
        "unknown", "0 %", "< 0.01 %", "1.23 %", "50.0 %", "> 99.99 %", "100.0 %",
    ]  # fmt: skip
    assert format_probability(0.0, volatile=True) == "< 0.01 %"


def test_empty_state_and_sorting(qtbot: QtBot) -> None:
    page = RiskPage()
    qtbot.addWidget(page)
    page.show_snapshot(None, NAMES, {})
    assert page.is_empty
    page.show_snapshot(snapshot(), NAMES, {})  # a snapshot without lending accounts
    assert page.is_empty and "No lending positions" in page.empty.text()
    page.show_risks(snapshot(account("1.04")), risks(), NAMES, {})
    assert not page.is_empty
    first = page.proxy.index(0, RiskColumn.P_24H).data()
    assert first == "34.0 %"  # riskiest first


def test_estimate_runs_off_the_gui_thread(qtbot: QtBot, loop: object) -> None:
    threads: list[str] = []

    def assess(snap: Snapshot) -> Sequence[AccountRisk]:
        threads.append(threading.current_thread().name)
        return [AccountRisk(a, RiskStatus.OK, 0.001, 0.02, INPUTS) for a in snap.accounts]

    page = RiskPage(TaskRunner(), assess)
    qtbot.addWidget(page)
    page.show_snapshot(snapshot(account("1.3")), NAMES, {ADDR: "Ledger"})
    assert "Estimating" in page.status.text()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    assert threads and threads[0] != threading.main_thread().name
    assert page.status.isHidden()
    assert page.model.index(0, RiskColumn.P_7D).data(LEVEL_ROLE) == "warning"
