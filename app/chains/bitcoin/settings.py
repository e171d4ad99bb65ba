"""Settings of the Bitcoin reader, and their typed accessor.

The Esplora APIs are the Bitcoin network's RPC URLs (``chainfolio networks rpc Bitcoin URL``
replaces the public defaults); an Electrum server named here is used instead of them.
"""

from __future__ import annotations

from typing import Any

from app.chains.bitcoin.servers import parse_electrum_server
from app.config import Setting, in_range, parse_bool, parse_int


def _check_server(value: Any) -> None:
    parse_electrum_server(str(value))


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "bitcoin.electrum_server",
        "",
        "Your Electrum server for Bitcoin wallets (ssl://host:50002 or tcp://host:50001); empty: "
        "the Bitcoin network's Esplora APIs.",
        str,
        _check_server,
    ),
    Setting(
        "bitcoin.electrum_verify_tls",
        True,
        "Check the Electrum server's TLS certificate against the system's authorities (turn off "
        "for your own server's self-signed certificate).",
        parse_bool,
    ),
    Setting(
        "bitcoin.gap_limit",
        20,
        "Unused addresses in a row after which a Bitcoin key's receive or change chain ends.",
        parse_int,
        in_range("bitcoin.gap_limit", 1, 1000),
    ),
    Setting(
        "bitcoin.batch_size",
        100,
        "Requests sent in one Electrum batch (one write).",
        parse_int,
        in_range("bitcoin.batch_size", 1, 1000),
    ),
    Setting(
        "bitcoin.esplora_concurrency",
        8,
        "Most Esplora HTTP requests in flight at once.",
        parse_int,
        in_range("bitcoin.esplora_concurrency", 1, 64),
    ),
)
