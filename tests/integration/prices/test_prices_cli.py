"""``chainfolio prices`` end to end against a local DefiLlama, settings set through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread

pytestmark = pytest.mark.integration

USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_prices_and_override_commands(tmp_path: Path) -> None:
    llama = FakeDefiLlama(
        prices={
            "coingecko:ethereum": 3000.25,
            "coingecko:bitcoin": 67000.5,
            "ethereum:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": 1,
        }
    )
    with serve_in_thread(llama) as url:
        assert run(tmp_path, "config", "set", "prices.defillama.url", url)[0] == 0
        assert run(tmp_path, "config", "set", "prices.order", "defillama")[0] == 0
        code, out = run(tmp_path, "prices", "eip155:1/slip44:60", USDC, "--json")
        assert code == 0
        data = json.loads(out)
        assert [(p["price"], p["source"]) for p in data["prices"]] == [
            ("3000.25", "defillama"),
            ("1", "defillama"),
        ]
        assert len(llama.log) == 1  # both assets in one request

        assert run(tmp_path, "prices", "override", USDC, "0.97")[0] == 0
        code, out = run(tmp_path, "prices", USDC)
        assert code == 0 and "0.97 USD  [manual]" in out
        assert run(tmp_path, "prices", "override", USDC, "--remove")[0] == 0
        code, out = run(tmp_path, "prices", USDC, "--json")
        assert json.loads(out)["prices"][0]["source"] == "defillama"  # from the cache

        code, out = run(tmp_path, "prices", "coingecko:bitcoin", "--currency", "usd")
        assert code == 0 and out.startswith("coingecko:bitcoin  67000.5 USD  [defillama]")

        code, _ = run(tmp_path, "prices", "override", USDC, "nan")
        assert code != 0
        code, _ = run(tmp_path, "prices", "not-an-asset")
        assert code != 0
