"""One anvil node with the DeFi test world deployed and populated (skipped without npm tools)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.defi.world import DefiWorld, deploy, populate
from tests.integration.evm.anvil import ANVIL, Anvil


@pytest.fixture(scope="session")
def defi_world() -> Iterator[DefiWorld]:
    if not ANVIL.exists():
        pytest.skip("anvil not installed: run `npm install --no-audit --no-fund`")
    node = Anvil(31337)
    try:
        yield populate(deploy(node))
    finally:
        node.stop()
