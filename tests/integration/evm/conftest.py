"""Anvil nodes for the EVM integration tests (skipped when npm tools are not installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.evm.anvil import Anvil, running


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    yield from running(31337)


@pytest.fixture(scope="session")
def anvil_plain() -> Iterator[Anvil]:
    """A second chain without Multicall3, for the JSON-RPC batch fallback."""
    yield from running(31338, multicall=False)
