"""``chainfolio refresh --once --json`` with DeFi positions, end to end against anvil.

The person's ``defi.toml`` (beside settings.toml; the data dir in portable mode) points every
protocol at the test contracts, the way ``networks add`` points a chain at the node.
"""

from __future__ import annotations

import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.defi.world import WALLETS, DefiWorld
from tests.integration.evm.anvil import MULTICALL3

pytestmark = pytest.mark.integration
PRICES = {"WETH": "3000", "USDC": "1", "stETH": "2990", "rETH": "3300"}


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_refresh_json_shows_positions_values_and_accounts(
    data_dir: Path, defi_world: DefiWorld
) -> None:
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    w = defi_world
    chain = str(w.chain)
    for who in ("healthy", "risky", "borrower", "staker", "restaker"):
        assert run(data_dir, "wallets", "add", WALLETS[who])[0] == 0
    assert run(data_dir, "networks", "add", str(w.node.chain_id), "Local", "ETH", w.node.url,
               "--multicall3", MULTICALL3)[0] == 0  # fmt: skip
    # The person added WETH and aWETH as tokens: aWETH is what Aave's supply position reads.
    for symbol in ("WETH", "aWETH"):
        assert run(data_dir, "tokens", "add", chain, w.token[symbol])[0] == 0
    (data_dir / "defi.toml").write_text(w.defi_toml())
    for symbol, price in PRICES.items():
        assert run(data_dir, "prices", "override", str(w.info(symbol).asset_id), price)[0] == 0
    assert run(data_dir, "prices", "override", f"{chain}/slip44:60", "3000")[0] == 0
    with serve_in_thread(FakeDefiLlama(prices={})) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        code, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    assert code == 0, out
    doc = json.loads(out)
    (result,) = doc["chains"]
    assert result["status"] == "ok" and result["failures"] == []
    assert result["http_requests"] == 2
    entries = result["balances"]
    assert not any(e["symbol"] == "aWETH" for e in entries)  # not counted twice

    def entry(who: str, position: str, symbol: str) -> dict[str, object]:
        wallet = f"{chain}:{WALLETS[who]}"
        (e,) = [x for x in entries if x["wallet"] == wallet and x.get("position", "") == position
                and x["symbol"] == symbol]  # fmt: skip
        return e

    borrowed = entry("healthy", "aave-v3:borrowed", "USDC")
    assert borrowed["protocol"] == "aave-v3" and borrowed["kind"] == "borrowed"
    assert borrowed["amount"] == "-5000.000000" and borrowed["price"] == "1"
    assert Decimal(str(borrowed["value"])) == -5000
    supplied = entry("healthy", "aave-v3:supplied", "WETH")
    assert Decimal(str(supplied["value"])) == 30000
    plain = entry("healthy", "", "WETH")  # the same asset held plainly is valued on its own
    assert "position" not in plain and Decimal(str(plain["value"])) == 3000
    collateral = entry("borrower", f"compound-v3:{w.comet}:collateral", "WETH")
    assert collateral["kind"] == "collateral" and Decimal(str(collateral["value"])) == 6000
    wrapped = entry("staker", f"lido:{w.token['wstETH']}:staked", "stETH")
    assert wrapped["amount"] == "2.400000000000000000" and wrapped["price"] == "2990"
    native = entry("restaker", "eigenlayer:restaked", "ETH")
    assert native["protocol"] == "eigenlayer" and Decimal(str(native["value"])) == 96000
    reth = entry("restaker", "eigenlayer:restaked", "rETH")
    assert Decimal(str(reth["value"])) == Decimal("3630")
    # Net worth: debts subtract; every entry counted once.
    values = [Decimal(str(e["value"])) for e in entries]
    assert Decimal(doc["total"]) == sum(values, Decimal(0))
    assert Decimal(doc["total"]) == Decimal("163368.857143")
    accounts = {(a["wallet"].rsplit(":", 1)[1], a["protocol"]): a for a in result["accounts"]}
    assert accounts[(WALLETS["risky"], "aave-v3")]["health_factor"] == "1.05"
    assert accounts[(WALLETS["healthy"], "aave-v3")]["liquidation_threshold"] == "0.825"
    assert accounts[(WALLETS["borrower"], "compound-v3")]["health_factor"] == "1.8"
    # The snapshot keeps the positions and the accounts.
    con = sqlite3.connect(data_dir / "chainfolio.sqlite3")
    try:
        stored = con.execute(
            "SELECT count(*) FROM snapshot_holdings WHERE position != ''"
        ).fetchone()[0]
        assert stored == sum(1 for e in entries if e.get("position"))
    finally:
        con.close()
