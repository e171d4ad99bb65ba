"""Composition root: the one place that builds the object graph from the settings.

``bootstrap()`` opens the database and returns an :class:`AppContext`; everything else a front
end uses — the refresh pipeline and its after-refresh steps, stores, the network registry, the
alert and risk services — is built here on first use and handed out from the context. Widgets
and CLI commands never construct adapters themselves.

Settings changed while the app runs (networks, RPC URLs, price sources, currency, keys) reach
the next refresh through one path, :meth:`AppContext.settings_changed`: the objects derived from
settings are dropped and rebuilt on next use; long-lived readers' memory (verified endpoints,
learned pacing) lives in the reader context and survives it.

Heavy libraries (web3, solana, httpx) are imported on first use, never at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from app.config import Paths, Settings, StorageSettings
from app.secrets import KeyringSecretStore, SecretStoreError
from app.services.wallets import WalletService
from app.storage.database import open_database
from app.storage.encryption import DatabaseKey, KeyringKeys, PassphrasePrompt, unlock
from app.storage.wallet_store import SqlWalletRepository

if TYPE_CHECKING:
    from app.chains.factory import ReaderContext
    from app.chains.registry import ChainRegistry
    from app.domain.balances import Balance, ChainReadResult
    from app.domain.chains import ChainSpec
    from app.domain.model import Wallet
    from app.domain.onchain import HistorySource
    from app.domain.onchain_ledger import AssetFacts
    from app.domain.ports import SecretStore
    from app.net import Egress
    from app.prices.factory import PriceStack
    from app.services.activity import ActivityService
    from app.services.alerts import AlertService
    from app.services.balances import BalanceService
    from app.services.exchange_history import ExchangeHistoryService
    from app.services.exchanges import ExchangeService
    from app.services.history import HistoryService
    from app.services.ledger import LedgerService
    from app.services.onchain_history import ChainSource, OnchainHistoryService
    from app.services.onchain_timeline import OnchainTimeline
    from app.services.portfolios import PortfolioService
    from app.services.price_ids import PriceIdService
    from app.services.refresh import Pricer, PriceReport, RefreshResult, RefreshService
    from app.services.risk import RiskService
    from app.services.yields import YieldService
    from app.storage.postgres_group import PostgresRefreshGroup
    from app.storage.privacy_store import SqlPrivacyStore
    from app.storage.snapshot_store import SqlSnapshotStore

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: Paths
    settings: Settings
    engine: Engine
    wallets: WalletService
    secrets: KeyringSecretStore
    database_key: DatabaseKey | None = field(default=None, repr=False)  # None: not encrypted
    egress: Egress | None = field(default=None, repr=False)  # the one way out (app.net)
    # The shared database was unreachable: why, while a read-only local copy is shown.
    shared_offline: str | None = None
    _closed: bool = field(default=False, repr=False)
    _registry: ChainRegistry | None = field(default=None, repr=False)
    _registry_stamp: tuple[int, int] | None = field(default=None, repr=False)
    _prices: PriceStack | None = field(default=None, repr=False)
    _retired: list[PriceStack] = field(default_factory=list, repr=False)
    _chain_names: dict[str, str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- settings ----------------------------------------------------------------------
    def settings_changed(self, keys: Sequence[str] = ()) -> None:
        """The one path for settings changed while running: the next refresh uses them."""
        with self._lock:
            self._registry = None
            if self._prices is not None:
                self._retired.append(self._prices)  # a running refresh may still use it
                self._prices = None
        self._refresh_names()
        self.apply_network_settings()
        log.info("settings changed (%s): applied to the next refresh", ", ".join(keys) or "all")

    def apply_network_settings(self) -> None:
        """Proxy, stream isolation and own-nodes-only take effect at once, on live clients too."""
        if self.egress is not None:
            from app.chains.own_nodes import own_rpc_urls
            from app.net.settings import network_policy

            self.egress.policy = network_policy(self.settings, lambda: own_rpc_urls(self.networks))

    @cached_property
    def privacy(self) -> SqlPrivacyStore:
        """What each host has learnt (the privacy ledger); written by the egress recorder."""
        from app.storage.privacy_store import SqlPrivacyStore

        return SqlPrivacyStore(self.engine)

    def flush_privacy(self) -> None:
        """Write the privacy records still pending (synchronous: a worker thread or the end)."""
        if self.egress is not None and self.egress.recorder is not None:
            self.egress.recorder.flush()

    def privacy_names(self) -> dict[str, str]:
        """Each address the privacy ledger may list (derived Bitcoin addresses too) -> the
        name of its wallet."""
        return privacy_watch(self.engine, self.wallets)[1]

    # --- stores and registries -----------------------------------------------------------
    @property
    def networks(self) -> ChainRegistry:
        """The chain registry as the file says now: rebuilt after a settings change, and when
        the file changed on disk (``chainfolio networks …`` while the window runs)."""
        path = self.paths.config_dir / "networks.toml"
        stamp = _stamp(path)
        with self._lock:
            if self._registry is None or stamp != self._registry_stamp:
                from app.chains.registry import ChainRegistry

                self._registry = ChainRegistry(path, self.secrets)
                self._registry_stamp = _stamp(path)
            return self._registry

    @property
    def chain_names(self) -> dict[str, str]:
        """CAIP-2 id -> name of every known chain; one dict, updated in place on changes."""
        if not self._chain_names:
            self._refresh_names()
        return self._chain_names

    def _refresh_names(self) -> None:
        try:
            names = {str(c.chain_id): c.name for c in self.networks.all()}
            names.update(self.exchanges.titles())
        except Exception:  # a broken networks file is reported where networks are used
            log.warning("cannot read the network list", exc_info=True)
            return
        self._chain_names.clear()
        self._chain_names.update(names)

    @cached_property
    def snapshots(self) -> SqlSnapshotStore:
        from app.storage.snapshot_store import SqlSnapshotStore

        return SqlSnapshotStore(self.engine, watched_only=True)  # the refresh pipeline writes

    @cached_property
    def history(self) -> HistoryService:
        from app.services.history import HistoryService
        from app.storage.history_store import SqlHistoryStore

        return HistoryService(SqlHistoryStore(self.engine))

    @cached_property
    def reader_context(self) -> ReaderContext:
        """What every chain reader may use; lives as long as the app, so what readers learn
        about endpoints (verified chain ids, pacing) outlives one refresh."""
        from app.chains.factory import ReaderContext
        from app.defi.registry import positions_for  # the EVM reader's DeFi sources

        return ReaderContext(
            self.settings, self.engine, self.secrets, {"evm.positions": positions_for}
        )

    def price_stack(self) -> PriceStack:
        with self._lock:
            if self._prices is None:
                from app.prices.factory import build_price_service

                self._prices = build_price_service(self.engine, self.settings, self.secrets)
            return self._prices

    # --- services ----------------------------------------------------------------------
    @cached_property
    def risk(self) -> RiskService:
        """Liquidation risk over the stored daily price history."""
        from app.services.risk import RiskService
        from app.storage.price_store import SqlBackfillStore

        return RiskService(SqlBackfillStore(self.engine))

    @cached_property
    def yields(self) -> YieldService:
        """Rates of the interest-bearing positions and their realised yield (the Yield tab)."""
        from app.services.yields import YieldService
        from app.storage.yield_store import SqlYieldHistory

        return YieldService(SqlYieldHistory(self.engine))

    @cached_property
    def alerts(self) -> AlertService:
        """Alert rules over the stored snapshots, cached prices and token lists."""
        return build_alert_service(
            self.engine,
            risk=self.risk,
            chain_names=self.chain_names,
            natives=lambda: [(str(c.native_asset), c.native_symbol) for c in self.networks.all()],
        )

    @cached_property
    def activity(self) -> ActivityService:
        """Where pasted addresses were used: every enabled EVM chain asked at once."""
        from app.chains.evm.activity import RpcActivityProbe
        from app.services.activity import ActivityService

        request_s = int(self.settings.get("chains.request_timeout_ms")) / 1000
        return ActivityService(
            lambda: self.networks.enabled(),
            RpcActivityProbe(timeout=min(request_s, 8.0)),
            lambda: min(10.0, float(self.settings.get("chains.chain_timeout_s"))),
        )

    @cached_property
    def exchanges(self) -> ExchangeService:
        """Exchange accounts read through ccxt; keys in the keyring."""
        from app.exchanges.ccxt_client import ExchangeClient
        from app.services.exchanges import ExchangeService
        from app.storage.exchange_store import SqlExchangeStore

        timeout = float(self.settings.get("chains.chain_timeout_s"))
        return ExchangeService(
            SqlExchangeStore(self.engine),
            self.secrets,
            lambda exchange, credentials, url: ExchangeClient(
                exchange, credentials, api_url=url, timeout=timeout
            ),
            timeout=timeout,
        )

    @cached_property
    def exchange_history(self) -> ExchangeHistoryService:
        """Exchange accounts' trades, deposits and withdrawals imported into the ledger."""
        from decimal import Decimal

        from app.exchanges.history import HistoryClient
        from app.services.exchange_history import ExchangeHistoryService
        from app.storage.exchange_history_store import SqlExchangeHistoryStore
        from app.storage.price_store import SqlBackfillStore

        timeout = float(self.settings.get("chains.chain_timeout_s"))
        prices = SqlBackfillStore(self.engine)

        class _Daily:
            def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
                return {a: dict(prices.history(a, start)) for a in assets}

        return ExchangeHistoryService(
            self.exchanges,
            SqlExchangeHistoryStore(self.engine),
            lambda exchange, credentials, url: HistoryClient(
                exchange, credentials, api_url=url, timeout=timeout
            ),
            _Daily(),
        )

    @cached_property
    def refresh(self) -> RefreshService:
        """The one refresh pipeline, with its after-refresh steps registered."""
        return build_refresh_service(self)

    @cached_property
    def price_ids(self) -> PriceIdService:
        """Price ids a person gives a token or a native coin (the window's "Set price
        source…"), checked against the price sources before they are saved."""
        return build_price_id_service(self)

    @cached_property
    def ledger(self) -> LedgerService:
        """Manual accounts, transactions, cost basis, P&L and returns (settings read per call,
        so a changed currency or cost-basis method applies at once)."""
        return build_ledger_service(self)

    @cached_property
    def portfolios(self) -> PortfolioService:
        """Named sets of wallets and ledger accounts, and wallets linked to ledger accounts."""
        return build_portfolio_service(self)

    @cached_property
    def onchain_history(self) -> OnchainHistoryService:
        """Each wallet's past read from the chains (own RPC first, an explorer only if chosen)
        and imported into the ledger."""
        return build_onchain_history_service(self)

    @cached_property
    def onchain_timeline(self) -> OnchainTimeline:
        """The Timeline's part before the first snapshot, rebuilt from the scanned history."""
        return build_onchain_timeline(self)

    # --- lifetime ----------------------------------------------------------------------
    async def aclose(self) -> None:
        """Idempotent: stop background steps, close network clients, release the database."""
        if "refresh" in self.__dict__:
            await self.refresh.aclose()
        stacks = [*self._retired, *([self._prices] if self._prices else [])]
        self._retired, self._prices = [], None
        for stack in stacks:
            with contextlib.suppress(Exception):
                await stack.aclose()
        self.close()

    def close(self) -> None:
        """Idempotent: flush and release the database."""
        if self._closed:
            return
        self._closed = True
        try:
            self.flush_privacy()
        except Exception:
            log.warning("could not write the last privacy records", exc_info=True)
        from app import net

        if self.egress is not None and net.current() is self.egress:
            net.install(net.Egress(self.egress.policy))  # same policy, no ledger to write to
        self.engine.dispose()


def build_price_id_service(ctx: AppContext) -> PriceIdService:
    """Token ids go to the token store, native-coin ids to the network (``networks.toml``);
    ids are checked by asking the configured price sources for the coin."""
    from decimal import Decimal

    from app.domain.balances import AssetInfo
    from app.domain.ids import AssetId, ChainId
    from app.domain.valuation import PricedAsset
    from app.services.price_ids import PricedThing, PriceIdService
    from app.storage.token_store import TokenStore

    async def quote(price_id: str, currency: str) -> tuple[Decimal | None, list[str]]:
        coin = price_id.split(":", 1)[1]
        asset = PricedAsset(AssetId(ChainId("coingecko", "coins"), "coin", coin), price_id)
        results, _requests, errors = await ctx.price_stack().service.prices([asset], currency)
        return results[str(asset.asset_id)].price, errors

    def save_token(thing: PricedThing, price_id: str) -> None:
        info = AssetInfo(AssetId.parse(thing.asset_id), thing.symbol, thing.name, thing.decimals)
        TokenStore(ctx.engine).set_price_id(info, price_id)

    def save_native(chain: str, price_id: str) -> None:
        ctx.networks.set_price_id(chain, price_id)

    return PriceIdService(quote, save_token, save_native)


def build_ledger_service(ctx: AppContext) -> LedgerService:
    from app.domain.cost_basis import BasisScope, CostBasisMethod
    from app.services.ledger import LedgerConfig, LedgerService
    from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore

    def config() -> LedgerConfig:
        return LedgerConfig(
            currency=str(ctx.settings.get("currency")),
            method=CostBasisMethod(ctx.settings.get("ledger.cost_basis")),
            scope=BasisScope(ctx.settings.get("ledger.basis_scope")),
        )

    return LedgerService(SqlLedgerStore(ctx.engine), SqlLedgerMarket(ctx.engine), config)


def build_portfolio_service(ctx: AppContext) -> PortfolioService:
    """Portfolios over the wallet list, the ledger and the stored snapshots; snapshot totals in
    another currency are converted at the stored exchange rate of their day."""
    from app.domain.cost_basis import BasisScope, CostBasisMethod
    from app.services.ledger import LedgerConfig
    from app.services.portfolios import PortfolioService
    from app.storage.ledger_store import SqlLedgerMarket, SqlLedgerStore
    from app.storage.portfolio_store import SqlPortfolioHistory, SqlPortfolioStore
    from app.storage.price_store import SqlBackfillStore

    def config() -> LedgerConfig:
        return LedgerConfig(
            currency=str(ctx.settings.get("currency")),
            method=CostBasisMethod(ctx.settings.get("ledger.cost_basis")),
            scope=BasisScope(ctx.settings.get("ledger.basis_scope")),
        )

    return PortfolioService(
        SqlPortfolioStore(ctx.engine),
        SqlPortfolioHistory(ctx.engine),
        ctx.wallets,
        ctx.ledger,
        SqlLedgerStore(ctx.engine),
        SqlLedgerMarket(ctx.engine),
        config,
        SqlBackfillStore(ctx.engine).usd_rate_days,
    )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def load_settings(paths: Paths) -> Settings:
    paths.ensure()
    return Settings.load(paths.settings_file)


def bootstrap(
    paths: Paths,
    settings: Settings | None = None,
    *,
    passphrase: PassphrasePrompt | None = None,
    key: DatabaseKey | None = None,
) -> AppContext:
    """``passphrase`` is asked when the database is encrypted and its key is not in the
    keyring; ``key``: the key already found (the window asks before it opens the data)."""
    settings = settings or load_settings(paths)
    shared_url = StorageSettings(settings).url
    offline: str | None = None
    if shared_url:  # a shared PostgreSQL: no local file, no SQLCipher key
        engine, offline = open_shared_or_copy(shared_url, paths)
    else:
        if key is None:
            key = unlock(paths.database, KeyringKeys(), passphrase)
        if key is not None:
            from app.log_privacy import mask_addresses_in_logs

            mask_addresses_in_logs()
        engine = open_database(paths.database, paths.backups_dir, key)
    from app.chains.evm.ens import mainnet_resolver  # light: web3 is imported on first lookup

    wallets = WalletService(SqlWalletRepository(engine), mainnet_resolver(paths.config_dir))
    if key is not None:
        from app.log_privacy import watch

        watch(v for w in wallets.list() for v in (w.address, w.ens_name or "", w.watch or ""))
    ctx = AppContext(
        paths=paths,
        settings=settings,
        engine=engine,
        wallets=wallets,
        secrets=KeyringSecretStore(),  # the backend is probed on first use, not here
        database_key=key,
        egress=install_egress(engine, wallets),
        shared_offline=offline,
    )
    ctx.apply_network_settings()
    return ctx


def open_shared_database(url: str, secrets: SecretStore | None = None) -> Engine:
    """The shared PostgreSQL database at ``url`` (no password inside), logging in with the
    keyring's ``storage.password`` when there is one (a server may also trust the user)."""
    from app.storage.postgres import PASSWORD_SECRET, open_postgres

    store = secrets or KeyringSecretStore()
    try:
        password = store.get(PASSWORD_SECRET)
    except SecretStoreError as exc:
        log.info("no database password from the keyring: %s", exc)
        password = None
    return open_postgres(url, password)


def open_shared_or_copy(url: str, paths: Paths) -> tuple[Engine, str | None]:
    """The shared database; when its server cannot be reached, the read-only local copy of
    the last snapshot this computer saw, with the sentence that says so (None: online)."""
    from app.storage.postgres import ServerUnreachable
    from app.storage.postgres_cache import copy_path, open_copy

    try:
        return open_shared_database(url), None
    except ServerUnreachable as exc:
        copy = copy_path(paths.data_dir)
        if not copy.exists():
            raise
        log.warning("%s Opening the read-only local copy %s instead.", exc, copy)
        return open_copy(copy), (
            "The shared database cannot be reached: showing a read-only copy of your last "
            "snapshot; retrying."
        )


def refresh_group(engine: Engine) -> PostgresRefreshGroup | None:
    """Desktops sharing a PostgreSQL database take turns to read the chains; alone on the
    SQLite file there is nobody to wait for."""
    if engine.dialect.name != "postgresql":
        return None
    from app.storage.postgres_group import PostgresRefreshGroup

    return PostgresRefreshGroup(engine)


def install_egress(engine: Engine, wallets: WalletService) -> Egress:
    """The one way out for this process: every HTTP client the adapters build follows it, and
    its recorder writes what each host learnt to the privacy ledger."""
    from app import net
    from app.storage.privacy_store import SqlPrivacyStore

    recorder = net.Recorder(SqlPrivacyStore(engine), lambda: privacy_watch(engine, wallets)[0])
    egress = net.Egress(recorder=recorder)
    net.install(egress)
    return egress


def privacy_watch(
    engine: Engine, wallets: WalletService
) -> tuple[list[str | tuple[str, str]], dict[str, str]]:
    """The values the privacy ledger looks for in requests (wallet addresses, the addresses
    derived from watched Bitcoin keys and their Electrum script hashes), and each address's
    wallet name."""
    from app.domain.privacy_watch import watched_addresses
    from app.storage.bitcoin_store import SqlBitcoinStore

    store = SqlBitcoinStore(engine)
    return watched_addresses(
        wallets.list(), lambda wallet_id: [a.address for a in store.addresses(wallet_id)]
    )


def build_alert_service(
    engine: Engine,
    *,
    risk: RiskService | None = None,
    chain_names: Mapping[str, str] | None = None,
    natives: Callable[[], Iterable[tuple[str, str]]] | None = None,
) -> AlertService:
    """The alert service over the app's database: rules, snapshots, price cache, token lists
    (and each network's own coin, from ``natives``: (asset id, symbol))."""
    from app.services.alerts import AlertService, cached_price_lookup
    from app.services.risk import RiskService
    from app.storage.alert_store import SqlAlertStore
    from app.storage.price_store import SqlBackfillStore, SqlPriceStore
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.storage.token_store import TokenStore

    tokens = TokenStore(engine)
    return AlertService(
        SqlAlertStore(engine),
        SqlSnapshotStore(engine),
        (risk or RiskService(SqlBackfillStore(engine))).assess,
        prices=cached_price_lookup(SqlPriceStore(engine)),
        catalog=lambda: [
            *((natives or list)()),
            *((str(t.asset_id), t.symbol) for t in tokens.list(include_spam=False)),
        ],
        chain_names=chain_names,
    )


def build_balance_service(ctx: AppContext) -> BalanceService:
    """Chain readers for every family, each chain with its own timeout (read per refresh, so
    a changed timeout applies at once)."""
    from app.chains.unlinkable import create_reader
    from app.config import NetSettings
    from app.services.balances import BalanceService

    net = NetSettings(ctx.settings)  # unlinkable reads: each wallet alone (read per refresh)
    return BalanceService(
        lambda spec: create_reader(spec, ctx.reader_context, net.unlinkable_reads),
        lambda: float(ctx.settings.get("chains.chain_timeout_s")),
    )


def build_refresh_service(ctx: AppContext) -> RefreshService:
    """Read, value once, store one snapshot; then retention, alerts and price backfill."""
    from app.services.refresh import RefreshService

    reader = build_balance_service(ctx)

    async def read_chain(spec: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        (result,) = await reader.refresh([spec], wallets)
        return result

    async def value(
        balances: Sequence[Balance], currency: str, known: PriceReport | None = None
    ) -> PriceReport:
        from app.services.prices import Quotes  # loaded with the price stack by now

        earlier = known if isinstance(known, Quotes) else None  # this pricer's own answer
        return await ctx.price_stack().service.quote(balances, currency, earlier)

    def pricer() -> Pricer:
        ctx.price_stack()  # sources built and API keys read, off the loop, while chains answer
        return value

    service = RefreshService(
        lambda: ctx.networks.enabled(),
        ctx.wallets.list,
        read_chain,
        pricer,
        ctx.snapshots,
        lambda: str(ctx.settings.get("currency")),
        sources=ctx.exchanges.sources,
        group=refresh_group(ctx.engine),
    )
    register_steps(ctx, service)
    return service


def register_steps(ctx: AppContext, service: RefreshService) -> None:
    """What runs after every stored snapshot, whoever started the refresh."""

    async def retention(result: RefreshResult) -> None:
        await asyncio.to_thread(ctx.snapshots.compact, result.started_at)

    def any_rule() -> bool:
        if "alerts" in ctx.__dict__:  # built already (the window's Alerts page)
            return True
        from app.storage.alert_store import SqlAlertStore

        return any(r.enabled for r in SqlAlertStore(ctx.engine).rules())

    async def alerts(result: RefreshResult) -> None:
        assert result.snapshot is not None
        # Without an enabled rule there is nothing to judge: the alert service (its risk
        # model, price and token lookups) is not built for it (~35 ms of a cold CLI refresh).
        if not await asyncio.to_thread(any_rule):
            return
        service = await asyncio.to_thread(lambda: ctx.alerts)  # built off the loop's thread
        result.alerts.extend(await service.after_refresh(result.snapshot))

    async def backfill(result: RefreshResult) -> None:
        # Assets seen for the first time were queued for a year of daily prices; spend a
        # bounded time on them, the rest resumes after the next refresh.
        budget = float(ctx.settings.get("prices.backfill_budget_seconds"))
        if budget <= 0 or result.prices is None:
            return
        stop = asyncio.Event()
        handle = asyncio.get_running_loop().call_later(budget, stop.set)
        try:
            await asyncio.wait_for(ctx.price_stack().backfiller.run_until_idle(stop), budget + 5)
        except TimeoutError:
            pass
        finally:
            handle.cancel()

    def ledger_needs() -> tuple[dict[str, int], dict[str, int]]:
        from app.storage.ledger_store import SqlLedgerStore

        if "ledger" not in ctx.__dict__ and not SqlLedgerStore(ctx.engine).has_transactions():
            return {}, {}
        return ctx.ledger.market_needs()

    async def ledger_market(result: RefreshResult) -> None:
        # The ledger's stocks, ETFs and metals (daily closes) and the daily exchange rates its
        # P&L and returns convert with: a year (or from the first transaction) on first sight,
        # then only new days; bounded like the backfill, the rest resumes next time.
        budget = float(ctx.settings.get("prices.backfill_budget_seconds"))
        market = ctx.price_stack().market
        if budget <= 0 or result.prices is None or market is None:
            return
        # The ledger service is built (its modules imported) in the worker too, not on the loop,
        # and only for a ledger that holds a transaction.
        assets, currencies = await asyncio.to_thread(ledger_needs)
        if not assets and not currencies:
            return
        display = str(ctx.settings.get("currency"))
        try:
            report = await asyncio.wait_for(market.update(assets, currencies, display), budget)
        except TimeoutError:
            return
        for error in report.errors:
            logging.getLogger(__name__).info("ledger market data: %s", error)

    async def wal_checkpoint(_result: RefreshResult) -> None:
        # The snapshot's pages go from the WAL into the file after the outcome is shown, not
        # inside the next snapshot's commit.
        from app.storage.database import checkpoint

        await asyncio.to_thread(checkpoint, ctx.engine)

    service.add_step("retention", retention)
    service.add_step("alerts", alerts)
    service.add_step("price history backfill", backfill, background=True)
    service.add_step("ledger market history", ledger_market, background=True)
    service.add_step("database checkpoint", wal_checkpoint, background=True)


def build_onchain_history_service(ctx: AppContext) -> OnchainHistoryService:
    """History sources per enabled network (EVM: the node's logs and traces, an explorer only if
    the person chose one; Solana: signatures and transactions), the SQL stores, the token store
    and the networks for decimals and spam, and the price backfill for the days missing."""
    from decimal import Decimal

    from app.services.onchain_history import OnchainHistoryService
    from app.storage.onchain_store import SqlOnchainStore
    from app.storage.price_store import SqlBackfillStore

    prices = SqlBackfillStore(ctx.engine)

    class _Daily:
        def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
            return {a: dict(prices.history(a, start)) for a in assets}

    async def fetch(assets: Sequence[str], start: int, end: int) -> None:
        from app.domain.errors import ChainfolioError
        from app.prices.http import FetchError

        try:
            await ctx.price_stack().backfiller.fetch_range(assets, start, end)
        except FetchError as exc:
            raise ChainfolioError(f"the price history source did not answer ({exc})") from None

    return OnchainHistoryService(
        lambda: history_sources(ctx),
        ctx.wallets.list,
        SqlOnchainStore(ctx.engine),
        _Daily(),
        lambda assets: asset_facts(ctx, assets),
        fetch_prices=fetch,
        price_budget=lambda: max(30.0, float(ctx.settings.get("prices.backfill_budget_seconds"))),
    )


def build_onchain_timeline(ctx: AppContext) -> OnchainTimeline:
    import time
    from decimal import Decimal

    from app.services.onchain_timeline import OnchainTimeline
    from app.storage.onchain_store import SqlFirstSnapshot, SqlOnchainStore
    from app.storage.price_store import SqlBackfillStore

    prices = SqlBackfillStore(ctx.engine)

    class _Daily:
        def daily_usd(self, assets: Sequence[str], start: int) -> dict[str, dict[int, Decimal]]:
            return {a: dict(prices.history(a, start)) for a in assets}

    return OnchainTimeline(
        SqlOnchainStore(ctx.engine),
        SqlFirstSnapshot(ctx.engine),
        _Daily(),
        lambda assets: asset_facts(ctx, assets),
        prices.usd_rate_days,
        time.time,
    )


def asset_facts(ctx: AppContext, assets: Sequence[str]) -> dict[str, AssetFacts]:
    """Decimals and spam flags of ``assets``: native coins from the networks, tokens from the
    token store and the curated lists (runs SQL: called in a worker thread)."""
    from app.chains.evm.tokens import curated_tokens
    from app.chains.solana.tokens import curated_tokens as solana_tokens
    from app.domain.chains import ChainFamily
    from app.domain.onchain_ledger import AssetFacts as facts
    from app.storage.token_store import TokenStore

    natives = {str(c.native_asset): c.native_decimals for c in ctx.networks.all()}
    known: dict[str, AssetFacts] = {}
    chains = {a.split("/", 1)[0] for a in assets}
    for spec in ctx.networks.all():
        if str(spec.chain_id) not in chains:
            continue
        if spec.family is ChainFamily.EVM:
            for t in curated_tokens(spec.chain_id):
                known[str(t.asset_id).lower()] = facts(t.decimals)
        elif spec.family is ChainFamily.SOLANA:
            for mint, k in solana_tokens().items():
                known[f"{spec.chain_id}/token:{mint}".lower()] = facts(k.decimals)
    for t in TokenStore(ctx.engine).list():
        known[str(t.asset_id).lower()] = facts(t.decimals, spam=t.is_spam)
    out: dict[str, AssetFacts] = {}
    for a in assets:
        if a in natives:
            out[a] = facts(natives[a], native=True)
        elif a.lower() in known:
            out[a] = known[a.lower()]
    return out


def history_sources(ctx: AppContext) -> list[ChainSource]:
    """One history source per enabled EVM, Solana and Bitcoin network (built when its scan
    starts)."""
    from app.domain.chains import ChainFamily
    from app.services.onchain_history import ChainSource

    out: list[ChainSource] = []
    for spec in ctx.networks.enabled():
        if spec.family is ChainFamily.EVM:
            out.append(ChainSource(str(spec.chain_id), spec.name, "evm", _evm_opener(ctx, spec)))
        elif spec.family is ChainFamily.SOLANA:
            out.append(
                ChainSource(str(spec.chain_id), spec.name, "solana", _solana_opener(ctx, spec))
            )
        elif spec.family is ChainFamily.BITCOIN:
            out.append(
                ChainSource(str(spec.chain_id), spec.name, "bitcoin", _bitcoin_opener(ctx, spec))
            )
    return out


def _evm_opener(ctx: AppContext, spec: ChainSpec) -> Callable[[], HistorySource]:
    def open_() -> HistorySource:
        from app.chains.evm.explorer import HistorySettings
        from app.chains.evm.history import evm_history_source, explorer_for
        from app.chains.evm.ranges import RangeMemory

        memory = ctx.reader_context.session.get("evm.history_ranges")
        if not isinstance(memory, RangeMemory):
            memory = ctx.reader_context.session["evm.history_ranges"] = RangeMemory()
        explorer = explorer_for(spec, HistorySettings.of(ctx.settings), ctx.secrets)
        return evm_history_source(
            spec,
            spec.rpc_urls,
            explorer,
            memory=memory,
            timeout=int(ctx.settings.get("chains.request_timeout_ms")) / 1000,
        )

    return open_


def _bitcoin_opener(ctx: AppContext, spec: ChainSpec) -> Callable[[], HistorySource]:
    def open_() -> HistorySource:
        from app.chains.bitcoin.history import create_history_source

        return create_history_source(spec, ctx.reader_context, ctx.wallets.list)

    return open_


def _solana_opener(ctx: AppContext, spec: ChainSpec) -> Callable[[], HistorySource]:
    def open_() -> HistorySource:
        from app.chains.solana.history import solana_history_source

        return solana_history_source(spec, ctx.reader_context)

    return open_
