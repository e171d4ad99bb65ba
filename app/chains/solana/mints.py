"""What the Solana reader knows about a mint, and the one round that reads what it does not.

A holding's metadata comes, in this order, from the curated list, the token store (tokens the
user added: their symbol, price id and spam mark are respected; adding a mint is the user saying
it is theirs, so "unlisted mint without metadata" never hides one), or the mint account itself
(Token-2022 metadata extension, else the Metaplex metadata account). Mint accounts read once are
kept for the life of the process (``MintCache``): decimals never change and the set of Token-2022
extensions is fixed when a mint is created, so later refreshes skip the metadata round entirely
when every mint held is already known.

A Token-2022 mint outside the curated list is shown only once its account was read and has no
amount-changing extension (interest-bearing, scaled UI amount): those amounts are not raw / 10^d,
and this app shows exact amounts or none. Curated mints are vetted not to carry such extensions.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from app.chains.solana.tokens import (
    METAPLEX_PROGRAM,
    KnownToken,
    MintInfo,
    metaplex_metadata_address,
    parse_metaplex,
    parse_mint,
)
from app.domain.balances import AssetInfo
from app.domain.ids import AssetId, ChainId
from app.domain.spam import spam_reason
from app.domain.text import clean_text

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
TOKEN_PROGRAMS = (TOKEN_PROGRAM, TOKEN_2022_PROGRAM)
MAX_SYMBOL = 16
MAX_NAME = 64
NO_METADATA = "unlisted mint without metadata"


class MintCache:
    """Mint accounts already read, by mint address; shared by the readers of one chain.

    Bounded so that a wallet showered with spam mints cannot grow it without end: when full,
    it starts over (the next refresh reads those mints again, nothing is wrong meanwhile)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._data: dict[str, MintInfo] = {}
        self._owners: set[str] = set()

    def saw_owners(self, owners: Iterable[str]) -> None:
        """Wallets whose holdings a refresh has resolved (see ``knows_owners``)."""
        if len(self._owners) >= self._limit:
            self._owners.clear()
        self._owners.update(owners)

    def knows_owners(self, owners: Iterable[str]) -> bool:
        """Whether every one of these wallets was read before in this process: then its mints
        are most likely known, and a refresh expects no metadata round."""
        return all(o in self._owners for o in owners)

    def get(self, mint: str) -> MintInfo | None:
        return self._data.get(mint)

    def put(self, mint: str, info: MintInfo) -> None:
        if len(self._data) >= self._limit and mint not in self._data:
            self._data.clear()
        self._data[mint] = info

    def __len__(self) -> int:
        return len(self._data)

    def copy(self) -> MintCache:
        other = MintCache(self._limit)
        other._data = dict(self._data)
        other._owners = set(self._owners)
        return other


@dataclass(frozen=True, slots=True)
class Resolved:
    """A holding's asset, or why its amount cannot be shown."""

    asset: AssetInfo | None
    unsupported: str | None = None


class MintDirectory:
    def __init__(
        self,
        chain: ChainId,
        curated: Mapping[str, KnownToken],
        stored: Iterable[AssetInfo],
        cache: MintCache,
    ) -> None:
        self._chain = chain
        self._curated = curated
        self._stored = {
            s.asset_id.asset_reference: s
            for s in stored
            if s.asset_id.chain == chain and s.asset_id.asset_namespace == "token"
        }
        self.cache = cache

    def _curated_for(self, mint: str, decimals: int) -> KnownToken | None:
        known = self._curated.get(mint)
        return known if known is not None and known.decimals == decimals else None

    def _stored_for(self, mint: str, decimals: int) -> AssetInfo | None:
        known = self._stored.get(mint)
        if known is None or known.decimals != decimals:
            return None
        if known.spam_reason == NO_METADATA:  # stored so before the user's word counted
            return replace(known, is_spam=False, spam_reason=None)
        return known

    def needs_read(self, mint: str, program: str, decimals: int) -> bool:
        """Whether the mint account must be read before this holding can be shown."""
        cached = self.cache.get(mint)
        if cached is not None and cached.decimals == decimals:
            return False
        if self._curated_for(mint, decimals) is not None:
            return False
        if program == TOKEN_2022_PROGRAM:
            return True  # extensions must be checked, even for a token the user added
        return self._stored_for(mint, decimals) is None

    def metaplex_wanted(self, mint: str) -> bool:
        return mint not in self._curated

    def resolve(self, mint: str, program: str, decimals: int) -> Resolved:
        """The asset of one holding. ``decimals`` is the mint's, as the token account reports."""
        asset_id = AssetId(self._chain, "token", mint)
        known = self._curated_for(mint, decimals)
        if known is not None:
            return Resolved(
                AssetInfo(asset_id, known.symbol, known.name, decimals, price_id=known.price_id)
            )
        info = self.cache.get(mint)
        if info is not None and info.decimals != decimals:
            info = None  # not this mint as it is now: never show a name read for other decimals
        if program == TOKEN_2022_PROGRAM:
            if info is None:
                return Resolved(None, "its mint could not be read, so its Token-2022 "
                                      "extensions were not checked")  # fmt: skip
            if info.unsupported:
                return Resolved(None, f"{info.unsupported} Token-2022 amounts are not supported")
        stored = self._stored_for(mint, decimals)
        if stored is not None:
            return Resolved(stored)
        return Resolved(onchain_asset(asset_id, decimals, info, user_added=mint in self._stored))


def onchain_asset(
    asset_id: AssetId, decimals: int, info: MintInfo | None, *, user_added: bool = False
) -> AssetInfo:
    """A mint's asset from its own metadata, cleaned and checked by the spam rules. A mint
    without metadata is hidden as spam unless the user added it."""
    symbol = clean_text(info.symbol, MAX_SYMBOL) if info and info.symbol else ""
    name = clean_text(info.name, MAX_NAME) if info and info.name else ""
    if symbol:
        reason = spam_reason(symbol, name or symbol)
    else:
        mint = asset_id.asset_reference
        symbol = f"{mint[:4]}…{mint[-4:]}"
        reason = None if user_added else NO_METADATA
    return AssetInfo(
        asset_id, symbol, name or symbol, decimals, is_spam=reason is not None, spam_reason=reason
    )


def metadata_keys(
    mints: Iterable[str], directory: MintDirectory
) -> tuple[list[str], dict[str, str]]:
    """Accounts to read for ``mints``: each mint, then the Metaplex PDA of each unlisted one."""
    wanted = sorted(set(mints))
    pdas = {m: metaplex_metadata_address(m) for m in wanted if directory.metaplex_wanted(m)}
    return wanted + list(pdas.values()), pdas


def parse_metadata(
    mints: Iterable[str], pdas: Mapping[str, str], accounts: Mapping[str, tuple[str, bytes]]
) -> dict[str, MintInfo]:
    """MintInfo of each mint whose account was read and is owned by a token program.

    ``accounts`` maps an address to (owner program, data)."""
    out: dict[str, MintInfo] = {}
    for mint in mints:
        owner, raw = accounts.get(mint, ("", b""))
        if owner not in TOKEN_PROGRAMS:
            continue
        try:
            info = parse_mint(raw)
        except (ValueError, struct.error):
            continue
        meta = accounts.get(pdas.get(mint, ""))
        named = None
        if meta is not None and meta[0] == METAPLEX_PROGRAM and info.symbol is None:
            named = parse_metaplex(meta[1])
        if named is not None:
            info = MintInfo(info.decimals, named[0], named[1], info.unsupported)
        out[mint] = info
    return out
