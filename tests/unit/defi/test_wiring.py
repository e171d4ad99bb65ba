"""create_reader wires the DeFi sources from the shipped file and the person's override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.chains.evm import create_reader
from app.chains.evm.reader import EvmReader
from app.chains.factory import ReaderContext
from app.chains.registry import load_builtin
from app.config import Settings
from app.defi.registry import positions_for


def _reader(tmp_path: Path, **options: Any) -> EvmReader:
    ethereum = next(s for s in load_builtin() if str(s.chain_id) == "eip155:1")
    options = {"tokens": [], "evm.positions": positions_for, **options}
    ctx = ReaderContext(Settings(tmp_path / "settings.toml"), None, None, options)  # type: ignore[arg-type]
    reader = create_reader(ethereum, ctx)
    assert isinstance(reader, EvmReader)
    return reader


def protocols(reader: EvmReader) -> set[str]:
    import asyncio

    asyncio.run(reader.aclose())
    return {s.protocol for s in reader._positions}


def test_shipped_protocols_of_ethereum(tmp_path: Path) -> None:
    assert protocols(_reader(tmp_path)) == {
        "aave-v3", "compound-v3", "lido", "eigenlayer", "uniswap-v3", "sky", "spark"
    }  # fmt: skip
    assert protocols(_reader(tmp_path, positions=False)) == set()


def test_without_a_builder_from_the_composition_root_there_are_no_positions(
    tmp_path: Path,
) -> None:
    assert protocols(_reader(tmp_path, **{"evm.positions": None})) == set()


def test_a_broken_override_falls_back_to_the_shipped_addresses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "defi.toml").write_text('[[lido]]\nchain = "eip155:1"\n')  # no steth
    assert protocols(_reader(tmp_path)) == {
        "aave-v3", "compound-v3", "lido", "eigenlayer", "uniswap-v3", "sky", "spark"
    }  # fmt: skip
    assert "using the shipped DeFi addresses only" in caplog.text
