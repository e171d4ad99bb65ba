"""Protocol decoders against hand-made replies: edge cases the test contracts do not reach."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from eth_abi.abi import encode

from app.defi.aave_v3 import AaveMarket, AaveV3
from app.defi.compound_v3 import MAX_ASSETS, CompoundV3
from app.defi.eigenlayer import EigenLayer
from app.defi.lido import Lido
from app.defi.ports import Outcome, Reply, Step
from app.defi.tokens import TokenBook
from app.domain.balances import AssetInfo, AssetKind
from app.domain.ids import AccountId, AssetId, ChainId

CHAIN = ChainId.evm(1)
W = AccountId(CHAIN, "0x1111111111111111111111111111111111111111")
POOL, PROVIDER, DP = "0x" + "a1" * 20, "0x" + "a2" * 20, "0x" + "a3" * 20
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
INFOS = [
    AssetInfo(
        AssetId(CHAIN, "erc20", WETH), "WETH", "Wrapped Ether", 18, price_id="coingecko:weth"
    ),
    AssetInfo(AssetId(CHAIN, "erc20", USDC), "USDC", "USD Coin", 6),
]
NATIVE = AssetInfo(AssetId.native(CHAIN, 60), "ETH", "Ether", 18, AssetKind.NATIVE)


def ok(types: list[str], values: list[object]) -> Reply:
    return (True, encode(types, values))


def word(n: int) -> Reply:
    return (True, n.to_bytes(32, "big"))


REVERT: Reply = (False, b"")


def finish(step: Step | Outcome, *rounds: Sequence[Reply]) -> Outcome:
    for replies in rounds:
        assert isinstance(step, Step) and len(step.calls) == len(replies)
        step = step.then(replies)
    assert isinstance(step, Outcome)
    return step


def aave_round1(hf: int, debt: int) -> list[Reply]:
    return [
        ok(["address"], [DP]),
        ok(["address[]"], [[WETH, USDC]]),
        ok(["uint256"] * 6, [2_000_000_000_000, debt, 0, 8000, 7500, hf]),
    ]


RAY = 10**27


def aave_round2(supplied: int, debt: int) -> list[Reply]:
    tokens = ["address"] * 3
    row = ["uint256"] * 7 + ["uint40", "bool"]
    reserve = ["uint256"] * 11 + ["uint40"]  # getReserveData: rates at 5 and 6
    return [
        ok(tokens, ["0x" + "b1" * 20, "0x" + "00" * 20, "0x" + "b2" * 20]),
        ok(tokens, ["0x" + "c1" * 20, "0x" + "00" * 20, "0x" + "c2" * 20]),
        ok(reserve, [0, 0, 0, 0, 0, 2 * RAY // 100, 4 * RAY // 100, 0, 0, RAY, RAY, 0]),  # WETH
        REVERT,  # USDC: an older data provider without getReserveData: no rate, no failure
        ok(row, [supplied, 0, 0, 0, 0, 0, 0, 0, True]),  # WETH
        ok(row, [0, 0, debt, 0, 0, 0, 0, 0, False]),  # USDC
    ]


def test_aave_without_debt_has_no_health_factor_and_receipt_tokens_are_covered() -> None:
    aave = AaveV3([AaveMarket(POOL, PROVIDER)], TokenBook(CHAIN, INFOS))
    out = finish(aave.start([W]), aave_round1(2**256 - 1, 0), aave_round2(10**18, 0))
    (account,) = out.accounts
    assert account.health_factor is None and account.debt == 0
    assert account.collateral == Decimal(20000) and account.liquidation_threshold == Decimal("0.8")
    assert out.covered == {"0x" + "b1" * 20, "0x" + "b2" * 20, "0x" + "c1" * 20, "0x" + "c2" * 20}
    (b,) = out.balances
    assert b.position == "aave-v3:supplied" and b.asset.kind is AssetKind.POSITION
    assert b.asset.price_id == "coingecko:weth"  # valued as the underlying
    (rate,) = out.rates  # only the side someone holds: WETH supplied at 2 % APR
    assert (rate.position, rate.asset_id, rate.apr) == (
        "aave-v3:supplied",
        str(AssetId(CHAIN, "erc20", WETH)),
        Decimal("0.02"),
    )


def test_aave_garbage_account_data_is_a_failure_but_positions_stay() -> None:
    aave = AaveV3([AaveMarket(POOL, PROVIDER, main=False)], TokenBook(CHAIN, INFOS))
    r1 = aave_round1(10**18, 1)
    r1[2] = (True, b"\x01\x02")
    out = finish(aave.start([W]), r1, aave_round2(10**18, 5 * 10**6))
    assert out.accounts == []
    (f,) = out.failures
    assert "Aave v3 account data" in f.reason and "garbage" in f.reason
    keys = {(b.asset.symbol, b.position, b.raw) for b in out.balances}
    market = f"aave-v3:{POOL}"
    assert keys == {
        ("WETH", f"{market}:supplied", 10**18),
        ("USDC", f"{market}:borrowed", -5 * 10**6),
    }


def test_aave_pool_that_reverts_fails_each_wallet_once_and_asks_nothing_more() -> None:
    aave = AaveV3([AaveMarket(POOL, PROVIDER)], TokenBook(CHAIN, INFOS))
    step = aave.start([W])
    assert isinstance(step, Step)
    out = step.then([ok(["address"], [DP]), REVERT, REVERT])
    assert isinstance(out, Outcome) and len(out.failures) == 1
    assert "reverted" in out.failures[0].reason


def compound_round1(count: int, supplied: int, borrowed: int) -> list[Reply]:
    info = ["uint8", "address", "address", "uint64", "uint64", "uint64", "uint64", "uint128"]
    assets = [ok(info, [0, WETH, "0x" + "f2" * 20, 10**18, 8 * 10**17, 9 * 10**17, 0, 0])]
    assets += [REVERT] * (MAX_ASSETS - 1)  # past numAssets: reverts are expected, not failures
    return [
        ok(["address"], [USDC]), ok(["address"], ["0x" + "f1" * 20]), word(count),
        REVERT,  # getUtilization: a Comet without it has no rates, and no failure either
        *assets, word(supplied), word(borrowed),
    ]  # fmt: skip


def test_compound_health_is_liquidation_weighted_collateral_over_debt() -> None:
    comet = "0x" + "cc" * 20
    c = CompoundV3([comet], TokenBook(CHAIN, INFOS))
    out = finish(
        c.start([W]),
        compound_round1(1, 0, 1500 * 10**6),
        [word(10**8), word(3000 * 10**8), word(10**18)],  # prices; 1 WETH collateral
    )
    assert out.failures == []
    (a,) = out.accounts
    assert (a.collateral, a.debt) == (Decimal(3000), Decimal(1500))
    assert a.health_factor == Decimal("1.8") and a.liquidation_threshold == Decimal("0.9")
    assert c.covers() == {comet.lower()}


def test_compound_missing_price_is_reported_not_guessed() -> None:
    c = CompoundV3(["0x" + "cc" * 20], TokenBook(CHAIN, INFOS))
    out = finish(c.start([W]), compound_round1(1, 0, 10**6), [word(10**8), REVERT, word(10**18)])
    assert out.accounts == [] and "price feed" in out.failures[0].reason
    assert {b.position.rsplit(":", 1)[1] for b in out.balances} == {"collateral", "borrowed"}


def test_lido_wsteth_needs_the_rate() -> None:
    steth = AssetInfo(AssetId(CHAIN, "erc20", "0x" + "5e" * 20), "stETH", "stETH", 18)
    lido = Lido(steth, "0x" + "3e" * 20)
    out = finish(lido.start([W]), [word(5), word(2 * 10**18), REVERT])
    assert [(b.position, b.raw) for b in out.balances] == [("lido:staked", 5)]
    assert "wstETH" in out.failures[0].reason and "reverted" in out.failures[0].reason


def test_eigenlayer_skips_a_pod_deficit_and_rejects_mismatched_arrays() -> None:
    book = TokenBook(CHAIN, INFOS)
    e = EigenLayer("0x" + "51" * 20, "0x" + "52" * 20, NATIVE, book)
    step = e.start([W])
    mismatched = ok(["address[]", "uint256[]"], [["0x" + "53" * 20], [1, 2]])
    deficit = (True, (-(10**18)).to_bytes(32, "big", signed=True))
    out = step.then([mismatched, deficit])
    assert isinstance(out, Outcome)
    assert out.balances == []  # a negative pod balance is not a holding
    assert "EigenLayer deposits" in out.failures[0].reason
