"""Two processes refreshing into one PostgreSQL database at once: one reads the chains (every
RPC request is counted at a proxy in front of a real anvil node), the other waits for its turn
and shows the snapshot the first stored; a listener hears of the snapshot through NOTIFY."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.storage.postgres import create_postgres_engine
from app.storage.postgres_group import SnapshotListener, listener_connect
from tests.integration.evm.anvil import MULTICALL3, Anvil, running
from tests.integration.storage.helpers import ROOT, TRACEBACK
from tests.support.fault_proxy import FaultProxy
from tests.support.net import wait_until
from tests.support.postgres import PASSWORD

pytestmark = pytest.mark.integration
WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    yield from running(31337)


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO_")}
    env.update(
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PGPASSWORD=PASSWORD,
        CHAINFOLIO_DATABASE_URL=url,
    )
    return env


def _cli(data: Path, url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *argv],
        capture_output=True, text=True, cwd=ROOT, env=_env(url), timeout=180,
    )  # fmt: skip


def _start(data: Path, url: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env(url),
    )  # fmt: skip


def test_two_processes_share_one_refresh_and_hear_of_the_snapshot(
    postgres_url: str, node: Anvil, tmp_path: Path
) -> None:
    node.set_native(WALLET, 3 * 10**18 + 5)
    proxy = FaultProxy(node.url)
    desk, laptop = tmp_path / "desk", tmp_path / "laptop"
    try:
        # The wallet lives in the shared database; networks and settings stay on each machine.
        assert _cli(desk, postgres_url, "wallets", "add", WALLET).returncode == 0
        for data in (desk, laptop):
            added = _cli(data, postgres_url, "networks", "add", str(node.chain_id), "Local",
                         "ETH", proxy.url, "--multicall3", MULTICALL3, "--no-check")  # fmt: skip
            assert added.returncode == 0, added.stderr
        assert _cli(laptop, postgres_url, "wallets", "list").stdout.count(WALLET) == 1

        engine = create_postgres_engine(postgres_url, PASSWORD)
        heard: list[int] = []
        listener = SnapshotListener(listener_connect(engine), heard.append)
        listener.start()
        assert listener.listening.wait(30)

        proxy.hold_after = 0  # every RPC request waits at the proxy until released
        argv = ("refresh", "--once", "--json", "--chain", f"eip155:{node.chain_id}")
        first = _start(desk, postgres_url, *argv)
        wait_until(lambda: proxy.requests >= 1, 120, "the first process to read the chain")
        second = _start(laptop, postgres_url, *argv)

        def second_waits() -> bool:
            with engine.connect() as con:
                waiting = con.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                ).scalar()
            return bool(waiting)

        wait_until(second_waits, 120, "the second process to wait for its turn")
        proxy.release()
        out1, err1 = first.communicate(timeout=180)
        read_by_first = proxy.requests
        out2, err2 = second.communicate(timeout=180)
        assert first.returncode == 0, err1
        assert second.returncode == 0, err2
        assert TRACEBACK not in err1 + err2
        assert proxy.requests == read_by_first  # the second read nothing from the chain
        one, two = json.loads(out1), json.loads(out2)
        assert one["snapshot"] is not None and one["total"] == two["total"]
        assert "Another Chainfolio" in two["summary"]
        assert two["snapshot"] is None  # nothing new stored: the first one's snapshot is shown
        with engine.connect() as con:
            assert con.execute(text("SELECT count(*) FROM snapshots")).scalar() == 1
        wait_until(lambda: heard == [one["snapshot"]["id"]], 30, "the NOTIFY of the snapshot")
        listener.stop()
        engine.dispose()
    finally:
        proxy.release()
        proxy.stop()


def test_a_listener_keeps_retrying_while_the_server_is_unreachable() -> None:
    """The server is down when the window subscribes: no crash, no delivery, it keeps trying
    (every attempt fails fast) until stopped."""
    attempts: list[int] = []

    def connect() -> object:
        attempts.append(1)
        raise OSError("connection refused")

    listener = SnapshotListener(connect, lambda _id: None, retry_seconds=0.01)
    listener.start()
    wait_until(lambda: len(attempts) >= 3, 30, "retries")
    assert not listener.listening.is_set()
    listener.stop()


def test_the_advisory_turn_waits_gives_up_on_cancel_and_hands_over_the_snapshot(
    postgres_url: str,
) -> None:
    import threading

    from app.domain.refresh_group import TurnCancelled
    from app.storage.postgres import open_postgres
    from app.storage.postgres_group import PostgresRefreshGroup
    from app.storage.snapshot_store import SqlSnapshotStore
    from tests.integration.storage.helpers import snapshot

    engine = open_postgres(postgres_url, PASSWORD)
    try:
        desk, laptop = PostgresRefreshGroup(engine), PostgresRefreshGroup(engine)
        assert desk.acquire(1000, threading.Event()) is None  # nobody else: our turn
        cancelled, outcome = threading.Event(), []

        def wait_turn() -> None:
            try:
                outcome.append(laptop.acquire(1000, cancelled))
            except TurnCancelled:
                outcome.append("cancelled")

        waiter = threading.Thread(target=wait_turn)
        waiter.start()

        def laptop_waits() -> bool:
            with engine.connect() as con:
                return bool(con.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )).scalar())  # fmt: skip

        wait_until(laptop_waits, 30, "the second desktop to wait")
        cancelled.set()
        waiter.join(30)
        assert outcome == ["cancelled"]
        waiter = threading.Thread(target=wait_turn)
        cancelled.clear()
        outcome.clear()
        waiter.start()
        wait_until(laptop_waits, 30, "the second desktop to wait again")
        sid = SqlSnapshotStore(engine).write(snapshot(2000, 10**18))  # the desk's refresh
        desk.release()
        waiter.join(30)
        (handed,) = outcome
        assert isinstance(handed, object) and getattr(handed, "id", None) == sid
        assert PostgresRefreshGroup(engine).acquire(10_000, cancelled) is None
    finally:
        engine.dispose()
