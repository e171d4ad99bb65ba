"""Morpho Blue: supply, borrow and collateral of each wallet in each listed market, with health.

Morpho Blue is one singleton contract holding every market; a market is a 32-byte id, and there
are thousands of permissionless ones, so the markets read are a list in ``defi.toml`` (one
``[[morpho_blue]]`` entry per market; a person adds a market by adding an entry with its id,
shown on the market's page of the Morpho app).

Round 1 (with the balances), per market: ``idToMarketParams(id)`` (loan and collateral tokens,
oracle, interest rate model, LLTV) and ``market(id)`` (totals of assets and shares, the last
update and the fee); per market and wallet ``position(id, user)`` (supply shares, borrow
shares, collateral).
Round 2, per market: the IRM's ``borrowRateView(params, market)`` (the per-second borrow rate,
compounded continuously as Morpho accrues it), and the oracle's ``price()`` (collateral price in
loan-token units, scaled 1e36) where a wallet holds collateral or debt, plus metadata of tokens
no list knows.

Shares become assets with Morpho's own virtual-shares rounding (``SharesMathLib``: supply rounds
down, debt up), after the interest accrued since the market's last update is added the way
Morpho's ``_accrueInterest`` adds it (``MorphoBalancesLib.expectedMarketBalances``): the borrow
rate of round 2 compounded over the seconds elapsed (its Taylor series), the fee minted as
supply shares. The block's time comes with round 1 from Multicall3's
``getCurrentBlockTimestamp()`` (the ``clock`` of the entry; the canonical Multicall3 by
default); without it the amounts are as of the last update. Health is Morpho's own rule: a position is
liquidatable when debt > collateral x price x LLTV, so the health factor is
collateral x price x LLTV / debt (below 1: liquidatable).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import AssetInfo, Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import LendingAccount, PositionKind, position_key
from app.domain.rates import PositionRate, RateSide, continuous_apy, morpho_supply_apy

PROTOCOL = "morpho-blue"
MARKET_ID = re.compile(r"0x[0-9a-fA-F]{64}")
VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
ORACLE_SCALE = 10**36
WAD = 10**18
PARAMS_TYPES = ("address", "address", "address", "address", "uint256")
MARKET_TYPES = ("uint128",) * 6
POSITION_TYPES = ("uint256", "uint128", "uint128")
GAS_VIEW = 30_000
CLOCK = "0xcA11bde05977b3631167028862bE2a173976CA11"  # Multicall3, at this address on most chains
BLOCK_TIME = abi.call_data("getCurrentBlockTimestamp()")
GAS_IRM = 120_000  # the adaptive curve IRM does an exp and reads its own storage
GAS_ORACLE = 150_000  # a Chainlink-style oracle reads one to four feeds
PRICE = abi.call_data("price()")
BORROW_RATE_VIEW = abi.selector(
    "borrowRateView((address,address,address,address,uint256),"
    "(uint128,uint128,uint128,uint128,uint128,uint128))"
)


def market_id(text: str) -> bytes:
    """The 32-byte id of a market from its 0x-prefixed hex; ValueError for anything else."""
    if not MARKET_ID.fullmatch(text):
        raise ValueError(f"{text!r} is not a Morpho Blue market id")
    return bytes.fromhex(text[2:])


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    return shares * (total_assets + VIRTUAL_ASSETS) // (total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    d = total_shares + VIRTUAL_SHARES
    return (shares * (total_assets + VIRTUAL_ASSETS) + d - 1) // d


@dataclass(slots=True)
class _Market:
    id: bytes
    loan: str
    collateral: str
    oracle: str
    irm: str
    lltv: int
    totals: tuple[int, ...]  # supply assets, supply shares, borrow assets, borrow shares, ...
    positions: list[tuple[int, int, int]] = field(default_factory=list)
    params: tuple[str, str, str, str, int] = ("", "", "", "", 0)

    @property
    def hex(self) -> str:
        return "0x" + self.id.hex()

    def key(self, kind: PositionKind) -> str:
        return position_key(PROTOCOL, kind, self.hex)


class MorphoBlue:
    protocol = PROTOCOL

    def __init__(
        self, morpho: str, markets: Sequence[str], book: TokenBook, clock: str = CLOCK
    ) -> None:
        self._morpho = abi.checksum(morpho)
        self._clock = abi.checksum(clock)
        self._ids = list(dict.fromkeys(market_id(m.lower()) for m in markets))
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset()  # Morpho Blue positions are not tokens

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for i in self._ids:
            calls.append(
                Call(self._morpho, abi.call_data("idToMarketParams(bytes32)", i), GAS_VIEW)
            )
            calls.append(Call(self._morpho, abi.call_data("market(bytes32)", i), GAS_VIEW))
            calls += [
                Call(
                    self._morpho, abi.call_data("position(bytes32,address)", i, w.address), GAS_VIEW
                )
                for w in wallets
            ]
        calls.append(Call(self._clock, BLOCK_TIME, GAS_VIEW))
        wallets = list(wallets)
        return Step(calls, lambda replies: self._second(wallets, replies))

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome()
        markets: list[_Market] = []
        per = 2 + len(wallets)
        morpho_id = AssetId(self._book.chain, "erc20", self._morpho)
        ok_t, raw_t = replies[-1]
        now = abi.decode_uint(raw_t) if ok_t else None
        for n, i in enumerate(self._ids):
            part = replies[n * per : (n + 1) * per]
            params = abi.decode_reply(PARAMS_TYPES, part[0][1]) if part[0][0] else None
            totals = abi.decode_reply(MARKET_TYPES, part[1][1]) if part[1][0] else None
            if params is None or totals is None or not int(str(params[0]), 16):
                # an id Morpho does not know answers zero params: not a market
                ok = part[0][0] and part[1][0] and params is not None
                what = f"Morpho Blue market {'0x' + i.hex()[:10]}…"
                out.failures += [failure(w, morpho_id, what, ok) for w in wallets]
                continue
            loan, coll, oracle, irm = (abi.checksum(str(a)) for a in params[:4])
            m = _Market(i, loan, coll, oracle, irm, int(params[4]), tuple(int(t) for t in totals))
            m.params = (loan, coll, oracle, irm, int(params[4]))
            for w, (ok, raw) in zip(wallets, part[2:], strict=True):
                row = abi.decode_reply(POSITION_TYPES, raw) if ok else None
                if row is None:
                    out.failures.append(failure(w, morpho_id, "Morpho Blue position", ok))
                    m.positions.append((0, 0, 0))
                else:
                    m.positions.append((int(row[0]), int(row[1]), int(row[2])))
            markets.append(m)
        if not markets:
            return out
        unknown = self._book.unknown(t for m in markets for t in (m.loan, m.collateral))
        calls = TokenBook.metadata_calls(unknown)
        for m in markets:
            calls.append(Call(m.irm, _borrow_rate_view(m), GAS_IRM))
            calls.append(Call(m.oracle, PRICE, GAS_ORACLE))

        def then(replies2: Sequence[Reply]) -> Outcome:
            self._book.learn(unknown, replies2[: 3 * len(unknown)])
            rest = replies2[3 * len(unknown) :]
            for n, m in enumerate(markets):
                rate, price = rest[2 * n], rest[2 * n + 1]
                ok, raw = rate
                per_second = abi.decode_uint(raw) if ok else None
                if per_second is not None and now is not None:
                    m.totals = accrued(m.totals, per_second, now)
                out.merge(self._finish(m, wallets, rate, price))
            return out

        return Step(calls, then)

    def _finish(self, m: _Market, wallets: list[AccountId], rate: Reply, price: Reply) -> Outcome:
        out = Outcome()
        chain = self._book.chain
        loan_info, coll_info = self._book.get(m.loan), self._book.get(m.collateral)
        loan_id, coll_id = AssetId(chain, "erc20", m.loan), AssetId(chain, "erc20", m.collateral)
        supply_assets, supply_shares, borrow_assets, borrow_shares = m.totals[:4]
        quote = abi.decode_uint(price[1]) if price[0] else None
        held: set[RateSide] = set()
        for wallet, (s_shares, b_shares, collateral) in zip(wallets, m.positions, strict=True):
            supplied = to_assets_down(s_shares, supply_assets, supply_shares)
            debt = to_assets_up(b_shares, borrow_assets, borrow_shares)
            if (supplied or debt) and loan_info is None:
                out.failures.append(unknown_token(wallet, loan_id, "Morpho Blue loan token"))
                continue
            if collateral and coll_info is None:
                out.failures.append(unknown_token(wallet, coll_id, "Morpho Blue collateral"))
                continue
            if supplied and loan_info is not None:
                held.add(RateSide.SUPPLY)
                asset = position_asset(loan_info)
                out.balances.append(Balance(wallet, asset, supplied, m.key(PositionKind.SUPPLIED)))
            if debt and loan_info is not None:
                held.add(RateSide.BORROW)
                asset = position_asset(loan_info)
                out.balances.append(Balance(wallet, asset, -debt, m.key(PositionKind.BORROWED)))
            if collateral and coll_info is not None:
                asset = position_asset(coll_info)
                key = m.key(PositionKind.COLLATERAL)
                out.balances.append(Balance(wallet, asset, collateral, key))
            if (collateral or debt) and loan_info is not None:
                account = self._account(m, wallet, collateral, debt, quote, loan_info, coll_info)
                if account is None:
                    reason = "Morpho Blue: the market's oracle gave no price, so health is unknown"
                    out.failures.append(CallFailure(wallet, coll_id, reason))
                else:
                    out.accounts.append(account)
        out.rates += self._rates(m, rate, held)
        return out

    def _account(
        self,
        m: _Market,
        wallet: AccountId,
        collateral: int,
        debt: int,
        quote: int | None,
        loan: AssetInfo,
        coll: AssetInfo | None,
    ) -> LendingAccount | None:
        """In loan-token units: collateral x oracle price, debt, LLTV as the threshold."""
        if quote is None or (collateral and coll is None):
            return None
        loan_unit = Decimal(10) ** loan.decimals
        value = Decimal(collateral * quote) / ORACLE_SCALE / loan_unit
        owed = Decimal(debt) / loan_unit
        lltv = Decimal(m.lltv) / WAD
        chain = self._book.chain
        return LendingAccount(
            wallet=str(wallet), protocol=PROTOCOL, chain=str(chain), market=m.hex,
            collateral=value, debt=owed, liquidation_threshold=lltv,
            health_factor=value * lltv / owed if debt else None,
            collateral_assets=(str(AssetId(chain, "erc20", m.collateral)),) if collateral else (),
            debt_assets=(str(AssetId(chain, "erc20", m.loan)),) if debt else (),
        )  # fmt: skip

    def _rates(self, m: _Market, reply: Reply, held: set[RateSide]) -> list[PositionRate]:
        ok, raw = reply
        per_second = abi.decode_uint(raw) if ok else None
        converted = None if per_second is None else continuous_apy(per_second)
        if converted is None or not held:
            return []
        borrow_apy, borrow_apr = converted
        chain = str(self._book.chain)
        loan = str(AssetId(self._book.chain, "erc20", m.loan))
        supply_assets, _, borrow_assets = m.totals[:3]
        fee = m.totals[5]
        rates: list[PositionRate] = []
        if RateSide.SUPPLY in held:
            apy = morpho_supply_apy(borrow_apy, supply_assets, borrow_assets, fee)
            key = m.key(PositionKind.SUPPLIED)
            rates.append(PositionRate(chain, loan, key, RateSide.SUPPLY, apy, None, PROTOCOL))
        if RateSide.BORROW in held:
            key = m.key(PositionKind.BORROWED)
            rates.append(
                PositionRate(chain, loan, key, RateSide.BORROW, borrow_apy, borrow_apr, PROTOCOL)
            )
        return rates


def accrued(totals: tuple[int, ...], rate: int, now: int) -> tuple[int, ...]:
    """The market's totals with the interest since ``lastUpdate`` added, as ``_accrueInterest``
    adds it (same integer roundings). Unchanged when no time has passed, or for a rate too
    large to be a market's (garbage from a broken IRM must not inflate the amounts)."""
    supply_assets, supply_shares, borrow_assets, borrow_shares, last, fee = totals[:6]
    elapsed = now - last
    if elapsed <= 0 or continuous_apy(rate) is None:
        return totals
    first = rate * elapsed
    second = first * first // (2 * WAD)
    third = second * first // (3 * WAD)
    interest = borrow_assets * (first + second + third) // WAD
    borrow_assets += interest
    supply_assets += interest
    if fee:
        fee_amount = interest * fee // WAD
        fee_shares = to_shares_down(fee_amount, supply_assets - fee_amount, supply_shares)
        supply_shares += fee_shares
    return (supply_assets, supply_shares, borrow_assets, borrow_shares, now, fee)


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    return assets * (total_shares + VIRTUAL_SHARES) // (total_assets + VIRTUAL_ASSETS)


def _borrow_rate_view(m: _Market) -> bytes:
    from eth_abi.abi import encode

    params = (m.loan, m.collateral, m.oracle, m.irm, m.lltv)
    return BORROW_RATE_VIEW + encode(
        ["(address,address,address,address,uint256)",
         "(uint128,uint128,uint128,uint128,uint128,uint128)"],
        [params, m.totals],
    )  # fmt: skip
