"""Reads every enabled chain for every wallet concurrently; each chain has its own time limit.

One slow or broken chain reports ``failed`` with a human reason; the others still answer.
Qt-free so the CLI, the UI and tests share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from app.domain.balances import ChainReadResult, SourceState
from app.domain.chains import ChainSpec
from app.domain.model import Wallet
from app.domain.ports import ChainReader

ReaderFactory = Callable[[ChainSpec], ChainReader]


class BalanceService:
    def __init__(
        self, reader_factory: ReaderFactory, chain_timeout: float | Callable[[], float] = 45.0
    ) -> None:
        """``chain_timeout``: seconds, or a callable asked on every read (a live setting)."""
        self._factory = reader_factory
        self._timeout_of = chain_timeout if callable(chain_timeout) else lambda: chain_timeout

    @property
    def _timeout(self) -> float:
        return float(self._timeout_of())

    async def refresh(
        self, chains: Sequence[ChainSpec], wallets: Sequence[Wallet]
    ) -> list[ChainReadResult]:
        """One result per enabled chain, in the order given."""
        enabled = [c for c in chains if c.enabled]
        return list(await asyncio.gather(*(self._read_one(c, wallets) for c in enabled)))

    async def _read_one(self, spec: ChainSpec, wallets: Sequence[Wallet]) -> ChainReadResult:
        try:
            # Off the loop's thread: a reader is built with the user's tokens from the database.
            reader = await asyncio.to_thread(self._factory, spec)
        except Exception as exc:  # a broken network entry must not sink the other chains
            return ChainReadResult(
                spec.chain_id, SourceState.FAILED, error=f"Cannot read {spec.name}: {exc}"
            )
        timeout = self._timeout
        try:
            return await asyncio.wait_for(reader.read_balances(wallets), timeout)
        except TimeoutError:
            reason = f"{spec.name} did not answer within {timeout:g} s."
            partial = reader.partial_result()
            if partial is not None and partial.balances:
                # Keep what was read in full; the rest is carried over as stale by the refresh.
                return replace(partial, error=reason)
            return ChainReadResult(spec.chain_id, SourceState.FAILED, error=reason)
        except Exception as exc:
            return ChainReadResult(
                spec.chain_id, SourceState.FAILED, error=f"Reading {spec.name} failed: {exc}"
            )
        finally:
            await reader.aclose()
