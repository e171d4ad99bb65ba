"""Every RPC dead on a first refresh: the CLI says so, prints no made-up total, stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.storage.helpers import WALLET, cli, history, offline

pytestmark = pytest.mark.integration


def test_first_refresh_with_every_rpc_dead_prints_no_total_and_stores_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    assert cli(data, "wallets", "add", WALLET).returncode == 0
    offline(data)
    done = cli(data, "refresh", "--once", "--json", "--chain", "eip155:1")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "failed" and doc["summary"].startswith("Nothing could be read.")
    assert doc["total"] is None and doc["snapshot"] is None  # not "0": nothing is known
    assert history(data) == []
    table = cli(data, "refresh", "--once", "--chain", "eip155:1")
    assert table.returncode == 1
    assert "Total: unknown (nothing was read, nothing stored)" in table.stdout
    assert "Total: 0" not in table.stdout
