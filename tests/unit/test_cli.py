"""The headless CLI in a temporary data directory, in process and as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

ADDR = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"


def run(data_dir: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), *argv], stdout=out)
    return code, out.getvalue()


def test_wallet_lifecycle(data_dir: Path) -> None:
    assert run(data_dir, "wallets", "add", ADDR.lower(), "--label", "Savings")[0] == 0
    assert run(data_dir, "wallets", "add", SOL, "--group", "phone")[0] == 0
    _, out = run(data_dir, "wallets", "list", "--json")
    rows = json.loads(out)
    assert [(r["address"], r["family"], r["label"]) for r in rows] == [
        (ADDR, "evm", "Savings"),
        (SOL, "solana", ""),
    ]
    assert run(data_dir, "wallets", "label", ADDR, "Cold")[0] == 0
    assert "Cold" in run(data_dir, "wallets", "list")[1]
    assert run(data_dir, "wallets", "remove", ADDR)[0] == 0
    assert ADDR not in run(data_dir, "wallets", "list")[1]


def test_errors_are_specific(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_checksum = ADDR.replace("EE7", "Ee7")
    assert run(data_dir, "wallets", "add", bad_checksum)[0] == 1
    assert "EIP-55" in capsys.readouterr().err
    run(data_dir, "wallets", "add", ADDR)
    assert run(data_dir, "wallets", "add", ADDR)[0] == 1
    assert "already" in capsys.readouterr().err
    assert run(data_dir, "wallets", "remove", SOL)[0] == 1
    assert "No wallet" in capsys.readouterr().err


def test_secret_never_reaches_disk(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    for secret in (key, phrase):
        assert run(data_dir, "-v", "wallets", "add", secret)[0] == 1
    captured = capsys.readouterr()
    assert "private key" in captured.err and "seed phrase" in captured.err
    for f in data_dir.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            assert key.encode() not in blob, f
            assert b"sausage" not in blob, f
    assert key not in captured.err + captured.out
    assert "sausage" not in captured.err + captured.out


def test_config_get_set(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(data_dir, "config", "get", "refresh.interval_minutes") == (0, "15\n")
    assert run(data_dir, "config", "set", "refresh.interval_minutes", "5")[0] == 0
    assert run(data_dir, "config", "get", "refresh.interval_minutes") == (0, "5\n")
    assert run(data_dir, "config", "set", "ui.theme", "neon")[0] == 1
    assert "ui.theme" in capsys.readouterr().err
    assert (data_dir / "settings.toml").exists()
    _, out = run(data_dir, "config", "list", "--json")
    assert json.loads(out)["refresh.interval_minutes"] == 5
    assert run(data_dir, "config", "reset", "refresh.interval_minutes")[0] == 0
    assert run(data_dir, "config", "get", "refresh.interval_minutes") == (0, "15\n")


def test_logs_go_to_the_data_dir(data_dir: Path) -> None:
    run(data_dir, "wallets", "add", ADDR)
    log = data_dir / "logs" / "chainfolio.log"
    assert log.exists() and "added evm wallet" in log.read_text()


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    env_bin = Path(sys.executable).parent
    for cmd in ([str(env_bin / "chainfolio")], [sys.executable, "-m", "app"]):
        out = subprocess.run(
            [*cmd, "--data-dir", str(tmp_path), "wallets", "list"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "No wallets yet" in out.stdout
    version = subprocess.run(
        [str(env_bin / "chainfolio"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("Chainfolio ")


def test_env_var_data_dir(tmp_path: Path) -> None:
    env_bin = Path(sys.executable).parent
    import os

    env = dict(os.environ, CHAINFOLIO_DATA_DIR=str(tmp_path / "viaenv"))
    subprocess.run(
        [str(env_bin / "chainfolio"), "wallets", "add", ADDR], env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    assert (tmp_path / "viaenv" / "chainfolio.sqlite3").exists()


def test_each_command_parses_the_same_with_only_its_own_group_loaded() -> None:
    """``chainfolio CMD ...`` loads only CMD's module (app/cli/CMD_cmd.py, or all of them
    for a command registered elsewhere): every command's parser is the one the full command
    line has, and the window, ``--version`` and ``--self-test`` load none."""
    import argparse

    from app.cli import build_parser

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        actions = parser._subparsers._group_actions  # type: ignore[union-attr]
        sub = next(a for a in actions if isinstance(a, argparse._SubParsersAction))
        return dict(sub.choices)

    full = commands(build_parser())
    assert len(full) > 15
    for name, parser in full.items():
        for argv in (
            [name],
            ["--data-dir", "/tmp/d", "-v", name, "--json"],
            ["--data-dir=x", name],
        ):
            lazy = commands(build_parser(argv))
            assert name in lazy and lazy[name].format_help() == parser.format_help(), argv
    for argv in ([], ["--version"], ["--data-dir", "/tmp/d", "--self-test"]):
        assert commands(build_parser(argv)) == {}, argv
    for argv in (["--help"], ["nosuch"], ["--data-dir"], ["-x", "wallets"]):
        assert commands(build_parser(argv)).keys() == full.keys(), argv
