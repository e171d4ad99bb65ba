"""``chainfolio --self-test``: offline checks that an installed (often frozen) build is whole.

Why: a PyInstaller bundle fails only at run time when something the libraries load lazily is
missing (package metadata read by ``importlib.metadata``, eth_account word lists, ENS
normalisation data, Qt plugins, Alembic's migration scripts, the app's own resources). Each
check exercises one of those for real; nothing touches the network, the user's data or the
user's keyring entries. Output is one line per check; the exit code is 0 only if all passed,
and the first line of a failure names the check.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

# Distributions whose code reads its own version (or entry points) through importlib.metadata.
METADATA_DISTRIBUTIONS: tuple[str, ...] = (
    "web3",
    "eth-abi",
    "eth-account",
    "eth-utils",
    "eth-hash",
    "eth-typing",
    "eth-keys",
    "eth-keyfile",
    "eth-rlp",
    "rlp",
    "hexbytes",
    "solders",
    "keyring",
    "httpx",
    "sqlalchemy",
    "alembic",
    "pyside6-essentials",
    "platformdirs",
    "pydantic",
    "pyunormalize",
)

IMPORTS: tuple[str, ...] = (
    "app.cli",
    "app.bootstrap",
    "app.chains.factory",
    "app.chains.evm.reader",
    "app.chains.solana.reader",
    "app.prices.factory",
    "app.services.prices",
    "web3",
    "ens",
    "eth_account",
    "solders.rpc.responses",
    "keyring",
    "httpx",
    "qasync",
    # the timeline's chart: imported lazily by the app, so only this check proves it is bundled
    "numpy",
    "pyqtgraph",
    "app.ui.timeline_plot",
)

Check = Callable[[], str]


class SelfTestFailure(Exception):
    """A check found the build incomplete; the message says what is missing."""


def check_imports() -> str:
    import importlib

    os.environ.setdefault("QT_API", "pyside6")  # qasync must bind PySide6
    for name in IMPORTS:
        importlib.import_module(name)
    return f"{len(IMPORTS)} modules"


def check_metadata() -> str:
    from importlib.metadata import PackageNotFoundError, version

    missing: list[str] = []
    for dist in METADATA_DISTRIBUTIONS:
        try:
            version(dist)
        except PackageNotFoundError:
            missing.append(dist)
    if missing:
        raise SelfTestFailure(f"package metadata missing for: {', '.join(missing)}")
    return f"{len(METADATA_DISTRIBUTIONS)} distributions"


def check_resources() -> str:
    from app.resources import resources_dir
    from app.storage.database import MIGRATIONS_DIR, REVISIONS

    root = resources_dir()
    wanted = [
        root / "chains.toml",
        root / "icons" / "chainfolio.svg",
        root / "tokens" / "eip155-1.toml",
        root / "tokens" / "solana.toml",
        MIGRATIONS_DIR / "env.py",
    ]
    missing = [str(p) for p in wanted if not p.is_file()]
    scripts = {p.name[:4] for p in (MIGRATIONS_DIR / "versions").glob("*.py")}
    missing += [f"migration {r}" for r in REVISIONS if r not in scripts]
    if missing:
        raise SelfTestFailure(f"missing: {', '.join(missing)}")
    return str(root)


def check_library_data() -> str:
    """eth_account's BIP-39 word lists and ENS's normalisation tables are data files."""
    from ens.utils import normal_name_to_hash
    from eth_account.hdaccount.mnemonic import get_wordlist

    words = get_wordlist("english")
    if len(words) != 2048:
        raise SelfTestFailure(f"eth_account English word list has {len(words)} words")
    digest = normal_name_to_hash("vitalik.eth").hex().removeprefix("0x")
    if digest != "ee6c4522aab0003e8d14cd40a6af439055fd2577951148c14b6cea9a53475835":
        raise SelfTestFailure("ENS namehash of vitalik.eth is wrong")
    return "BIP-39 word list, ENS normalisation"


def check_database(parent: Path | None) -> Check:
    def run() -> str:
        from app.storage.database import HEAD_REVISION, open_database, read_revision

        with tempfile.TemporaryDirectory(prefix="chainfolio-selftest-", dir=parent) as tmp:
            db = Path(tmp) / "selftest.sqlite3"
            engine = open_database(db, Path(tmp) / "backups")
            engine.dispose()
            revision = read_revision(db)
        if revision != HEAD_REVISION:
            raise SelfTestFailure(f"migrated to {revision}, expected {HEAD_REVISION}")
        return f"created and migrated to {revision}"

    return run


def check_keyring() -> str:
    """Backend detection must work; a locked or absent Secret Service is reported, not failed."""
    from importlib.metadata import entry_points

    from app.secrets import secret_status

    plugins = {ep.name for ep in entry_points(group="keyring.backends")}
    if not plugins:
        raise SelfTestFailure("no keyring backends registered (keyring metadata missing)")
    status = secret_status()
    if status.backend == "unknown":
        raise SelfTestFailure(status.problem or "keyring could not be loaded")
    state = "usable" if status.usable else "not usable here"
    return f"{status.backend} ({state}); backends: {', '.join(sorted(plugins))}"


def check_abi() -> str:
    from eth_abi.abi import decode, encode

    holder = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    amount = 2**255 + 12345
    data = encode(["address", "uint256", "string"], [holder, amount, "Chainfolio"])
    back = decode(["address", "uint256", "string"], data)
    if (back[0].lower(), back[1], back[2]) != (holder, amount, "Chainfolio"):
        raise SelfTestFailure(f"round trip gave {back!r}")
    return f"{len(data)} bytes round trip"


def check_solana() -> str:
    import base64
    import json
    import struct

    from solders.pubkey import Pubkey
    from solders.rpc.responses import GetMultipleAccountsResp
    from solders.token.state import TokenAccount

    mint = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
    owner = Pubkey.from_string("4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T")
    amount = 1_234_567_890
    raw = (
        bytes(mint)
        + bytes(owner)
        + struct.pack("<Q", amount)
        + bytes(36)  # delegate: None
        + b"\x01"  # state: initialized
        + bytes(12)  # is_native: None
        + struct.pack("<Q", 0)  # delegated_amount
        + bytes(36)  # close_authority: None
    )
    reply = {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "context": {"slot": 1},
            "value": [
                {
                    "lamports": 2039280,
                    "data": [base64.b64encode(raw).decode(), "base64"],
                    "owner": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
                    "executable": False,
                    "rentEpoch": 0,
                    "space": len(raw),
                }
            ],
        },
    }
    parsed = GetMultipleAccountsResp.from_json(json.dumps(reply))
    if not isinstance(parsed, GetMultipleAccountsResp) or parsed.value[0] is None:
        raise SelfTestFailure("getMultipleAccounts reply not parsed")
    token = TokenAccount.from_bytes(bytes(parsed.value[0].data)[:165])
    if token.amount != amount or token.mint != mint or token.owner != owner:
        raise SelfTestFailure("token account fields wrong")
    return f"token account of {amount} raw units"


def check_window() -> str:
    """One real render of the main window (offscreen unless a platform was chosen)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    from app.ui.application import make_qapplication
    from app.ui.icons import app_icon
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    qapp = make_qapplication([sys.argv[0]])
    window = MainWindow(TaskRunner())
    try:
        window.show()
        qapp.processEvents()
        image = window.grab().toImage()
        if image.isNull() or image.width() < 100:
            raise SelfTestFailure("the main window rendered nothing")
        if app_icon().pixmap(64, 64).isNull():
            raise SelfTestFailure("the SVG app icon did not render (Qt SVG plugins missing?)")
        platform = qapp.platformName()
    finally:
        window.close()
        window.deleteLater()
        qapp.processEvents()
    return f"{image.width()}x{image.height()} on '{platform}'"


def checks(data_dir: Path | None) -> list[tuple[str, Check]]:
    return [
        ("imports", check_imports),
        ("package metadata", check_metadata),
        ("resources", check_resources),
        ("library data", check_library_data),
        ("database", check_database(data_dir)),
        ("keyring", check_keyring),
        ("abi", check_abi),
        ("solana", check_solana),
        ("window", check_window),
    ]


def run_self_test(data_dir: str | None = None, out: TextIO | None = None) -> int:
    """Run every check, print one line each; 0 if all passed, else 1 naming the failures."""
    from app import __version__

    stream = out or sys.stdout
    parent = Path(data_dir) if data_dir else None
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    frozen = "frozen" if getattr(sys, "frozen", False) else "source"
    print(f"Chainfolio {__version__} self-test ({frozen}, Python {sys.version.split()[0]})",
          file=stream)  # fmt: skip
    failed: list[str] = []
    for name, check in checks(parent):
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:
            failed.append(name)
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", file=stream)
            continue
        ms = (time.perf_counter() - started) * 1000
        print(f"ok   {name}: {detail} ({ms:.0f} ms)", file=stream)
    stream.flush()
    if failed:
        print(f"self-test FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("self-test passed", file=stream)
    return 0
