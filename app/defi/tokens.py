"""Metadata of the tokens positions are valued in.

Known first: the chain's token list (curated + user-added, with price ids) and the tokens named in
``defi.toml``. A token in neither (a new Aave reserve, a permissionless EigenLayer strategy) is
read from the chain with ``decimals()``/``symbol()``/``name()`` in the protocol's next round and
treated as hostile text like any other token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from app.abi_text import decode_text
from app.defi import abi
from app.defi.ports import Call, Reply
from app.domain.balances import AssetInfo, AssetKind
from app.domain.ids import AssetId, ChainId
from app.domain.spam import spam_reason
from app.domain.text import clean_text

DECIMALS = abi.selector("decimals()")
SYMBOL = abi.selector("symbol()")
NAME = abi.selector("name()")
GAS_METADATA = 20_000


class TokenBook:
    """Known tokens of one chain by lowercase address; learns unknown ones from their replies."""

    def __init__(self, chain: ChainId, known: Iterable[AssetInfo]) -> None:
        self.chain = chain
        self._by_address: dict[str, AssetInfo] = {}
        for info in known:
            if info.asset_id.asset_namespace == "erc20":
                self._by_address.setdefault(info.asset_id.asset_reference.lower(), info)

    def add(self, info: AssetInfo) -> None:
        self._by_address[info.asset_id.asset_reference.lower()] = info

    def get(self, address: str) -> AssetInfo | None:
        return self._by_address.get(address.lower())

    def unknown(self, addresses: Iterable[str]) -> list[str]:
        seen: dict[str, None] = {}
        for a in addresses:
            if a.lower() not in self._by_address:
                seen.setdefault(abi.checksum(a), None)
        return list(seen)

    @staticmethod
    def metadata_calls(addresses: Sequence[str]) -> list[Call]:
        """Three calls per address: decimals, symbol, name (in that order)."""
        return [Call(a, sel, GAS_METADATA) for a in addresses for sel in (DECIMALS, SYMBOL, NAME)]

    def learn(self, addresses: Sequence[str], replies: Sequence[Reply]) -> None:
        """Record what the metadata calls said; a token without a sane decimals() stays unknown."""
        for i, address in enumerate(addresses):
            (ok_d, dec), (ok_s, sym), (ok_n, nam) = replies[3 * i : 3 * i + 3]
            decimals = abi.decode_uint(dec) if ok_d else None
            if decimals is None or decimals > 77:
                continue
            symbol = clean_text(decode_text(sym) if ok_s else "", 16) or "?"
            name = clean_text(decode_text(nam) if ok_n else "", 64) or symbol
            reason = spam_reason(symbol, name)
            self._by_address[address.lower()] = AssetInfo(
                AssetId(self.chain, "erc20", abi.checksum(address)), symbol, name, decimals,
                AssetKind.TOKEN, is_spam=reason is not None, spam_reason=reason,
            )  # fmt: skip


def merge_known(*lists: Iterable[AssetInfo]) -> list[AssetInfo]:
    """Earlier lists win on the same asset id (the chain's token list over defi.toml); a price
    id missing from the winner is taken from a later list."""
    out: dict[AssetId, AssetInfo] = {}
    for items in lists:
        for info in items:
            old = out.get(info.asset_id)
            if old is None:
                out[info.asset_id] = info
            elif old.price_id is None and info.price_id:
                out[info.asset_id] = replace(old, price_id=info.price_id)
    return list(out.values())
