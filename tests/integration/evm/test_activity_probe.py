"""The activity probe against a real anvil node: a used address, a fresh one, a dead URL and a
URL that serves another chain."""

from __future__ import annotations

import asyncio

import pytest

from app.chains.evm.activity import RpcActivityProbe
from app.chains.http import RpcTransportError
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import ChainId
from app.services.activity import ActivityService
from tests.integration.evm.anvil import Anvil
from tests.support.net import free_port

pytestmark = pytest.mark.integration
FRESH = "0x52908400098527886E0F7030069857D2E4169EE7"
FUNDED = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def spec(chain_id: int, *urls: str, name: str = "Local") -> ChainSpec:
    return ChainSpec(ChainId.evm(chain_id), name, ChainFamily.EVM, "ETH", "Ether", 18, 60, urls)


def test_nonce_or_balance_counts_as_activity(anvil: Anvil) -> None:
    anvil.set_native(FUNDED, 1)  # 1 wei, never sent anything: a balance alone is activity
    probe = RpcActivityProbe(timeout=5)
    found = asyncio.run(
        probe.active(spec(anvil.chain_id, anvil.url), [anvil.sender, FRESH, FUNDED])
    )
    assert found == {anvil.sender, FUNDED}


def test_a_dead_url_raises_and_the_service_says_could_not_check(anvil: Anvil) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RpcTransportError):
        asyncio.run(RpcActivityProbe(timeout=2).active(spec(1, dead), [FRESH]))
    chains = [spec(anvil.chain_id, anvil.url, name="Anvil"), spec(1, dead, name="Ethereum")]
    service = ActivityService(lambda: chains, RpcActivityProbe(timeout=2), timeout=5)
    found = asyncio.run(service.find([anvil.sender]))
    assert found[anvil.sender].describe() == "Used on Anvil; could not check Ethereum."


def test_a_url_serving_another_chain_is_not_believed(anvil: Anvil) -> None:
    with pytest.raises(RpcTransportError, match="serves chain 31337"):
        asyncio.run(
            RpcActivityProbe(timeout=5).active(spec(1, anvil.url, name="Ethereum"), [FRESH])
        )
