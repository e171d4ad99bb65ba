"""One anvil node with the DeFi test world deployed and populated (skipped without npm tools)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.defi.world import DefiWorld, deploy, populate
from tests.integration.evm.anvil import running


@pytest.fixture(scope="session")
def defi_world() -> Iterator[DefiWorld]:
    for node in running(31337):
        yield populate(deploy(node))
