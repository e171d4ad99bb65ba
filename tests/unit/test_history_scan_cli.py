"""``chainfolio history scan`` through the real bootstrap, stores and ledger, with fake history
sources in place of the chains; ``tx list`` shows what it imported."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import app.bootstrap
from app.bootstrap import AppContext, bootstrap
from app.cli import main
from app.config import Paths
from app.domain.addresses import AddressFamily
from app.domain.errors import ChainfolioError
from app.domain.model import Wallet
from app.services.onchain_history import ChainSource, eta_text
from app.storage.wallet_store import SqlWalletRepository
from tests.unit.test_onchain_history_service import BATCHES, CHAIN, A, B, FakeSource


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


@pytest.fixture
def wallets(data_dir: Path) -> None:
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    repo = SqlWalletRepository(ctx.engine)
    repo.add(Wallet(A, AddressFamily.EVM, "Main"))
    repo.add(Wallet(B, AddressFamily.EVM, "Cold"))
    ctx.close()


def use_sources(monkeypatch: pytest.MonkeyPatch, *sources: FakeSource) -> None:
    def fake(_ctx: AppContext) -> list[ChainSource]:
        return [
            ChainSource(s.chain, "Ethereum" if s.chain == CHAIN else "Optimism", "evm",
                        lambda s=s: s)  # type: ignore[misc]
            for s in sources
        ]  # fmt: skip

    monkeypatch.setattr(app.bootstrap, "history_sources", fake)


def test_scan_json_counts_per_chain_and_wallet_and_tx_list_shows_them(
    data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    code, out = run(data_dir, "history", "scan", "--json")
    assert code == 0
    doc = json.loads(out)
    (chain,) = doc["chains"]
    assert (chain["chain"], chain["movements"], chain["fees"], chain["error"]) == (
        CHAIN, 3, 1, None
    )  # fmt: skip
    assert chain["wallets"] == [{"wallet": A, "movements": 2}, {"wallet": B, "movements": 1}]
    assert doc["ledger"]["added"] == 3
    assert set(doc["ledger"]["accounts"]) == {A, B}
    code, out = run(data_dir, "tx", "list", "--json")
    listed = json.loads(out)
    rows = listed if isinstance(listed, list) else listed["transactions"]
    assert sorted(r["type"] for r in rows) == ["deposit", "fee", "transfer"]
    # a second scan adds nothing
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    code, out = run(data_dir, "history", "scan", "--json")
    assert json.loads(out)["ledger"]["added"] == 0


def test_scan_summary_text_and_a_failed_network(
    data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sources(
        monkeypatch,
        FakeSource(CHAIN, BATCHES),
        FakeSource("eip155:10", (), fail=ChainfolioError("the node refused the request")),
    )
    code, out = run(data_dir, "history", "scan")
    assert code == 1
    assert "Optimism: FAILED: the node refused the request" in out
    assert "Ethereum: 2 wallet(s), 3 new movement(s), 1 fee(s)" in out
    assert "Ledger: 3 transaction(s) added" in out


def test_every_network_failing_is_one_error_line(
    data_dir: Path,
    wallets: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_sources(monkeypatch, FakeSource(CHAIN, (), fail=TimeoutError()))
    code, _out = run(data_dir, "history", "scan", "--chain", "Ethereum")
    assert code == 1
    err = capsys.readouterr().err
    assert "No network could be scanned: Ethereum: the node did not answer in time" in err
    assert "Traceback" not in err


def test_unknown_wallet_is_refused(data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    code, _out = run(data_dir, "history", "scan", "--wallet", "nobody")
    assert code == 1 and "No wallet 'nobody'" in capsys.readouterr().err


def test_plain_history_still_works_beside_scan(data_dir: Path) -> None:
    code, out = run(data_dir, "history", "--json")
    assert code == 0 and json.loads(out)["points"] == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "estimating…"), (5, "less than a minute left"), (300, "about 5 min left"),
     (5400, "about 1.5 h left")],
)  # fmt: skip
def test_eta_text(seconds: float | None, text: str) -> None:
    assert eta_text(seconds) == text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_on_stderr_only(
    data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    code, out = run(data_dir, "history", "scan", "--json")
    assert code == 0 and json.loads(out)["ledger"]["added"] == 3  # stdout stays clean JSON
    shown = err.getvalue()
    assert "\rEthereum: 20/20 · 100% overall · 3 movements" in shown
    assert shown.endswith("\r")  # the progress line is wiped before the summary


def test_no_progress_when_stderr_is_not_a_terminal(
    data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert run(data_dir, "history", "scan")[0] == 0
    assert "overall" not in err.getvalue()


def test_the_wallets_coins_are_counted_once_in_a_portfolio_total(
    data_dir: Path, wallets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The imported account is linked to its wallet: beside it in a portfolio it adds only
    off-chain holdings, so the wallet's coins count once, as the observed balance."""
    import time
    from decimal import Decimal

    from app.domain.balances import SourceState
    from app.domain.snapshot import Snapshot, SnapshotHolding
    from app.storage.price_store import SqlBackfillStore
    from app.storage.snapshot_store import SqlSnapshotStore
    from tests.unit.test_onchain_history_service import T0, USDC

    ctx = bootstrap(Paths.resolve(str(data_dir)))
    SqlBackfillStore(ctx.engine).save_history(USDC, [(T0, Decimal(1))], "test")
    ctx.close()
    use_sources(monkeypatch, FakeSource(CHAIN, BATCHES))
    code, out = run(data_dir, "history", "scan", "--json")
    account = json.loads(out)["ledger"]["accounts"][A]
    ctx = bootstrap(Paths.resolve(str(data_dir)))
    now = int(time.time()) + 1  # after the wallets were added (they are timed to the µs)
    h = SnapshotHolding(f"{CHAIN}:{A}", USDC, "USDC", 6, 60_000_000, Decimal(1), Decimal(60),
                        SourceState.OK, now)  # fmt: skip
    SqlSnapshotStore(ctx.engine).write(Snapshot(now, "USD", (h,), ()))
    ctx.close()
    assert run(data_dir, "portfolios", "add", "Mine")[0] == 0
    assert run(data_dir, "portfolios", "include", "Mine", "--wallet", A)[0] == 0
    assert run(data_dir, "portfolios", "include", "Mine", "--account", account)[0] == 0
    code, out = run(data_dir, "portfolios", "show", "Mine", "--json")
    shown = json.loads(out)
    assert code == 0, shown["notes"]
    assert (shown["wallets_value"], shown["accounts_value"]) == ("60", "0")
    assert shown["total"] == "60"  # not 60 + the ledger's 60 USDC
