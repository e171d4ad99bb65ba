"""A refresh keeps the ledger's daily closes and exchange rates current in the background:
the composition root's own step, against local Stooq and Frankfurter servers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from app.config import Paths, Settings
from app.domain.ledger import Transaction, TxKind
from app.domain.outcome import RefreshStatus
from app.services.refresh import RefreshResult
from app.storage.price_store import SqlMarketStore
from tests.integration.prices.fakes import serve_in_thread
from tests.integration.prices.market_fakes import FakeFrankfurter, FakeStooq
from tests.support.fakes import MemorySecrets

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()


def back(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def test_the_refresh_step_fetches_what_the_ledger_needs(tmp_path: Path) -> None:
    stooq = FakeStooq(closes={"sap.de": [(back(3), "110.5"), (back(2), "111")]})
    fx = FakeFrankfurter(
        rates={back(25): {"EUR": "0.8"}, back(3): {"EUR": "0.9"}, back(2): {"EUR": "0.91"}}
    )
    with serve_in_thread(stooq) as surl, serve_in_thread(fx) as furl:  # type: ignore[arg-type]
        paths = Paths.resolve(str(tmp_path / "data"))
        settings = Settings.load(paths.settings_file)
        settings.set("prices.stooq.url", surl)
        settings.set("prices.fx_history.url", furl)
        ctx = bootstrap(paths, settings)
        ctx.secrets = MemorySecrets()  # type: ignore[assignment]
        try:
            step = {r.name: r.step for r in ctx.refresh._steps}["ledger market history"]
            result = RefreshResult(
                RefreshStatus.OK,
                "ok",
                int(time.time()),
                "USD",
                prices=object(),  # type: ignore[arg-type]
            )

            async def refresh_once() -> None:
                await step(result)  # an empty ledger: nothing is asked
                assert stooq.log == [] and fx.log == []
                ctx.ledger.add_account("Broker")
                when = int(time.time()) - 20 * 86400
                ctx.ledger.add(
                    Transaction("Broker", TxKind.BUY, when, "stock:XETR:SAP", Decimal(2),
                                Decimal(100), "EUR")
                )  # fmt: skip
                await step(result)
                await ctx.aclose()

            asyncio.run(refresh_once())
            store = SqlMarketStore(ctx.engine)
            assert store.closes("stock:XETR:SAP") == (
                "EUR",
                [
                    (int(datetime.fromisoformat(back(3) + "T00:00+00:00").timestamp()),
                     Decimal("110.5")),
                    (int(datetime.fromisoformat(back(2) + "T00:00+00:00").timestamp()),
                     Decimal("111")),
                ],
            )  # fmt: skip
            assert [r for _, r in store.usd_rate_days("EUR")][:3] == [
                Decimal("0.8"),
                Decimal("0.9"),
                Decimal("0.91"),
            ]
            report = ctx.ledger.pnl()
            assert report.holdings[0].price_source == "market"
            assert report.holdings[0].cost_basis == Decimal(250)  # 200 EUR at 0.8 EUR per USD
        finally:
            ctx.close()
