"""The protocol-position port: how a protocol module takes part in a chain's batched read.

A :class:`PositionSource` starts with a :class:`Step`: the calls it can name up front (they go
into the same ``aggregate3`` chunks as the wallet balances, so they cost no extra round trip) and
a continuation that receives the answers in the same order. The continuation returns either the
final :class:`Outcome` or one more Step, for calls that depend on the first answers (the
EigenLayer strategies a staker holds, the Aave reserve list). Every source's second step goes out
together, so a chain costs at most one extra round, whatever the number of protocols.

Sources never raise for bad answers: a reverted or malformed reply is a ``CallFailure``, and the
rest of the chain's positions are still reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from app.domain.balances import AssetInfo, AssetKind, Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import LendingAccount

Reply = tuple[bool, bytes]  # (success, returnData), as aggregate3 reports each call


@dataclass(frozen=True, slots=True)
class Call:
    """One read-only call, sized for the chunk budgets.

    ``gas`` is an upper estimate of the deployed contract's cost, with margin. An estimate that
    is too low costs a request, never an answer: the node rejects the chunk, and the reader
    splits it and remembers the size that worked.
    """

    target: str
    data: bytes
    gas: int = 60_000
    native: bool = False  # chunking's SizedCall: protocol calls are never native balances


@dataclass(slots=True)
class Outcome:
    """What one protocol found on one chain.

    ``covered`` holds the lowercase addresses of receipt tokens (aTokens, debt tokens, Comet,
    stETH/wstETH) that the positions account for: their plain wallet balances are dropped so a
    holding is never counted twice.
    """

    balances: list[Balance] = field(default_factory=list)
    accounts: list[LendingAccount] = field(default_factory=list)
    failures: list[CallFailure] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)

    def merge(self, other: Outcome) -> None:
        self.balances += other.balances
        self.accounts += other.accounts
        self.failures += other.failures
        self.covered |= other.covered


@dataclass(frozen=True, slots=True)
class Step:
    calls: Sequence[Call]
    then: Callable[[Sequence[Reply]], Step | Outcome]


class PositionSource(Protocol):
    """One protocol deployment set on one chain (e.g. Aave v3's pools on Base)."""

    @property
    def protocol(self) -> str: ...

    def covers(self) -> frozenset[str]:
        """Receipt tokens known before any call (lowercase); their balanceOf is not planned."""
        ...

    def start(self, wallets: Sequence[AccountId]) -> Step: ...


def position_asset(asset: AssetInfo) -> AssetInfo:
    """The underlying asset as a position is valued in it: same id and price id, kind POSITION."""
    return replace(asset, kind=AssetKind.POSITION)


def failure(wallet: AccountId, asset: AssetId, what: str, ok: bool) -> CallFailure:
    reason = (
        f"{what}: the contract reverted" if not ok else f"{what}: the contract answered garbage"
    )
    return CallFailure(wallet, asset, reason)


def unknown_token(wallet: AccountId, asset: AssetId, what: str) -> CallFailure:
    """A position held in a token whose decimals neither a list nor the chain could tell."""
    return CallFailure(wallet, asset, f"{what}: the token's decimals could not be read")
