"""Sky (formerly Maker) savings: sDAI and sUSDS, ERC-4626 vaults over DAI and USDS.

Round 1 (with the balances): the vault's ``balanceOf(wallet)`` per wallet and, where the entry
names one, the savings rate: sUSDS's own ``ssr()`` or the DSR of Maker's Pot (``dsr()``) behind
sDAI, both per-second factors in ray (1.000000001… x 1e27), so APY = factor^year - 1.
Round 2, for wallets holding shares: ``convertToAssets(shares)``, the vault's own conversion
(exact, with its own rounding), so the position is worth exactly what the vault would pay out.

The position is valued in the underlying (DAI or USDS) under ``"sky:<vault>:supplied"``; the
vault token itself is covered, so its plain wallet balance is not counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId
from app.domain.positions import PositionKind, position_key
from app.domain.rates import (
    MAX_APR,
    RAY,
    SECONDS_PER_YEAR,
    PositionRate,
    RateSide,
    per_second_to_apy,
)

PROTOCOL = "sky"
GAS_BALANCE = 30_000
GAS_CONVERT = 60_000  # sDAI reads the Pot's chi (and may drip-simulate)


@dataclass(frozen=True, slots=True)
class SavingsVault:
    vault: str  # the ERC-4626 share token (sDAI, sUSDS)
    underlying: AssetInfo  # DAI / USDS, what the shares are valued in
    rate_contract: str | None = None  # where the per-second rate is read (sUSDS itself, the Pot)
    rate_function: str = "ssr()"  # "ssr()" on sUSDS, "dsr()" on the Pot

    def key(self) -> str:
        return position_key(PROTOCOL, PositionKind.SUPPLIED, abi.checksum(self.vault))


def ray_factor_to_apy(factor_ray: int) -> tuple[Decimal, Decimal] | None:
    """A per-second growth factor in ray (1e27 = 0 %) as (apy, apr); None when implausible."""
    with localcontext() as ctx:
        ctx.prec = 60
        per_second = Decimal(factor_ray - RAY) / RAY
        apr = per_second * SECONDS_PER_YEAR
        if not 0 <= apr <= MAX_APR:
            return None
        return per_second_to_apy(per_second), apr


class SkySavings:
    protocol = PROTOCOL

    def __init__(self, vaults: Sequence[SavingsVault]) -> None:
        self._vaults = list(vaults)

    def covers(self) -> frozenset[str]:
        return frozenset(v.vault.lower() for v in self._vaults)

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for v in self._vaults:
            calls += [
                Call(v.vault, abi.call_data("balanceOf(address)", w.address), GAS_BALANCE)
                for w in wallets
            ]
            if v.rate_contract:
                calls.append(Call(v.rate_contract, abi.call_data(v.rate_function), GAS_BALANCE))
        wallets = list(wallets)
        return Step(calls, lambda replies: self._second(wallets, replies))

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome(covered=set(self.covers()))
        held: list[tuple[SavingsVault, AccountId, int]] = []
        at = 0
        for v in self._vaults:
            answers = replies[at : at + len(wallets)]
            at += len(wallets)
            for wallet, (ok, raw) in zip(wallets, answers, strict=True):
                shares = abi.decode_uint(raw) if ok else None
                if shares is None:
                    out.failures.append(failure(wallet, v.underlying.asset_id, "Sky savings", ok))
                elif shares:
                    held.append((v, wallet, shares))
            if v.rate_contract:
                ok, raw = replies[at]
                at += 1
                factor = abi.decode_uint(raw) if ok else None
                converted = None if factor is None else ray_factor_to_apy(factor)
                if converted is not None and any(h[0] is v for h in held):
                    out.rates.append(
                        PositionRate(
                            str(v.underlying.asset_id.chain),
                            str(v.underlying.asset_id),
                            v.key(),
                            RateSide.SUPPLY,
                            *converted,
                            PROTOCOL,
                        )
                    )
        if not held:
            return out
        calls = [
            Call(v.vault, abi.call_data("convertToAssets(uint256)", shares), GAS_CONVERT)
            for v, _, shares in held
        ]

        def then(replies2: Sequence[Reply]) -> Outcome:
            for (v, wallet, _), (ok, raw) in zip(held, replies2, strict=True):
                assets = abi.decode_uint(raw) if ok else None
                if assets is None:
                    out.failures.append(failure(wallet, v.underlying.asset_id, "Sky savings", ok))
                elif assets:
                    asset = position_asset(v.underlying)
                    out.balances.append(Balance(wallet, asset, assets, v.key()))
            return out

        return Step(calls, then)
