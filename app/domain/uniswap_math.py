"""Exact integer maths of Uniswap v3 positions, ported from the protocol's own libraries.

Python integers are unbounded, so every uint256 step of the Solidity code that relies on
wrap-around (fee growth counters are meant to overflow) is reduced modulo 2**256 here, exactly
where the contracts do it, and every ``uint128(...)`` downcast is reduced modulo 2**128. The
results are therefore the contracts' own to the last unit:

- :func:`sqrt_ratio_at_tick`: ``TickMath.getSqrtRatioAtTick`` (v3-core 1.0.1).
- :func:`amounts_for_liquidity`: what ``UniswapV3Pool.burn(liquidity)`` returns for a position
  (``Pool._modifyPosition`` with ``SqrtPriceMath.getAmount0Delta/getAmount1Delta``, rounding
  down), which decides the side by the pool's current *tick*, as the pool does.
- :func:`fee_growth_inside` and :func:`uncollected_fees`: ``Tick.getFeeGrowthInside`` and the
  owed-fee update of ``NonfungiblePositionManager.collect`` (v3-periphery 1.4.4).
- :func:`pool_address`: ``PoolAddress.computeAddress`` (CREATE2), and the zkSync Era variant.

Pure: no I/O, no floats.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
Q128 = 1 << 128
U256 = 1 << 256
U128 = 1 << 128
MAX_UINT256 = U256 - 1

POOL_INIT_CODE_HASH = bytes.fromhex(
    "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
)
_ZKSYNC_CREATE2_PREFIX = keccak(b"zksyncCreate2")
_EMPTY_INPUT_HASH = keccak(b"")

# (bit of |tick|, multiplier) of TickMath.getSqrtRatioAtTick, in the contract's order.
_TICK_FACTORS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


def sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001^tick) * 2^96, rounded as the contract rounds. ValueError outside the ticks."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise ValueError(f"tick {tick} is outside Uniswap v3's range")
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 0x1 else 1 << 128
    for bit, factor in _TICK_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount0Delta(..., roundUp=false)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a <= 0:
        raise ValueError("a square-root price must be positive")
    numerator1 = liquidity << 96
    return (numerator1 * (sqrt_b - sqrt_a) // sqrt_b) // sqrt_a


def amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """SqrtPriceMath.getAmount1Delta(..., roundUp=false)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    return liquidity * (sqrt_b - sqrt_a) // Q96


def amounts_for_liquidity(
    sqrt_price_x96: int, tick: int, tick_lower: int, tick_upper: int, liquidity: int
) -> tuple[int, int]:
    """(amount0, amount1) that burning ``liquidity`` of the position would give back now."""
    if liquidity <= 0:
        return 0, 0
    lower, upper = sqrt_ratio_at_tick(tick_lower), sqrt_ratio_at_tick(tick_upper)
    if tick < tick_lower:
        return amount0_delta(lower, upper, liquidity), 0
    if tick < tick_upper:
        return (
            amount0_delta(sqrt_price_x96, upper, liquidity),
            amount1_delta(lower, sqrt_price_x96, liquidity),
        )
    return 0, amount1_delta(lower, upper, liquidity)


def in_range(tick: int, tick_lower: int, tick_upper: int) -> bool:
    """The position earns fees (the pool counts its liquidity as active) at ``tick``."""
    return tick_lower <= tick < tick_upper


def fee_growth_inside(
    tick: int,
    tick_lower: int,
    tick_upper: int,
    global_x128: int,
    lower_outside_x128: int,
    upper_outside_x128: int,
) -> int:
    """Tick.getFeeGrowthInside for one token, with the contract's uint256 wrap-around."""
    below = lower_outside_x128 if tick >= tick_lower else (global_x128 - lower_outside_x128) % U256
    above = upper_outside_x128 if tick < tick_upper else (global_x128 - upper_outside_x128) % U256
    return (global_x128 - below - above) % U256


def owed_since(inside_x128: int, inside_last_x128: int, liquidity: int) -> int:
    """``uint128(FullMath.mulDiv(inside - last, liquidity, Q128))``: fees accrued since the
    position's last update (the subtraction wraps, the downcast truncates, as on chain)."""
    return ((inside_x128 - inside_last_x128) % U256 * liquidity // Q128) % U128


@dataclass(frozen=True, slots=True)
class TickOutside:
    """``pool.ticks(t)``: the fee growth recorded on the other side of an initialised tick."""

    fee_growth_outside0_x128: int
    fee_growth_outside1_x128: int


def uncollected_fees(
    *,
    tick: int,
    tick_lower: int,
    tick_upper: int,
    liquidity: int,
    fee_growth_global0_x128: int,
    fee_growth_global1_x128: int,
    lower: TickOutside,
    upper: TickOutside,
    inside_last0_x128: int,
    inside_last1_x128: int,
    tokens_owed0: int,
    tokens_owed1: int,
) -> tuple[int, int]:
    """What ``NonfungiblePositionManager.collect`` would pay out now (before the pool's own
    balance caps it): the owed tokens already recorded plus the fees accrued since."""
    owed0, owed1 = tokens_owed0, tokens_owed1
    if liquidity > 0:
        inside0 = fee_growth_inside(
            tick, tick_lower, tick_upper, fee_growth_global0_x128,
            lower.fee_growth_outside0_x128, upper.fee_growth_outside0_x128,
        )  # fmt: skip
        inside1 = fee_growth_inside(
            tick, tick_lower, tick_upper, fee_growth_global1_x128,
            lower.fee_growth_outside1_x128, upper.fee_growth_outside1_x128,
        )  # fmt: skip
        owed0 = (owed0 + owed_since(inside0, inside_last0_x128, liquidity)) % U128
        owed1 = (owed1 + owed_since(inside1, inside_last1_x128, liquidity)) % U128
    return owed0, owed1


def _address_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"{address!r} is not a 20-byte address")
    return raw


def pool_salt(token0: str, token1: str, fee: int) -> bytes:
    """keccak256(abi.encode(token0, token1, fee)): PoolAddress's CREATE2 salt."""
    t0, t1 = _address_bytes(token0), _address_bytes(token1)
    if not 0 <= fee < 1 << 24:
        raise ValueError("a fee tier is a uint24")
    return keccak(bytes(12) + t0 + bytes(12) + t1 + fee.to_bytes(32, "big"))


def pool_address(
    factory: str,
    token0: str,
    token1: str,
    fee: int,
    init_code_hash: bytes = POOL_INIT_CODE_HASH,
    *,
    zksync: bool = False,
) -> str:
    """The pool's address (lowercase hex), as ``PoolAddress.computeAddress`` finds it; zkSync
    Era derives CREATE2 addresses differently (and its pools have their own bytecode hash)."""
    salt = pool_salt(token0, token1, fee)
    sender = _address_bytes(factory)
    if zksync:
        digest = keccak(
            _ZKSYNC_CREATE2_PREFIX + bytes(12) + sender + salt + init_code_hash + _EMPTY_INPUT_HASH
        )
    else:
        digest = keccak(b"\xff" + sender + salt + init_code_hash)
    return "0x" + digest[12:].hex()
