"""Uniswap v2-style liquidity: LP tokens a wallet holds, as its share of the pair's reserves.

How pairs are found: a wallet's plain token balances come from token lists, which rarely list LP
tokens, and reading every token a wallet holds for ``token0()`` would cost a round after the
balances. Instead each ``[[uniswap_v2]]`` entry names a factory and its pair init-code hash plus
*base* tokens (symbols of the chain's token list, or addresses): every pair of two bases has an
address known without a call (CREATE2, as ``UniswapV2Library.pairFor`` computes it), and
``pairs`` may list any other pair address (a fork's pool, a long-tail pair the person holds).
An address with no contract behind it answers nothing and is skipped quietly; a derived address
whose contract names other tokens is not counted.

One round, with the balances: per pair ``token0()``, ``token1()``, ``getReserves()`` and
``totalSupply()``; per wallet and pair ``balanceOf``. Metadata of tokens no list knows takes one
more round, only when a wallet holds such a pair. A holding is worth
``reserve × balance / totalSupply`` of each token (what ``removeLiquidity`` pays while the pair's
balances equal its reserves), rounded down like the pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from eth_hash.auto import keccak

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import Balance
from app.domain.ids import AccountId, AssetId
from app.domain.positions import PositionKind, position_key

PROTOCOL = "uniswap-v2"
PAIR_INIT_CODE_HASH = bytes.fromhex(
    "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
)
GAS_SMALL = 30_000
TOKEN0 = abi.call_data("token0()")
TOKEN1 = abi.call_data("token1()")
RESERVES = abi.call_data("getReserves()")
TOTAL_SUPPLY = abi.call_data("totalSupply()")


def pair_address(factory: str, token_a: str, token_b: str, init_code_hash: bytes) -> str:
    """``UniswapV2Library.pairFor``: CREATE2 with salt keccak256(token0 ++ token1) (packed)."""
    a, b = sorted((bytes.fromhex(token_a[2:]), bytes.fromhex(token_b[2:])))
    if len(a) != 20 or len(b) != 20 or a == b:
        raise ValueError("a pair is two different 20-byte token addresses")
    digest = keccak(b"\xff" + bytes.fromhex(factory[2:]) + keccak(a + b) + init_code_hash)
    return abi.checksum("0x" + digest[12:].hex())


@dataclass(frozen=True, slots=True)
class V2Deployment:
    factory: str
    bases: tuple[str, ...] = ()  # token addresses; every pair of two is a candidate
    pairs: tuple[str, ...] = ()  # further pair addresses, read as they are
    init_code_hash: bytes = PAIR_INIT_CODE_HASH


@dataclass(frozen=True, slots=True)
class _Candidate:
    pair: str
    expected: tuple[str, str] | None  # the sorted tokens a derived pair must name


@dataclass(slots=True)
class _Pair:
    pair: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    supply: int
    holders: list[tuple[AccountId, int]] = field(default_factory=list)


def _candidates(deployments: Sequence[V2Deployment]) -> list[_Candidate]:
    found: dict[str, _Candidate] = {}
    for d in deployments:
        for a, b in combinations(dict.fromkeys(abi.checksum(t) for t in d.bases), 2):
            pair = pair_address(d.factory, a, b, d.init_code_hash)
            t0, t1 = sorted((a, b), key=str.lower)
            found.setdefault(pair.lower(), _Candidate(pair, (t0, t1)))
        for p in d.pairs:
            found.setdefault(p.lower(), _Candidate(abi.checksum(p), None))
    return list(found.values())


class UniswapV2:
    protocol = PROTOCOL

    def __init__(self, deployments: Sequence[V2Deployment], book: TokenBook) -> None:
        self._pairs = _candidates(deployments)
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset(c.pair.lower() for c in self._pairs)  # an LP token is the position

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for c in self._pairs:
            calls += [Call(c.pair, sel, GAS_SMALL) for sel in (TOKEN0, TOKEN1, RESERVES,
                                                               TOTAL_SUPPLY)]  # fmt: skip
            calls += [
                Call(c.pair, abi.call_data("balanceOf(address)", w.address), GAS_SMALL)
                for w in wallets
            ]
        wallets = list(wallets)
        return Step(calls, lambda replies: self._read(wallets, replies))

    def _read(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome(covered=set(self.covers()))
        held: list[_Pair] = []
        per = 4 + len(wallets)
        for n, c in enumerate(self._pairs):
            part = replies[n * per : (n + 1) * per]
            (ok0, r0), (ok1, r1), (ok_r, rr), (ok_s, rs) = part[:4]
            if ok0 and not r0:
                continue  # nothing deployed at this address: no such pair
            balances = part[4:]
            if not any(ok and abi.decode_uint(raw) for ok, raw in balances):
                continue  # nobody holds it (a broken pair nobody holds is nobody's problem)
            pair = self._pair(c, (ok0, r0), (ok1, r1), (ok_r, rr), (ok_s, rs))
            pair_id = AssetId(self._book.chain, "erc20", c.pair)
            for w, (ok, raw) in zip(wallets, balances, strict=True):
                amount = abi.decode_uint(raw) if ok else None
                if amount is None:
                    out.failures.append(failure(w, pair_id, "Uniswap v2 LP token", ok))
                elif amount and pair is None:
                    out.failures.append(failure(w, pair_id, "Uniswap v2 pair", ok0 and ok_r))
                elif amount and pair is not None:
                    if amount > pair.supply:
                        out.failures.append(failure(w, pair_id, "Uniswap v2 LP token", True))
                    else:
                        pair.holders.append((w, amount))
            if pair is not None and pair.holders:
                held.append(pair)
        if not held:
            return out
        unknown = self._book.unknown(t for p in held for t in (p.token0, p.token1))
        if not unknown:
            return self._finish(out, held)

        def learn(replies2: Sequence[Reply]) -> Outcome:
            self._book.learn(unknown, replies2)
            return self._finish(out, held)

        return Step(TokenBook.metadata_calls(unknown), learn)

    @staticmethod
    def _pair(c: _Candidate, *replies: Reply) -> _Pair | None:
        (ok0, r0), (ok1, r1), (ok_r, rr), (ok_s, rs) = replies
        t0 = abi.decode_address(r0) if ok0 else None
        t1 = abi.decode_address(r1) if ok1 else None
        reserves = abi.decode_reply(("uint112", "uint112", "uint32"), rr) if ok_r else None
        supply = abi.decode_uint(rs) if ok_s else None
        if t0 is None or t1 is None or reserves is None or not supply:
            return None
        if c.expected is not None and (t0, t1) != c.expected:
            return None  # not the pair the factory would have made
        return _Pair(c.pair, t0, t1, int(reserves[0]), int(reserves[1]), supply)

    def _finish(self, out: Outcome, held: list[_Pair]) -> Outcome:
        chain = self._book.chain
        for p in held:
            infos = (self._book.get(p.token0), self._book.get(p.token1))
            key = position_key(PROTOCOL, PositionKind.LIQUIDITY, p.pair)
            for wallet, amount in p.holders:
                missing = [t for t, i in zip((p.token0, p.token1), infos, strict=True) if i is None]
                if missing:
                    out.failures += [
                        unknown_token(wallet, AssetId(chain, "erc20", t), "Uniswap v2 pair")
                        for t in missing
                    ]
                    continue
                for info, reserve in zip(infos, (p.reserve0, p.reserve1), strict=True):
                    assert info is not None
                    share = reserve * amount // p.supply
                    if share:
                        out.balances.append(Balance(wallet, position_asset(info), share, key))
        return out
