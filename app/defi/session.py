"""Runs every protocol source of a chain in lockstep, so their calls share rounds.

The reader asks :meth:`PositionPass.calls` for the calls of the current round, sends them with
the balances (round 1) or on their own (later rounds), and feeds the answers back in the same
order. Each source's answers are sliced out and handed to its continuation. A continuation that
fails on a malformed answer turns into one ``CallFailure`` per wallet for that protocol; the other
protocols and the balances are unaffected. After ``max_rounds`` a source still asking for more is
abandoned with a failure, so a buggy or hostile chain cannot keep the reader looping.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from app.defi.ports import Call, Outcome, PositionSource, Reply, Step
from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId

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
        )
