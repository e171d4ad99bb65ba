"""Protocol deployments as data: ``resources/defi.toml`` plus the person's own ``defi.toml``.

The user file (beside ``settings.toml`` and ``networks.toml`` in the config directory) has the
same layout. For each protocol, the chains it names replace the built-in entries of that protocol
on those chains (so a custom network or a local fork can point Aave at its own pool), and its
``[[token]]`` entries are added ahead of the built-in ones. Nothing here talks to the network.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.defi.lend_sources import PROTOCOLS as LEND_PROTOCOLS
from app.domain.addresses import to_checksum_address
from app.domain.balances import AssetInfo, AssetKind
from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId, ChainId
from app.domain.text import clean_text

if TYPE_CHECKING:
    from app.defi.ports import PositionSource
    from app.defi.tokens import TokenBook

# The protocol modules are imported by ``build_sources`` for a chain that has entries: most
# chains a person reads have none, and a refresh of them does not load the protocols' code.

log = logging.getLogger(__name__)
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
PROTOCOLS = ("aave_v3", "compound_v3", "lido", "eigenlayer", "uniswap_v3", "uniswap_v2", "pendle",
             *LEND_PROTOCOLS)  # fmt: skip
USER_FILE = "defi.toml"


def erc20_asset_id(chain: ChainId, address: str) -> AssetId:
    """The CAIP-19 id of a token, as ``app.chains.evm.tokens`` names it (EIP-55 address).
    Raises ValueError for anything but a 20-byte hex address."""
    if not _HEX_ADDRESS.fullmatch(address):
        raise ValueError(f"{address!r} is not a contract address")
    return AssetId(chain, "erc20", to_checksum_address(address))


class DefiConfigError(ChainfolioError):
    """The DeFi address file cannot be used as it is."""


@dataclass(frozen=True, slots=True)
class DefiConfig:
    """Entries per protocol per chain (``{"aave_v3": {"eip155:1": [table, ...]}}``) and tokens."""

    entries: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    tokens: dict[str, list[AssetInfo]] = field(default_factory=dict)

    def of(self, protocol: str, chain: ChainId) -> list[dict[str, Any]]:
        return self.entries.get(protocol, {}).get(str(chain), [])


def builtin_file() -> Path:
    from app.resources import resource_path

    return resource_path(USER_FILE)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DefiConfigError(f"The DeFi address file {path} cannot be read: {exc}") from exc


def _tokens(tables: list[dict[str, Any]], path: Path) -> dict[str, list[AssetInfo]]:
    out: dict[str, list[AssetInfo]] = {}
    for t in tables:
        try:
            chain = ChainId.parse(str(t["chain"]))
            info = AssetInfo(
                erc20_asset_id(chain, str(t["address"])),
                clean_text(str(t["symbol"]), 16), clean_text(str(t.get("name", t["symbol"])), 64),
                int(t["decimals"]), AssetKind.TOKEN, price_id=t.get("price_id"),
            )  # fmt: skip
        except (KeyError, ValueError, TypeError) as exc:
            raise DefiConfigError(f"A [[token]] entry in {path} is incomplete: {exc}") from exc
        out.setdefault(str(chain), []).append(info)
    return out


def load_config(user_file: Path | None = None, builtin: Path | None = None) -> DefiConfig:
    base_path = builtin or builtin_file()
    base = _read(base_path)
    user = _read(user_file) if user_file is not None and user_file.exists() else {}
    entries: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for protocol in PROTOCOLS:
        by_chain: dict[str, list[dict[str, Any]]] = {}
        for t in base.get(protocol, []):
            by_chain.setdefault(str(t.get("chain", "")), []).append(t)
        mine: dict[str, list[dict[str, Any]]] = {}
        for t in user.get(protocol, []):
            mine.setdefault(str(t.get("chain", "")), []).append(t)
        by_chain.update(mine)  # the user's chains replace the built-in ones, per protocol
        entries[protocol] = by_chain
    tokens = _tokens(base.get("token", []), base_path)
    if user_file is not None and user.get("token"):
        from app.defi.tokens import merge_known

        for chain, infos in _tokens(user.get("token", []), user_file).items():
            tokens[chain] = merge_known(infos, tokens.get(chain, []))
    return DefiConfig(entries, tokens)


def build_sources(
    chain: ChainId,
    config: DefiConfig,
    chain_tokens: Sequence[AssetInfo],
    native: AssetInfo,
) -> list[PositionSource]:
    """The position sources of one chain; an entry missing a field is a clear error."""
    if not any(config.of(p, chain) for p in PROTOCOLS):
        return []
    from app.defi.aave_v3 import AaveV3
    from app.defi.compound_v3 import CometMarket, CompoundV3
    from app.defi.eigenlayer import EigenLayer
    from app.defi.lend_sources import aave_markets, lend_sources
    from app.defi.lido import Lido
    from app.defi.tokens import TokenBook, merge_known

    book = TokenBook(chain, merge_known(chain_tokens, config.tokens.get(str(chain), [])))
    sources: list[PositionSource] = []
    try:
        aave = aave_markets(config.of("aave_v3", chain), "aave-v3")
        if aave:
            sources.append(AaveV3(aave, book))
        comets = [
            CometMarket(str(t["comet"]), str(t["rewards"]) if t.get("rewards") else None)
            for t in config.of("compound_v3", chain)
        ]
        if comets:
            sources.append(CompoundV3(comets, book))
        for t in config.of("lido", chain):
            price_id = str(t.get("steth_price_id", "coingecko:staked-ether"))
            steth = book.get(str(t["steth"])) or AssetInfo(
                erc20_asset_id(chain, str(t["steth"])), "stETH", "Lido staked Ether", 18
            )
            if steth.price_id is None:  # stETH is priced as itself wherever it is held
                steth = replace(steth, price_id=price_id)
            book.add(steth)
            sources.append(Lido(steth, t.get("wsteth")))
        for t in config.of("eigenlayer", chain):
            sources.append(
                EigenLayer(
                    str(t["strategy_manager"]),
                    t.get("eigenpod_manager"),
                    native,
                    book,
                    t.get("delegation_manager"),
                )
            )
        sources += _dex_sources(chain, config, chain_tokens, book)
        sources += lend_sources(chain, {p: config.of(p, chain) for p in LEND_PROTOCOLS}, book)
    except (KeyError, ValueError, TypeError) as exc:
        raise DefiConfigError(f"A DeFi entry for {chain} is incomplete: missing {exc}") from exc
    return sources


def _dex_sources(
    chain: ChainId, config: DefiConfig, chain_tokens: Sequence[AssetInfo], book: TokenBook
) -> list[PositionSource]:
    """Uniswap v3 position managers and Uniswap v2-style factories of the chain. A v2 ``bases``
    entry is a token address or a symbol of the chain's token list (every token so named)."""
    from app.defi.pendle import PY_LP_ORACLE, Pendle
    from app.defi.uniswap_v2 import PAIR_INIT_CODE_HASH, UniswapV2, V2Deployment
    from app.defi.uniswap_v3 import DEFAULT_MAX_POSITIONS, UniswapV3, V3Deployment
    from app.domain.uniswap_math import POOL_INIT_CODE_HASH

    sources: list[PositionSource] = []
    v3 = [
        V3Deployment(
            abi_checksum(str(t["position_manager"])),
            abi_checksum(str(t["factory"])),
            bytes.fromhex(str(t["init_code_hash"]).removeprefix("0x"))
            if "init_code_hash" in t else POOL_INIT_CODE_HASH,
            bool(t.get("zksync", False)),
            int(t.get("max_positions", DEFAULT_MAX_POSITIONS)),
        )
        for t in config.of("uniswap_v3", chain)
    ]  # fmt: skip
    if v3:
        sources.append(UniswapV3(v3, book))
    by_symbol: dict[str, list[str]] = {}
    for info in chain_tokens:
        if info.asset_id.asset_namespace == "erc20" and not info.is_spam:
            by_symbol.setdefault(info.symbol, []).append(info.asset_id.asset_reference)
    v2: list[V2Deployment] = []
    for t in config.of("uniswap_v2", chain):
        bases: list[str] = []
        for b in t.get("bases", []):
            bases += [str(b)] if _HEX_ADDRESS.fullmatch(str(b)) else by_symbol.get(str(b), [])
        if len(bases) < 2 and not t.get("pairs"):
            continue  # no pair to read (the token list lacks the bases)
        v2.append(
            V2Deployment(
                abi_checksum(str(t["factory"])), tuple(bases),
                tuple(abi_checksum(str(p)) for p in t.get("pairs", [])),
                bytes.fromhex(str(t["init_code_hash"]).removeprefix("0x"))
                if "init_code_hash" in t else PAIR_INIT_CODE_HASH,
            )
        )  # fmt: skip
    if v2:
        sources.append(UniswapV2(v2, book))
    for t in config.of("pendle", chain):  # markets are the person's: none are shipped
        markets = [abi_checksum(str(m)) for m in t.get("markets", [])]
        if markets:
            oracle = abi_checksum(str(t.get("oracle", PY_LP_ORACLE)))
            duration = int(t.get("duration", 0))
            sources.append(Pendle(markets, book, oracle=oracle, duration=duration))
    return sources


def abi_checksum(address: str) -> str:
    """EIP-55 form of a configured address; ValueError for anything but 20 hex bytes."""
    if not _HEX_ADDRESS.fullmatch(address):
        raise ValueError(f"{address!r} is not a contract address")
    return to_checksum_address(address)


def positions_for(
    chain: ChainId, tokens: Sequence[AssetInfo], native: AssetInfo, config_dir: Path
) -> list[PositionSource]:
    """The DeFi sources of a chain: ``resources/defi.toml`` overlaid with the person's own
    ``defi.toml`` in ``config_dir`` (tests point it at contracts on a local node). The
    composition root hands this to the EVM reader factory; a broken override never costs the
    balances, only its own entries."""
    try:
        return build_sources(chain, load_config(config_dir / USER_FILE), tokens, native)
    except DefiConfigError as exc:
        log.warning("%s; using the shipped DeFi addresses only", exc)
        return build_sources(chain, load_config(None), tokens, native)
