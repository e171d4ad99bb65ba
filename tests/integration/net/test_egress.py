"""The one way out, end to end: with a proxy set, a full refresh (anvil + a local price
server), a price fetch and an ENS lookup make no direct connection; a proxy that is down stops
everything with one sentence; own-nodes-only refuses the default price sources before any
connection; and the privacy report matches what the servers saw, request for request."""

from __future__ import annotations

import asyncio
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode

from app.cli import main
from tests.integration.evm.anvil import ARTIFACTS, MULTICALL3, Anvil
from tests.integration.evm.proxy import FaultyProxy
from tests.integration.net.conftest import Microsocks, Socks, only_ports
from tests.integration.prices.fakes import FakeDefiLlama, serve_in_thread
from tests.support.net import free_port

pytestmark = pytest.mark.integration
WALLET = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
OTHER = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"
REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e"
UNIVERSAL = "0xeEeEEEeE14D718C2B47D9923Deab1335E144EeEe"
TARGET = "0x52908400098527886E0F7030069857D2E4169EE7"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def report(data_dir: Path) -> dict[str, dict[str, object]]:
    code, out = run(data_dir, "privacy", "report", "--json")
    assert code == 0
    return {h["host"]: h for h in json.loads(out)["hosts"]}


@pytest.fixture
def node(anvil: Anvil) -> Iterator[FaultyProxy]:
    """A counting HTTP front for anvil (counts every request it receives)."""
    front = FaultyProxy(anvil.url)
    yield front
    front.stop()


@pytest.fixture
def ens_node(anvil: Anvil) -> Iterator[FaultyProxy]:
    from ens.utils import normal_name_to_hash

    name = normal_name_to_hash("alice.eth")
    anvil.rpc("anvil_setCode", REGISTRY, ARTIFACTS["TestEnsRegistry"]["deployed"])
    anvil.rpc("anvil_setCode", UNIVERSAL, ARTIFACTS["TestUniversalResolver"]["deployed"])
    resolver = anvil.deploy("TestEnsResolver")
    anvil.send(REGISTRY, "0x1896f70a" + encode(["bytes32", "address"], [name, resolver]).hex())
    anvil.send(resolver, "0xd5fa2b00" + encode(["bytes32", "address"], [name, TARGET]).hex())
    front = FaultyProxy(anvil.url)
    yield front
    front.stop()


def resolve(data_dir: Path, url: str) -> str | None:
    """An ENS lookup inside the app's context (its egress installed), as the wallet dialog's."""
    from app.bootstrap import bootstrap
    from app.chains.evm.ens import EnsResolver
    from app.config import Paths

    ctx = bootstrap(Paths.resolve(data_dir))
    try:
        return asyncio.run(EnsResolver([url], timeout=5).resolve("alice.eth"))
    finally:
        ctx.close()


def price_errors(data_dir: Path) -> list[str]:
    """One price fetch through the app's price stack: the errors it reports."""
    from app.bootstrap import bootstrap
    from app.config import Paths
    from app.domain.ids import AssetId, ChainId
    from app.domain.valuation import PricedAsset

    ctx = bootstrap(Paths.resolve(data_dir))

    async def fetch() -> list[str]:
        asset = PricedAsset(
            AssetId(ChainId("eip155", "31337"), "slip44", "60"), "coingecko:ethereum"
        )
        try:
            _prices, _n, errors = await ctx.price_stack().service.prices([asset], "USD")
            return list(errors)
        finally:
            await ctx.aclose()

    return asyncio.run(fetch())


def setup_data(data_dir: Path, node_url: str, price_url: str) -> None:
    assert run(data_dir, "wallets", "add", WALLET)[0] == 0
    assert run(data_dir, "wallets", "add", OTHER)[0] == 0
    assert run(data_dir, "config", "set", "prices.defillama.url", price_url)[0] == 0
    assert run(data_dir, "config", "set", "prices.order", "defillama")[0] == 0
    code, out = run(data_dir, "networks", "add", "31337", "Local", "ETH", node_url,
                    "--multicall3", MULTICALL3, "--price-id", "ethereum", "--no-check")  # fmt: skip
    assert code == 0, out


def test_everything_goes_through_the_proxy_and_the_report_matches_the_servers(
    data_dir: Path, anvil: Anvil, node: FaultyProxy, ens_node: FaultyProxy, socks: Socks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    anvil.set_native(WALLET, 3 * 10**18)
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000})
    with serve_in_thread(llama) as served:
        price_port = int(served.rsplit(":", 1)[1])
        node_host = f"node.privacy.test:{node.port}"
        price_host = f"price.privacy.test:{price_port}"
        ens_host = f"ens.privacy.test:{ens_node.port}"
        setup_data(data_dir, f"http://{node_host}", f"http://{price_host}")
        assert run(data_dir, "config", "set", "net.proxy", socks.url)[0] == 0
        with only_ports(monkeypatch, socks.port) as guard:
            code, out = run(data_dir, "refresh", "--once", "--json", "--chain", "eip155:31337")
            assert code == 0, out
            doc = json.loads(out)
            (chain,) = doc["chains"]
            assert chain["status"] == "ok"
            (held,) = [b for b in chain["balances"] if b["wallet"].endswith(WALLET)]
            assert held["raw"] == str(3 * 10**18) and held["price"] == "2000"
            assert price_errors(data_dir) == []
            assert resolve(data_dir, f"http://{ens_host}") == TARGET
        assert guard.blocked == [] and guard.lookups == []
        assert guard.connects and {port for _h, port in guard.connects} == {socks.port}

    # The proxy got host names (DNS went through it), one set of credentials per host, and
    # different credentials for different hosts (Tor would use separate circuits).
    users: dict[str, set[object]] = defaultdict(set)
    for entry in socks.entries():
        assert entry["atyp"] == 3  # a name, never an address resolved here
        users[f"{entry['host']}:{entry['port']}"].add(entry["user"])
    assert set(users) == {node_host, price_host, ens_host}
    assert all(len(u) == 1 and None not in u for u in users.values())
    assert len({next(iter(u)) for u in users.values()}) == 3

    # Request for request, what each server saw is what the privacy ledger says.
    hosts = report(data_dir)
    assert hosts[node_host]["requests"] == node.requests > 0
    assert hosts[price_host]["requests"] == len(llama.log) > 0
    assert hosts[ens_host]["requests"] == ens_node.requests > 0
    seen = {a["address"] for a in hosts[node_host]["addresses"]}  # type: ignore[union-attr]
    assert seen == {WALLET, OTHER}
    assert hosts[node_host]["addresses_seen"] == 2
    # Price requests never carry an address: not in the ledger, not in what the server got.
    assert hosts[price_host]["addresses"] == [] and hosts[ens_host]["addresses"] == []
    sent = " ".join(f"{e.path} {e.query}" for e in llama.log).lower()
    assert WALLET.lower()[2:] not in sent and OTHER.lower()[2:] not in sent
    assert set(hosts[node_host]["purposes"]) == {"rpc"}  # type: ignore[arg-type]
    assert hosts[ens_host]["purposes"] == ["ens"]


def test_a_proxy_that_is_down_stops_everything_with_one_sentence(
    data_dir: Path, node: FaultyProxy, ens_node: FaultyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000})
    with serve_in_thread(llama) as served:
        setup_data(data_dir, node.url, served)
        dead = free_port()
        sentence = f"The proxy at 127.0.0.1:{dead} does not answer; nothing was sent."
        assert run(data_dir, "config", "set", "net.proxy", f"socks5h://127.0.0.1:{dead}")[0] == 0
        with only_ports(monkeypatch, dead) as guard:
            code, out = run(data_dir, "refresh", "--once", "--json", "--chain", "eip155:31337")
            assert code == 1
            (chain,) = json.loads(out)["chains"]
            assert chain["status"] == "failed" and chain["reason"] == sentence
            assert any(sentence in e for e in price_errors(data_dir))
            from app.chains.evm.ens import EnsLookupError

            with pytest.raises(EnsLookupError, match="does not answer; nothing was sent"):
                resolve(data_dir, ens_node.url)
        assert guard.blocked == [] and {p for _h, p in guard.connects} == {dead}
    assert node.requests == 0 and ens_node.requests == 0 and llama.log == []
    assert report(data_dir) == {}  # nothing reached anyone


def test_through_microsocks_without_isolation(
    data_dir: Path, anvil: Anvil, node: FaultyProxy, microsocks: Microsocks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Debian's microsocks (no credentials: isolation off) carries the whole refresh."""
    anvil.set_native(OTHER, 10**18)
    llama = FakeDefiLlama(prices={"coingecko:ethereum": 2000})
    with serve_in_thread(llama) as served:
        setup_data(data_dir, node.url, served)
        run(data_dir, "config", "set", "net.isolate_hosts", "false")
        run(data_dir, "config", "set", "net.proxy", f"socks5://127.0.0.1:{microsocks.port}")
        with only_ports(monkeypatch, microsocks.port) as guard:
            code, out = run(data_dir, "refresh", "--once", "--json", "--chain", "eip155:31337")
        assert code == 0, out
        assert guard.blocked == []
        price_port = served.rsplit(":", 1)[1]
    log = "\n".join(microsocks.lines())
    assert f"connected to 127.0.0.1:{node.port}" in log
    assert f"connected to 127.0.0.1:{price_port}" in log
    hosts = report(data_dir)
    assert hosts[f"127.0.0.1:{node.port}"]["requests"] == node.requests
    assert hosts[f"127.0.0.1:{price_port}"]["requests"] == len(llama.log)


def test_own_nodes_only_refuses_the_default_price_sources_before_connecting(
    data_dir: Path, node: FaultyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(data_dir, "wallets", "add", WALLET)[0] == 0
    code, out = run(data_dir, "networks", "add", "31337", "Local", "ETH", node.url,
                    "--multicall3", MULTICALL3, "--price-id", "ethereum", "--no-check")  # fmt: skip
    assert code == 0, out
    assert run(data_dir, "config", "set", "net.own_nodes_only", "true")[0] == 0
    with only_ports(monkeypatch, node.port) as guard:
        code, out = run(data_dir, "refresh", "--once", "--json", "--chain", "eip155:31337")
        errors = price_errors(data_dir)
        from app.chains.evm.ens import EnsLookupError

        with pytest.raises(EnsLookupError, match="Own nodes only is on"):  # a public node
            resolve(data_dir, "https://ethereum-rpc.publicnode.com")
    (chain,) = json.loads(out)["chains"]
    assert chain["status"] == "ok"  # the person's own node answers
    assert guard.blocked == [] and guard.lookups == []
    assert {p for _h, p in guard.connects} == {node.port}
    assert any("Own nodes only is on" in e for e in errors)
    hosts = report(data_dir)
    assert hosts[f"127.0.0.1:{node.port}"]["requests"] == node.requests > 0
    refused = {h: v for h, v in hosts.items() if v["refused"]}
    assert {"api.coingecko.com", "ethereum-rpc.publicnode.com"} <= set(refused)
    assert refused["ethereum-rpc.publicnode.com"]["purposes"] == ["ens"]
    assert all(v["requests"] == 0 for v in refused.values())


def test_a_changed_proxy_applies_at_once_to_clients_already_built(
    data_dir: Path, node: FaultyProxy
) -> None:
    """The window's path: Settings saves, ``AppContext.settings_changed`` applies, and even a
    client built before the change (a price stack, a transport) follows the new policy."""
    import httpx

    from app import net
    from app.bootstrap import bootstrap
    from app.config import Paths
    from app.net.transport import ProxyDown

    ctx = bootstrap(Paths.resolve(data_dir))
    dead = free_port()

    async def go() -> None:
        async with net.client("rpc", timeout=5) as client:
            reply = await client.post(
                node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
            )
            assert reply.status_code == 200
            ctx.settings.set("net.proxy", f"socks5h://127.0.0.1:{dead}")
            ctx.settings_changed(["net.proxy"])
            with pytest.raises(ProxyDown):
                await client.post(node.url, json={})
            ctx.settings.set("net.proxy", "")
            ctx.settings_changed(["net.proxy"])
            assert isinstance(await client.post(node.url, json={}), httpx.Response)

    try:
        asyncio.run(go())
    finally:
        ctx.close()
    assert node.requests == 2
