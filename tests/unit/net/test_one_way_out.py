"""No module outside app/net builds its own HTTP client: every request goes the one way out."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[3] / "app"
OWN_CLIENT = re.compile(
    r"httpx\.(?:Async)?Client\(|aiohttp\.ClientSession\(|\bAsyncHTTPProvider\(|\bHTTPProvider\("
    r"|^\s*(?:import|from) (?:websockets|requests|urllib3)\b"
    r"|asyncio\.open_connection\(|socket\.create_connection\(|\.create_connection\(",
    re.MULTILINE,
)


def test_only_app_net_builds_http_clients() -> None:
    offenders = [
        f"{path.relative_to(APP.parent)}: {m.group(0).strip()}"
        for path in sorted(APP.rglob("*.py"))
        if "net" not in path.relative_to(APP).parts[:1]
        for m in OWN_CLIENT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
