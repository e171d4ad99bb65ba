"""Aave v3: supplies, debts and the account health of each wallet in each configured pool.

Round 1 (with the balances): ``PoolAddressesProvider.getPoolDataProvider()`` and
``Pool.getReservesList()`` once per pool, ``Pool.getUserAccountData(user)`` per wallet.
Round 2: per reserve ``getReserveTokensAddresses`` (the aToken and debt tokens, so their plain
balances are not counted twice) and ``getReserveData`` (the current ``liquidityRate`` and
``variableBorrowRate``, APRs in ray, turned into APYs compounded per second), per reserve and
wallet ``getUserReserveData`` (the aToken balance, which already includes accrued interest, and
the stable + variable debt), plus metadata of reserves no token list knows. A rate is reported
only for the (reserve, supplied/borrowed) pairs some wallet holds; a reserve whose rate cannot be
read simply has none (its balances are still reported).

Claimable rewards, where the entry names the market's RewardsController (``incentives``): its
``getRewardsList()`` rides in round 1 (so reward tokens no list knows are read in round 2), and
``getAllUserRewards(aTokens and debt tokens, user)`` goes in a third round, only for wallets
with a position in the market (the token addresses come from round 2). The rewards are shown as
``"aave-v3:rewards"`` positions in the reward token, valued with its price.

The data provider is asked of the addresses provider at every refresh rather than stored: Aave
replaces it on upgrades, while the addresses provider and the pool proxy never move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import LendingAccount, PositionKind, position_key
from app.domain.rates import PositionRate, RateSide, ray_apr_to_apy

PROTOCOL = "aave-v3"

GET_DATA_PROVIDER = abi.call_data("getPoolDataProvider()")
GET_RESERVES = abi.call_data("getReservesList()")
GET_REWARDS_LIST = abi.call_data("getRewardsList()")
GAS_REWARDS = 60_000
GAS_REWARDS_PER_ASSET = 25_000  # per asset: its index, the user's data, per reward
ACCOUNT_TYPES = ("uint256",) * 6
USER_RESERVE_TYPES = ("uint256",) * 7 + ("uint40", "bool")
TOKENS_TYPES = ("address", "address", "address")
# AaveProtocolDataProvider.getReserveData: unbacked, accruedToTreasuryScaled, totalAToken,
# totalStableDebt, totalVariableDebt, liquidityRate, variableBorrowRate, stableBorrowRate,
# averageStableBorrowRate, liquidityIndex, variableBorrowIndex, lastUpdateTimestamp
RESERVE_DATA_TYPES = ("uint256",) * 11 + ("uint40",)
GAS_ACCOUNT = 200_000  # ~15k per reserve the user has (an oracle read, two balances)
GAS_RESERVES = 300_000
GAS_USER_RESERVE = 80_000
GAS_SMALL = 30_000
GAS_RESERVE_DATA = 60_000  # three totalSupply reads and the reserve's storage


@dataclass(frozen=True, slots=True)
class AaveMarket:
    pool: str
    addresses_provider: str
    main: bool = True  # the chain's main pool: its position keys carry no market part
    base_decimals: int = 8  # the oracle's base currency unit (USD, 8 decimals on v3)
    protocol: str = PROTOCOL  # "spark" for Spark Lend, a fork read by the same code
    incentives: str | None = None  # the market's RewardsController, for claimable rewards

    def key(self, kind: PositionKind) -> str:
        return position_key(self.protocol, kind, "" if self.main else self.pool)


class AaveV3:
    def __init__(
        self,
        markets: Sequence[AaveMarket],
        book: TokenBook,
        protocol: str = PROTOCOL,
        name: str = "Aave v3",
    ) -> None:
        self._markets = list(markets)
        self._book = book
        self.protocol = protocol
        self._name = name  # in failure reasons the person reads

    def covers(self) -> frozenset[str]:
        return frozenset()  # receipt tokens are learned in round 2

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for m in self._markets:
            calls.append(Call(m.addresses_provider, GET_DATA_PROVIDER, GAS_SMALL))
            calls.append(Call(m.pool, GET_RESERVES, GAS_RESERVES))
            if m.incentives:
                calls.append(Call(m.incentives, GET_REWARDS_LIST, GAS_RESERVES))
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
            at += 2
            reward_tokens: list[str] = []
            if m.incentives:
                ok_l, list_raw = replies[at]
                at += 1
                listed = abi.decode_reply(["address[]"], list_raw) if ok_l else None
                reward_tokens = [abi.checksum(t) for t in listed[0]] if listed else []
            accounts = replies[at : at + len(wallets)]
            at += len(wallets)
            provider = abi.decode_address(provider_raw) if ok_p else None
            decoded = abi.decode_reply(["address[]"], reserves_raw) if ok_r else None
            if provider is None or decoded is None:
                what = (
                    f"{self._name} pool"
                    if provider is not None
                    else f"{self._name} addresses provider"
                )
                bad = m.pool if provider is not None else m.addresses_provider
                asset = AssetId(self._book.chain, "erc20", abi.checksum(bad))
                ok = ok_r if provider is not None else ok_p
                out.failures += [failure(w, asset, what, ok) for w in wallets]
                continue
            reserves = [abi.checksum(r) for r in decoded[0]]
            plans.append(_MarketPlan(m, provider, reserves, list(accounts)))
            plans[-1].reward_tokens = reward_tokens
        if not plans:
            return out
        unknown = self._book.unknown(
            [r for p in plans for r in p.reserves] + [t for p in plans for t in p.reward_tokens]
        )
        calls: list[Call] = TokenBook.metadata_calls(unknown)
        for p in plans:
            for r in p.reserves:
                data = abi.call_data("getReserveTokensAddresses(address)", r)
                calls.append(Call(p.provider, data, GAS_SMALL))
            for r in p.reserves:
                data = abi.call_data("getReserveData(address)", r)
                calls.append(Call(p.provider, data, GAS_RESERVE_DATA))
            for r in p.reserves:
                calls += [
                    Call(
                        p.provider,
                        abi.call_data("getUserReserveData(address,address)", r, w.address),
                        GAS_USER_RESERVE,
                    )
                    for w in wallets
                ]

        def then(replies2: Sequence[Reply]) -> Step | Outcome:
            self._book.learn(unknown, replies2[: 3 * len(unknown)])
            rest = replies2[3 * len(unknown) :]
            for p in plans:
                n = len(p.reserves)
                tokens, rest = rest[:n], rest[n:]
                p.rates, rest = list(rest[:n]), rest[n:]
                users, rest = rest[: n * len(wallets)], rest[n * len(wallets) :]
                found = self._finish(p, wallets, tokens, users)
                p.holders = list(dict.fromkeys(b.wallet for b in found.balances))
                out.merge(found)
            return self._rewards(plans, out)

        return Step(calls, then)

    def _rewards(self, plans: list[_MarketPlan], out: Outcome) -> Step | Outcome:
        """Round 3: what each wallet with a position could claim, per market with incentives."""
        asks: list[tuple[_MarketPlan, AccountId]] = [
            (p, w) for p in plans if p.market.incentives and p.receipts for w in p.holders
        ]
        if not asks:
            return out
        calls = [
            Call(
                str(p.market.incentives),
                abi.call_data("getAllUserRewards(address[],address)", p.receipts, w.address),
                GAS_REWARDS + GAS_REWARDS_PER_ASSET * len(p.receipts),
            )
            for p, w in asks
        ]

        def then(replies3: Sequence[Reply]) -> Outcome:
            for (p, wallet), (ok, raw) in zip(asks, replies3, strict=True):
                row = abi.decode_reply(["address[]", "uint256[]"], raw) if ok else None
                controller = AssetId(
                    self._book.chain, "erc20", abi.checksum(str(p.market.incentives))
                )
                if row is None or len(row[0]) != len(row[1]):
                    out.failures.append(failure(wallet, controller, f"{self._name} rewards", ok))
                    continue
                for token, amount in zip(row[0], row[1], strict=True):
                    if not int(amount):
                        continue
                    info = self._book.get(abi.checksum(token))
                    if info is None:
                        token_id = AssetId(self._book.chain, "erc20", abi.checksum(token))
                        out.failures.append(unknown_token(wallet, token_id, f"{self._name} reward"))
                        continue
                    key = p.market.key(PositionKind.REWARDS)
                    out.balances.append(Balance(wallet, position_asset(info), int(amount), key))
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
                receipts = [abi.checksum(str(a)) for a in decoded if int(str(a), 16)]
                out.covered |= {a.lower() for a in receipts}
                # the rewards' assets: aToken and variable debt token (a stable debt token has
                # no scaledBalanceOf, and the RewardsController reverts on it)
                p.receipts += [
                    abi.checksum(str(a)) for a in (decoded[0], decoded[2]) if int(str(a), 16)
                ]
        collateral: dict[int, list[str]] = {i: [] for i in range(len(wallets))}
        debts: dict[int, list[str]] = {i: [] for i in range(len(wallets))}
        held_sides: set[tuple[int, RateSide]] = set()
        for r_i, reserve in enumerate(p.reserves):
            info = self._book.get(reserve)
            asset_id = AssetId(self._book.chain, "erc20", reserve)
            for w_i, wallet in enumerate(wallets):
                ok, raw = users[r_i * len(wallets) + w_i]
                row = abi.decode_reply(USER_RESERVE_TYPES, raw) if ok else None
                if row is None:
                    what = f"{self._name} {info.symbol if info else reserve} reserve"
                    out.failures.append(failure(wallet, asset_id, what, ok))
                    continue
                supplied, debt = int(row[0]), int(row[1]) + int(row[2])
                if info is None:
                    if supplied or debt:
                        out.failures.append(
                            unknown_token(wallet, asset_id, f"{self._name} reserve")
                        )
                    continue
                asset = position_asset(info)
                if supplied:
                    held_sides.add((r_i, RateSide.SUPPLY))
                if debt:
                    held_sides.add((r_i, RateSide.BORROW))
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
        out.rates += self._rates(p, held_sides)
        for w_i, wallet in enumerate(wallets):
            account = self._account(p, wallet, p.accounts[w_i], collateral[w_i], debts[w_i])
            if isinstance(account, LendingAccount):
                out.accounts.append(account)
            elif account is not None:
                out.failures.append(account)
        return out

    def _rates(self, p: _MarketPlan, held: set[tuple[int, RateSide]]) -> list[PositionRate]:
        rates: list[PositionRate] = []
        chain = str(self._book.chain)
        for r_i, side in sorted(held):
            ok, raw = p.rates[r_i] if r_i < len(p.rates) else (False, b"")
            row = abi.decode_reply(RESERVE_DATA_TYPES, raw) if ok else None
            if row is None:
                continue  # an older or foreign data provider: the position is shown without
            converted = ray_apr_to_apy(int(row[5] if side is RateSide.SUPPLY else row[6]))
            if converted is None:
                continue
            kind = PositionKind.SUPPLIED if side is RateSide.SUPPLY else PositionKind.BORROWED
            asset = str(AssetId(self._book.chain, "erc20", p.reserves[r_i]))
            rates.append(
                PositionRate(chain, asset, p.market.key(kind), side, *converted, self.protocol)
            )
        return rates

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
            return failure(wallet, pool, f"{self._name} account data", ok)
        collateral_base, debt_base, _, threshold_bps, _, hf = (int(v) for v in row)
        if not collateral_base and not debt_base:
            return None
        unit = Decimal(10) ** p.market.base_decimals
        health = None if not debt_base or hf == abi.MAX_UINT256 else Decimal(hf) / Decimal(10**18)
        return LendingAccount(
            wallet=str(wallet), protocol=self.protocol, chain=str(wallet.chain),
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
    rates: list[Reply] = field(default_factory=list)  # getReserveData per reserve
    reward_tokens: list[str] = field(default_factory=list)  # the RewardsController's list
    receipts: list[str] = field(default_factory=list)  # aTokens and debt tokens (rewards' assets)
    holders: list[AccountId] = field(default_factory=list)  # wallets with a position here
