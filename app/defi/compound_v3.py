"""Compound v3 (Comet): base supply and borrow, collateral per asset, one account per market.

Round 1 (with the balances), per Comet: ``baseToken()``, ``baseTokenPriceFeed()``,
``numAssets()``, ``getUtilization()`` and ``getAssetInfo(i)`` for every possible index (indexes
past ``numAssets`` revert and are ignored), so the collateral list needs no round of its own;
per wallet ``balanceOf`` (base supplied, interest included) and ``borrowBalanceOf``, and, where
the market's CometRewards contract is configured, ``getRewardOwed(comet, wallet)`` (a
state-changing function that is only ever called with ``eth_call``: it returns what the wallet
could claim now, accrued up to this block, without sending anything).
Round 2: ``collateralBalanceOf(wallet, asset)`` per wallet and asset, ``getPrice`` of every
feed (for the account's health), ``getSupplyRate(u)`` and ``getBorrowRate(u)`` at the
utilisation read in round 1 (per-second rates, 1e18, turned into APYs compounded per second),
and metadata of tokens no list knows (a reward token included).

The account is in the base token's units: collateral is valued with Comet's own price feeds and
divided by the base price; the liquidation threshold is the value-weighted
``liquidateCollateralFactor``, and the health factor is liquidation-weighted collateral over debt
(below 1, Comet's ``isLiquidatable`` is true).
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
from app.domain.rates import PositionRate, RateSide, wad_per_second_to_apy

PROTOCOL = "compound-v3"
MAX_ASSETS = 24  # Comet with the extended asset list holds up to 24 collaterals (15 before)
ASSET_INFO_TYPES = (
    "uint8",
    "address",
    "address",
    "uint64",
    "uint64",
    "uint64",
    "uint64",
    "uint128",
)
FACTOR_SCALE = Decimal(10**18)
GAS_SMALL = 30_000
GAS_ASSET_INFO = 40_000
GAS_BALANCE = 30_000
GAS_PRICE = 80_000

BASE_TOKEN = abi.call_data("baseToken()")
BASE_FEED = abi.call_data("baseTokenPriceFeed()")
NUM_ASSETS = abi.call_data("numAssets()")
UTILIZATION = abi.call_data("getUtilization()")
GAS_REWARD = 120_000  # CometRewards reads the Comet's tracking index and accrues it


@dataclass(frozen=True, slots=True)
class CometMarket:
    comet: str
    rewards: str | None = None  # the chain's CometRewards contract, when it has one


@dataclass(frozen=True, slots=True)
class _Asset:
    address: str
    feed: str
    scale: int
    liquidate_factor: Decimal


@dataclass(slots=True)
class _Market:
    comet: str
    base: str
    base_feed: str
    assets: list[_Asset]
    supplied: list[Reply]
    borrowed: list[Reply]
    utilization: int | None = None
    rewards: list[Reply] = field(default_factory=list)  # getRewardOwed per wallet


class CompoundV3:
    protocol = PROTOCOL

    def __init__(self, comets: Sequence[str | CometMarket], book: TokenBook) -> None:
        markets = [c if isinstance(c, CometMarket) else CometMarket(c) for c in comets]
        self._comets = [abi.checksum(m.comet) for m in markets]
        self._rewards = [abi.checksum(m.rewards) if m.rewards else None for m in markets]
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset(c.lower() for c in self._comets)  # a Comet is its own receipt token

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for c, rewards in zip(self._comets, self._rewards, strict=True):
            calls += [Call(c, BASE_TOKEN, GAS_SMALL), Call(c, BASE_FEED, GAS_SMALL),
                      Call(c, NUM_ASSETS, GAS_SMALL), Call(c, UTILIZATION, GAS_SMALL)]  # fmt: skip
            calls += [
                Call(c, abi.call_data("getAssetInfo(uint8)", i), GAS_ASSET_INFO)
                for i in range(MAX_ASSETS)
            ]
            for w in wallets:
                calls.append(Call(c, abi.call_data("balanceOf(address)", w.address), GAS_BALANCE))
                calls.append(
                    Call(c, abi.call_data("borrowBalanceOf(address)", w.address), GAS_BALANCE)
                )
            if rewards:
                calls += [
                    Call(
                        rewards,
                        abi.call_data("getRewardOwed(address,address)", c, w.address),
                        GAS_REWARD,
                    )
                    for w in wallets
                ]
        wallets = list(wallets)
        return Step(calls, lambda replies: self._second(wallets, replies))

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome(covered=set(self.covers()))
        markets: list[_Market] = []
        at = 0
        for comet, rewards in zip(self._comets, self._rewards, strict=True):
            per = 4 + MAX_ASSETS + 2 * len(wallets) + (len(wallets) if rewards else 0)
            part = replies[at : at + per]
            at += per
            base = abi.decode_address(part[0][1]) if part[0][0] else None
            feed = abi.decode_address(part[1][1]) if part[1][0] else None
            count = abi.decode_uint(part[2][1]) if part[2][0] else None
            utilization = abi.decode_uint(part[3][1]) if part[3][0] else None
            assets = self._assets(part[4 : 4 + MAX_ASSETS], count)
            if base is None or feed is None or assets is None:
                asset = AssetId(self._book.chain, "erc20", comet)
                ok = part[0][0] and part[1][0] and part[2][0]
                out.failures += [failure(w, asset, "Compound v3 market", ok) for w in wallets]
                continue
            balances = part[4 + MAX_ASSETS : 4 + MAX_ASSETS + 2 * len(wallets)]
            owed = list(part[4 + MAX_ASSETS + 2 * len(wallets) :])
            markets.append(_Market(comet, base, feed, assets, list(balances[0::2]),
                                   list(balances[1::2]), utilization, owed))  # fmt: skip
        if not markets:
            return out
        reward_tokens = [r for m in markets for r in _reward_rows(m.rewards)]
        unknown = self._book.unknown(
            [m.base for m in markets]
            + [a.address for m in markets for a in m.assets]
            + [token for token, _ in reward_tokens]
        )
        calls = TokenBook.metadata_calls(unknown)
        for m in markets:
            if m.utilization is not None:
                calls += [
                    Call(m.comet, abi.call_data(f"get{s}Rate(uint256)", m.utilization), GAS_SMALL)
                    for s in ("Supply", "Borrow")
                ]
            feeds = [m.base_feed] + [a.feed for a in m.assets]
            calls += [
                Call(m.comet, abi.call_data("getPrice(address)", f), GAS_PRICE) for f in feeds
            ]
            calls += [
                Call(
                    m.comet,
                    abi.call_data("collateralBalanceOf(address,address)", w.address, a.address),
                    GAS_BALANCE,
                )
                for a in m.assets
                for w in wallets
            ]

        def then(replies2: Sequence[Reply]) -> Outcome:
            self._book.learn(unknown, replies2[: 3 * len(unknown)])
            rest = replies2[3 * len(unknown) :]
            for m in markets:
                if m.utilization is not None:
                    rate_replies, rest = rest[:2], rest[2:]
                    out.rates += self._rates(m, wallets, rate_replies)
                out.merge(self._rewards_of(m, wallets))
                n_prices = 1 + len(m.assets)
                n_coll = len(m.assets) * len(wallets)
                prices, colls = rest[:n_prices], rest[n_prices : n_prices + n_coll]
                rest = rest[n_prices + n_coll :]
                out.merge(self._finish(m, wallets, prices, colls))
            return out

        return Step(calls, then)

    def _rates(
        self, m: _Market, wallets: list[AccountId], replies: Sequence[Reply]
    ) -> list[PositionRate]:
        """The market's supply and borrow APYs, for the sides some wallet holds."""
        held = {
            side
            for side, answers in ((RateSide.SUPPLY, m.supplied), (RateSide.BORROW, m.borrowed))
            for ok, raw in answers[: len(wallets)]
            if ok and abi.decode_uint(raw)
        }
        chain = self._book.chain
        base = str(AssetId(chain, "erc20", m.base))
        rates: list[PositionRate] = []
        for side, (ok, raw) in zip((RateSide.SUPPLY, RateSide.BORROW), replies, strict=True):
            value = abi.decode_uint(raw) if ok else None
            converted = None if value is None else wad_per_second_to_apy(value)
            if side not in held or converted is None:
                continue
            kind = PositionKind.SUPPLIED if side is RateSide.SUPPLY else PositionKind.BORROWED
            key = position_key(PROTOCOL, kind, m.comet)
            rates.append(PositionRate(str(chain), base, key, side, *converted, PROTOCOL))
        return rates

    def _rewards_of(self, m: _Market, wallets: list[AccountId]) -> Outcome:
        """Claimable rewards per wallet, valued in the reward token (COMP)."""
        out = Outcome()
        key = position_key(PROTOCOL, PositionKind.REWARDS, m.comet)
        for wallet, (ok, raw) in zip(wallets, m.rewards, strict=False):
            row = abi.decode_reply(("address", "uint256"), raw) if ok else None
            comet = AssetId(self._book.chain, "erc20", m.comet)
            if row is None:
                out.failures.append(failure(wallet, comet, "Compound v3 rewards", ok))
                continue
            token, owed = abi.checksum(row[0]), int(row[1])
            if not owed:
                continue
            info = self._book.get(token)
            if info is None:
                token_id = AssetId(self._book.chain, "erc20", token)
                out.failures.append(unknown_token(wallet, token_id, "Compound v3 reward"))
                continue
            out.balances.append(Balance(wallet, position_asset(info), owed, key))
        return out

    @staticmethod
    def _assets(replies: Sequence[Reply], count: int | None) -> list[_Asset] | None:
        if count is None or count > MAX_ASSETS:
            return None
        assets: list[_Asset] = []
        for ok, raw in replies[:count]:
            row = abi.decode_reply(ASSET_INFO_TYPES, raw) if ok else None
            if row is None or not int(row[3]):
                return None
            assets.append(_Asset(abi.checksum(row[1]), abi.checksum(row[2]), int(row[3]),
                                 Decimal(int(row[5])) / FACTOR_SCALE))  # fmt: skip
        return assets

    def _finish(
        self,
        m: _Market,
        wallets: list[AccountId],
        prices: Sequence[Reply],
        colls: Sequence[Reply],
    ) -> Outcome:
        out = Outcome()
        chain = self._book.chain
        base_info = self._book.get(m.base)
        base_id = AssetId(chain, "erc20", m.base)
        quotes = [abi.decode_uint(raw) if ok else None for ok, raw in prices]
        for w_i, wallet in enumerate(wallets):
            (ok_s, sup), (ok_b, bor) = m.supplied[w_i], m.borrowed[w_i]
            supplied = abi.decode_uint(sup) if ok_s else None
            borrowed = abi.decode_uint(bor) if ok_b else None
            if supplied is None or borrowed is None:
                ok = ok_s and ok_b
                out.failures.append(failure(wallet, base_id, "Compound v3 base balance", ok))
                continue
            if base_info is None:
                if supplied or borrowed:
                    out.failures.append(unknown_token(wallet, base_id, "Compound v3 base"))
                continue
            base = position_asset(base_info)
            if supplied:
                key = position_key(PROTOCOL, PositionKind.SUPPLIED, m.comet)
                out.balances.append(Balance(wallet, base, supplied, key))
            if borrowed:
                key = position_key(PROTOCOL, PositionKind.BORROWED, m.comet)
                out.balances.append(Balance(wallet, base, -borrowed, key))
            held: list[tuple[_Asset, int, Decimal | None]] = []
            for a_i, a in enumerate(m.assets):
                ok, raw = colls[a_i * len(wallets) + w_i]
                amount = abi.decode_uint(raw) if ok else None
                info = self._book.get(a.address)
                a_id = AssetId(chain, "erc20", a.address)
                if amount is None:
                    out.failures.append(failure(wallet, a_id, "Compound v3 collateral", ok))
                    continue
                if amount and info is None:
                    out.failures.append(unknown_token(wallet, a_id, "Compound v3 collateral"))
                elif amount and info is not None:
                    key = position_key(PROTOCOL, PositionKind.COLLATERAL, m.comet)
                    out.balances.append(Balance(wallet, position_asset(info), amount, key))
                    price = quotes[1 + a_i]
                    held.append((a, amount, None if price is None else Decimal(price)))
            if (borrowed or held) and (not quotes[0] or any(p is None for _, _, p in held)):
                comet = AssetId(chain, "erc20", m.comet)
                reason = (
                    "Compound v3: a price feed gave no price, so the account's health is unknown"
                )
                out.failures.append(CallFailure(wallet, comet, reason))
                continue
            account = self._account(m, wallet, borrowed, base_info.decimals, quotes[0], held)
            if account is not None:
                out.accounts.append(account)
        return out

    def _account(
        self,
        m: _Market,
        wallet: AccountId,
        borrowed: int,
        base_decimals: int,
        base_price: int | None,
        held: list[tuple[_Asset, int, Decimal | None]],
    ) -> LendingAccount | None:
        """None when the wallet has neither collateral nor debt (prices are checked before)."""
        if (not borrowed and not held) or not base_price:
            return None
        value = Decimal(0)
        weighted = Decimal(0)
        for asset, amount, price in held:
            assert price is not None
            v = Decimal(amount) / Decimal(asset.scale) * price / Decimal(base_price)
            value += v
            weighted += v * asset.liquidate_factor
        debt = Decimal(borrowed) / Decimal(10**base_decimals)
        chain = self._book.chain
        return LendingAccount(
            wallet=str(wallet), protocol=PROTOCOL, chain=str(chain), market=m.comet,
            collateral=value, debt=debt,
            liquidation_threshold=weighted / value if value else Decimal(0),
            health_factor=weighted / debt if debt else None,
            collateral_assets=tuple(str(AssetId(chain, "erc20", a.address)) for a, _, _ in held),
            debt_assets=(str(AssetId(chain, "erc20", m.base)),) if borrowed else (),
        )  # fmt: skip


def _reward_rows(replies: Sequence[Reply]) -> list[tuple[str, int]]:
    """(reward token, owed) of each getRewardOwed answer that decodes."""
    rows: list[tuple[str, int]] = []
    for ok, raw in replies:
        row = abi.decode_reply(("address", "uint256"), raw) if ok else None
        if row is not None and int(row[1]):
            rows.append((abi.checksum(row[0]), int(row[1])))
    return rows
