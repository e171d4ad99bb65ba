"""``chainfolio yield`` as a new person meets it: before any refresh it says to refresh; after a
refresh whose positions carry no quoted rate it does not tell them to refresh again (they just
did) but says that no position carries a rate. Against anvil (the DeFi world's protocols quote
no rates)."""

from __future__ import annotations

import io
import json
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


def test_yield_before_any_refresh_says_to_refresh(data_dir: Path) -> None:
    code, text = run(data_dir, "yield")
    assert code == 0
    assert "chainfolio refresh --once" in text


def test_yield_after_a_refresh_without_rates(data_dir: Path, defi_world: DefiWorld) -> None:
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    w = defi_world
    chain = str(w.chain)
    for who in ("healthy", "borrower"):
        assert run(data_dir, "wallets", "add", WALLETS[who])[0] == 0
    assert run(data_dir, "networks", "add", str(w.node.chain_id), "Local", "ETH", w.node.url,
               "--multicall3", MULTICALL3)[0] == 0  # fmt: skip
    (data_dir / "defi.toml").write_text(w.defi_toml())
    for symbol, price in PRICES.items():
        assert run(data_dir, "prices", "override", str(w.info(symbol).asset_id), price)[0] == 0
    with serve_in_thread(FakeDefiLlama(prices={})) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        code, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    assert code == 0, out
    assert any(b.get("position") for b in json.loads(out)["chains"][0]["balances"])
    code, text = run(data_dir, "yield")
    assert code == 0
    assert "refresh" not in text
    assert "no protocol quoted an interest rate" in text
    code, out = run(data_dir, "yield", "--json")
    assert json.loads(out)["positions"] == []
