"""CAIP identifiers: one string, one meaning, everywhere.

- CAIP-2 chain ids: ``eip155:1``, ``solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp``
- CAIP-10 account ids: ``eip155:1:0xAb…``
- CAIP-19 asset ids: ``eip155:1/erc20:0xA0b8…``, ``eip155:1/slip44:60``
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAMESPACE = r"[-a-z0-9]{3,8}"
_REFERENCE = r"[-_a-zA-Z0-9]{1,32}"
_CHAIN_RE = re.compile(rf"^(?P<ns>{_NAMESPACE}):(?P<ref>{_REFERENCE})$")
_ACCOUNT_RE = re.compile(
    rf"^(?P<ns>{_NAMESPACE}):(?P<ref>{_REFERENCE}):(?P<addr>[-.%a-zA-Z0-9]{{1,128}})$"
)
_ASSET_RE = re.compile(
    rf"^(?P<ns>{_NAMESPACE}):(?P<ref>{_REFERENCE})/(?P<ans>[-a-z0-9]{{3,8}}):(?P<aref>[-.%a-zA-Z0-9]{{1,128}})$"
)

EVM_NAMESPACE = "eip155"
SOLANA_NAMESPACE = "solana"
SOLANA_MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"


@dataclass(frozen=True, slots=True, order=True)
class ChainId:
    """A CAIP-2 chain id."""

    namespace: str
    reference: str

    @classmethod
    def parse(cls, text: str) -> ChainId:
        m = _CHAIN_RE.match(text.strip())
        if not m:
            raise ValueError(f"not a CAIP-2 chain id: {text!r}")
        return cls(m["ns"], m["ref"])

    @classmethod
    def evm(cls, chain_id: int) -> ChainId:
        if chain_id <= 0:
            raise ValueError(f"EVM chain ids are positive integers, got {chain_id}")
        return cls(EVM_NAMESPACE, str(chain_id))

    @property
    def is_evm(self) -> bool:
        return self.namespace == EVM_NAMESPACE

    def __str__(self) -> str:
        return f"{self.namespace}:{self.reference}"


@dataclass(frozen=True, slots=True, order=True)
class AccountId:
    """A CAIP-10 account id: an address on one chain."""

    chain: ChainId
    address: str

    @classmethod
    def parse(cls, text: str) -> AccountId:
        m = _ACCOUNT_RE.match(text.strip())
        if not m:
            raise ValueError(f"not a CAIP-10 account id: {text!r}")
        return cls(ChainId(m["ns"], m["ref"]), m["addr"])

    def __str__(self) -> str:
        return f"{self.chain}:{self.address}"


@dataclass(frozen=True, slots=True, order=True)
class AssetId:
    """A CAIP-19 asset type id."""

    chain: ChainId
    asset_namespace: str
    asset_reference: str

    @classmethod
    def parse(cls, text: str) -> AssetId:
        m = _ASSET_RE.match(text.strip())
        if not m:
            raise ValueError(f"not a CAIP-19 asset id: {text!r}")
        return cls(ChainId(m["ns"], m["ref"]), m["ans"], m["aref"])

    @classmethod
    def native(cls, chain: ChainId, slip44: int) -> AssetId:
        return cls(chain, "slip44", str(slip44))

    def __str__(self) -> str:
        return f"{self.chain}/{self.asset_namespace}:{self.asset_reference}"
