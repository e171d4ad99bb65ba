"""After-refresh steps belong to the pipeline: a scheduler refresh with no window at all checks
the alert rules and backfills price history. Real parts: the composition root, a real anvil
node answering as chain 1, a local DefiLlama-format price server, the real database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from app.config import Paths, Settings
from app.domain.alerts import AlertKind
from app.domain.outcome import RefreshStatus
from app.services.scheduler import RefreshScheduler
from tests.integration.evm.anvil import Anvil, running
from tests.integration.evm.proxy import FaultyProxy
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread
from tests.support.fakes import MemorySecrets
from tests.support.setup_cli import mainnet_only, run_cli

pytestmark = pytest.mark.integration
WALLET = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"


@pytest.fixture
def mainnet_anvil() -> Iterator[Anvil]:
    yield from running(1)


def test_a_scheduler_refresh_checks_alerts_and_backfills_without_any_window(
    tmp_path: Path, mainnet_anvil: Anvil
) -> None:
    data_dir = tmp_path / "data"
    mainnet_anvil.set_native(WALLET, 2 * 10**18)
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000.0})
    with serve_in_thread(llama) as prices_url:
        mainnet_only(data_dir, WALLET, mainnet_anvil.url, prices_url, "Main")
        paths = Paths.resolve(data_dir)
        context = bootstrap(paths, Settings.load(paths.settings_file))
        context.secrets = MemorySecrets()  # type: ignore[assignment]
        fired: list[str] = []
        context.alerts.subscribe(lambda alert: fired.append(alert.title))

        async def scenario() -> None:
            scheduler = RefreshScheduler(context.refresh.refresh, lambda: 15, lambda: True)
            first = await scheduler.refresh_now()  # ETH is held from now on
            assert first.ok and first.result is not None and first.result.alerts == []
            context.alerts.add(
                AlertKind.PRICE_ABOVE, "1500", asset="eip155:1/slip44:60", currency="USD"
            )
            outcome = await scheduler.refresh_now()
            assert outcome.ok and outcome.result is not None, outcome.error
            result = outcome.result
            assert result.status is RefreshStatus.OK and result.stored
            assert result.snapshot is not None and result.snapshot.total == Decimal(4000)
            assert [a.kind for a in result.alerts] == [AlertKind.PRICE_ABOVE]
            await context.refresh.drain(30)  # the backfill step runs in the background
            await context.aclose()

        asyncio.run(scenario())
    assert len(fired) == 1 and "ETH" in fired[0]
    assert any(entry.path.startswith("/chart/") for entry in llama.log), llama.log
    again = bootstrap(paths, Settings.load(paths.settings_file))
    try:
        assert len(again.alerts.events()) == 1
        with again.engine.connect() as con:
            from sqlalchemy import text

            days = con.execute(
                text("SELECT count(*) FROM price_history WHERE asset_id = 'eip155:1/slip44:60'")
            ).scalar()
        assert days and days > 300  # a year of daily prices
    finally:
        again.close()


def test_a_refresh_asks_for_prices_while_the_chain_answers(
    tmp_path: Path, mainnet_anvil: Anvil
) -> None:
    """With default settings, a refresh 15 minutes after the last one (its prices past their
    5 minutes) asks for the prices of what was held while the node is still answering, and
    not again after the read. The node is behind a proxy adding 0.2 s to every request."""
    data_dir = tmp_path / "data"
    mainnet_anvil.set_native(WALLET, 2 * 10**18)
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000.0})
    proxy = FaultyProxy(mainnet_anvil.url, latency=0.2)
    try:
        with serve_in_thread(llama) as prices_url:
            mainnet_only(data_dir, WALLET, proxy.url, prices_url, "Main")
            run_cli(data_dir, "config", "set", "prices.backfill_budget_seconds", "0")
            paths = Paths.resolve(data_dir)
            context = bootstrap(paths, Settings.load(paths.settings_file))
            context.secrets = MemorySecrets()  # type: ignore[assignment]

            def current() -> list[float]:
                return [e.at for e in llama.log if e.path.startswith("/prices/current/")]

            async def scenario() -> None:
                first = await context.refresh.refresh()
                assert first.stored and len(current()) == 1
                with context.engine.begin() as con:  # as if 15 minutes had passed
                    from sqlalchemy import text

                    con.execute(text("UPDATE prices SET fetched_at = fetched_at - 900"))
                started = time.monotonic()
                second = await context.refresh.refresh()
                assert second.stored and second.snapshot is not None
                assert second.snapshot.total == Decimal(4000) and second.price_errors == []
                (chain,) = second.chains
                asked = current()[1:]
                assert len(asked) == 1  # once, early; not again after the read
                assert asked[0] - started < chain.seconds  # while the node was answering
                await context.aclose()

            asyncio.run(scenario())
    finally:
        proxy.stop()
