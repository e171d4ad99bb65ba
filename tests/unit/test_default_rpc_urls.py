"""Every default RPC and explorer URL shipped in resources/chains.toml answers without a key:
https, no key form (the same splitter that keeps users' keys out of files), none known dead."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app.chains.registry import load_builtin
from app.domain.secret_text import secret_kind, split_url_secrets
from app.domain.text import check_url

# Hosts that stopped answering keyless requests (each seen failing, or announced by its operator).
KNOWN_DEAD = {
    "polygon-rpc.com": "stopped answering in February 2026",
    "rpc.ankr.com": "needs an API key since 2025",
    "cloudflare-eth.com": "Cloudflare's Ethereum gateway was retired",
    "rpc-mainnet.matic.network": "retired by Polygon",
    "rpc-mainnet.maticvigil.com": "MaticVigil shut down",
    "matic-mainnet.chainstacklabs.com": "retired by Chainstack",
    "eth-rpc.gateway.pokt.network": "Pocket's old gateway was retired",
    "main-light.eth.linkpool.io": "LinkPool's public node was retired",
    "api.mycryptoapi.com": "MyCrypto's node was retired",
}
SPECS = load_builtin()
URLS = [(str(s.chain_id), u) for s in SPECS for u in s.rpc_urls]


@pytest.mark.parametrize(("chain", "url"), URLS, ids=[u for _, u in URLS])
def test_default_rpc_url_is_keyless_https_and_alive(chain: str, url: str) -> None:
    assert check_url(url, "RPC URL") == url
    parts = urlsplit(url)
    assert parts.scheme == "https", f"{chain}: {url} is not https"
    assert split_url_secrets(url) == (url, []), f"{chain}: {url} carries a key"
    assert secret_kind(url) is None
    host = parts.hostname or ""
    dead = [h for h in KNOWN_DEAD if host == h or host.endswith("." + h)]
    assert not dead, f"{chain}: {url} — {KNOWN_DEAD[dead[0]] if dead else ''}"


@pytest.mark.parametrize("spec", SPECS, ids=[str(s.chain_id) for s in SPECS])
def test_each_chain_keeps_its_fallbacks(spec: object) -> None:
    from app.domain.chains import ChainFamily, ChainSpec

    assert isinstance(spec, ChainSpec)
    assert len(set(spec.rpc_urls)) == len(spec.rpc_urls)
    if spec.family is ChainFamily.EVM:
        assert len(spec.rpc_urls) >= 2, f"{spec.name} needs a keyless fallback URL"
    if spec.explorer_url:
        check_url(spec.explorer_url, "explorer URL", keyed=False)
        assert split_url_secrets(spec.explorer_url)[1] == []


def test_polygon_starts_with_an_answering_url() -> None:
    polygon = next(s for s in SPECS if str(s.chain_id) == "eip155:137")
    assert urlsplit(polygon.rpc_urls[0]).hostname in {
        "polygon-bor-rpc.publicnode.com",
        "polygon.drpc.org",
    }
