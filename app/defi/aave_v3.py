"""Aave v3: supplies, debts and the account health of each wallet in each configured pool.

Round 1 (with the balances): ``PoolAddressesProvider.getPoolDataProvider()`` and
``Pool.getReservesList()`` once per pool, ``Pool.getUserAccountData(user)`` per wallet.
Round 2: per reserve ``getReserveTokensAddresses`` (the aToken and debt tokens, so their plain
balances are not counted twice) and per reserve and wallet ``getUserReserveData`` (the aToken
balance, which already includes accrued interest, and the stable + variable debt), plus
metadata of reserves no token list knows.

The data provider is asked of the addresses provider at every refresh rather than stored: Aave
replaces it on upgrades, while the addresses provider and the pool proxy never move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import LendingAccount, PositionKind, position_key

PROTOCOL = "aave-v3"

GET_DATA_PROVIDER = abi.call_data("getPoolDataProvider()")
GET_RESERVES = abi.call_data("getReservesList()")
ACCOUNT_TYPES = ("uint256",) * 6
USER_RESERVE_TYPES = ("uint256",) * 7 + ("uint40", "bool")
TOKENS_TYPES = ("address", "address", "address")
GAS_ACCOUNT = 200_000  # ~15k per reserve the user has (an oracle read, two balances)
GAS_RESERVES = 300_000
GAS_USER_RESERVE = 80_000
GAS_SMALL = 30_000


@dataclass(frozen=True, slots=True)
class AaveMarket:
    pool: str
    addresses_provider: str
    main: bool = True  # the chain's main pool: its position keys carry no market part
    base_decimals: int = 8  # the oracle's base currency unit (USD, 8 decimals on v3)

    def key(self, kind: PositionKind) -> str:
        return position_key(PROTOCOL, kind, "" if self.main else self.pool)


class AaveV3:
    protocol = PROTOCOL

    def __init__(self, markets: Sequence[AaveMarket], book: TokenBook) -> None:
        self._markets = list(markets)
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset()  # receipt tokens are learned in round 2

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for m in self._markets:
            calls.append(Call(m.addresses_provider, GET_DATA_PROVIDER, GAS_SMALL))
            calls.append(Call(m.pool, GET_RESERVES, GAS_RESERVES))
            calls += [
                Call(m.pool, abi.call_data("getUserAccountData(address)", w.address), GAS_ACCOUNT)
                for w in wallets
            ]

        def then(replies: Sequence[Reply]) -> Step | Outcome:
            return self._second(list(wallets), replies)

        return Step(calls, then)

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome()
        plans: list[_MarketPlan] = []
        at = 0
        for m in self._markets:
            (ok_p, provider_raw), (ok_r, reserves_raw) = replies[at], replies[at + 1]
            accounts = replies[at + 2 : at + 2 + len(wallets)]
            at += 2 + len(wallets)
            provider = abi.decode_address(provider_raw) if ok_p else None
            decoded = abi.decode_reply(["address[]"], reserves_raw) if ok_r else None
            if provider is None or decoded is None:
                what = "Aave v3 pool" if provider is not None else "Aave v3 addresses provider"
                bad = m.pool if provider is not None else m.addresses_provider
                asset = AssetId(self._book.chain, "erc20", abi.checksum(bad))
                ok = ok_r if provider is not None else ok_p
                out.failures += [failure(w, asset, what, ok) for w in wallets]
                continue
            reserves = [abi.checksum(r) for r in decoded[0]]
            plans.append(_MarketPlan(m, provider, reserves, list(accounts)))
        if not plans:
            return out
        unknown = self._book.unknown(r for p in plans for r in p.reserves)
        calls: list[Call] = TokenBook.metadata_calls(unknown)
        for p in plans:
            for r in p.reserves:
                data = abi.call_data("getReserveTokensAddresses(address)", r)
                calls.append(Call(p.provider, data, GAS_SMALL))
            for r in p.reserves:
                calls += [
                    Call(
                        p.provider,
                        abi.call_data("getUserReserveData(address,address)", r, w.address),
                        GAS_USER_RESERVE,
                    )
                    for w in wallets
                ]

        def then(replies2: Sequence[Reply]) -> Outcome:
            self._book.learn(unknown, replies2[: 3 * len(unknown)])
            rest = replies2[3 * len(unknown) :]
            for p in plans:
                n = len(p.reserves)
                tokens, rest = rest[:n], rest[n:]
                users, rest = rest[: n * len(wallets)], rest[n * len(wallets) :]
                out.merge(self._finish(p, wallets, tokens, users))
            return out

        return Step(calls, then)

    def _finish(
        self,
        p: _MarketPlan,
        wallets: list[AccountId],
        tokens: Sequence[Reply],
        users: Sequence[Reply],
    ) -> Outcome:
        out = Outcome()
        for ok, raw in tokens:
            decoded = abi.decode_reply(TOKENS_TYPES, raw) if ok else None
            if decoded:
                out.covered |= {str(a).lower() for a in decoded if int(str(a), 16)}
        collateral: dict[int, list[str]] = {i: [] for i in range(len(wallets))}
        debts: dict[int, list[str]] = {i: [] for i in range(len(wallets))}
        for r_i, reserve in enumerate(p.reserves):
            info = self._book.get(reserve)
            asset_id = AssetId(self._book.chain, "erc20", reserve)
            for w_i, wallet in enumerate(wallets):
                ok, raw = users[r_i * len(wallets) + w_i]
                row = abi.decode_reply(USER_RESERVE_TYPES, raw) if ok else None
                if row is None:
                    what = f"Aave v3 {info.symbol if info else reserve} reserve"
                    out.failures.append(failure(wallet, asset_id, what, ok))
                    continue
                supplied, debt = int(row[0]), int(row[1]) + int(row[2])
                if info is None:
                    if supplied or debt:
                        out.failures.append(unknown_token(wallet, asset_id, "Aave v3 reserve"))
                    continue
                asset = position_asset(info)
                if supplied:
                    key = p.market.key(PositionKind.SUPPLIED)
                    out.balances.append(Balance(wallet, asset, supplied, key))
                    if row[8]:
                        collateral[w_i].append(str(asset_id))
                if debt:
                    out.balances.append(
                        Balance(wallet, asset, -debt, p.market.key(PositionKind.BORROWED))
                    )
                    debts[w_i].append(str(asset_id))
        for w_i, wallet in enumerate(wallets):
            account = self._account(p, wallet, p.accounts[w_i], collateral[w_i], debts[w_i])
            if isinstance(account, LendingAccount):
                out.accounts.append(account)
            elif account is not None:
                out.failures.append(account)
        return out

    def _account(
        self,
        p: _MarketPlan,
        wallet: AccountId,
        reply: Reply,
        collateral_assets: list[str],
        debt_assets: list[str],
    ) -> LendingAccount | CallFailure | None:
        ok, raw = reply
        row = abi.decode_reply(ACCOUNT_TYPES, raw) if ok else None
        if row is None:
            pool = AssetId(self._book.chain, "erc20", abi.checksum(p.market.pool))
            return failure(wallet, pool, "Aave v3 account data", ok)
        collateral_base, debt_base, _, threshold_bps, _, hf = (int(v) for v in row)
        if not collateral_base and not debt_base:
            return None
        unit = Decimal(10) ** p.market.base_decimals
        health = None if not debt_base or hf == abi.MAX_UINT256 else Decimal(hf) / Decimal(10**18)
        return LendingAccount(
            wallet=str(wallet), protocol=PROTOCOL, chain=str(wallet.chain),
            market=abi.checksum(p.market.pool),
            collateral=Decimal(collateral_base) / unit, debt=Decimal(debt_base) / unit,
            liquidation_threshold=Decimal(threshold_bps) / Decimal(10_000),
            health_factor=health,
            collateral_assets=tuple(collateral_assets), debt_assets=tuple(debt_assets),
        )  # fmt: skip


@dataclass(slots=True)
class _MarketPlan:
    market: AaveMarket
    provider: str
    reserves: list[str]
    accounts: list[Reply]
