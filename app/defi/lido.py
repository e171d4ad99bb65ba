"""Lido liquid staking: stETH held, and wstETH converted to the stETH it can be unwrapped for.

One round, with the balances: ``stETH.balanceOf`` (rebasing: the balance already grows with the
rewards) and ``wstETH.balanceOf`` per wallet, ``wstETH.stEthPerToken()`` once. Both positions are
valued in stETH (its own price id), so a wallet's Lido total is one asset; wstETH keeps its own
position key (the wrapper's address as the market) so the two stay apart in the holdings.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId
from app.domain.positions import PositionKind, position_key

PROTOCOL = "lido"
ONE = 10**18
GAS_BALANCE = 30_000  # a proxy call and a shares-to-balance calculation
STETH_PER_TOKEN = abi.call_data("stEthPerToken()")


class Lido:
    protocol = PROTOCOL

    def __init__(self, steth: AssetInfo, wsteth: str | None) -> None:
        self._steth = steth
        self._steth_address = steth.asset_id.asset_reference
        self._wsteth = abi.checksum(wsteth) if wsteth else None

    def covers(self) -> frozenset[str]:
        tokens = {self._steth_address.lower()}
        if self._wsteth:
            tokens.add(self._wsteth.lower())
        return frozenset(tokens)

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for w in wallets:
            data = abi.call_data("balanceOf(address)", w.address)
            calls.append(Call(self._steth_address, data, GAS_BALANCE))
            if self._wsteth:
                calls.append(Call(self._wsteth, data, GAS_BALANCE))
        if self._wsteth:
            calls.append(Call(self._wsteth, STETH_PER_TOKEN, GAS_BALANCE))
        wallets = list(wallets)
        return Step(calls, lambda replies: self._finish(wallets, replies))

    def _finish(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Outcome:
        out = Outcome(covered=set(self.covers()))
        asset = position_asset(self._steth)
        per = 2 if self._wsteth else 1
        rate: int | None = None
        if self._wsteth:
            ok, raw = replies[-1]
            rate = abi.decode_uint(raw) if ok else None
        for i, wallet in enumerate(wallets):
            ok, raw = replies[i * per]
            amount = abi.decode_uint(raw) if ok else None
            if amount is None:
                out.failures.append(failure(wallet, self._steth.asset_id, "Lido stETH", ok))
            elif amount:
                out.balances.append(
                    Balance(wallet, asset, amount, position_key(PROTOCOL, PositionKind.STAKED))
                )
            if not self._wsteth:
                continue
            ok, raw = replies[i * per + 1]
            wrapped = abi.decode_uint(raw) if ok else None
            if wrapped is None or (wrapped and rate is None):
                good = ok and (wrapped is None or replies[-1][0])
                out.failures.append(failure(wallet, self._steth.asset_id, "Lido wstETH", good))
            elif wrapped and rate is not None:
                key = position_key(PROTOCOL, PositionKind.STAKED, self._wsteth)
                out.balances.append(Balance(wallet, asset, wrapped * rate // ONE, key))
        return out
