"""Uniswap v3: each wallet's liquidity positions (NonfungiblePositionManager NFTs), as the token
amounts a burn would give back now, their uncollected fees, and whether they are in range.

Three rounds, the first shared with the balances:

1. Per wallet ``balanceOf(owner)`` and, speculatively, ``tokenOfOwnerByIndex(owner, i)`` for the
   first ``max_positions`` indexes (indexes past the wallet's count revert and are ignored), so
   the position ids need no round of their own.
2. ``positions(tokenId)`` per id found.
3. Per pool ``slot0()``, ``feeGrowthGlobal0X128()``, ``feeGrowthGlobal1X128()``; per range end
   ``ticks(tick)``; metadata of tokens no list knows. The pool's address is computed from the
   factory (CREATE2, as ``PoolAddress.computeAddress`` does), so ``factory.getPool`` costs no
   round.

Amounts and fees are the contracts' own integer maths (:mod:`app.domain.uniswap_math`). The
position key carries the NFT id (``uniswap-v3:<id>:liquidity``; ``:out-of-range`` while the
price is outside the range, ``:fees`` for uncollected fees), so two positions in the same pair
stay apart. A wallet holding more position NFTs than ``max_positions`` gets a failure naming
what was left out rather than a silently short total: a fourth dependent round would break the
refresh's round budget, and the person can raise the limit in ``defi.toml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain import uniswap_math as um
from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import PositionKind, position_key

PROTOCOL = "uniswap-v3"
DEFAULT_MAX_POSITIONS = 16
GAS_SMALL = 30_000
GAS_INDEX = 15_000  # ERC721Enumerable lookup: two storage reads, ~8k (or a cheaper revert)
GAS_POSITION = 40_000
GAS_TICK = 30_000

POSITION_TYPES = (
    "uint96", "address", "address", "address", "uint24", "int24", "int24", "uint128",
    "uint256", "uint256", "uint128", "uint128",
)  # fmt: skip
SLOT0 = abi.call_data("slot0()")
GLOBAL0 = abi.call_data("feeGrowthGlobal0X128()")
GLOBAL1 = abi.call_data("feeGrowthGlobal1X128()")
TOKEN_OF_OWNER = abi.selector("tokenOfOwnerByIndex(address,uint256)")  # hot: encoded by hand


@dataclass(frozen=True, slots=True)
class V3Deployment:
    position_manager: str
    factory: str
    init_code_hash: bytes = um.POOL_INIT_CODE_HASH
    zksync: bool = False  # zkSync Era derives CREATE2 addresses its own way
    max_positions: int = DEFAULT_MAX_POSITIONS


@dataclass(frozen=True, slots=True)
class _Position:
    wallet: AccountId
    token_id: int
    token0: str
    token1: str
    fee: int
    tick_lower: int
    tick_upper: int
    liquidity: int
    inside_last0: int
    inside_last1: int
    owed0: int
    owed1: int
    pool: str


@dataclass(frozen=True, slots=True)
class _PoolState:
    sqrt_price_x96: int
    tick: int
    global0: int
    global1: int


def _int24(word: bytes) -> int | None:
    """A sign-extended int24 in one ABI word (anything wider is garbage)."""
    value = int.from_bytes(word, "big", signed=True)
    return value if -(1 << 23) <= value < 1 << 23 else None


def decode_slot0(data: bytes) -> tuple[int, int] | None:
    """(sqrtPriceX96, tick) from the first two words of ``slot0()``; forks that widen the later
    fields (fee protocol) decode the same."""
    if len(data) < 64 or len(data) % 32:
        return None
    sqrt_price = int.from_bytes(data[:32], "big")
    tick = _int24(data[32:64])
    if tick is None or not um.MIN_SQRT_RATIO <= sqrt_price < um.MAX_SQRT_RATIO:
        return None
    return sqrt_price, tick


def decode_tick(data: bytes) -> um.TickOutside | None:
    """``ticks(t)``: the fee growth outside, words 2 and 3 of the eight."""
    if len(data) < 128 or len(data) % 32:
        return None
    return um.TickOutside(int.from_bytes(data[64:96], "big"), int.from_bytes(data[96:128], "big"))


class UniswapV3:
    protocol = PROTOCOL

    def __init__(self, deployments: Sequence[V3Deployment], book: TokenBook) -> None:
        self._deployments = list(deployments)
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset(d.position_manager.lower() for d in self._deployments)

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for d in self._deployments:
            npm = d.position_manager
            for w in wallets:
                calls.append(Call(npm, abi.call_data("balanceOf(address)", w.address), GAS_SMALL))
                owner = TOKEN_OF_OWNER + bytes(12) + bytes.fromhex(w.address[2:])
                calls += [
                    Call(npm, owner + i.to_bytes(32, "big"), GAS_INDEX)
                    for i in range(d.max_positions)
                ]
        wallets = list(wallets)
        return Step(calls, lambda replies: self._positions(wallets, replies))

    def _positions(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome(covered=set(self.covers()))
        wanted: list[tuple[V3Deployment, AccountId, int]] = []
        at = 0
        for d in self._deployments:
            npm_id = AssetId(self._book.chain, "erc20", abi.checksum(d.position_manager))
            per = 1 + d.max_positions
            for w in wallets:
                part = replies[at : at + per]
                at += per
                ok, raw = part[0]
                count = abi.decode_uint(raw) if ok else None
                if count is None:
                    out.failures.append(failure(w, npm_id, "Uniswap v3 positions", ok))
                    continue
                for i in range(min(count, d.max_positions)):
                    ok_i, raw_i = part[1 + i]
                    token_id = abi.decode_uint(raw_i) if ok_i else None
                    if token_id is None:
                        out.failures.append(failure(w, npm_id, "Uniswap v3 position list", ok_i))
                        continue
                    wanted.append((d, w, token_id))
                if count > d.max_positions:
                    reason = (
                        f"Uniswap v3: this wallet holds {count} position NFTs; only the first "
                        f"{d.max_positions} were read, so its Uniswap v3 total may be short"
                    )
                    out.failures.append(CallFailure(w, npm_id, reason))
        if not wanted:
            return out
        calls = [
            Call(d.position_manager, abi.call_data("positions(uint256)", t), GAS_POSITION)
            for d, _, t in wanted
        ]
        return Step(calls, lambda replies2: self._pools(out, wanted, replies2))

    def _pools(
        self,
        out: Outcome,
        wanted: list[tuple[V3Deployment, AccountId, int]],
        replies: Sequence[Reply],
    ) -> Step | Outcome:
        positions: list[_Position] = []
        for (d, wallet, token_id), (ok, raw) in zip(wanted, replies, strict=True):
            row = abi.decode_reply(POSITION_TYPES, raw) if ok else None
            npm_id = AssetId(self._book.chain, "erc20", abi.checksum(d.position_manager))
            if row is None:
                out.failures.append(failure(wallet, npm_id, f"Uniswap v3 position #{token_id}", ok))
                continue
            t0, t1 = abi.checksum(row[2]), abi.checksum(row[3])
            lower, upper, fee = int(row[5]), int(row[6]), int(row[4])
            if not (um.MIN_TICK <= lower < upper <= um.MAX_TICK) or t0.lower() >= t1.lower():
                out.failures.append(
                    failure(wallet, npm_id, f"Uniswap v3 position #{token_id}", True)
                )
                continue
            liquidity, owed0, owed1 = int(row[7]), int(row[10]), int(row[11])
            if not liquidity and not owed0 and not owed1:
                continue  # a closed position: the NFT holds nothing
            pool = abi.checksum(
                um.pool_address(d.factory, t0, t1, fee, d.init_code_hash, zksync=d.zksync)
            )
            positions.append(
                _Position(wallet, token_id, t0, t1, fee, lower, upper, liquidity,
                          int(row[8]), int(row[9]), owed0, owed1, pool)
            )  # fmt: skip
        if not positions:
            return out
        pools = list(dict.fromkeys(p.pool for p in positions))
        ticks = list(
            dict.fromkeys((p.pool, t) for p in positions for t in (p.tick_lower, p.tick_upper))
        )
        unknown = self._book.unknown(t for p in positions for t in (p.token0, p.token1))
        calls = TokenBook.metadata_calls(unknown)
        for pool in pools:
            calls += [Call(pool, SLOT0, GAS_SMALL), Call(pool, GLOBAL0, GAS_SMALL),
                      Call(pool, GLOBAL1, GAS_SMALL)]  # fmt: skip
        calls += [Call(pool, abi.call_data("ticks(int24)", t), GAS_TICK) for pool, t in ticks]

        def then(replies3: Sequence[Reply]) -> Outcome:
            self._book.learn(unknown, replies3[: 3 * len(unknown)])
            rest = replies3[3 * len(unknown) :]
            states: dict[str, _PoolState | None] = {}
            for n, pool in enumerate(pools):
                (ok_s, s0), (ok_0, g0), (ok_1, g1) = rest[3 * n : 3 * n + 3]
                slot0 = decode_slot0(s0) if ok_s else None
                global0 = abi.decode_uint(g0) if ok_0 else None
                global1 = abi.decode_uint(g1) if ok_1 else None
                states[pool] = (
                    None if slot0 is None or global0 is None or global1 is None
                    else _PoolState(slot0[0], slot0[1], global0, global1)
                )  # fmt: skip
            tick_rest = rest[3 * len(pools) :]
            outside = {
                key: decode_tick(raw) if ok else None
                for key, (ok, raw) in zip(ticks, tick_rest, strict=True)
            }
            for p in positions:
                self._finish(out, p, states[p.pool], outside)
            return out

        return Step(calls, then)

    def _finish(
        self,
        out: Outcome,
        p: _Position,
        state: _PoolState | None,
        outside: dict[tuple[str, int], um.TickOutside | None],
    ) -> None:
        chain = self._book.chain
        pool_id = AssetId(chain, "erc20", p.pool)
        what = f"Uniswap v3 position #{p.token_id}"
        if state is None:
            out.failures.append(CallFailure(p.wallet, pool_id, f"{what}: its pool did not answer"))
            return
        infos = (self._book.get(p.token0), self._book.get(p.token1))
        for token, info in zip((p.token0, p.token1), infos, strict=True):
            if info is None:
                out.failures.append(unknown_token(p.wallet, AssetId(chain, "erc20", token), what))
        if infos[0] is None or infos[1] is None:
            return
        assets = (position_asset(infos[0]), position_asset(infos[1]))
        amounts = um.amounts_for_liquidity(
            state.sqrt_price_x96, state.tick, p.tick_lower, p.tick_upper, p.liquidity
        )
        ranged = um.in_range(state.tick, p.tick_lower, p.tick_upper)
        kind = PositionKind.LIQUIDITY if ranged else PositionKind.OUT_OF_RANGE
        key = position_key(PROTOCOL, kind, str(p.token_id))
        for asset, amount in zip(assets, amounts, strict=True):
            if amount:
                out.balances.append(Balance(p.wallet, asset, amount, key))
        lower, upper = outside.get((p.pool, p.tick_lower)), outside.get((p.pool, p.tick_upper))
        if p.liquidity and (lower is None or upper is None):
            reason = f"{what}: the pool's ticks did not answer, so its fees are unknown"
            out.failures.append(CallFailure(p.wallet, pool_id, reason))
            return
        fees = um.uncollected_fees(
            tick=state.tick, tick_lower=p.tick_lower, tick_upper=p.tick_upper,
            liquidity=p.liquidity,
            fee_growth_global0_x128=state.global0, fee_growth_global1_x128=state.global1,
            lower=lower or um.TickOutside(0, 0), upper=upper or um.TickOutside(0, 0),
            inside_last0_x128=p.inside_last0, inside_last1_x128=p.inside_last1,
            tokens_owed0=p.owed0, tokens_owed1=p.owed1,
        )  # fmt: skip
        fee_key = position_key(PROTOCOL, PositionKind.FEES, str(p.token_id))
        for asset, amount in zip(assets, fees, strict=True):
            if amount:
                out.balances.append(Balance(p.wallet, asset, amount, fee_key))
