"""A local Solana JSON-RPC server (real SVM via solders.litesvm) per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.solana_rpc import SolanaRpcServer


@pytest.fixture
def svm_server() -> Iterator[SolanaRpcServer]:
    server = SolanaRpcServer().start()
    yield server
    server.stop()
