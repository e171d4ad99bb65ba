"""httpx's own request lines ("HTTP Request: POST <url>") never print a key of a keyed URL,
even one the app never registered: a real request through the app's logging to a local server."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from app.logging_setup import redact, setup_logging
from tests.support.net import CannedHttpServer

KEY = "unregisteredK3y"
FORMS = [
    "/v2/{key}",
    "/v3/{key}",
    "/rpc?apikey={key}",
    "/rpc?api-key={key}",
    "/rpc?api_key={key}",
    "/rpc?chain=1&key={key}",
]


@pytest.mark.parametrize("verbose", [False, True])
def test_httpx_request_lines_carry_no_key(tmp_path: Path, verbose: bool) -> None:
    path = setup_logging(tmp_path, level="debug", verbose=verbose)
    logging.getLogger("httpx").setLevel(logging.INFO)  # as chatty as httpx can be
    with CannedHttpServer(b'{"jsonrpc":"2.0","id":1,"result":"0x1"}') as server:
        base = server.url.replace("http://", f"http://user:{KEY}pw@")
        with httpx.Client() as client:
            for form in FORMS:
                url = server.url + form.format(key=KEY)
                assert client.post(url, json={}).status_code == 200
            assert client.post(base + "/", json={}).status_code == 200
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert text.count("HTTP Request: POST") == len(FORMS) + 1, text
    assert KEY not in text


def test_redact_masks_urls_inside_any_message() -> None:
    line = f"could not reach https://eth.example/v2/{KEY} (timeout)"
    assert KEY not in redact(line)
    assert "https://eth.example/v2/" in redact(line)
