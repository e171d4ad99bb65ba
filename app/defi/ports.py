"""The protocol-position port, as protocol modules use it: the types live in
``app.domain.position_reads`` (shared with the chain readers, which never import ``app.defi``),
plus the helpers every protocol uses to describe its positions and failures.

Sources never raise for bad answers: a reverted or malformed reply is a ``CallFailure``, and the
rest of the chain's positions are still reported.
"""

from __future__ import annotations

from dataclasses import replace

from app.domain.balances import AssetInfo, AssetKind, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.position_reads import Call, Outcome, PositionSource, Reply, Step

__all__ = [
    "Call", "Outcome", "PositionSource", "Reply", "Step",
    "failure", "position_asset", "unknown_token",
]  # fmt: skip


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
