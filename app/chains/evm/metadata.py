"""On-chain ERC-20 metadata (name, symbol, decimals), treated as hostile input.

Symbols may be ``string`` or MKR-style ``bytes32``; text is cleaned (control and bidi characters
stripped, length capped) and checked by the shared spam heuristics.
"""

from __future__ import annotations

from eth_utils.address import is_address

from app.abi_text import decode_text
from app.chains.http import JsonRpcTransport
from app.domain.balances import AssetInfo, AssetKind
from app.domain.errors import ChainfolioError
from app.domain.ids import ChainId
from app.domain.spam import spam_reason
from app.domain.text import clean_text

NAME, SYMBOL, DECIMALS = "0x06fdde03", "0x95d89b41", "0x313ce567"
MAX_SYMBOL, MAX_NAME = 16, 64


class TokenMetadataError(ChainfolioError):
    """The address is not a readable ERC-20 token."""


async def read_metadata(transport: JsonRpcTransport, chain: ChainId, address: str) -> AssetInfo:
    from app.chains.evm.tokens import erc20_asset_id

    if not is_address(address):
        raise TokenMetadataError(f"{address} is not an EVM address.")
    payload = [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "eth_call",
            "params": [{"to": address, "data": sel}, "latest"],
        }
        for i, sel in enumerate((NAME, SYMBOL, DECIMALS))
    ]
    reply = await transport.post(payload)
    results: dict[int, bytes] = {}
    if isinstance(reply, list):
        for r in reply:
            if isinstance(r, dict) and isinstance(r.get("result"), str):
                try:
                    results[int(r["id"])] = bytes.fromhex(r["result"].removeprefix("0x"))
                except (ValueError, TypeError):
                    continue
    dec = results.get(2, b"")
    if len(dec) != 32 or int.from_bytes(dec, "big") > 255:
        raise TokenMetadataError(
            f"{address} does not answer decimals(): it is not an ERC-20 token."
        )
    symbol = clean_text(decode_text(results.get(1, b"")), MAX_SYMBOL) or "?"
    name = clean_text(decode_text(results.get(0, b"")), MAX_NAME) or symbol
    reason = spam_reason(symbol, name)
    return AssetInfo(
        erc20_asset_id(chain, address), symbol, name, int.from_bytes(dec, "big"), AssetKind.TOKEN,
        is_spam=reason is not None, spam_reason=reason,
    )  # fmt: skip
