"""An ERC-20 ``name()``/``symbol()`` result as text, for every adapter that reads tokens.

A module of its own (like ``app/tls.py``) so that the chain readers and the DeFi protocol
modules share one reading without importing each other.
"""

from __future__ import annotations


def decode_text(data: bytes) -> str:
    """ABI ``string`` or MKR-style ``bytes32`` (NUL-padded) to text; '' if neither."""
    if len(data) == 32:
        return data.rstrip(b"\x00").decode("utf-8", "replace")
    from eth_abi.abi import decode  # on first use: a refresh of known tokens never needs it

    try:
        (text,) = decode(["string"], data)
    except Exception:
        return ""
    return str(text)
