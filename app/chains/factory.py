"""Builds the reader for a chain from its family. Family modules are imported lazily so that
start-up never pays for web3 or solana imports before a refresh needs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.domain.chains import ChainFamily, ChainSpec

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.config import Settings
    from app.domain.ports import ChainReader, SecretStore


@dataclass
class ReaderContext:
    """What every chain reader may use: settings, the database (token stores), secrets."""

    settings: Settings
    engine: Engine
    secrets: SecretStore
    options: dict[str, object] = field(default_factory=dict)
    # What readers learn and keep for the process's session (a Solana endpoint's pace, mint
    # accounts already read), by a name each family chooses: one context serves every refresh.
    session: dict[str, object] = field(default_factory=dict)


def create_reader(spec: ChainSpec, ctx: ReaderContext) -> ChainReader:
    if spec.family is ChainFamily.EVM:
        from app.chains.evm import create_reader as create_evm

        return create_evm(spec, ctx)
    if spec.family is ChainFamily.SOLANA:
        from app.chains.solana import create_reader as create_solana

        return create_solana(spec, ctx)
    if spec.family is ChainFamily.BITCOIN:
        from app.chains.bitcoin import create_reader as create_bitcoin

        return create_bitcoin(spec, ctx)
    raise ValueError(f"no reader for chain family {spec.family}")
