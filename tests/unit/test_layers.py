"""The dependency rule: only app/ui may import Qt; the domain imports no I/O libraries."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
GUI_LIBS = {"PySide6", "shiboken6", "qasync", "pyqtgraph", "PyQt5", "PyQt6"}
DOMAIN_FORBIDDEN = GUI_LIBS | {
    "sqlalchemy", "alembic", "web3", "httpx", "solana", "solders", "keyring", "aiohttp",
    "requests", "sqlite3", "socket", "platformdirs",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _py_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts]


def test_only_ui_imports_gui_libraries() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & GUI_LIBS)
        for p in _py_files(APP)
        if "ui" not in p.relative_to(APP).parts[:1] and _imports(p) & GUI_LIBS
    }
    assert offenders == {}


def test_domain_is_pure() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & DOMAIN_FORBIDDEN)
        for p in _py_files(APP / "domain")
        if _imports(p) & DOMAIN_FORBIDDEN
    }
    assert offenders == {}


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport qasync as q\n")
    assert _imports(bad) & GUI_LIBS == {"PySide6", "qasync"}


def test_headless_import_graph_has_no_gui_libraries() -> None:
    """Import every non-UI module in a fresh interpreter; none may pull Qt in transitively."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _py_files(APP)
        if p.relative_to(APP).parts[0] != "ui" and p.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(GUI_LIBS)!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


def _modules(path: Path) -> set[str]:
    """Full dotted names of every module a file imports, at any depth (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


ADAPTERS = ("app.chains", "app.defi", "app.prices", "app.storage", "app.secrets")


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_service_imports_the_price_adapters() -> None:
    """prices -> services only: the cycle prices <-> services stays broken."""
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _modules(p) if _under(m, ("app.prices",)))
        for p in _py_files(APP / "services")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_price_and_history_services_depend_only_on_ports_and_the_domain() -> None:
    for name in ("prices.py", "history.py", "day_change.py"):
        path = APP / "services" / name
        assert sorted(m for m in _modules(path) if _under(m, ADAPTERS)) == [], name


def test_price_adapters_reach_the_sql_stores_only_through_the_factory() -> None:
    offenders = {
        p.name: sorted(m for m in _modules(p) if _under(m, ("app.storage",)))
        for p in _py_files(APP / "prices")
        if p.name != "factory.py"
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_module_checker_sees_lazy_and_from_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from app.prices.router import route\n")
    assert _under("app.prices.router", ("app.prices",)) and "app.prices.router" in _modules(bad)


def test_import_contracts_hold_and_no_package_cycles() -> None:
    """The import-linter contracts in pyproject.toml, and no two top-level packages of app/
    importing each other (once: chains <-> defi, prices <-> services)."""
    import grimp

    checker = ROOT / ".venv-lint" / "bin" / "lint-imports"  # bootstrap.sh setup makes it
    assert checker.exists(), "run `bash packaging/bootstrap.sh setup` (it builds .venv-lint)"
    out = subprocess.run(
        [str(checker), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:]
    graph = grimp.build_graph("app", cache_dir=None)
    top = sorted(m for m in graph.modules if m.count(".") == 1 and not m.startswith("app.__"))
    cycles = [
        (a, b)
        for i, a in enumerate(top)
        for b in top[i + 1 :]
        if graph.direct_import_exists(importer=a, imported=b, as_packages=True)
        and graph.direct_import_exists(importer=b, imported=a, as_packages=True)
    ]
    assert cycles == []
