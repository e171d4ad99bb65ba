"""A Bitcoin wallet's history feeds the ledger like the EVM and Solana history: the on-chain
history service (as the composition root builds it) over the Bitcoin source and a local
Electrum server; exact amounts and the fee in the ledger, and a second scan adds nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from app.bootstrap import asset_facts, bootstrap
from app.chains.bitcoin.history import create_history_source
from app.config import Paths
from app.domain.bitcoin import BTC_ASSET
from app.domain.chains import ChainFamily
from app.services.onchain_history import ChainSource, OnchainHistoryService
from app.storage.onchain_store import SqlOnchainStore
from tests.support.bitcoin_fakes import DEMO_ZPUB, ElectrumFake, demo_chain


def test_history_into_the_ledger(data_dir: Path) -> None:
    async def main() -> None:
        fake = await ElectrumFake(demo_chain()).start()
        ctx = bootstrap(Paths.resolve(data_dir))
        try:
            ctx.settings.set("bitcoin.electrum_server", fake.url)
            ctx.settings.set("bitcoin.gap_limit", 5)
            await ctx.wallets.add(DEMO_ZPUB, "Cold")
            spec = next(s for s in ctx.networks.enabled() if s.family is ChainFamily.BITCOIN)

            def sources() -> list[ChainSource]:
                def open_() -> object:
                    return create_history_source(spec, ctx.reader_context, ctx.wallets.list)

                return [ChainSource(str(spec.chain_id), spec.name, "bitcoin", open_)]  # type: ignore[arg-type]

            service = OnchainHistoryService(
                sources,
                ctx.wallets.list,
                SqlOnchainStore(ctx.engine),
                None,
                lambda assets: asset_facts(ctx, assets),  # type: ignore[arg-type,return-value]
            )
            report = await service.scan()
            assert not report.failed, report
            txs = [t for t in ctx.ledger.transactions() if t.asset == BTC_ASSET]
            booked = sorted((t.kind.value, t.amount) for t in txs)
            assert booked == [
                ("deposit", Decimal("0.00040000")),
                ("deposit", Decimal("0.00250000")),
                ("deposit", Decimal("0.01000000")),
                ("fee", Decimal("0.00001000")),  # the network fee of the payment, on its own
                ("withdrawal", Decimal("0.00300000")),
            ]
            signed = {"deposit": 1, "fee": -1, "withdrawal": -1}
            assert sum(signed[k] * a for k, a in booked) == Decimal("0.00989000")  # the balance
            again = await service.scan()
            assert again.ledger.added == 0
        finally:
            await ctx.aclose()
            await fake.stop()

    asyncio.run(main())
