"""Pendle v2: principal (PT), yield (YT) and liquidity (LP) positions in the configured markets,
valued in the market's underlying asset by Pendle's own PY/LP oracle, plus each market's
implied APY (what a PT bought now earns until expiry).

Pendle markets expire and new ones appear every month, and no contract lists them, so markets
are data: ``[[pendle]] markets = ["0x…"]`` in the person's ``defi.toml``. The oracle is Pendle's
``PendlePYLpOracle`` (one address on every chain Pendle is on; see ``PY_LP_ORACLE``).
``duration`` is the oracle's TWAP window in seconds; 0 (the default) uses the market's current
implied rate, which needs no observation buffer on the market (a TWAP window longer than the
market's buffer makes the oracle revert).

Round 1 (with the balances), per market: ``readTokens()`` (SY, PT, YT), ``_storage()`` (the
last ln implied rate), the oracle's ``getPtToAssetRate`` / ``getYtToAssetRate`` /
``getLpToAssetRate(market, duration)``; per wallet ``market.balanceOf`` (the LP token is the
market). Round 2: ``SY.assetInfo()`` per market and ``PT/YT.balanceOf`` per wallet. Metadata of
an asset no list knows takes a rare third round.

A position is worth ``amount × rate / 1e18`` of the asset (the oracle's rates are 18-decimal
fixed point over raw units, PT and YT carrying the asset's decimals), rounded down. The
implied APY is ``e^(lnImpliedRate / 1e18) - 1``, reported as the PT position's fixed rate
(``app.domain.rates``). After expiry the oracle prices PT at 1 and YT at 0; a YT's accrued,
unclaimed interest is not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import Balance, CallFailure
from app.domain.ids import AccountId, AssetId
from app.domain.positions import PositionKind, position_key
from app.domain.rates import PositionRate, RateSide

PROTOCOL = "pendle"
# @pendle/core-v2 6.11.0 deployments/<chain>-core.json "pyYtLpOracle" (the same on every chain).
PY_LP_ORACLE = "0x5542be50420E88dd7D5B4a3D488FA6ED82F6DAc2"
ONE = 10**18
GAS_SMALL = 30_000
GAS_ORACLE = 120_000  # readTokens, exchangeRate, pyIndex and the market maths (exp/ln)
READ_TOKENS = abi.call_data("readTokens()")
STORAGE = abi.call_data("_storage()")
ASSET_INFO = abi.call_data("assetInfo()")
STORAGE_TYPES = ("int128", "int128", "uint96", "uint16", "uint16", "uint16")
_CTX = Context(prec=60)
KINDS = (PositionKind.PRINCIPAL, PositionKind.YIELD, PositionKind.LIQUIDITY)


def implied_apy(ln_implied_rate: int) -> Decimal:
    """e^(ln rate) - 1, exactly to 60 digits (the market stores ln(1 + APY) in 1e18 units)."""
    with localcontext(_CTX):
        return (Decimal(ln_implied_rate) / ONE).exp() - 1


@dataclass(slots=True)
class _Market:
    address: str
    sy: str
    pt: str
    yt: str
    ln_rate: int | None
    rates: tuple[int | None, int | None, int | None]  # PT, YT, LP to asset
    lp: list[Reply]


class Pendle:
    protocol = PROTOCOL

    def __init__(
        self, markets: Sequence[str], book: TokenBook, *, oracle: str = PY_LP_ORACLE,
        duration: int = 0,
    ) -> None:  # fmt: skip
        self._markets = list(dict.fromkeys(abi.checksum(m) for m in markets))
        self._oracle = abi.checksum(oracle)
        if not 0 <= duration < 2**32:
            raise ValueError("a Pendle oracle duration is a number of seconds (uint32)")
        self._duration = duration
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset(m.lower() for m in self._markets)  # the LP token is the market

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for m in self._markets:
            calls += [Call(m, READ_TOKENS, GAS_SMALL), Call(m, STORAGE, GAS_SMALL)]
            calls += [
                Call(
                    self._oracle,
                    abi.call_data(f"get{kind}ToAssetRate(address,uint32)", m, self._duration),
                    GAS_ORACLE,
                )
                for kind in ("Pt", "Yt", "Lp")
            ]
            calls += [
                Call(m, abi.call_data("balanceOf(address)", w.address), GAS_SMALL) for w in wallets
            ]
        wallets = list(wallets)
        return Step(calls, lambda replies: self._second(wallets, replies))

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome(covered=set(self.covers()))
        markets: list[_Market] = []
        per = 5 + len(wallets)
        for n, address in enumerate(self._markets):
            part = replies[n * per : (n + 1) * per]
            (ok_t, tokens_raw), (ok_s, storage_raw) = part[0], part[1]
            tokens = (
                abi.decode_reply(("address", "address", "address"), tokens_raw) if ok_t else None
            )
            if tokens is None:
                subject = AssetId(self._book.chain, "erc20", address)
                out.failures += [failure(w, subject, "Pendle market", ok_t) for w in wallets]
                continue
            storage = abi.decode_reply(STORAGE_TYPES, storage_raw) if ok_s else None
            rates = tuple(abi.decode_uint(raw) if ok else None for ok, raw in part[2:5])
            sy, pt, yt = (abi.checksum(t) for t in tokens)
            out.covered |= {pt.lower(), yt.lower()}
            markets.append(
                _Market(address, sy, pt, yt, None if storage is None else int(storage[2]),
                        (rates[0], rates[1], rates[2]), list(part[5:]))
            )  # fmt: skip
        if not markets:
            return out
        calls: list[Call] = []
        for m in markets:
            calls.append(Call(m.sy, ASSET_INFO, GAS_SMALL))
            for w in wallets:
                data = abi.call_data("balanceOf(address)", w.address)
                calls += [Call(m.pt, data, GAS_SMALL), Call(m.yt, data, GAS_SMALL)]

        def then(replies2: Sequence[Reply]) -> Step | Outcome:
            assets: list[tuple[str, int] | None] = []
            held: list[list[tuple[int | None, int | None, int | None, bool]]] = []
            per2 = 1 + 2 * len(wallets)
            for n, m in enumerate(markets):
                part = replies2[n * per2 : (n + 1) * per2]
                ok_a, raw_a = part[0]
                info = abi.decode_reply(("uint8", "address", "uint8"), raw_a) if ok_a else None
                assets.append(None if info is None else (abi.checksum(info[1]), int(info[2])))
                rows = []
                for w_i in range(len(wallets)):
                    (ok_p, p), (ok_y, y) = part[1 + 2 * w_i], part[2 + 2 * w_i]
                    ok_l, lp = m.lp[w_i]
                    rows.append((
                        abi.decode_uint(p) if ok_p else None,
                        abi.decode_uint(y) if ok_y else None,
                        abi.decode_uint(lp) if ok_l else None,
                        ok_p and ok_y and ok_l,
                    ))  # fmt: skip
                held.append(rows)
            unknown = self._book.unknown(a[0] for a in assets if a is not None)
            if not unknown:
                return self._finish(out, wallets, markets, assets, held)

            def learn(replies3: Sequence[Reply]) -> Outcome:
                self._book.learn(unknown, replies3)
                return self._finish(out, wallets, markets, assets, held)

            return Step(TokenBook.metadata_calls(unknown), learn)

        return Step(calls, then)

    def _finish(
        self,
        out: Outcome,
        wallets: list[AccountId],
        markets: list[_Market],
        assets: list[tuple[str, int] | None],
        held: list[list[tuple[int | None, int | None, int | None, bool]]],
    ) -> Outcome:
        chain = self._book.chain
        for m, asset, rows in zip(markets, assets, held, strict=True):
            market_id = AssetId(chain, "erc20", m.address)
            info = self._book.get(asset[0]) if asset is not None else None
            pt_held = False
            for wallet, (pt, yt, lp, ok) in zip(wallets, rows, strict=True):
                amounts = (pt, yt, lp)
                if any(a is None for a in amounts):
                    out.failures.append(failure(wallet, market_id, "Pendle balances", ok))
                    continue
                if not any(amounts):
                    continue
                if asset is None:
                    out.failures.append(failure(wallet, market_id, "Pendle SY asset", True))
                    continue
                if info is None:
                    subject = AssetId(chain, "erc20", asset[0])
                    out.failures.append(unknown_token(wallet, subject, "Pendle asset"))
                    continue
                for kind, amount, rate in zip(KINDS, amounts, m.rates, strict=True):
                    if not amount:
                        continue
                    if rate is None:
                        reason = "Pendle: the market's oracle gave no rate, so its value is unknown"
                        out.failures.append(CallFailure(wallet, market_id, reason))
                        continue
                    value = _rescale(amount * rate // ONE, asset[1], info.decimals)
                    if value:
                        key = position_key(PROTOCOL, kind, m.address)
                        out.balances.append(Balance(wallet, position_asset(info), value, key))
                        pt_held = pt_held or kind is PositionKind.PRINCIPAL
            if pt_held and info is not None and m.ln_rate is not None and m.rates[0] != ONE:
                key = position_key(PROTOCOL, PositionKind.PRINCIPAL, m.address)
                apy = implied_apy(m.ln_rate)
                out.rates.append(
                    PositionRate(
                        str(chain), str(info.asset_id), key, RateSide.FIXED, apy, protocol=PROTOCOL
                    )
                )
        return out


def _rescale(raw: int, from_decimals: int, to_decimals: int) -> int:
    """An amount in the SY's asset decimals, in the token's own (they agree for every SY seen;
    a mismatch is scaled, rounding down)."""
    if from_decimals == to_decimals:
        return raw
    if to_decimals > from_decimals:
        scale: int = 10 ** (to_decimals - from_decimals)
        return raw * scale
    scale = 10 ** (from_decimals - to_decimals)
    return raw // scale
