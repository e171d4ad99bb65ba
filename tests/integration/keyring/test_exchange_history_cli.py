"""``chainfolio exchanges import`` with the key in a real Secret Service keyring and ccxt pointed
at a local fake of OKX: trades, deposits and withdrawals land in the ledger under the account's
own ledger account; a second import adds nothing; no byte of the key, secret or passphrase
reaches the data directory, the logs (``--verbose``) or any output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.keyring.test_no_secret_leaks import VerboseCli
from tests.support.fake_exchange import ExchangeWorld, running
from tests.support.fake_exchange_history import FakeTrade, FakeTransfer

pytestmark = pytest.mark.integration

API_KEY = "okxLeakTestKey7Q2w9e8r7t6y5u4i3o2p1a0s9d8f7g6h5"
SECRET = "okxLeakTestSecret1q2w3e4r5t6y7u8i9o0p1a2s3d4f5g6"
PASSPHRASE = "okxLeakTestPassphrase9z8x7c"
T0 = 1_760_000_000_000


def test_exchange_import_from_the_command_line(secret_service_session: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli = VerboseCli(secret_service_session, data)
    world = ExchangeWorld(
        spot={"BTC": ("0.5", "0")},
        trades=[FakeTrade(1, T0, "BTC", "EUR", "buy", "0.1", "50000", "5", "EUR")],
        deposits=[FakeTransfer("11", T0 - 3_600_000, "EUR", "6000")],
        withdrawals=[
            FakeTransfer("21", T0 + 3_600_000, "BTC", "0.01", "0.0002", txid="0x" + "e" * 64)
        ],
        page=100,
    )
    with running(world) as url:
        cli(
            ["exchanges", "add", "okx", "--api-url", url, "--json"],
            f"{API_KEY}\n{SECRET}\n{PASSPHRASE}\n",
        )
        out = json.loads(cli(["exchanges", "import", "--json"]))
        (acct,) = out["accounts"]
        assert acct["error"] is None and acct["new_records"] == 3
        assert acct["ledger_account"] == "OKX (okx)"
        assert acct["ledger"]["added"] == 4  # the buy, its euros, the deposit, the withdrawal
        text = cli(["exchanges", "import", "okx"])
        assert "OKX (okx): 0 new records, 0 ledger entries added." in text
        txs = json.loads(cli(["tx", "list", "--json"]))
    rows = txs if isinstance(txs, list) else txs.get("transactions", [])
    kinds = sorted((r["type"], r["asset"], r["amount"]) for r in rows)
    assert ("buy", "bip122:000000000019d6689c085ae165831e93/slip44:0", "0.1") in kinds
    assert ("withdrawal", "fiat:EUR", "5005") in kinds
    files = [p for p in data.rglob("*") if p.is_file()]
    for secret in (API_KEY, SECRET, PASSPHRASE):
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"secret in {path.relative_to(data)}"
        for output in cli.outputs:
            assert secret not in output
