"""A refresh with the default networks on a computer whose names do not resolve (offline, or a
network whose DNS server does not answer): it says "No network connection" after the first
round of lookups, not after every retry of every URL has waited for its own.

Real parts: the command line, the composition root, the real httpx stack and the default
public RPC and price URLs. The resolver is the test's: every name fails (as getaddrinfo does
when the DNS server cannot be reached), every lookup is counted, nothing leaves the computer.
"""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from app.cli import main as cli
from tests.support.setup_cli import run_cli

pytestmark = pytest.mark.integration
WALLET = "0x8617E340B3D01FA5F11F306F4090FD50E238070D"


def test_with_no_name_resolving_a_refresh_fails_after_one_round_of_lookups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host.decode() if isinstance(host, bytes) else str(host))
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    data = tmp_path / "data"
    run_cli(data, "wallets", "add", WALLET)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    printed = io.StringIO()
    code = cli(["--data-dir", str(data), "refresh", "--once", "--json"], stdout=printed)
    out = json.loads(printed.getvalue())
    assert code != 0  # nothing read: the command fails

    assert out["status"] == "failed" and out["snapshot"] is None and out["total"] is None
    chains = [c for c in out["chains"] if c["status"] == "failed"]
    assert len(chains) >= 10 and len(chains) == len(out["chains"])
    assert out["summary"].startswith(f"Nothing could be read. No network connection: {len(chains)}")
    # Each chain's first URLs were looked up (in parallel, all failing); once three names had
    # failed, every other URL failed at once, without a lookup, a retry or a backoff wait.
    # Without that memory every attempt (12 a chain: 3 URLs, 4 rounds) waited for a lookup.
    assert len(asked) <= 2 * len(chains), len(asked)
    assert all("no network connection" in str(c["reason"]) for c in chains), chains[0]["reason"]
