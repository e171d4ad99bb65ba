from __future__ import annotations

import copy
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal

import pytest

from app.domain.balances import AssetInfo, Balance, to_decimal_amount
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.text import clean_text


def test_caip_round_trips() -> None:
    assert str(ChainId.parse("eip155:1")) == "eip155:1"
    acct = AccountId.parse("eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb")
    assert acct.chain == ChainId.evm(1)
    asset = AssetId.parse("eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
    assert asset.asset_namespace == "erc20"
    assert str(AssetId.native(ChainId.evm(1), 60)) == "eip155:1/slip44:60"
    sol = ChainId.parse("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")
    assert not sol.is_evm


@pytest.mark.parametrize("bad", ["eip155", "EIP155:1", "eip155:", "x:1", "eip155:1:"])
def test_bad_chain_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        ChainId.parse(bad)


def test_amounts_are_exact() -> None:
    assert to_decimal_amount(2**256 - 1, 18) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )
    assert to_decimal_amount(1, 24) == Decimal("1E-24")
    assert to_decimal_amount(123, 0) == Decimal(123)


def test_clean_text_strips_bidi_controls_and_caps() -> None:
    assert clean_text("U\u202eSDC", 32) == "USDC"
    assert clean_text("a\x00b\nc\u200bd", 32) == "ab cd"
    assert clean_text("x" * 100, 10) == "x" * 9 + "…"
    assert clean_text("<b>bold</b>", 32) == "<b>bold</b>"  # kept as text; views show plain text


def test_balance_is_an_immutable_value() -> None:
    """Balance builds its slots directly for speed; it must behave as the frozen dataclass did."""
    chain = ChainId.evm(1)
    asset = AssetInfo(AssetId(chain, "erc20", "0xa"), "A", "A coin", 6)
    wallet = AccountId(chain, "0xb")
    one = Balance(wallet, asset, 5)
    assert one == Balance(wallet=wallet, asset=asset, raw=5, position="")
    assert hash(one) == hash(Balance(wallet, asset, 5))
    assert one != Balance(wallet, asset, 5, "aave:debt")
    assert (one.wallet, one.asset, one.raw, one.position) == (wallet, asset, 5, "")
    assert replace(one, raw=-7).raw == -7 and one.raw == 5
    assert one.amount == Decimal("0.000005")
    with pytest.raises(FrozenInstanceError):
        one.raw = 6  # type: ignore[misc]
    assert copy.deepcopy(one) == one


def test_snapshot_holding_is_an_immutable_record_of_its_fields() -> None:
    from app.domain.balances import SourceState
    from app.domain.snapshot import SnapshotHolding

    names = list(SnapshotHolding._fields)
    values = [
        "w",
        "a",
        "T",
        18,
        5,
        Decimal("2"),
        Decimal("1E-17"),
        SourceState.OK,
        9,
        "p",
        True,
        True,
    ]
    held = SnapshotHolding(*values)  # type: ignore[arg-type]
    assert [getattr(held, n) for n in names] == values  # each argument in its own field
    assert held == SnapshotHolding(**dict(zip(names, values, strict=True)))  # type: ignore[arg-type]
    short = SnapshotHolding("w", "a", "T", 18, 5, None, None, SourceState.STALE, 9)
    assert (short.position, short.is_spam, short.manual_price) == ("", False, False)
    assert held._replace(raw=7).raw == 7 and held.raw == 5
    assert hash(held) == hash(SnapshotHolding(*values))  # type: ignore[arg-type]
    assert (held.key, held.chain) == (("w", "a", "p"), "a")
    with pytest.raises(AttributeError):
        held.raw = 6  # type: ignore[misc]
    assert copy.deepcopy(held) == held


def test_amount_text_is_the_exact_decimal_written_out() -> None:
    import random

    from app.domain.balances import amount_text

    rng = random.Random(7)
    cases = [(0, 18), (1, 18), (-1, 18), (10**18, 18), (2**256 - 1, 18), (-123, 0), (5, 1)]
    cases += [(rng.randrange(-(10**40), 10**40), rng.randrange(0, 40)) for _ in range(5000)]
    for raw, decimals in cases:
        assert amount_text(raw, decimals) == format(to_decimal_amount(raw, decimals), "f")
    assert amount_text(1, 18) == "0.000000000000000001" and amount_text(-7, 2) == "-0.07"
