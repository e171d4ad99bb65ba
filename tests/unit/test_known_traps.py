"""Regression guards for the library traps in KNOWN-TRAPS.md."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lock_versions(name: str) -> list[tuple[str, str]]:
    """(version, resolution-markers) of every locked copy of a package."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return [
        (pkg["version"], " ".join(pkg.get("resolution-markers", [])))
        for pkg in lock["package"]
        if pkg["name"] == name
    ]


def test_pyside6_6_12_never_runs_on_python_3_11() -> None:
    """PySide6 6.12.0 + Python 3.11 aborts with 'none_dealloc'."""
    installed = version("pyside6-essentials")
    if sys.version_info < (3, 12):
        assert not installed.startswith("6.12"), installed
    for ver, markers in _lock_versions("pyside6-essentials"):
        if ver.startswith("6.12"):
            assert "python_full_version < '3.12'" not in markers, markers
            assert markers, "6.12 must only be locked for Python 3.12+"


def test_pyunormalize_is_below_18() -> None:
    for ver, _ in _lock_versions("pyunormalize"):
        assert int(ver.split(".")[0]) < 18, ver
    assert int(version("pyunormalize").split(".")[0]) < 18


def test_ens_namehash_works() -> None:
    """web3 8's ENS hashing raised AttributeError with pyunormalize 18."""
    from ens.utils import normal_name_to_hash

    digest = normal_name_to_hash("vitalik.eth")
    assert digest.hex().removeprefix("0x") == (
        "ee6c4522aab0003e8d14cd40a6af439055fd2577951148c14b6cea9a53475835"
    )


def test_pyproject_pins_match() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"pyunormalize<18"', text)
    assert re.search(r"pyside6-essentials>=6\.11,<6\.12; python_version < '3\.12'", text)
