"""ENS resolution through web3's AsyncENS against a real anvil node with a minimal ENS."""

from __future__ import annotations

import asyncio

import pytest
from eth_abi.abi import encode

from app.chains.evm.ens import EnsLookupError, EnsResolver
from tests.integration.evm.anvil import ARTIFACTS, Anvil
from tests.support.net import free_port

pytestmark = pytest.mark.integration
REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e"
UNIVERSAL = "0xeEeEEEeE14D718C2B47D9923Deab1335E144EeEe"
TARGET = "0x52908400098527886E0F7030069857D2E4169EE7"


def test_eth_name_resolves(anvil: Anvil) -> None:
    from ens.utils import normal_name_to_hash

    node = normal_name_to_hash("alice.eth")
    anvil.rpc("anvil_setCode", REGISTRY, ARTIFACTS["TestEnsRegistry"]["deployed"])
    anvil.rpc("anvil_setCode", UNIVERSAL, ARTIFACTS["TestUniversalResolver"]["deployed"])
    resolver = anvil.deploy("TestEnsResolver")
    anvil.send(REGISTRY, "0x1896f70a" + encode(["bytes32", "address"], [node, resolver]).hex())
    anvil.send(resolver, "0xd5fa2b00" + encode(["bytes32", "address"], [node, TARGET]).hex())
    ens = EnsResolver([anvil.url])
    assert asyncio.run(ens.resolve("alice.eth")) == TARGET
    assert asyncio.run(ens.resolve("nobody.eth")) is None


def test_unreachable_node_is_a_clear_error() -> None:
    ens = EnsResolver([f"http://127.0.0.1:{free_port()}"], timeout=2)
    with pytest.raises(EnsLookupError, match=r"Could not look up alice\.eth"):
        asyncio.run(ens.resolve("alice.eth"))
