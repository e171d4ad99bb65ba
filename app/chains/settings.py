"""Settings of the chain readers: RPC timeouts, retries and Multicall3 chunk budgets.

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
        "chains.max_request_bytes",
        1_500_000,
        "Largest JSON-RPC request body the balance reader sends, in bytes (anvil rejects over"
        " 2 MiB); more calls are split into several requests sent concurrently.",
        parse_int,
        in_range("chains.max_request_bytes", 10_000, 50_000_000),
    ),
    Setting(
        "chains.multicall_gas_cap",
        50_000_000,
        "Estimated gas allowed per Multicall3 aggregate3 eth_call (geth caps eth_call at 50M);"
        " a balance call is counted as 15k gas, a native balance as 10k.",
        parse_int,
        in_range("chains.multicall_gas_cap", 100_000, 2_000_000_000),
    ),
    Setting(
        "chains.max_concurrency",
        8,
        "Most requests in flight at once to one chain.",
        parse_int,
        in_range("chains.max_concurrency", 1, 64),
    ),
)
