"""``chainfolio alerts``: add, list, remove, enable/disable, history and check, through the CLI."""

from __future__ import annotations

import io
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from app.cli import main
from app.config import Paths
from app.domain.balances import SourceState
from app.domain.positions import LendingAccount
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.storage.snapshot_store import SqlSnapshotStore

ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


def seed(data_dir: Path, hf: str = "1.1", eth: str = "3000") -> None:
    ctx = bootstrap(Paths.resolve(data_dir))
    now = int(time.time())
    holdings = (
        SnapshotHolding(
            f"eip155:1:{ADDR}", ETH, "ETH", 18, 10**18, Decimal(eth), Decimal(eth),
            SourceState.OK, now, position="aave-v3:supplied",
        ),
        SnapshotHolding(
            f"eip155:1:{ADDR}", USDC, "USDC", 6, -2000 * 10**6, Decimal(1), Decimal(-2000),
            SourceState.OK, now, position="aave-v3:borrowed",
        ),
    )  # fmt: skip
    account = LendingAccount(
        f"eip155:1:{ADDR}", "aave-v3", "eip155:1", "", Decimal(eth), Decimal(2000),
        Decimal("0.83"), Decimal(hf), (ETH,), (USDC,),
    )  # fmt: skip
    SqlSnapshotStore(ctx.engine).write(Snapshot(now, "USD", holdings, (), accounts=(account,)))
    ctx.close()


def test_add_list_check_history_remove(data_dir: Path) -> None:
    seed(data_dir)
    assert run(data_dir, "wallets", "add", ADDR.lower(), "--label", "Main")[0] == 0
    code, out = run(data_dir, "alerts", "add", "--health-factor-below", "1.2", "--wallet", ADDR)
    assert (code, out) == (
        0,
        f"Added alert 1: Health factor below 1.2 (wallet {ADDR[:6]}…{ADDR[-4:]})\n",
    )
    assert run(data_dir, "alerts", "add", "--price-above", "eth", "2500")[0] == 0
    assert run(data_dir, "alerts", "add", "--liquidation-probability-above", "5")[0] == 0
    assert run(data_dir, "alerts", "add", "--daily-move-above", "10%")[0] == 0

    code, out = run(data_dir, "alerts", "list", "--json")
    rules = json.loads(out)
    assert [(r["id"], r["kind"], r["state"]) for r in rules] == [
        (1, "health_factor_below", "armed"),
        (2, "price_above", "armed"),
        (3, "liquidation_probability_above", "armed"),
        (4, "daily_move_above", "armed"),
    ]
    assert rules[0]["wallet"] == ADDR and rules[1]["asset"] == ETH
    assert rules[1]["currency"] == "USD" and rules[1]["threshold"] == "2500"

    code, out = run(data_dir, "alerts", "check")
    assert code == 0
    assert "Health factor 1.10 is below 1.2" in out and "ETH on Ethereum above 2,500 USD" in out
    assert run(data_dir, "alerts", "check") == (0, "No alert fired.\n")  # once per crossing

    _, out = run(data_dir, "alerts", "list")
    assert "   1  fired     Health factor below 1.2" in out
    assert "   3  armed     Liquidation probability (24 h) above 5 %" in out  # no history: unknown
    code, out = run(data_dir, "alerts", "history", "--json")
    assert sorted(e["rule_id"] for e in json.loads(out)) == [1, 2]

    assert run(data_dir, "alerts", "disable", "1") == (0, "Alert 1 disabled\n")
    assert "disabled" in run(data_dir, "alerts", "list")[1]
    assert run(data_dir, "alerts", "enable", "1")[0] == 0
    assert run(data_dir, "alerts", "remove", "2") == (0, "Removed alert 2\n")
    _, out = run(data_dir, "alerts", "history")
    assert "[1]" in out and "[2]" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--health-factor-below", "-1"], "positive number"),
        (["--health-factor-below", "0"], "positive number"),
        (["--liquidation-probability-above", "120"], "between 0 and 100"),
        (["--daily-move-above", "ten"], "not a number"),
        (["--price-below", "DOGE", "0.1"], "unknown asset 'DOGE'"),
        (["--price-below", "ETH", "-3"], "above zero"),
        (["--health-factor-below", "1.2", "--wallet", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"],
         "No wallet"),
        (["--daily-move-above", "5", "--wallet", ADDR], "only go with lending alerts"),
        (["--health-factor-below", "1.2", "--protocol", "maker"], "unknown lending protocol"),
        (["--daily-move-above", "5", "--currency", "EUR"], "only goes with --price"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    seed(data_dir)
    assert run(data_dir, "alerts", "add", *argv)[0] == 1
    assert message in capsys.readouterr().err
    assert json.loads(run(data_dir, "alerts", "list", "--json")[1]) == []


def test_unknown_ids_and_empty_states(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "No alert rules" in run(data_dir, "alerts", "list")[1]
    assert run(data_dir, "alerts", "history") == (0, "No alert has fired yet.\n")
    assert run(data_dir, "alerts", "remove", "7")[0] == 1
    assert "no alert rule with id 7" in capsys.readouterr().err
    assert run(data_dir, "alerts", "check")[0] == 1
    assert "No snapshots yet" in capsys.readouterr().err
