"""Every documented key form of an RPC URL goes to a real Secret Service through the command
line, and no byte of a key reaches networks.toml, `networks list --json`, the verbose console or
the log file, even after requests were made with the URL. A wallet secret pasted as an API key's
value is refused and never echoed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import CannedHttpServer
from tests.unit.test_secret_inputs import HEX_KEY, SEED_12

pytestmark = pytest.mark.integration

FORMS = {
    "?apikey=": "/rpc?apikey={key}",
    "?api-key=": "/rpc?api-key={key}",
    "?api_key=": "/rpc?api_key={key}",
    "&key=": "/rpc?chain=1&key={key}",
    "/v2/": "/v2/{key}",
    "/v3/": "/v3/{key}",
}


class Cli:
    def __init__(self, session: Any, data: Path) -> None:
        self.env = {
            **os.environ,
            **session.env,
            "CHAINFOLIO_DATA_DIR": str(data),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        }
        self.outputs: list[str] = []

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "app", "--verbose", *args],
            input=stdin, env=self.env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        self.outputs += [done.stdout, done.stderr]
        return done


def _nowhere(data: Path, outputs: list[str], *secrets: str) -> None:
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "chainfolio.log" for p in files)
    for secret in secrets:
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"{secret} in {path.name}"
        for text in outputs:
            assert secret not in text


def test_each_key_form_lives_only_in_the_keyring(
    secret_service_session: Any, secret_backend: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    cli = Cli(secret_service_session, data)
    keys = {form: f"Sh0rt{i}" for i, form in enumerate(FORMS)}  # short: no length rule helps
    basic = ("alice", "pa55word")
    reply = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x"}).encode()
    with CannedHttpServer(reply) as node:
        urls = [node.url + path.format(key=keys[form]) for form, path in FORMS.items()]
        urls.append(node.url.replace("http://", f"http://{basic[0]}:{basic[1]}@") + "/")
        done = cli("networks", "set-rpc", "eip155:1", *urls)
        assert done.returncode == 0, done.stderr
        listing = cli("networks", "list", "--json")
        assert listing.returncode == 0
        (ethereum,) = [n for n in json.loads(listing.stdout) if n["chain"] == "eip155:1"]
        assert len(ethereum["rpc_urls"]) == len(urls)
        assert all("***" in u for u in ethereum["rpc_urls"])
        # A command that sends requests through the keyed URLs (its outcome does not matter here).
        cli("tokens", "add", "eip155:1", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
    names = json.loads(cli("keys", "list", "--json").stdout)["names"]
    assert {f"rpc.eip155:1.{i}" for i in range(len(urls))} <= set(names)
    log = (data / "logs" / "chainfolio.log").read_text()
    assert "HTTP Request: POST" in log
    stored = (data / "networks.toml").read_text()
    assert stored.count("{secret}") == len(urls)
    _nowhere(data, cli.outputs, *keys.values(), basic[1])


def test_a_wallet_secret_as_an_api_key_is_refused_unechoed(
    secret_service_session: Any, secret_backend: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    cli = Cli(secret_service_session, data)
    done = cli("keys", "set", "coingecko.demo", stdin=SEED_12 + "\n")
    assert done.returncode == 1
    assert "The key value looks like a seed phrase" in done.stderr
    done = cli("keys", "set", "coingecko.pro", stdin=HEX_KEY + "\n")
    assert done.returncode == 1 and "private key" in done.stderr
    assert json.loads(cli("keys", "list", "--json").stdout)["names"] == []
    # A provider key of 64 hex digits is fine where a keyed RPC URL's key belongs.
    assert cli("keys", "set", "rpc.eip155:1.0", stdin=HEX_KEY + "\n").returncode == 0
    cli("config", "list")
    _nowhere(data, cli.outputs, SEED_12, HEX_KEY)
