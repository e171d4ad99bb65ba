"""Anvil nodes for the EVM integration tests (skipped when npm tools are not installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.evm.anvil import ANVIL, Anvil


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    if not ANVIL.exists():
        pytest.skip("anvil not installed: run `npm install --no-audit --no-fund`")
    node = Anvil(31337)
    yield node
    node.stop()


@pytest.fixture(scope="session")
def anvil_plain() -> Iterator[Anvil]:
    """A second chain without Multicall3, for the JSON-RPC batch fallback."""
    if not ANVIL.exists():
        pytest.skip("anvil not installed: run `npm install --no-audit --no-fund`")
    node = Anvil(31338, multicall=False)
    yield node
    node.stop()
