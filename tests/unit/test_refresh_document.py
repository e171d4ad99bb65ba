"""``refresh --once --json``'s document: each balance's price fields, key by key and in order,
for plain balances, DeFi positions, unquoted assets, manual and stale prices, and a balance the
stored snapshot does not hold."""

from __future__ import annotations

from decimal import Decimal

from app.cli.refresh_cmd import refresh_json
from app.domain.balances import AssetInfo, Balance, ChainReadResult, SourceState
from app.domain.ids import AccountId, AssetId, ChainId
from app.domain.outcome import RefreshStatus
from app.domain.snapshot import Snapshot, SnapshotHolding
from app.services.prices import PriceResult, Quotes
from app.services.refresh import ChainReport, RefreshResult

CHAIN = "eip155:1"
WALLET = f"{CHAIN}:0x" + "ab" * 20
ETH = f"{CHAIN}/slip44:60"
USDC = f"{CHAIN}/erc20:0x" + "cd" * 20
SPAM = f"{CHAIN}/erc20:0x" + "ef" * 20
DAI = f"{CHAIN}/erc20:0x" + "12" * 20


def _asset(asset_id: str, symbol: str, decimals: int, spam: bool = False) -> AssetInfo:
    return AssetInfo(AssetId.parse(asset_id), symbol, f"{symbol} name", decimals, is_spam=spam)


def _result() -> RefreshResult:
    wallet = AccountId.parse(WALLET)
    eth, usdc = _asset(ETH, "ETH", 18), _asset(USDC, "USDC", 6)
    spam, dai = _asset(SPAM, "<b>CLAIM</b>", 0, spam=True), _asset(DAI, "DAI", 18)
    balances = (
        Balance(wallet, eth, 1_500000000000000000),
        Balance(wallet, usdc, 2_500000),
        Balance(wallet, spam, 7),
        Balance(wallet, usdc, -1_000000, "aave-v3:borrowed"),
        Balance(wallet, dai, 3 * 10**18),  # read, but the stored snapshot left it out
    )
    eth_price, usdc_price = Decimal("3000.123456789012345678901234567890"), Decimal("1")
    holdings = (
        SnapshotHolding(WALLET, ETH, "ETH", 18, balances[0].raw, eth_price,
                        Decimal("4500.1851851835185185185185185185"), SourceState.OK, 1),
        SnapshotHolding(WALLET, USDC, "USDC", 6, 2_500000, usdc_price, Decimal("2.5"),
                        SourceState.OK, 1, manual_price=True),
        SnapshotHolding(WALLET, SPAM, "<b>CLAIM</b>", 0, 7, None, None, SourceState.OK, 1,
                        is_spam=True),
        SnapshotHolding(WALLET, USDC, "USDC", 6, -1_000000, usdc_price, Decimal("-1"),
                        SourceState.OK, 1, "aave-v3:borrowed", manual_price=True),
    )  # fmt: skip
    quotes = Quotes(
        "USD",
        (
            PriceResult(ETH, eth_price, "coingecko", 42, True),
            PriceResult(USDC, usdc_price, "manual", None, False),
            PriceResult(DAI, Decimal("0.999"), "defillama", 5, False),
        ),
    )
    return RefreshResult(
        RefreshStatus.OK, "Refreshed.", 1, "USD",
        chains=(ChainReport(CHAIN, "Ethereum", SourceState.OK, None, 0.1, 1, 5),),
        results=(ChainReadResult(ChainId.parse(CHAIN), SourceState.OK, balances),),
        snapshot=Snapshot(1, "USD", holdings, (), id=9), stored=True, prices=quotes,
    )  # fmt: skip


def test_every_balance_carries_its_price_fields_in_order() -> None:
    balances = refresh_json(_result(), {}, priced=True)["chains"][0]["balances"]
    base = ["wallet", "asset", "symbol", "name", "raw", "decimals", "amount", "spam"]
    priced = ["price", "value", "price_source", "price_manual", "price_age_seconds", "price_stale"]
    assert [list(b) for b in balances] == [
        base + priced,
        base + priced,
        base + priced,
        [*base, "position", "protocol", "kind", *priced],
        base + priced,
    ]
    eth, usdc, spam, debt, dai = balances
    assert (eth["amount"], eth["price"], eth["value"]) == (
        "1.500000000000000000",
        "3000.123456789012345678901234567890",
        "4500.1851851835185185185185185185",
    )
    assert (eth["price_source"], eth["price_manual"], eth["price_age_seconds"]) == (
        "coingecko",
        False,
        42,
    )
    assert eth["price_stale"] is True
    assert (usdc["price"], usdc["value"], usdc["price_source"], usdc["price_manual"]) == (
        "1",
        "2.5",
        "manual",
        True,
    )
    assert spam["symbol"] == "<b>CLAIM</b>" and spam["spam"] is True
    assert (spam["price"], spam["value"], spam["price_source"], spam["price_stale"]) == (
        None,
        None,
        None,
        False,
    )
    assert (debt["amount"], debt["position"], debt["protocol"], debt["kind"]) == (
        "-1.000000",
        "aave-v3:borrowed",
        "aave-v3",
        "borrowed",
    )
    assert (debt["price"], debt["value"], debt["price_manual"]) == ("1", "-1", True)
    # Quoted, but not in what was stored: no price or value is claimed for it.
    assert (dai["price"], dai["value"], dai["price_source"]) == (None, None, "defillama")


def test_a_read_only_document_has_no_price_fields() -> None:
    document = refresh_json(_result(), {}, priced=False)
    assert set(document) == {"status", "summary", "chains"}
    assert all("price" not in b for b in document["chains"][0]["balances"])
    assert document["chains"][0]["balances"][3]["position"] == "aave-v3:borrowed"
