"""Price ids a person gives: checked in words, stored with the token or the network, and used by
the price mapping on any chain (so custom-network holdings get priced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chains.registry import ChainRegistry, NetworkError
from app.domain.balances import AssetInfo, AssetKind
from app.domain.errors import SecretInputError
from app.domain.ids import AssetId, ChainId
from app.domain.price_routing import PriceIdError, parse_price_id
from app.prices.mapping import PriceKeys, price_keys
from app.storage.database import open_database
from app.storage.token_store import TokenStore
from tests.support.fakes import MemorySecrets

CUSTOM = ChainId.evm(31337)
TOKEN = AssetId(CUSTOM, "erc20", "0x5FbDB2315678afecb367f032d93F642f64180aa3")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "USD Coin",
        "usd coin",
        "-usd",
        "usd-",
        "coingecko:",
        "a" * 101,
        "ethe\nreum",
        "ethereum<script>",
    ],
)
def test_bad_price_ids_are_refused_in_words(text: str) -> None:
    with pytest.raises(PriceIdError) as caught:
        parse_price_id(text)
    assert "CoinGecko coin id" in str(caught.value)


def test_a_seed_phrase_typed_as_a_price_id_is_refused_and_not_echoed() -> None:
    phrase = " ".join(["abandon"] * 11 + ["about"])
    with pytest.raises(SecretInputError) as caught:
        parse_price_id(phrase)
    assert "abandon" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("usd-coin", "coingecko:usd-coin"),
        (" coingecko:usd-coin ", "coingecko:usd-coin"),
        ("https://www.coingecko.com/en/coins/wrapped-bitcoin/", "coingecko:wrapped-bitcoin"),
        ("matic-network", "coingecko:matic-network"),
    ],
)
def test_price_ids_are_stored_in_one_form(text: str, stored: str) -> None:
    assert parse_price_id(text) == stored


def test_the_mapping_prices_custom_network_assets_only_through_an_id() -> None:
    native = AssetId(CUSTOM, "slip44", "60")
    assert price_keys(TOKEN) == PriceKeys() and price_keys(native) == PriceKeys()
    keyed = price_keys(TOKEN, "coingecko:usd-coin")
    assert keyed.coingecko_id == "usd-coin" and keyed.defillama == "coingecko:usd-coin"
    assert price_keys(native, "coingecko:ethereum").coingecko_id == "ethereum"


def test_registry_keeps_a_custom_networks_price_id_and_overrides_a_built_in_one(
    tmp_path: Path,
) -> None:
    registry = ChainRegistry(tmp_path / "networks.toml", MemorySecrets())
    with pytest.raises(PriceIdError):
        registry.add(31337, "Local Anvil A", "ETH", ["http://127.0.0.1:8545"], price_id="No Id")
    assert str(CUSTOM) not in {str(s.chain_id) for s in registry.all()}
    spec = registry.add(31337, "Local Anvil A", "ETH", ["http://127.0.0.1:8545"],
                        price_id="ethereum")  # fmt: skip
    assert spec.price_ids == {"coingecko_native": "ethereum"}
    again = ChainRegistry(tmp_path / "networks.toml", MemorySecrets())  # read from the file
    assert again.get("Local Anvil A").price_ids == {"coingecko_native": "ethereum"}
    assert again.set_price_id("Local Anvil A", None).price_ids == {}
    base = again.set_price_id("eip155:8453", "coingecko:weth")
    assert base.price_ids["coingecko_native"] == "weth" and base.price_ids["defillama"] == "base"
    assert again.set_price_id("eip155:8453", None).price_ids["coingecko_native"] == "ethereum"
    with pytest.raises(NetworkError):
        again.set_price_id("No such network", "ethereum")


def test_token_store_sets_a_price_id_without_losing_what_it_knew(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    try:
        store = TokenStore(engine)
        info = AssetInfo(TOKEN, "LUSD", "Local Dollar", 6, AssetKind.TOKEN, is_spam=False)
        store.set_price_id(info, "coingecko:usd-coin")  # not stored yet: added as the person's
        assert store.price_id(TOKEN) == "coingecko:usd-coin"
        store.upsert(AssetInfo(TOKEN, "LUSD", "Local Dollar v2", 6), "user")
        store.set_price_id(AssetInfo(TOKEN, "X", "X", 0), "coingecko:dai")
        (kept,) = store.list(CUSTOM)
        assert (kept.name, kept.decimals, kept.price_id) == ("Local Dollar v2", 6, "coingecko:dai")
    finally:
        engine.dispose()


def test_a_price_id_given_to_a_curated_token_reaches_its_reader(tmp_path: Path) -> None:
    from app.chains.evm import create_reader
    from app.chains.evm.tokens import curated_tokens
    from app.chains.factory import ReaderContext
    from app.chains.registry import load_builtin
    from app.config import Settings

    mainnet = next(s for s in load_builtin() if str(s.chain_id) == "eip155:1")
    usdc = next(t for t in curated_tokens(mainnet.chain_id) if t.symbol == "USDC")
    engine = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    try:
        TokenStore(engine).set_price_id(usdc, "coingecko:usd-coin-bridged")
        ctx = ReaderContext(Settings.load(tmp_path / "s.toml"), engine, MemorySecrets())
        reader = create_reader(mainnet, ctx)
        tokens = {t.asset_id: t for t in reader._tokens}  # type: ignore[attr-defined]
        assert tokens[usdc.asset_id].price_id == "coingecko:usd-coin-bridged"
        assert sum(1 for t in reader._tokens if t.asset_id == usdc.asset_id) == 1  # type: ignore[attr-defined]
    finally:
        engine.dispose()
