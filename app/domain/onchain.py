"""On-chain history: what a chain says happened to a wallet, as exact integers. Pure.

A history source (one per chain family: :mod:`app.chains.evm.history`,
:mod:`app.chains.solana.history`) reads a wallet's past from its chain and yields
:class:`ScanBatch` es: the balance changes (:class:`Movement`) and fees (:class:`Fee`) it found,
and for each wallet the cursor it has read through. The service stores a batch and its cursors
in one transaction, so a scan stopped at any point resumes where the last stored batch ended and
loses nothing; turning movements into ledger transactions is the service's work, not the
source's.

Amounts are raw base units (wei, lamports, token units), signed: positive into the wallet,
negative out of it. Assets are CAIP-19 ids as everywhere (``eip155:1/slip44:60``,
``eip155:1/erc20:0x…``, ``solana:…/token:<mint>``); wallets are the stored address forms.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class MovementKind(enum.StrEnum):
    TOKEN = "token"  # a token transfer (ERC-20 Transfer log, SPL token balance change)
    NATIVE = "native"  # the chain's own coin moved by a call/transfer (trace, explorer, SOL)
    STAKE = "stake"  # coins moved into or out of a stake account (Solana)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change of one asset in one wallet within one transaction."""

    chain: str  # CAIP-2
    tx: str  # transaction hash / signature
    block: int  # block number / slot
    ts: int  # block time, UTC seconds
    wallet: str  # the wallet whose balance changed
    asset: str  # CAIP-19
    delta: int  # raw signed amount: + into the wallet, - out of it
    kind: MovementKind = MovementKind.TOKEN
    counterparty: str | None = None  # the other side's address where the chain says it
    index: int = 0  # position within the transaction (log index, trace/instruction order)

    @property
    def key(self) -> str:
        """Stable identity across re-reads of the same transaction (for de-duplication)."""
        return f"{self.chain}|{self.tx}|{self.wallet}|{self.asset}|{self.kind}|{self.index}"


@dataclass(frozen=True, slots=True)
class Fee:
    """A network fee a wallet paid for a transaction it sent (raw units of ``asset``)."""

    chain: str
    tx: str
    block: int
    ts: int
    wallet: str
    asset: str  # the chain's native coin, CAIP-19
    amount: int  # raw, positive


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """One wallet to scan, and where its last stored scan ended (``None``: from the start).

    The cursor is the source's own text (a block number, a signature with its slot), stored
    and handed back unread by anyone else."""

    wallet: str
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ScanBatch:
    """A piece of history that is complete for the wallets in ``cursors``.

    ``reread_from`` names, per wallet, the first block this batch read again (re-org safety:
    the last blocks within the chain's confirmation depth are read again on the next scan);
    stored movements and fees of that wallet on that chain at or after that block are replaced
    by this batch's. ``done`` and ``total`` measure progress in the source's own units (blocks,
    signatures), for an estimate; ``total`` may grow as a scan learns more."""

    chain: str
    movements: tuple[Movement, ...] = ()
    fees: tuple[Fee, ...] = ()
    cursors: Mapping[str, str] = field(default_factory=dict)
    reread_from: Mapping[str, int] = field(default_factory=dict)
    done: int = 0
    total: int = 0
    # What this batch could not see, as sentences a person can read (e.g. native transfers on a
    # node without traces and no explorer chosen): the history is complete only for the rest.
    notes: tuple[str, ...] = ()


class HistorySource(Protocol):
    """Reads the past of one chain's wallets. Failures raise a ``ChainfolioError`` whose text a
    person can read; batches already yielded stay valid."""

    @property
    def chain(self) -> str: ...

    def scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]: ...
