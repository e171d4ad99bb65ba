"""Ports: the interfaces services need, implemented by adapters and by test fakes."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Protocol

from app.domain.balances import ChainReadResult
from app.domain.chains import ChainSpec
from app.domain.model import Wallet
from app.domain.valuation import PriceAnswer, PricedAsset


class WalletRepository(Protocol):
    def list(self) -> list[Wallet]: ...

    def get_by_address(self, address: str) -> Wallet | None: ...

    def add(self, wallet: Wallet) -> Wallet: ...

    def add_many(self, batch: Sequence[Wallet]) -> builtins.list[Wallet]:
        """All in one transaction, or none (DuplicateWalletError)."""
        ...

    def update(self, wallet: Wallet) -> Wallet: ...

    def remove(self, wallet_id: int) -> None: ...


class NameResolver(Protocol):
    """Resolves a human-readable name (ENS) to an address; returns None when unset."""

    async def resolve(self, name: str) -> str | None: ...


class ActivityProbe(Protocol):
    """Which of some addresses were ever used on one EVM chain: a nonce or a balance above zero.

    Raises for network trouble (any exception): the caller reports the chain as not checked.
    """

    async def active(self, spec: ChainSpec, addresses: Sequence[str]) -> builtins.set[str]: ...


class ChainReader(Protocol):
    """Reads every balance of the given wallets on one chain, in as few round trips as it can.

    Never raises for network trouble: a chain that cannot be read returns a result with
    ``state == FAILED`` and a human reason; one bad token is a ``CallFailure``.
    """

    @property
    def spec(self) -> ChainSpec: ...

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult: ...

    def partial_result(self) -> ChainReadResult | None:
        """What a read cut short (the chain's time ran out) had finished: the wallets read in
        full as ``balances`` (state OK) and the others in ``unread``; None when nothing was."""
        ...

    async def aclose(self) -> None: ...


class SecretStore(Protocol):
    """Named secrets (API keys, the secret part of keyed RPC URLs) kept in the OS keyring.

    Names are plain identifiers such as ``coingecko.demo`` or ``rpc.eip155:1.0``; values never
    leave the store except to the HTTP client that needs them.
    """

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...

    def names(self) -> list[str]: ...


class PriceSource(Protocol):
    """One price API. Prices are in US dollars; the service converts to the display currency.

    Never raises for network trouble: missing assets are simply absent from the answer and the
    reason is in ``PriceAnswer.error``.
    """

    @property
    def name(self) -> str: ...

    async def current_usd(self, assets: Sequence[PricedAsset]) -> PriceAnswer: ...

    async def aclose(self) -> None: ...
