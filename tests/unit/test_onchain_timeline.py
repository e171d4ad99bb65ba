"""Past holdings rebuilt from movements: forward from zero and back from the first snapshot,
valued with daily prices, the gap reported and never forced."""

from __future__ import annotations

from decimal import Decimal

from app.domain.onchain import Fee, Movement
from app.domain.onchain_ledger import AssetFacts
from app.domain.onchain_timeline import reconstruct

ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
SPAM = "eip155:1/erc20:0x1111111111111111111111111111111111111111"
A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
DAY = 86_400
D0 = 1_699_920_000  # a day start
FACTS = {ETH: AssetFacts(18, native=True), USDC: AssetFacts(6), SPAM: AssetFacts(18, spam=True)}


def mv(day: int, asset: str, delta: int) -> Movement:
    return Movement("eip155:1", f"0x{day}{asset[-2:]}", day, D0 + day * DAY + 3600, A, asset, delta)


def usd(_day: int) -> Decimal:
    return Decimal(1)


MOVES = [mv(0, ETH, 2 * 10**18), mv(1, USDC, 500 * 10**6), mv(2, ETH, -(10**18)),
         mv(2, SPAM, 10**24)]  # fmt: skip
FEES = [Fee("eip155:1", "0x2", 2, D0 + 2 * DAY + 3600, A, ETH, 10**16)]
PRICES = {ETH: {D0: Decimal(2000), D0 + 2 * DAY: Decimal(2100)}, USDC: {D0: Decimal(1)}}


def test_forward_values_per_day_exactly() -> None:
    r = reconstruct(MOVES, FEES, FACTS, PRICES, usd, snapshot=None, observed={},
                    until=D0 + 3 * DAY)  # fmt: skip
    assert r is not None
    assert r.times[:3] == (D0 + DAY - 1, D0 + 2 * DAY - 1, D0 + 3 * DAY - 1)
    # day 0: 2 ETH x 2000; day 1: + 500 USDC (ETH still at 2000: the last earlier price)
    # day 2: 0.99 ETH x 2100 + 500 (the spam token is never counted)
    assert r.forward[:3] == (Decimal(4000), Decimal(4500), Decimal("2579.00"))
    assert r.gaps == () and r.snapshot_time is None


def test_gap_to_the_first_snapshot_is_reported_and_back_values_walk_from_it() -> None:
    snapshot_time = D0 + 3 * DAY + 60
    # the snapshot sees 1.49 ETH (0.5 more than the movements explain) and 500 USDC
    observed = {ETH: Decimal("1.49"), USDC: Decimal(500)}
    r = reconstruct(MOVES, FEES, FACTS, PRICES, usd, snapshot=(snapshot_time, Decimal(3629), "USD"),
                    observed=observed, until=snapshot_time + DAY)  # fmt: skip
    assert r is not None and r.times[-1] == snapshot_time
    assert [(g.asset, g.observed, g.reconstructed) for g in r.gaps] == [
        (ETH, Decimal("1.49"), Decimal("0.99"))
    ]
    assert r.forward[-1] == Decimal("2579.00")
    assert r.gap_value == Decimal("1050.00")  # never forced: the two are both kept
    # walked back, every day carries the 0.5 ETH the movements do not explain
    assert r.back[0] - r.forward[0] == Decimal("1000.0")
    assert r.back[-1] - r.forward[-1] == Decimal("1050.0")


def test_unpriced_assets_are_named_and_other_currencies_use_the_days_rate() -> None:
    r = reconstruct(MOVES, FEES, FACTS, {ETH: PRICES[ETH]}, lambda _d: Decimal("0.5"),
                    snapshot=None, observed={}, until=D0 + 2 * DAY)  # fmt: skip
    assert r is not None and r.unpriced == (USDC,)
    assert r.forward[0] == Decimal(2000)  # 2 ETH x 2000 USD x 0.5 per dollar


def test_nothing_before_the_first_snapshot_draws_nothing() -> None:
    assert reconstruct(MOVES, FEES, FACTS, PRICES, usd, snapshot=(D0, Decimal(1), "USD"),
                       observed={}, until=D0) is None  # fmt: skip
    assert reconstruct([], [], FACTS, PRICES, usd, snapshot=None, observed={}, until=D0) is None
