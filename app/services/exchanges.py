"""Exchange accounts: add (with the key checked and refused when it may trade or withdraw),
list, remove, and read each one as a source of the refresh, like a chain.

The key, secret and passphrase go to the OS keyring (``exchange.<name>.key``, ``.secret``,
``.passphrase``) and nowhere else; an account whose key is missing from the keyring fails its
read with a sentence saying so, and keeps its last good holdings (stale) like a dead chain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.exchanges import (
    EXCHANGES,
    NEEDS_PASSPHRASE,
    CoinBalance,
    Credentials,
    ExchangeAccount,
    ExchangeError,
    Permissions,
    check_account_name,
    check_exchange,
    merge_parts,
    price_id_of,
    raw_of,
)
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.ports import SecretStore

log = logging.getLogger(__name__)
SECRET_PARTS = ("key", "secret", "passphrase")


class ExchangeReader(Protocol):
    requests: int

    async def permissions(self) -> Permissions: ...

    async def balances(self) -> list[CoinBalance]: ...

    async def aclose(self) -> None: ...


class ExchangeStore(Protocol):
    def accounts(self) -> list[tuple[ExchangeAccount, str | None]]: ...

    def add(self, account: ExchangeAccount, api_url: str | None) -> None: ...

    def remove(self, name: str) -> bool: ...


ClientFactory = Callable[[str, Credentials, str | None], ExchangeReader]


@dataclass(frozen=True, slots=True)
class AccountView:
    account: ExchangeAccount
    api_url: str | None
    has_key: bool  # the key and secret are in the keyring


@dataclass(frozen=True)
class ExchangeSource:
    """One account as a refresh source: its id (CAIP-2 form), name, and a read."""

    source: str
    name: str
    read: Callable[[], Awaitable[ChainReadResult]]


def secret_name(account: str, part: str) -> str:
    return f"exchange.{account}.{part}"


class ExchangeService:
    def __init__(
        self,
        store: ExchangeStore,
        secrets: SecretStore,
        client: ClientFactory,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._client = client
        self._clock = clock
        self._timeout = timeout

    # --- accounts ---------------------------------------------------------------------------
    def accounts(self) -> list[AccountView]:
        names = set(self._secrets.names())
        return [
            AccountView(
                a,
                url,
                {secret_name(a.name, "key"), secret_name(a.name, "secret")} <= names,
            )
            for a, url in self._store.accounts()
        ]

    def titles(self) -> dict[str, str]:
        """Source id -> name of every account (no keyring access)."""
        return {a.source: a.title for a, _ in self._store.accounts()}

    async def add(
        self,
        name: str,
        exchange: str,
        credentials: Credentials,
        api_url: str | None = None,
    ) -> tuple[ExchangeAccount, list[CoinBalance], str | None]:
        """Check the key (read-only rights, a balance it can read), then keep it in the keyring
        and the account in the database. Returns the account, what it holds now, and a warning
        when the exchange cannot say what the key may do."""
        account = ExchangeAccount(
            check_account_name(name), check_exchange(exchange), int(self._clock())
        )
        if any(a.name == account.name for a, _ in await asyncio.to_thread(self._store.accounts)):
            raise ExchangeError(
                f"An exchange account named {account.name} exists already; choose another name."
            )
        if not credentials.api_key.strip() or not credentials.secret.strip():
            raise ExchangeError("Both the API key and its secret are needed.")
        if api_url is not None:
            from app.domain.text import InvalidTextError, check_url

            try:
                api_url = check_url(api_url, "exchange API address")
            except InvalidTextError as exc:  # said before any request, not as an outage
                raise ExchangeError(str(exc)) from None
        if account.exchange in NEEDS_PASSPHRASE and not credentials.passphrase:
            raise ExchangeError(
                f"{EXCHANGES[account.exchange]} API keys have a passphrase too; give it as well."
            )
        reader = self._client(account.exchange, credentials, api_url)
        try:
            rights = await asyncio.wait_for(reader.permissions(), self._timeout)
            refusal = rights.refusal(account.exchange)
            if refusal:
                raise ExchangeError(refusal)
            holdings = await asyncio.wait_for(reader.balances(), self._timeout)
        except TimeoutError:
            raise ExchangeError(
                f"{EXCHANGES[account.exchange]} did not answer in time; nothing was added."
            ) from None
        finally:
            await reader.aclose()
        await asyncio.to_thread(self._keep, account, credentials, api_url)
        warning = (
            None
            if rights.known
            else f"{EXCHANGES[account.exchange]} cannot tell what an API key may do: make sure "
            "this key may only read (no trading, no withdrawals)."
        )
        log.info("added exchange account %s (%s)", account.name, account.exchange)
        return account, holdings, warning

    def _keep(
        self, account: ExchangeAccount, credentials: Credentials, api_url: str | None
    ) -> None:
        values = {
            "key": credentials.api_key.strip(),
            "secret": _one_line(credentials.secret.strip()),
            "passphrase": credentials.passphrase,
        }
        stored: list[str] = []
        try:
            for part, value in values.items():
                if value:
                    self._secrets.set(secret_name(account.name, part), value)
                    stored.append(part)
            self._store.add(account, api_url)
        except Exception:
            for part in stored:  # nothing half-added: the keyring entries go with the row
                try:
                    self._secrets.delete(secret_name(account.name, part))
                except Exception:
                    log.warning("could not remove %s from the keyring", part)
            raise

    def remove(self, name: str) -> bool:
        """Forget the account and its key. True when it existed."""
        name = name.strip().lower()
        gone = self._store.remove(name)
        for part in SECRET_PARTS:
            if secret_name(name, part) in self._secrets.names():
                self._secrets.delete(secret_name(name, part))
        return gone

    def credentials(self, name: str) -> Credentials | None:
        """The account's key from the keyring (None when missing); for the history import."""
        return self._credentials(name)

    def account_urls(self) -> list[tuple[ExchangeAccount, str | None]]:
        """Every account with its API address override (no keyring access)."""
        return self._store.accounts()

    def _credentials(self, name: str) -> Credentials | None:
        key = self._secrets.get(secret_name(name, "key"))
        secret = self._secrets.get(secret_name(name, "secret"))
        if not key or not secret:
            return None
        passphrase = self._secrets.get(secret_name(name, "passphrase"))
        return Credentials(key, _multi_line(secret), passphrase)

    # --- reading ----------------------------------------------------------------------------
    def sources(self) -> list[ExchangeSource]:
        """Every account as a refresh source (asked on each refresh: accounts added or removed
        while the app runs count at once)."""
        return [
            ExchangeSource(a.source, a.title, _bind(self.read, a, url))
            for a, url in self._store.accounts()
        ]

    async def read(self, account: ExchangeAccount, api_url: str | None) -> ChainReadResult:
        chain = ChainId.parse(account.source)
        try:
            credentials = await asyncio.to_thread(self._credentials, account.name)
        except Exception as exc:  # a locked or missing keyring: the sentence it gives
            return ChainReadResult(chain, SourceState.FAILED, error=str(exc))
        if credentials is None:
            return ChainReadResult(
                chain,
                SourceState.FAILED,
                error=f"The API key of {account.title} is not in the keyring; add the account "
                "again.",
            )
        reader = self._client(account.exchange, credentials, api_url)
        try:
            parts = await asyncio.wait_for(reader.balances(), self._timeout)
        except TimeoutError:
            return ChainReadResult(
                chain,
                SourceState.FAILED,
                error=f"{EXCHANGES[account.exchange]} did not answer in time.",
                http_requests=reader.requests,
            )
        except ExchangeError as exc:
            return ChainReadResult(
                chain, SourceState.FAILED, error=str(exc), http_requests=reader.requests
            )
        finally:
            await reader.aclose()
        wallet = AccountId.parse(account.wallet)
        balances = []
        for code, amount in sorted(merge_parts(parts).items()):
            if not amount:
                continue
            try:
                raw, decimals = raw_of(amount)
            except ExchangeError:
                log.warning("skipped %s on %s: too many decimals", code, account.name)
                continue
            info = AssetInfo(
                AssetId.parse(account.asset_id(code)), code, code, decimals,
                price_id=price_id_of(code),
            )  # fmt: skip
            balances.append(Balance(wallet, info, raw))
        return ChainReadResult(
            chain, SourceState.OK, tuple(balances), http_requests=reader.requests
        )


def _bind(
    read: Callable[[ExchangeAccount, str | None], Awaitable[ChainReadResult]],
    account: ExchangeAccount,
    api_url: str | None,
) -> Callable[[], Awaitable[ChainReadResult]]:
    return lambda: read(account, api_url)


def _one_line(secret: str) -> str:
    """A multi-line secret (Coinbase's PEM keys) is kept on one line in the keyring."""
    return secret.replace("\r\n", "\n").replace("\n", "\\n")


def _multi_line(secret: str) -> str:
    return secret.replace("\\n", "\n") if secret.startswith("-----BEGIN") else secret


def describe(views: Sequence[AccountView]) -> list[dict[str, object]]:
    """Accounts as plain data for ``exchanges list --json`` (never a key)."""
    return [
        {
            "name": v.account.name,
            "exchange": v.account.exchange,
            "title": v.account.title,
            "source": v.account.source,
            "api_url": v.api_url,
            "key_in_keyring": v.has_key,
            "added_at": v.account.created_at,
        }
        for v in views
    ]
