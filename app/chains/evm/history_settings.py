"""Settings of the on-chain history of EVM chains, and their typed accessor.

The explorer is off unless the person chooses one: with ``none`` no address is ever sent to a
block explorer, and native transfers come only from a node that offers ``trace_filter``.
"""

from __future__ import annotations

from typing import Any

from app.chains.evm.explorers import ETHERSCAN_V2, EXPLORERS
from app.config import Setting, SettingsError, one_of, parse_list, validate_url
from app.domain.ids import ChainId


def _check_instances(value: Any) -> None:
    parse_instances(value)


def parse_instances(items: list[str]) -> dict[str, str]:
    """``["eip155:1=https://eth.blockscout.com", …]`` as {chain: URL} (checked)."""
    out: dict[str, str] = {}
    for item in items:
        chain, sep, url = str(item).partition("=")
        try:
            ChainId.parse(chain)
        except ValueError:
            raise SettingsError(
                "Write each Blockscout instance as network=URL, e.g. "
                "eip155:1=https://eth.blockscout.com."
            ) from None
        if not sep:
            raise SettingsError(
                "A Blockscout instance needs its URL after the network: eip155:1=https://…"
            )
        validate_url("history.blockscout.instances")(url.strip())
        out[chain.strip()] = url.strip()
    return out


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "history.explorer",
        "none",
        "Block explorer asked for native transfers when a node has no trace_filter: none "
        "(nothing is sent), etherscan or blockscout; the explorer sees your addresses.",
        str,
        one_of("history.explorer", EXPLORERS),
    ),
    Setting(
        "history.etherscan.url",
        ETHERSCAN_V2,
        "Etherscan API v2 address (multichain; the key is kept in the keyring).",
        str,
        validate_url("history.etherscan.url"),
    ),
    Setting(
        "history.blockscout.instances",
        [],
        "Blockscout instances for networks without a known one, as network=URL, comma separated.",
        parse_list,
        _check_instances,
    ),
)
