"""Reads native and ERC-20 balances of many wallets on one EVM chain in a few HTTP requests.

Every call of the chain is packed into Multicall3 ``aggregate3`` (allowFailure = true), chunked
by JSON body bytes and estimated gas (see ``chunking``), and the chunks are sent concurrently over
one keep-alive pool. A chunk the node rejects (too large, out of gas) is split in two and retried;
the size that worked is remembered per endpoint URL for the whole process. Without Multicall3 the
reader falls back to JSON-RPC batch arrays, chunked by bytes. One bad token is one CallFailure.

DeFi position sources (``app.defi``) add their calls to the same first pass, so positions whose
calls are known up front cost no extra round trip; calls that depend on those answers go out
together in one more round. Receipt tokens a position accounts for (aTokens, Comet, stETH) are
never also reported as plain balances.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from app.chains.evm import calls, chunking
from app.chains.http import JsonRpcTransport, RpcTransportError
from app.defi.ports import Call, PositionSource
from app.defi.session import PositionPass
from app.domain.addresses import AddressFamily
from app.domain.balances import (
    AssetInfo,
    AssetKind,
    Balance,
    CallFailure,
    ChainReadResult,
    SourceState,
)
from app.domain.chains import ChainSpec
from app.domain.ids import AccountId
from app.domain.model import Wallet


@dataclass(frozen=True, slots=True)
class _Call:
    wallet: AccountId
    asset: AssetInfo
    target: str  # contract called by multicall (token, or multicall itself for native)
    data: bytes

    @property
    def native(self) -> bool:
        return self.asset.kind is AssetKind.NATIVE


class _NodeRejected(Exception):
    """The node answered with a JSON-RPC error for the whole chunk (size, gas, revert)."""


class EvmReader:
    def __init__(
        self,
        spec: ChainSpec,
        transport: JsonRpcTransport,
        tokens: Sequence[AssetInfo],
        *,
        max_request_bytes: int = 1_500_000,
        gas_cap: int = 50_000_000,
        max_concurrency: int = 8,
        positions: Sequence[PositionSource] = (),
    ) -> None:
        self._spec = spec
        self._transport = transport
        self._positions = list(positions)
        covered = {t for source in self._positions for t in source.covers()}
        # Receipt tokens a position reads itself are not asked for twice.
        self._tokens = [t for t in tokens if t.asset_id.asset_reference.lower() not in covered]
        self._max_bytes = max_request_bytes
        self._gas_cap = gas_cap
        self._sem = asyncio.Semaphore(max_concurrency)

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    def native_info(self) -> AssetInfo:
        return self.native_info_of(self._spec)

    @staticmethod
    def native_info_of(s: ChainSpec) -> AssetInfo:
        return AssetInfo(
            s.native_asset, s.native_symbol, s.native_name, s.native_decimals, AssetKind.NATIVE,
            price_id=f"coingecko:{s.price_ids['coingecko_native']}"
            if "coingecko_native" in s.price_ids else None,
        )  # fmt: skip

    @property
    def _endpoint(self) -> str:
        """The preferred URL: what a rejection teaches is filed under it."""
        return self._transport.urls[0] if self._transport.urls else ""

    def chunks(self, plan: Sequence[_Call | Call]) -> list[list[_Call | Call]]:
        """The chunks ``plan`` is sent in, given the budgets and what this endpoint taught us."""
        return chunking.split(
            plan,
            max_bytes=self._max_bytes,
            gas_cap=None if not self._spec.multicall3 else self._gas_cap,
            max_calls=chunking.learned_calls(self._endpoint),
            batch=not self._spec.multicall3,
        )

    def _plan(self, wallets: Sequence[Wallet]) -> list[_Call]:
        native = self.native_info()
        mc = self._spec.multicall3 or ""
        out: list[_Call] = []
        for w in wallets:
            if w.family is not AddressFamily.EVM:
                continue
            acct = AccountId(self._spec.chain_id, w.address)
            out.append(_Call(acct, native, mc, calls.get_eth_balance(w.address)))
            data = calls.balance_of(w.address)  # the same calldata for every token of a wallet
            out.extend(_Call(acct, tok, tok.asset_id.asset_reference, data) for tok in self._tokens)
        return out

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        plan = self._plan(wallets)
        accounts = list(dict.fromkeys(c.wallet for c in plan if c.native))
        pass_ = PositionPass(self._positions, accounts)
        start = self._transport.requests
        per_round: list[int] = []
        try:
            replies = await self._send([*plan, *pass_.calls()])
            per_round.append(self._transport.requests - start)
            pass_.feed(replies[len(plan) :])
            while not pass_.done:  # dependent protocol calls: one more round for all of them
                pass_.feed(await self._send(pass_.calls()))
                per_round.append(self._transport.requests - start - sum(per_round))
        except (RpcTransportError, _NodeRejected) as exc:
            return ChainReadResult(
                self._spec.chain_id, SourceState.FAILED, error=str(exc),
                http_requests=self._transport.requests - start,
            )  # fmt: skip
        found = pass_.outcome()
        balances: list[Balance] = []
        failures: list[CallFailure] = []
        for call, (ok, raw) in zip(plan, replies[: len(plan)], strict=True):
            value = calls.decode_uint256(raw) if ok else None
            if call.asset.asset_id.asset_reference.lower() in found.covered:
                continue  # a receipt token the positions already account for
            if value is None:
                reason = "the token contract reverted" if not ok else "the token returned garbage"
                failures.append(CallFailure(call.wallet, call.asset.asset_id, reason))
            elif value or call.asset.kind is AssetKind.NATIVE:
                balances.append(Balance(call.wallet, call.asset, value))
        return ChainReadResult(
            self._spec.chain_id, SourceState.OK, (*balances, *found.balances),
            (*failures, *found.failures),
            http_requests=self._transport.requests - start,
            extra={"rounds": str(len(per_round)), "round_requests": ",".join(map(str, per_round))},
            accounts=tuple(found.accounts),
        )  # fmt: skip

    async def _send(self, plan: Sequence[_Call | Call]) -> list[tuple[bool, bytes]]:
        """Every call of one round, chunked and sent concurrently; answers in plan order."""
        if not plan:
            return []
        if self._spec.multicall3:
            parts = await asyncio.gather(*(self._multicall(c) for c in self.chunks(plan)))
        else:
            parts = await asyncio.gather(*(self._batch(c) for c in self.chunks(plan)))
        return [r for part in parts for r in part]

    async def _eth_call(self, to: str, data: bytes) -> bytes:
        payload = {
            "jsonrpc": "2.0", "id": 1, "method": "eth_call",
            "params": [{"to": to, "data": "0x" + data.hex()}, "latest"],
        }  # fmt: skip
        async with self._sem:
            reply = await self._transport.post(payload)
        if not isinstance(reply, dict):
            raise RpcTransportError("The RPC endpoint sent a malformed reply.")
        if "error" in reply or not isinstance(reply.get("result"), str):
            raise _NodeRejected("The node rejected the balance request.")
        return bytes.fromhex(reply["result"].removeprefix("0x"))

    async def _multicall(self, chunk: list[_Call | Call]) -> list[tuple[bool, bytes]]:
        assert self._spec.multicall3
        try:
            raw = await self._eth_call(
                self._spec.multicall3, calls.encode_aggregate3([(c.target, c.data) for c in chunk])
            )
            return calls.decode_aggregate3(raw)
        except (_NodeRejected, ValueError, OverflowError):
            if len(chunk) == 1:
                return [(False, b"")]
            half = len(chunk) // 2
            chunking.remember_calls(self._endpoint, half)  # the size that can work
            a, b = await asyncio.gather(
                self._multicall(chunk[:half]), self._multicall(chunk[half:])
            )
            return a + b

    async def _batch(self, part: list[_Call | Call]) -> list[tuple[bool, bytes]]:
        """Fallback without Multicall3: eth_getBalance / eth_call in one JSON-RPC batch array."""
        out: list[tuple[bool, bytes]] = []
        payload = []
        for n, c in enumerate(part):
            if c.native:  # getEthBalance(owner) calldata: the owner is its last 20 bytes
                params: list[object] = ["0x" + c.data[-20:].hex(), "latest"]
                payload.append(
                    {"jsonrpc": "2.0", "id": n, "method": "eth_getBalance", "params": params}
                )
            else:
                params = [{"to": c.target, "data": "0x" + c.data.hex()}, "latest"]
                payload.append({"jsonrpc": "2.0", "id": n, "method": "eth_call", "params": params})
        async with self._sem:
            reply = await self._transport.post(payload)
        if not isinstance(reply, list):
            raise RpcTransportError("The RPC endpoint does not accept JSON-RPC batches.")
        by_id = {r.get("id"): r for r in reply if isinstance(r, dict)}
        for n, c in enumerate(part):
            r = by_id.get(n, {})
            res = r.get("result")
            if not isinstance(res, str):
                out.append((False, b""))
                continue
            try:
                if c.native:  # a hex quantity such as "0x0"
                    value = int(res, 16)
                    data = value.to_bytes(32, "big") if 0 <= value < 2**256 else b""
                else:
                    data = bytes.fromhex(res.removeprefix("0x"))
            except ValueError:
                out.append((True, b""))
                continue
            out.append((True, data))
        return out

    def partial_result(self) -> ChainReadResult | None:
        return None  # the whole chain is read in one pass; a cut-short read has no whole wallet

    async def aclose(self) -> None:
        await self._transport.aclose()
