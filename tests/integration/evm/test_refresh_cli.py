"""``chainfolio networks`` and ``refresh --once --json`` end to end against a real anvil node."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.support.net import free_port

pytestmark = pytest.mark.integration
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_refresh_json_reports_ok_and_failed_chains(data_dir: Path, anvil: Anvil) -> None:
    anvil.set_native(WALLET, 1_500_000_000_000_000_001)
    assert run(data_dir, "wallets", "add", WALLET)[0] == 0
    assert run(data_dir, "networks", "add", str(anvil.chain_id), "Local", "ETH", anvil.url,
               "--multicall3", MULTICALL3)[0] == 0  # fmt: skip
    dead = f"http://127.0.0.1:{free_port()}"
    assert run(data_dir, "networks", "add", "999", "Dead", "DED", dead, "--no-check")[0] == 0
    _, listing = run(data_dir, "networks", "list", "--json")
    assert {"eip155:31337", "eip155:999", "eip155:1"} <= {n["chain"] for n in json.loads(listing)}
    code, out = run(data_dir, "refresh", "--once", "--json", "--no-prices",
                    "--chain", "eip155:31337", "--chain", "eip155:999")  # fmt: skip
    assert code == 1
    chains = {c["chain"]: c for c in json.loads(out)["chains"]}
    ok, bad = chains["eip155:31337"], chains["eip155:999"]
    assert ok["status"] == "ok" and ok["reason"] is None
    assert ok["balances"] == [
        {
            "wallet": f"eip155:31337:{WALLET}",
            "asset": "eip155:31337/slip44:60",
            "symbol": "ETH",
            "name": "ETH",
            "raw": "1500000000000000001",
            "decimals": 18,
            "amount": "1.500000000000000001",
            "spam": False,
        }
    ]
    assert bad["status"] == "failed" and "could not be reached" in bad["reason"]
    code, table = run(data_dir, "refresh", "--once", "--no-prices", "--chain", "eip155:31337")
    assert code == 0 and "1.500000000000000001 ETH" in table


def test_refresh_values_holdings_with_prices(data_dir: Path, anvil: Anvil) -> None:
    """Balances from a real node valued through a local DefiLlama server and a manual price."""
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    wallet = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"
    anvil.set_native(wallet, 2 * 10**18 + 1)
    run(data_dir, "wallets", "add", wallet)
    run(data_dir, "networks", "add", str(anvil.chain_id), "Local", "ETH", anvil.url,
        "--multicall3", MULTICALL3)  # fmt: skip
    llama = FakeDefiLlama(prices={})
    with serve_in_thread(llama) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        asset = f"eip155:{anvil.chain_id}/slip44:60"
        assert run(data_dir, "prices", "override", asset, "1999.5")[0] == 0
        code, out = run(
            data_dir, "refresh", "--once", "--json", "--chain", f"eip155:{anvil.chain_id}"
        )
    assert code == 0
    doc = json.loads(out)
    (entry,) = [b for b in doc["chains"][0]["balances"] if b["wallet"].endswith(wallet)]
    assert entry["price"] == "1999.5" and entry["price_source"] == "manual"
    assert entry["value"].startswith("3999.0000000000000019995")
    assert doc["currency"] == "USD" and doc["total"].startswith("3999.0000000000000019995")
    # The new asset was queued for history backfill and the queue was worked through.
    import sqlite3

    con = sqlite3.connect(data_dir / "chainfolio.sqlite3")
    rows = con.execute("SELECT status FROM backfill_jobs WHERE asset_id = ?", (asset,)).fetchall()
    assert rows == [("done",)]
    # One snapshot stored, like the window's refresh does.
    assert doc["snapshot"]["id"] == 1 and doc["snapshot"]["stale_total"] == "0"
    assert con.execute("SELECT count(*) FROM snapshot_holdings").fetchone() == (1,)

    # The node goes away: the next snapshot keeps the last good holdings, marked stale.
    chain = f"eip155:{anvil.chain_id}"
    assert run(data_dir, "networks", "set-rpc", chain, f"http://127.0.0.1:{free_port()}")[0] == 0
    with serve_in_thread(llama) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        code, out = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    assert code == 1
    later = json.loads(out)
    assert later["chains"][0]["status"] == "failed"
    (source,) = later["snapshot"]["sources"]
    assert source["state"] == "stale" and source["as_of"] == doc["snapshot"]["taken_at"]
    assert later["total"] == later["snapshot"]["stale_total"] == doc["total"]
    assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (2,)
    con.close()


def test_headless_refresh_checks_alert_rules_once_per_crossing(
    data_dir: Path, anvil: Anvil
) -> None:
    from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

    wallet = "0x2546BcD3c84621e976D8185a91A922aE77ECEc30"
    anvil.set_native(wallet, 10**18)
    run(data_dir, "wallets", "add", wallet)
    run(data_dir, "networks", "add", str(anvil.chain_id), "Local", "ETH", anvil.url,
        "--multicall3", MULTICALL3)  # fmt: skip
    chain, asset = f"eip155:{anvil.chain_id}", f"eip155:{anvil.chain_id}/slip44:60"
    with serve_in_thread(FakeDefiLlama(prices={})) as url:
        run(data_dir, "config", "set", "prices.defillama.url", url)
        run(data_dir, "config", "set", "prices.order", "defillama")
        run(data_dir, "prices", "override", asset, "1999.5")
        assert run(data_dir, "refresh", "--once", "--chain", chain)[0] == 0
        assert run(data_dir, "alerts", "add", "--price-above", asset, "1500")[0] == 0
        outputs = [run(data_dir, "refresh", "--once", "--chain", chain)[1] for _ in range(2)]
        _, doc = run(data_dir, "refresh", "--once", "--json", "--chain", chain)
    assert [o.count("Alert: ") for o in outputs] == [1, 0]  # fires once, not every refresh
    assert json.loads(doc)["alerts"] == []
    _, history = run(data_dir, "alerts", "history", "--json")
    assert len(json.loads(history)) == 1
