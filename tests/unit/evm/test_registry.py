"""The chain registry: built-in chains, user networks, keyed RPC URLs kept out of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chains.registry import ChainRegistry, NetworkError, load_builtin, split_secret
from app.domain.chains import ChainFamily
from tests.support.fakes import MemorySecrets

KEY = "abcDEF1234567890xyzKEY"


def test_builtin_chains_are_complete() -> None:
    specs = {str(s.chain_id): s for s in load_builtin()}
    for cid in ("1", "8453", "42161", "10", "137", "56", "43114", "100", "59144", "534352", "324"):
        spec = specs[f"eip155:{cid}"]
        assert spec.family is ChainFamily.EVM and spec.rpc_urls and spec.multicall3
        assert len(spec.rpc_urls) >= 2
    assert specs["eip155:324"].multicall3 != specs["eip155:1"].multicall3
    assert str(specs["eip155:56"].native_asset) == "eip155:56/slip44:714"
    assert str(specs["eip155:137"].native_asset) == "eip155:137/slip44:966"
    assert str(specs["eip155:43114"].native_asset) == "eip155:43114/slip44:9000"
    assert str(specs["eip155:100"].native_asset) == "eip155:100/slip44:700"
    sol = specs["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"]
    assert (sol.family, sol.native_decimals, sol.native_slip44) == (ChainFamily.SOLANA, 9, 501)
    assert sol.rpc_urls == ("https://api.mainnet-beta.solana.com",)


@pytest.mark.parametrize(
    ("url", "template", "secret"),
    [
        (
            f"https://eth-mainnet.g.alchemy.com/v2/{KEY}",
            "https://eth-mainnet.g.alchemy.com/v2/{secret}",
            KEY,
        ),
        (f"https://rpc.example/x?apikey={KEY}", "https://rpc.example/x?apikey={secret}", KEY),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545", None),
    ],
)
def test_split_secret(url: str, template: str, secret: str | None) -> None:
    assert split_secret(url) == (template, secret)


def test_keyed_url_key_goes_to_the_secret_store(tmp_path: Path) -> None:
    secrets = MemorySecrets()
    reg = ChainRegistry(tmp_path / "networks.toml", secrets)
    url = f"https://eth-mainnet.g.alchemy.com/v2/{KEY}"
    reg.set_rpc("eip155:1", [url, "http://127.0.0.1:8545"])
    assert KEY not in (tmp_path / "networks.toml").read_text()
    assert secrets.values == {"rpc.eip155:1.0": KEY}
    reopened = ChainRegistry(tmp_path / "networks.toml", secrets)
    assert reopened.get("Ethereum").rpc_urls == (url, "http://127.0.0.1:8545")
    reopened.set_rpc("eip155:1", [])
    assert secrets.values == {}
    assert reopened.get("eip155:1").rpc_urls[0].startswith("https://ethereum-rpc")


def test_custom_network_lifecycle(tmp_path: Path) -> None:
    reg = ChainRegistry(tmp_path / "networks.toml", MemorySecrets())
    spec = reg.add(1337, "Home node", "ETH", ["http://127.0.0.1:8545"])
    assert spec.custom and spec.multicall3 is None and spec.enabled
    reg.set_enabled("Home node", False)
    assert not ChainRegistry(tmp_path / "networks.toml", MemorySecrets()).get("eip155:1337").enabled
    with pytest.raises(NetworkError, match="already exists"):
        reg.add(1337, "Again", "ETH", ["http://127.0.0.1:8545"])
    with pytest.raises(NetworkError, match="built in"):
        reg.remove("eip155:1")
    reg.remove("eip155:1337")
    with pytest.raises(NetworkError, match="No network"):
        reg.get("eip155:1337")
