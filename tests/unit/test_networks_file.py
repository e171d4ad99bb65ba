"""An invalid ``networks.toml``: one sentence naming the file and the line for every command
that needs the networks; every other command still works; nothing in it is ignored silently."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.chains.registry import ChainRegistry, NetworkError
from app.cli import main
from tests.support.fakes import MemorySecrets

BROKEN = {
    "syntax": ('[override."eip155:1"]\nenabled = true\nrpc_urls = ["https://a.example"\n', 3),
    "syntax mid-file": ('[override."eip155:1"]\nenabled = tru\n', 2),
    "rpc_urls = 42": ('\n[override."eip155:1"]\nenabled = true\nrpc_urls = 42\n', 4),
    "rpc_urls item": ('[override."eip155:10"]\nrpc_urls = ["https://a.example", 7]\n', 2),
    "enabled text": ('[override."eip155:10"]\nenabled = "yes"\n', 2),
    "network without urls": (
        '[[network]]\nid = "eip155:777"\nname = "Mine"\nnative_symbol = "M"\n'
        'rpc_urls = ["https://m.example"]\n\n[[network]]\nid = "eip155:778"\nname = "Two"\n'
        'native_symbol = "T"\n',
        7,
    ),
    "network id": ('[[network]]\nid = 5\nname = "x"\nnative_symbol = "X"\nrpc_urls = []\n', 2),
    "override not a table": ('override = 3\n', 1),
}  # fmt: skip


def run(data: Path, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["--data-dir", str(data), *argv], stdout=out), out.getvalue()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_registry_names_file_and_line(tmp_path: Path, case: str) -> None:
    text, line = BROKEN[case]
    path = tmp_path / "networks.toml"
    path.write_text(text)
    with pytest.raises(NetworkError) as raised:
        ChainRegistry(path, MemorySecrets())
    message = str(raised.value)
    assert str(path) in message and f"line {line}" in message, message
    assert "\n" not in message


@pytest.mark.parametrize("case", ["syntax", "syntax mid-file", "rpc_urls = 42"])
def test_commands_without_networks_still_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "networks.toml").write_text(BROKEN[case][0])
    for argv in (("wallets", "list"), ("history",), ("config", "get", "currency")):
        code, _out = run(data, *argv)
        assert code == 0, (argv, capsys.readouterr().err)
    code, _out = run(data, "networks", "list")
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert str(data / "networks.toml") in err and f"line {BROKEN[case][1]}" in err


def test_valid_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "networks.toml"
    registry = ChainRegistry(path, MemorySecrets())
    registry.set_enabled("eip155:10", False)
    assert path.stat().st_mode & 0o777 == 0o600
    again = ChainRegistry(path, MemorySecrets())
    assert not again.get("eip155:10").enabled
