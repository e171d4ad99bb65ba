"""Composition root: the one place that builds the object graph from the settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.config import Paths, Settings
from app.secrets import KeyringSecretStore
from app.services.wallets import WalletService
from app.storage.database import open_database
from app.storage.wallet_store import SqlWalletRepository

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
