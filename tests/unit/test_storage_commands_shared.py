"""With the history on a shared database server, the commands that act on the local SQLite file
(encryption, backup files) refuse with a sentence instead of quietly working on a file that no
longer holds the data; `storage status` says where the history is."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture
def shared(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", "postgresql://chainfolio@127.0.0.1:1/chainfolio")
    return data_dir


@pytest.mark.parametrize(
    "argv",
    [
        ["storage", "encrypt"],
        ["storage", "decrypt"],
        ["backup", "create", "out.backup"],
        ["backup", "restore", "in.backup"],
    ],
)
def test_local_file_commands_refuse_a_shared_database(
    shared: Path, argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [a if not a.endswith(".backup") else str(tmp_path / a) for a in argv]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "shared database server" in err and "storage migrate" in err
    assert "Traceback" not in err and "DatabaseError" not in err
    assert not (tmp_path / "out.backup").exists()


def test_status_names_the_shared_database(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["storage", "status"]) == 0
    assert "shared database server" in capsys.readouterr().out
