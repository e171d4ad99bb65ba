"""Composition root: the one place that builds the object graph from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.config import Paths, Settings
from app.secrets import KeyringSecretStore
from app.services.wallets import WalletService
from app.storage.database import open_database
from app.storage.wallet_store import SqlWalletRepository

if TYPE_CHECKING:
    from app.domain.balances import Balance, ChainReadResult
    from app.domain.chains import ChainSpec
    from app.domain.model import Wallet
    from app.services.balances import BalanceService
    from app.services.prices import HoldingValue
    from app.services.refresh import Pricer, RefreshService

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: Paths
    settings: Settings
    engine: Engine
    wallets: WalletService
    secrets: KeyringSecretStore
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Idempotent: flush and release the database."""
        if self._closed:
            return
        self._closed = True
        self.engine.dispose()


def load_settings(paths: Paths) -> Settings:
    paths.ensure()
    return Settings.load(paths.settings_file)


def bootstrap(paths: Paths, settings: Settings | None = None) -> AppContext:
    settings = settings or load_settings(paths)
    engine = open_database(paths.database, paths.backups_dir)
    from app.chains.evm.ens import mainnet_resolver  # light: web3 is imported on first lookup

    wallets = WalletService(SqlWalletRepository(engine), mainnet_resolver(paths.config_dir))
    return AppContext(
        paths=paths,
        settings=settings,
        engine=engine,
        wallets=wallets,
        secrets=KeyringSecretStore(),  # the backend is probed on first use, not here
    )


def build_balance_service(ctx: AppContext) -> BalanceService:
    """Chain readers for every family, each chain with its own timeout."""
    from app.chains.factory import ReaderContext, create_reader
    from app.services.balances import BalanceService

    readers = ReaderContext(ctx.settings, ctx.engine, ctx.secrets)
    return BalanceService(
        lambda spec: create_reader(spec, readers), float(ctx.settings.get("chains.chain_timeout_s"))
    )


def build_refresh_service(
    ctx: AppContext, chains: Callable[[], Sequence[ChainSpec]], pricer: Pricer | None = None
) -> RefreshService:
    """The one refresh the window and ``refresh --once`` share: ``chains``, priced, one snapshot.

    Chain and price libraries are imported here, on first use, never at start-up. Without a
    ``pricer``, each refresh opens and closes its own price clients.
    """
    from app.prices.factory import build_price_service
    from app.services.refresh import RefreshService
    from app.storage.snapshot_store import SqlSnapshotStore

    reader = build_balance_service(ctx)

    async def read_chain(spec: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        (result,) = await reader.refresh([spec], wallets)
        return result

    async def own_pricer(balances: Sequence[Balance], currency: str) -> Sequence[HoldingValue]:
        stack = build_price_service(ctx.engine, ctx.settings, ctx.secrets)
        try:
            return (await stack.service.value(balances, currency)).holdings
        finally:
            await stack.aclose()

    return RefreshService(
        chains,
        ctx.wallets.list,
        read_chain,
        pricer or own_pricer,
        SqlSnapshotStore(ctx.engine),
        lambda: str(ctx.settings.get("currency")),
    )
