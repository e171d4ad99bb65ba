"""``chainfolio history scan`` runs the exchange accounts' import after the chains, through the
real bootstrap, stores and ledger (fake chain history source, real ccxt against the local fake
OKX): a withdrawal from the exchange that arrived in a wallet is a transfer in one command."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from app.config import Paths
from app.domain.exchanges import Credentials, ExchangeAccount
from app.domain.onchain import Movement, MovementKind, ScanBatch
from app.services.exchanges import ExchangeService
from app.storage.exchange_store import SqlExchangeStore
from tests.support.fake_exchange import ExchangeWorld, running
from tests.support.fake_exchange_history import FakeTransfer
from tests.unit.test_history_scan_cli import run, use_sources, wallets  # noqa: F401
from tests.unit.test_onchain_history_service import CHAIN, ETH, A, B, FakeSource

pytestmark = pytest.mark.integration

KEY = Credentials("key-LEAKTEST-7f3a", "secretLEAKTEST9q8Zr2Xw5Yv7Ut3Ss1", "pass-LEAKTEST")
TS = 1_760_000_000
H1 = "0x" + "1" * 64


def test_history_scan_imports_the_exchanges_and_matches_transfers(
    data_dir: Path,
    wallets: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arrived = Movement(CHAIN, H1, 10, TS, A, ETH, 5 * 10**17, MovementKind.NATIVE)
    use_sources(monkeypatch, FakeSource(CHAIN, (ScanBatch(CHAIN, (arrived,), (),
                                                          {A: "10", B: "10"}, {}, 10, 10),)))  # fmt: skip
    monkeypatch.setattr(ExchangeService, "credentials", lambda _self, _name: KEY)
    world = ExchangeWorld(
        withdrawals=[FakeTransfer("201", (TS - 600) * 1000, "ETH", "0.5", "0.001", txid=H1)],
        page=100,
    )
    with running(world) as url:
        ctx = bootstrap(Paths.resolve(str(data_dir)))
        SqlExchangeStore(ctx.engine).add(ExchangeAccount("okx", "okx", 1), url)
        ctx.close()
        code, out = run(data_dir, "history", "scan", "--json")
    assert code == 0, out
    doc = json.loads(out)
    (acct,) = doc["exchanges"]["accounts"]
    assert acct["error"] is None and acct["ledger"]["transfers"] == 1
    code, out = run(data_dir, "tx", "list", "--json")
    (tx,) = [r for r in json.loads(out) if r["type"] == "transfer"]
    assert tx["account"] == "OKX (okx)" and tx["to_account"].startswith("Wallet Main")
    got = (Decimal(tx["amount"]), Decimal(tx["fee"]), tx["fee_currency"])
    assert got == (Decimal("0.5"), Decimal("0.001"), ETH)
    # a scan limited to one network leaves the exchanges alone
    use_sources(monkeypatch, FakeSource(CHAIN, ()))
    code, out = run(data_dir, "history", "scan", "--chain", CHAIN, "--json")
    assert "exchanges" not in json.loads(out)
