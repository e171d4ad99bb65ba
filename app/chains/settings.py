"""Settings of the chain readers: RPC timeouts, retries and Multicall3 chunk sizes.

They are settings (not constants) so a slow home node or a strict paid provider can be tuned
without a release.
"""

from __future__ import annotations

from app.config import Setting, in_range, parse_int

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "chains.request_timeout_ms",
        10_000,
        "Timeout of one JSON-RPC HTTP request, in milliseconds.",
        parse_int,
        in_range("chains.request_timeout_ms", 100, 120_000),
    ),
    Setting(
        "chains.chain_timeout_s",
        45,
        "Time allowed to read one whole chain before it is reported failed, in seconds.",
        parse_int,
        in_range("chains.chain_timeout_s", 1, 600),
    ),
    Setting(
        "chains.retries",
        3,
        "Retries of a request after a timeout, HTTP 429 or 5xx (with backoff and jitter).",
        parse_int,
        in_range("chains.retries", 0, 10),
    ),
    Setting(
        "chains.multicall_chunk_calls",
        2_000,
        "Most balance calls packed into one Multicall3 aggregate3 request (about 0.9 MB).",
        parse_int,
        in_range("chains.multicall_chunk_calls", 1, 20_000),
    ),
    Setting(
        "chains.max_concurrency",
        8,
        "Most requests in flight at once to one chain.",
        parse_int,
        in_range("chains.max_concurrency", 1, 64),
    ),
)
