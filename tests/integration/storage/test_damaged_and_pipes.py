"""A damaged table page (export and refresh), and stdout closed early (``| head -1``)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.storage.helpers import (
    ROOT,
    TRACEBACK,
    cli,
    damage_table,
    offline,
    one_sentence,
    seed,
)

pytestmark = pytest.mark.integration


def test_damaged_page_gives_the_sentence_for_export_and_refresh(tmp_path: Path) -> None:
    original = tmp_path / "data"
    seed(original)
    offline(original)
    damaged = tmp_path / "copy"
    shutil.copytree(original, damaged)
    damage_table(damaged / "chainfolio.sqlite3", "snapshot_rows")
    for argv in (
        ("export", "holdings", "--csv"),
        ("refresh", "--once", "--json", "--chain", "eip155:1"),
    ):
        done = cli(damaged, *argv)
        assert done.returncode == 1, done.stdout
        one_sentence(done.stderr, str(damaged / "chainfolio.sqlite3"), "damaged", "backup")
        assert str(damaged / "backups") in done.stderr
        assert "full" not in done.stderr
    exported = cli(original, "export", "holdings", "--csv")
    assert exported.returncode == 0 and exported.stdout.count("\n") == 2


def _piped(data: Path, *argv: str) -> tuple[int, str, bytes]:
    """``chainfolio ... | head -c 1``: the reader goes away after the first byte."""
    env_cmd = [sys.executable, "-m", "app", "--data-dir", str(data), *argv]
    writer = subprocess.Popen(env_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert writer.stdout is not None and writer.stderr is not None
    first = writer.stdout.read(1)
    writer.stdout.close()
    err = writer.stderr.read().decode()
    return writer.wait(timeout=120), err, first


def test_stdout_closed_early_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed(data, snapshots=2000)
    # Enough output that it cannot all sit in the pipe's buffer before the reader leaves.
    con = sqlite3.connect(data / "chainfolio.sqlite3")
    with con:
        con.executemany(
            "INSERT INTO wallets (family, address, label, wallet_group, created_at) "
            "VALUES ('evm', ?, 'a label', '', '2026-01-01T00:00:00+00:00')",
            [(f"0x{i:040x}",) for i in range(1, 3000)],
        )
    con.close()
    offline(data)
    for argv in (
        ("wallets", "list"),
        ("wallets", "list", "--json"),
        ("history", "--csv"),
        ("refresh", "--once", "--json", "--chain", "eip155:1"),
    ):
        code, err, first = _piped(data, *argv)
        assert first, argv
        assert TRACEBACK not in err and "BrokenPipe" not in err, err
        assert code in (0, 1), (argv, code, err)
