"""Solana token metadata: the curated list, then the Token-2022 metadata extension.

Mint bytes are parsed by hand for the Token-2022 TLV extensions (solders has no extension
parser): the base mint is 82 bytes, padded to 165, then one account-type byte, then
type(u16) / length(u16) / value records.
"""

from __future__ import annotations

import struct
import tomllib
from dataclasses import dataclass
from functools import lru_cache

from app.resources import resources_dir

MINT_BASE_LEN = 82
ACCOUNT_TYPE_OFFSET = 165
EXT_INTEREST_BEARING = 10
EXT_TOKEN_METADATA = 19
EXT_SCALED_UI_AMOUNT = 25
_AMOUNT_CHANGING = {
    EXT_INTEREST_BEARING: "interest-bearing",
    EXT_SCALED_UI_AMOUNT: "scaled UI amount",
}


@dataclass(frozen=True, slots=True)
class KnownToken:
    mint: str
    symbol: str
    name: str
    decimals: int
    price_id: str | None


@dataclass(frozen=True, slots=True)
class MintInfo:
    """What the mint account itself says: decimals, metadata extension, amount-changing ones."""

    decimals: int
    name: str | None = None
    symbol: str | None = None
    unsupported: str | None = None  # e.g. "interest-bearing"


@lru_cache(maxsize=1)
def curated_tokens() -> dict[str, KnownToken]:
    path = resources_dir() / "tokens" / "solana.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, KnownToken] = {}
    for t in data.get("token", []):
        out[str(t["mint"])] = KnownToken(
            mint=str(t["mint"]),
            symbol=str(t["symbol"]),
            name=str(t["name"]),
            decimals=int(t["decimals"]),
            price_id=str(t["price_id"]) if t.get("price_id") else None,
        )
    return out


def _read_str(buf: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", buf, pos)
    pos += 4
    if pos + n > len(buf):
        raise ValueError("string runs past the extension")
    return buf[pos : pos + n].decode("utf-8", errors="replace"), pos + n


def parse_mint(data: bytes) -> MintInfo:
    """Decimals and extensions of an SPL Token or Token-2022 mint account."""
    if len(data) < MINT_BASE_LEN:
        raise ValueError("mint account too short")
    decimals = data[44]
    name = symbol = None
    unsupported: str | None = None
    if len(data) > ACCOUNT_TYPE_OFFSET and data[ACCOUNT_TYPE_OFFSET] == 1:
        pos = ACCOUNT_TYPE_OFFSET + 1
        while pos + 4 <= len(data):
            ext_type, length = struct.unpack_from("<HH", data, pos)
            pos += 4
            value = data[pos : pos + length]
            pos += length
            if ext_type == 0 and length == 0:
                break
            if ext_type in _AMOUNT_CHANGING:
                unsupported = _AMOUNT_CHANGING[ext_type]
            elif ext_type == EXT_TOKEN_METADATA and len(value) >= 64:
                try:
                    name, p = _read_str(value, 64)
                    symbol, _ = _read_str(value, p)
                except (ValueError, struct.error):
                    name = symbol = None
    return MintInfo(decimals=decimals, name=name, symbol=symbol, unsupported=unsupported)


METAPLEX_PROGRAM = "metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s"
_METAPLEX_KEY_METADATA_V1 = 4


def metaplex_metadata_address(mint: str) -> str:
    """The Metaplex token-metadata PDA of ``mint``: seeds "metadata", program id, mint."""
    from solders.pubkey import Pubkey

    program = Pubkey.from_string(METAPLEX_PROGRAM)
    seeds = [b"metadata", bytes(program), bytes(Pubkey.from_string(mint))]
    return str(Pubkey.find_program_address(seeds, program)[0])


def parse_metaplex(data: bytes) -> tuple[str, str] | None:
    """(name, symbol) of a Metaplex MetadataV1 account; None if it is not one.

    Layout: key u8, update authority 32, mint 32, then borsh strings name, symbol, uri (the
    program pads them with NUL bytes to 32 / 10 / 200)."""
    if len(data) < 65 + 8 or data[0] != _METAPLEX_KEY_METADATA_V1:
        return None
    try:
        name, pos = _read_str(data, 65)
        symbol, _ = _read_str(data, pos)
    except (ValueError, struct.error):
        return None
    return name.rstrip("\x00"), symbol.rstrip("\x00")
