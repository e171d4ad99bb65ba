"""Build the Linux bundle and .deb, install the .deb into a temporary root and run it.

Marked ``packaging`` (``pytest -m packaging`` runs it alone); it is part of the normal test
command. The build runs once per session: PyInstaller takes ~35-60 s on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.chainfolio.Chainfolio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]


@dataclass(frozen=True)
class Installed:
    deb: Path
    root: Path  # the .deb unpacked with dpkg -x


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", **extra)
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian/Ubuntu only)")
    work = tmp_path_factory.mktemp("packaging")
    build = subprocess.run(
        ["bash", str(ROOT / "packaging/linux/build-deb.sh"), "--dist", str(work / "dist"),
         "--work", str(work / "build")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-4000:]
    deb = Path(build.stdout.strip().splitlines()[-1])
    root = work / "root"
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return Installed(deb=deb, root=root)


def _installed_command(inst: Installed) -> Path:
    """/usr/bin/chainfolio, followed to its target inside the temporary root."""
    link = inst.root / "usr/bin/chainfolio"
    assert link.is_symlink()
    target = Path(os.readlink(link))
    assert target == Path("/opt/chainfolio/chainfolio")
    return inst.root / target.relative_to("/")


def _command_groups() -> list[str]:
    """The sub-commands of the source tree, for comparison with the frozen app's."""
    import argparse

    from app.cli import build_parser

    actions = build_parser()._subparsers._group_actions  # type: ignore[union-attr]
    sub = next(a for a in actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def test_package_fields(installed: Installed) -> None:
    info = subprocess.run(
        ["dpkg-deb", "--field", str(installed.deb), "Package", "Version"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert info.stdout.split() == ["Package:", "chainfolio", "Version:", __version__]


def test_installed_version(installed: Installed) -> None:
    out = subprocess.run(
        [str(_installed_command(installed)), "--version"],
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Chainfolio {__version__}"


def test_installed_self_test(installed: Installed, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(_installed_command(installed)), "--data-dir", str(tmp_path), "--self-test"],
        capture_output=True, text=True, env=_env(), timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(frozen," in out.stdout
    for name in ("imports", "package metadata", "resources", "library data", "database",
                 "keyring", "abi", "solana", "window"):  # fmt: skip
        assert f"ok   {name}:" in out.stdout, out.stdout


def test_installed_gui_paints_and_cli_commands_work(installed: Installed, tmp_path: Path) -> None:
    """The window reaches its first paint (qasync, single-instance socket) and the CLI's
    command groups, discovered at run time, are all in the bundle."""
    exe = str(_installed_command(installed))
    data = str(tmp_path / "data")
    gui = subprocess.run(
        [exe, "--data-dir", data], capture_output=True, text=True, timeout=120,
        env=_env(CHAINFOLIO_STARTUP_PROBE="1"),
    )  # fmt: skip
    assert gui.returncode == 0 and "first-paint" in gui.stdout, gui.stdout + gui.stderr
    helptext = subprocess.run([exe, "--help"], capture_output=True, text=True, env=_env()).stdout
    for group in _command_groups():
        assert f"    {group} " in helptext, helptext
    address = "0x52908400098527886E0F7030069857D2E4169EE7"
    add = subprocess.run(
        [exe, "--data-dir", data, "wallets", "add", address.lower(), "--label", "Savings"],
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    assert add.returncode == 0, add.stderr
    listed = subprocess.run(
        [exe, "--data-dir", data, "wallets", "list", "--json"],
        capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip
    assert [(w["address"], w["label"]) for w in json.loads(listed.stdout)] == [(address, "Savings")]


def test_frozen_self_test_names_a_missing_part(installed: Installed, tmp_path: Path) -> None:
    broken = tmp_path / "opt-copy"
    bundle = installed.root / "opt/chainfolio"
    shutil.copytree(bundle, broken, symlinks=True)
    (broken / "_internal/resources/tokens/solana.toml").unlink()
    out = subprocess.run(
        [str(broken / "chainfolio"), "--self-test"],
        capture_output=True, text=True, env=_env(), timeout=180,
    )  # fmt: skip
    assert out.returncode == 1
    assert "FAIL resources:" in out.stdout and "solana.toml" in out.stdout
    assert "self-test FAILED: resources" in out.stderr


def test_desktop_entry_icons_and_metainfo(installed: Installed) -> None:
    share = installed.root / "usr/share"
    desktop = share / "applications/chainfolio.desktop"
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.fail("desktop-file-validate missing: apt install desktop-file-utils")
    result = subprocess.run([validate, str(desktop)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    entry = desktop.read_text()
    assert "\nExec=chainfolio\n" in entry and "\nIcon=chainfolio\n" in entry
    for size in ICON_SIZES:
        png = share / f"icons/hicolor/{size}x{size}/apps/chainfolio.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png.read_bytes()[16:20], "big") == size  # IHDR width
    assert (share / "icons/hicolor/scalable/apps/chainfolio.svg").is_file()
    metainfo = share / f"metainfo/{APP_ID}.metainfo.xml"
    assert f'<release version="{__version__}"' in metainfo.read_text()
    appstream = shutil.which("appstreamcli")
    if appstream is not None:
        check = subprocess.run(
            [appstream, "validate", "--no-net", str(metainfo)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
