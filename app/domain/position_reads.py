"""The protocol-position port: how a protocol takes part in a chain's batched read.

A :class:`PositionSource` starts with a :class:`Step`: the calls it can name up front (they go
into the same ``aggregate3`` chunks as the wallet balances, so they cost no extra round trip) and
a continuation that receives the answers in the same order. The continuation returns either the
final :class:`Outcome` or one more Step, for calls that depend on the first answers (the
EigenLayer strategies a staker holds, the Aave reserve list). Every source's second step goes out
together, so a chain costs at most one extra round, whatever the number of protocols.

:class:`PositionPass` runs every source of a chain in lockstep, so their calls share rounds: the
reader asks it for the calls of the current round, sends them with the balances (round 1) or on
their own (later rounds), and feeds the answers back in the same order. A continuation that
fails on a malformed answer turns into one ``CallFailure`` per wallet for that protocol; the other
protocols and the balances are unaffected. After ``max_rounds`` a source still asking for more is
abandoned with a failure, so a buggy or hostile chain cannot keep the reader looping.

This lives in the domain so that the chain readers (``app.chains``) and the protocol modules
(``app.defi``) both depend on it and never on each other: the composition root hands the
protocol sources to the EVM reader.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import LendingAccount
from app.domain.rates import PositionRate

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
    rates: list[PositionRate] = field(default_factory=list)  # see app.domain.rates

    def merge(self, other: Outcome) -> None:
        self.balances += other.balances
        self.accounts += other.accounts
        self.failures += other.failures
        self.covered |= other.covered
        self.rates += other.rates


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


log = logging.getLogger(__name__)


class PositionPass:
    def __init__(
        self,
        sources: Sequence[PositionSource],
        wallets: Sequence[AccountId],
        *,
        max_rounds: int = 3,
    ) -> None:
        self._wallets = list(wallets)
        self._outcome = Outcome()
        self._pending: list[tuple[PositionSource, Step]] = []
        self._max_rounds = max_rounds
        self.rounds = 0
        if not self._wallets:
            return
        for source in sources:
            try:
                self._pending.append((source, source.start(self._wallets)))
            except Exception as exc:  # a bug in one protocol must not sink the chain
                self._fail(source, exc)

    @property
    def done(self) -> bool:
        return not self._pending

    def calls(self) -> list[Call]:
        return [c for _, step in self._pending for c in step.calls]

    def feed(self, replies: Sequence[Reply]) -> None:
        """The answers to :meth:`calls`, in order; advances every source by one step."""
        self.rounds += 1
        pending, self._pending = self._pending, []
        at = 0
        for source, step in pending:
            part = replies[at : at + len(step.calls)]
            at += len(step.calls)
            self._advance(source, step, part)

    def _advance(self, source: PositionSource, step: Step, part: Sequence[Reply]) -> None:
        try:
            result = step.then(part)
            while isinstance(result, Step) and not result.calls:
                result = result.then([])  # nothing to ask: go straight on
        except Exception as exc:  # malformed answers a decoder did not catch, or a bug
            self._fail(source, exc)
            return
        if isinstance(result, Outcome):
            self._outcome.merge(result)
        elif self.rounds >= self._max_rounds:
            self._fail(source, RuntimeError("more dependent rounds than allowed"))
        else:
            self._pending.append((source, result))

    def _fail(self, source: PositionSource, exc: Exception) -> None:
        log.warning("%s positions could not be read: %s", source.protocol, exc, exc_info=exc)
        for w in self._wallets:
            subject = AssetId(w.chain, "protocol", source.protocol)
            reason = f"{source.protocol} positions could not be read ({exc})"
            self._outcome.failures.append(CallFailure(w, subject, reason))

    def outcome(self) -> Outcome:
        """Everything found, positions of one (wallet, asset, key) summed into one balance."""
        merged: dict[tuple[AccountId, AssetId, str], Balance] = {}
        for b in self._outcome.balances:
            k = (b.wallet, b.asset.asset_id, b.position)
            old = merged.get(k)
            merged[k] = b if old is None else replace(old, raw=old.raw + b.raw)
        return Outcome(
            [b for b in merged.values() if b.raw],
            list(self._outcome.accounts),
            list(self._outcome.failures),
            set(self._outcome.covered),
            list(self._outcome.rates),
        )
