"""The chain adapters and the DeFi protocol modules never import each other (lazy imports
included): both depend on the domain's position port, and the composition root joins them."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "app"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _offenders(package: str, forbidden: str) -> dict[str, list[str]]:
    out = {}
    for path in sorted((APP / package).rglob("*.py")):
        bad = sorted(m for m in _imports(path) if m == forbidden or m.startswith(forbidden + "."))
        if bad:
            out[str(path.relative_to(APP))] = bad
    return out


def test_chains_never_import_defi() -> None:
    assert _offenders("chains", "app.defi") == {}


def test_defi_never_imports_chains() -> None:
    assert _offenders("defi", "app.chains") == {}


def test_the_checker_sees_a_lazy_import(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from app.defi.registry import positions_for\n")
    assert "app.defi.registry" in _imports(f)
