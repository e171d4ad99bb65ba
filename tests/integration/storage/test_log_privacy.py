"""With the database encrypted, the log files hold no address: a real refresh (``-v``, every
log line kept) against a local node whose errors echo addresses back, as real nodes do.

The same refresh without encryption is the control: there the addresses do reach the log, so
the test would fail if masking stopped working.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.storage.crypt_helpers import PASSPHRASE
from tests.integration.storage.helpers import ROOT, WALLET, cli

pytestmark = pytest.mark.integration
SOLANA = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
EVM_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}")


class EchoingNode(BaseHTTPRequestHandler):
    """Answers eth_chainId; every other call fails with an error naming addresses."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))

        def answer(req: dict[str, object]) -> dict[str, object]:
            if req.get("method") == "eth_chainId":
                return {"jsonrpc": "2.0", "id": req["id"], "result": "0x7a69"}
            message = f"account {WALLET} unknown"  # the reason is cut at 80 characters
            return {
                "jsonrpc": "2.0",
                "id": req["id"],
                "error": {"code": -32000, "message": message},
            }

        out = [answer(r) for r in body] if isinstance(body, list) else answer(body)
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def node_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingNode)
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def logs_after_refresh(data: Path, url: str, *, encrypt: bool) -> str:
    assert cli(data, "wallets", "add", WALLET).returncode == 0
    added = cli(data, "networks", "add", "31337", "Local", "ETH", url, "--no-check")
    assert added.returncode == 0, added.stderr
    if encrypt:
        done = cli(data, "--passphrase-stdin", "storage", "encrypt", "--passphrase",
                   stdin=PASSPHRASE + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    done = cli(data, "--passphrase-stdin", "-v", "refresh", "--once", "--no-prices",
               "--chain", "eip155:31337", stdin=PASSPHRASE + "\n")  # fmt: skip
    assert "the RPC node answered an error" in done.stdout  # the refresh really ran
    files = sorted((data / "logs").glob("chainfolio.log*"))
    assert files
    return done.stderr + "".join(f.read_text() for f in files)


def test_logs_hold_no_address_after_a_refresh_with_encryption_on(
    tmp_path: Path, node_url: str
) -> None:
    control = logs_after_refresh(tmp_path / "plain", node_url, encrypt=False)
    assert WALLET in control  # without encryption the address is logged

    # Encrypting afterwards also cleans the lines written before.
    done = cli(tmp_path / "plain", "--passphrase-stdin", "storage", "encrypt", "--passphrase",
               stdin=PASSPHRASE + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    older = "".join(f.read_text() for f in (tmp_path / "plain" / "logs").glob("chainfolio.log*"))
    assert "the RPC node answered an error" in older and "«address»" in older
    assert not EVM_SHAPE.search(older), EVM_SHAPE.search(older)

    text = logs_after_refresh(tmp_path / "encrypted", node_url, encrypt=True)
    assert "the RPC node answered an error" in text
    assert "«address»" in text
    assert WALLET.lower() not in text.lower()
    assert not EVM_SHAPE.search(text), EVM_SHAPE.search(text)


def test_exception_text_and_watched_names_are_masked_in_every_handler(tmp_path: Path) -> None:
    """The filter on its own, in a fresh process (it is process-wide once on)."""
    script = f"""
import logging, sys
from pathlib import Path
from app.logging_setup import setup_logging
from app.log_privacy import mask_addresses_in_logs
log_dir = Path(sys.argv[1])
setup_logging(log_dir, "info", verbose=False)
other = logging.StreamHandler(sys.stdout)  # a handler the app did not make
logging.getLogger().addHandler(other)
mask_addresses_in_logs(["vitalik.eth"])
log = logging.getLogger("t")
try:
    raise ValueError("bad owner {WALLET} / {SOLANA}")
except ValueError:
    log.exception("reading %s for %s failed", "eip155:1:{WALLET.lower()}", "vitalik.eth")
log.info("bc1 bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq and xpub %s", "xpub" + "6" * 107)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "logs")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = done.stdout + (tmp_path / "logs" / "chainfolio.log").read_text()
    assert "Traceback" in text and "bad owner" in text and "reading" in text
    for secret in (WALLET[2:].lower(), SOLANA, "vitalik.eth", "bc1qar0srrr7x", "6" * 100):
        assert secret.lower() not in text.lower(), secret
    assert text.count("«address»") >= 6
