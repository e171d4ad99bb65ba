"""``chainfolio networks set-rpc --help`` says what its arguments are, Bitcoin's Esplora
included (the README sends Bitcoin users there)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from app.cli import main


def test_set_rpc_help_names_its_arguments() -> None:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main(["networks", "set-rpc", "--help"], stdout=out)
    text = " ".join(out.getvalue().split())
    assert "network id or name" in text
    assert "Esplora" in text
    assert "back to the defaults" in text
