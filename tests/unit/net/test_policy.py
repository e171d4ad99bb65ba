"""Proxy settings: bad input is refused with a sentence; hosts are named one way."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.domain.errors import SettingsError
from app.net.policy import NetPolicy, check_proxy, host_of
from app.net.settings import network_policy
from app.net.transport import isolation_credentials


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://127.0.0.1:9050",
        "socks5h://127.0.0.1",  # no port
        "socks5h://user:pw@127.0.0.1:9050",  # credentials are chosen per host
        "127.0.0.1:9050",
        "socks5h://127.0.0.1:9050/path",
        "socks5h://127.0.0.1:99999",
        "http://",
    ],
)
def test_bad_proxy_is_refused(bad: str) -> None:
    with pytest.raises(SettingsError, match="proxy"):
        check_proxy(bad)


def test_bad_proxy_never_reaches_the_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(tmp_path / "settings.toml")
    with pytest.raises(SettingsError):
        s.set("net.proxy", "gopher://x:1")
    assert s.get("net.proxy") == ""


@pytest.mark.parametrize(
    "good", ["", "socks5h://127.0.0.1:9050", "socks5://h:1080", "http://p:3128"]
)
def test_good_proxy(good: str) -> None:
    check_proxy(good)


def test_host_of() -> None:
    assert host_of("https://Eth.LlamaRPC.com/v2/KEY?x=1") == "eth.llamarpc.com"
    assert host_of("https://a.b:443/x") == "a.b"
    assert host_of("http://127.0.0.1:8545") == "127.0.0.1:8545"
    assert host_of("http://[::1]:8545/") == "[::1]:8545"
    assert host_of("not a url") == ""


def test_isolation_credentials_differ_per_host_and_session() -> None:
    a = isolation_credentials(b"salt-one", "a.example")
    assert a == isolation_credentials(b"salt-one", "a.example")
    assert a != isolation_credentials(b"salt-one", "b.example")
    assert a != isolation_credentials(b"salt-two", "a.example")
    assert "a.example" not in "".join(a)


def test_own_hosts_are_the_configured_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(tmp_path / "settings.toml")
    assert network_policy(s, lambda: ["http://x:1"]) == NetPolicy()
    s.set("net.own_nodes_only", True)
    s.set("prices.defillama.url", "https://prices.home.lan")
    policy = network_policy(s, lambda: ["http://node.lan:8545/rpc"])
    assert policy.own_hosts == {"prices.home.lan", "node.lan:8545"}
    assert policy.allows("node.lan:8545") and not policy.allows("api.coingecko.com")
