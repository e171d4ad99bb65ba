"""Native stake accounts: who owns them and how much of their SOL is delegated.

Every lamport of a stake account belongs to its withdraw authority: the delegated stake, the
rent-exempt reserve and any undelegated surplus can all be withdrawn once the stake is inactive.
So the holding is always the account's full lamports; the split below only labels them.

Layout (``StakeStateV2``, bincode, little-endian): u32 state tag (1 = Initialized, 2 = Stake),
then Meta: rent-exempt reserve u64, staker 32, withdrawer 32, lockup (i64, u64, custodian 32);
for Stake, the Delegation follows: voter 32, stake u64, activation epoch u64, deactivation
epoch u64, (deprecated) warm-up rate f64, then credits observed u64 and a flags byte.

The status is judged from the delegation's epochs and the current epoch alone, as block
explorers show it when the cluster-wide warm-up / cool-down rate does not hold a stake back.
Reading the StakeHistory sysvar would give the exact effective amount during a rate-limited
warm-up; it would change a label, never an amount, so it is not read.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from solders.pubkey import Pubkey

STATE_INITIALIZED = 1
STATE_STAKE = 2
STAKER_OFFSET = 12
WITHDRAWER_OFFSET = 44
_DELEGATION_OFFSET = 124
_NO_EPOCH = 2**64 - 1


class StakeStatus(enum.StrEnum):
    ACTIVE = "active"
    ACTIVATING = "activating"
    DEACTIVATING = "deactivating"
    INACTIVE = "inactive"  # never delegated, or cooled down: nothing earns rewards


@dataclass(frozen=True, slots=True)
class StakeAccount:
    """One stake account: ``delegated`` + ``undelegated`` == ``lamports``, exactly."""

    lamports: int
    staker: str
    withdrawer: str
    status: StakeStatus | None  # None: the current epoch was not known
    delegated: int  # delegated stake while active / activating / deactivating, else 0
    undelegated: int  # rent-exempt reserve, surplus, and all of it when inactive


def status_at(activation: int, deactivation: int, epoch: int) -> StakeStatus:
    if deactivation != _NO_EPOCH:
        if activation == deactivation or epoch > deactivation:
            return StakeStatus.INACTIVE  # cooled down, or deactivated in its activation epoch
        return StakeStatus.DEACTIVATING
    if activation == _NO_EPOCH or epoch > activation:
        return StakeStatus.ACTIVE  # u64::MAX activation marks genesis (bootstrap) stake
    return StakeStatus.ACTIVATING


def parse_stake(data: bytes, lamports: int, epoch: int | None) -> StakeAccount:
    """Raises ValueError for data that is not an initialized or delegated stake account."""
    if len(data) < WITHDRAWER_OFFSET + 32:
        raise ValueError("stake account too short")
    (tag,) = struct.unpack_from("<I", data, 0)
    if tag not in (STATE_INITIALIZED, STATE_STAKE):
        raise ValueError("not an initialized stake account")
    staker = str(Pubkey.from_bytes(data[STAKER_OFFSET:WITHDRAWER_OFFSET]))
    withdrawer = str(Pubkey.from_bytes(data[WITHDRAWER_OFFSET : WITHDRAWER_OFFSET + 32]))
    if tag == STATE_INITIALIZED:
        return StakeAccount(lamports, staker, withdrawer, StakeStatus.INACTIVE, 0, lamports)
    if len(data) < _DELEGATION_OFFSET + 56:
        raise ValueError("stake account too short")
    stake, activation, deactivation = struct.unpack_from("<QQQ", data, _DELEGATION_OFFSET + 32)
    status = None if epoch is None else status_at(activation, deactivation, epoch)
    delegated = 0 if status is StakeStatus.INACTIVE else min(stake, lamports)
    return StakeAccount(lamports, staker, withdrawer, status, delegated, lamports - delegated)


def split_summary(accounts: list[StakeAccount]) -> dict[str, str]:
    """Raw lamports per status over a wallet's stake accounts (for ``ChainReadResult.extra``):
    keys ``active``, ``activating``, ``deactivating``, ``delegated_unknown_status`` and
    ``undelegated``; the values add up to the wallet's stake holding."""
    out = dict.fromkeys([*(s.value for s in StakeStatus if s is not StakeStatus.INACTIVE)], 0)
    out["delegated_unknown_status"] = 0
    out["undelegated"] = 0
    for a in accounts:
        out["undelegated"] += a.undelegated
        if a.delegated:
            key = a.status.value if a.status is not None else "delegated_unknown_status"
            out[key] += a.delegated
    return {k: str(v) for k, v in out.items()}


def attribute(
    found: Iterable[tuple[str, int, bytes]], owners: Iterable[str], epoch: int | None
) -> dict[str, list[StakeAccount]]:
    """Stake accounts by the tracked wallet that holds them. ``found`` has one (wallet it was
    found for, lamports, data) per distinct account. An account found for two tracked wallets
    (staker and withdrawer) counts once, for its withdrawer: the withdraw authority owns the SOL.
    Data that does not parse still counts in full, as undelegated, for the wallet it was found
    for: the lamports are certain, only their status is not."""
    tracked = set(owners)
    out: dict[str, list[StakeAccount]] = {}
    for found_for, lamports, data in found:
        try:
            account = parse_stake(data, lamports, epoch)
        except ValueError:
            account = StakeAccount(lamports, found_for, found_for, None, 0, lamports)
        if account.withdrawer in tracked:
            holder = account.withdrawer
        elif account.staker in tracked:
            holder = account.staker
        else:
            holder = found_for
        out.setdefault(holder, []).append(account)
    return out
