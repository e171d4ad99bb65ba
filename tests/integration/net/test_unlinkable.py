"""Unlinkable reads: each wallet in its own requests and connections; its cost is stated."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from app.chains.unlinkable import request_cost
from app.cli import main
from app.domain.addresses import AddressFamily
from app.domain.chains import ChainFamily
from tests.integration.evm.anvil import MULTICALL3, Anvil
from tests.integration.evm.proxy import FaultyProxy

pytestmark = pytest.mark.integration
WALLETS = (
    "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec",
    "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097",
    "0xcd3B766CCDd6AE721141F452C550Ca635964ce71",
)


class Watching(FaultyProxy):
    """Forwards to anvil; notes each request's body and the client port it came from."""

    def __init__(self, upstream: str) -> None:
        self.seen: list[tuple[int, bytes]] = []
        super().__init__(upstream)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.seen.append((int(peer[1]) if peer else 0, body))
        self.requests += 1
        status, reply = await self._forward(body)
        return web.Response(status=status, body=reply, content_type="application/json")


@pytest.fixture
def node(anvil: Anvil) -> Iterator[Watching]:
    front = Watching(anvil.url)
    yield front
    front.stop()


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data_dir), *argv], stdout=out), out.getvalue()


def wallets_in(body: bytes) -> set[str]:
    low = body.lower()
    return {w for w in WALLETS if w[2:].lower().encode() in low}


def test_each_wallet_is_read_alone_over_its_own_connections(
    data_dir: Path, anvil: Anvil, node: Watching
) -> None:
    for i, w in enumerate(WALLETS):
        anvil.set_native(w, (i + 1) * 10**18)
        assert run(data_dir, "wallets", "add", w)[0] == 0
    assert run(data_dir, "networks", "add", "31337", "Local", "ETH", node.url,
               "--multicall3", MULTICALL3, "--no-check")[0] == 0  # fmt: skip
    code, out = run(
        data_dir, "refresh", "--once", "--json", "--no-prices", "--chain", "eip155:31337"
    )
    assert code == 0
    batched = list(node.seen)
    assert any(wallets_in(b) == set(WALLETS) for _p, b in batched)  # one batch links them

    node.seen.clear()
    assert run(data_dir, "config", "set", "net.unlinkable_reads", "true")[0] == 0
    code, out = run(
        data_dir, "refresh", "--once", "--json", "--no-prices", "--chain", "eip155:31337"
    )
    assert code == 0, out
    (chain,) = json.loads(out)["chains"]
    raws = {b["wallet"].rsplit(":", 1)[1]: b["raw"] for b in chain["balances"]}
    assert raws == {w: str((i + 1) * 10**18) for i, w in enumerate(WALLETS)}
    ports_of: dict[str, set[int]] = {w: set() for w in WALLETS}
    for port, body in node.seen:
        found = wallets_in(body)
        assert len(found) <= 1, "a request carried two wallets"
        for w in found:
            ports_of[w].add(port)
    assert all(ports_of.values())
    for a in WALLETS:  # no connection carried two wallets' reads
        for b in WALLETS:
            if a != b:
                assert not ports_of[a] & ports_of[b]
    assert len(node.seen) >= len(WALLETS)
    # The privacy ledger agrees: no request to the node revealed more than one wallet.
    code, out = run(data_dir, "privacy", "report", "--json")
    (host,) = [h for h in json.loads(out)["hosts"] if h["host"] == f"127.0.0.1:{node.port}"]
    assert host["requests"] == len(batched) + len(node.seen)
    assert {a["address"] for a in host["addresses"]} == set(WALLETS)


def test_cost_in_requests() -> None:
    from app.chains.registry import load_builtin
    from tests.support.chains import solana_spec

    evm = [s for s in load_builtin() if s.family is ChainFamily.EVM][:3]
    cost = request_cost(
        [*evm, solana_spec("http://x")], {AddressFamily.EVM: 4, AddressFamily.SOLANA: 2}
    )
    assert (cost.batched, cost.unlinkable, cost.chains) == (4, 14, 4)
    assert "about 4 balance requests" in cost.sentence() and "about 14" in cost.sentence()
    assert request_cost(evm, {}).sentence().startswith("No chain has a wallet")
