"""What changed between two snapshots, and the per-snapshot breakdown sums: exact Decimal math.

Both are pure functions of snapshot holdings, so the store, the service, the benchmark and the
tests share one definition. All arithmetic runs in an unbounded Decimal context: the default
context keeps 28 significant digits, and an 18-decimal token amount times a price already needs
more, so "price effect + quantity effect == change" would otherwise fail in the last digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.balances import to_decimal_amount
from app.domain.snapshot import SnapshotHolding
from app.domain.valuation import money_context, price_effect, quantity_effect

ZERO = Decimal(0)
BREAKDOWN_KINDS: tuple[str, ...] = ("chain", "asset", "wallet")


def breakdown_key(kind: str, holding: SnapshotHolding) -> str:
    """The series a holding belongs to: CAIP-2 chain, CAIP-19 asset, or the wallet's address.

    A wallet is its address, not its CAIP-10 id: the same EVM address on five chains is one
    wallet to the person using the app.
    """
    if kind == "chain":
        return holding.chain
    if kind == "asset":
        return holding.asset_id
    if kind == "wallet":
        return holding.wallet.rsplit(":", 1)[-1]
    raise ValueError(f"unknown breakdown kind {kind!r}")


def breakdown_sums(holdings: Iterable[SnapshotHolding]) -> dict[tuple[str, str], Decimal]:
    """Value per (kind, key), counted like the snapshot total: spam and unpriced holdings are
    left out, debts are negative. For each kind the sums add up to the total exactly."""
    sums: dict[tuple[str, str], Decimal] = {}
    with money_context():
        for h in holdings:
            if h.value is None or h.is_spam:
                continue
            for kind in BREAKDOWN_KINDS:
                key = (kind, breakdown_key(kind, h))
                sums[key] = sums.get(key, ZERO) + h.value
    return sums


@dataclass(frozen=True, slots=True)
class AssetChange:
    """One asset (and DeFi position) between two snapshots, summed over wallets.

    ``price_effect + quantity_effect == change == value_after - value_before`` exactly.
    """

    asset_id: str
    position: str
    symbol: str
    amount_before: Decimal
    amount_after: Decimal
    value_before: Decimal
    value_after: Decimal
    price_effect: Decimal
    quantity_effect: Decimal

    @property
    def change(self) -> Decimal:
        with money_context():
            return self.value_after - self.value_before

    @property
    def chain(self) -> str:
        return self.asset_id.split("/", 1)[0]


def _side(h: SnapshotHolding | None) -> tuple[Decimal, Decimal | None, Decimal]:
    """(amount, price, value) as counted in the total: spam or unpriced counts as nothing held."""
    if h is None or h.is_spam or h.value is None or h.price is None:
        return ZERO, None if h is None else h.price, ZERO
    return to_decimal_amount(h.raw, h.decimals), h.price, h.value


def holding_change(
    before: SnapshotHolding | None, after: SnapshotHolding | None
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(amount before, amount after, value before, value after, price effect, quantity effect).

    Price effect: what the amount held at the start gained or lost from the price move.
    Quantity effect: the amount change valued at the end price. A price missing on one side
    (asset gone, or not priced) is taken from the other side, so a holding that appears or
    disappears is all quantity effect. Stored values are the truth for the change; if one
    differs from amount x price (it never does for values the app computes), the difference
    lands in the quantity effect so the two effects still add up to the change exactly.
    """
    with money_context():
        return _holding_change(before, after)


def _holding_change(
    before: SnapshotHolding | None, after: SnapshotHolding | None
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """:func:`holding_change` for a caller already inside :func:`money_context` (entering it
    once per holding was a third of the cost of comparing two 10,000-holding snapshots)."""
    qb, pb, vb = _side(before)
    qa, pa, va = _side(after)
    p_start = pb if pb is not None else pa
    p_end = pa if pa is not None else pb
    if p_start is None or p_end is None:  # never priced on either side: worth nothing
        return qb, qa, ZERO, ZERO, ZERO, ZERO
    pe = price_effect(qb, p_start, p_end)
    qe = quantity_effect(qb, qa, p_end)
    residual = (va - vb) - pe - qe
    return qb, qa, vb, va, pe, qe + residual


def what_changed(
    before: Iterable[SnapshotHolding], after: Iterable[SnapshotHolding]
) -> list[AssetChange]:
    """Per (asset, position), summed over wallets, largest absolute change first.

    Holdings are matched by their key (wallet, asset, position) and each pair is split into
    price and quantity effect before summing, so the split stays exact even when wallets
    were refreshed at different prices (a stale chain carried over).
    """
    old = {h.key: h for h in before}
    new = {h.key: h for h in after}
    rows: dict[tuple[str, str], list[Decimal]] = {}
    symbols: dict[tuple[str, str], str] = {}
    with money_context():
        for key in old.keys() | new.keys():
            b, a = old.get(key), new.get(key)
            parts = _holding_change(b, a)
            if not any(parts):
                continue
            group = (key[1], key[2])
            symbols[group] = (a or b).symbol  # type: ignore[union-attr]
            acc = rows.setdefault(group, [ZERO] * 6)
            for i, part in enumerate(parts):
                acc[i] += part
    changes = [
        AssetChange(asset, position, symbols[(asset, position)], *acc)
        for (asset, position), acc in rows.items()
    ]
    changes.sort(key=lambda c: (-abs(c.change), c.asset_id, c.position))
    return changes
