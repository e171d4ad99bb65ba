"""Helpers for tests that start real servers: free ports on 127.0.0.1, readiness waits, and a\nserver of canned HTTP replies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``check`` until it is true (readiness, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class CannedHttpServer:
    """A local HTTP/1.1 server on 127.0.0.1 answering each POST with the next of ``bodies``
    (the last one once the others are used). Use as a context manager; ``url`` is its address."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                body = canned.bodies.pop(0) if len(canned.bodies) > 1 else canned.bodies[0]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def __enter__(self) -> CannedHttpServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        wait_until(lambda: port_open(self.port), what="canned HTTP server")
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
