"""Reads native and ERC-20 balances of many wallets on one EVM chain in a few HTTP requests.

Every call of the chain is packed into Multicall3 ``aggregate3`` (allowFailure = true), chunked
by JSON body bytes and estimated gas (see ``chunking``), and the chunks are sent concurrently over
one keep-alive pool. A chunk the node refuses as too large or too costly (or whose aggregate3
reverted as a whole) is split in two and retried; the size that worked is remembered per
endpoint URL in the session's endpoint memory. Without Multicall3 the reader falls back to
JSON-RPC batch arrays, chunked by bytes. One bad token is one CallFailure; a bad node is never
one: its error objects, non-hex results and broken batches are retried and then fail the whole
chain (see ``replies``), so the refresh carries the chain's last holdings over as stale.

DeFi position sources (``app.domain.position_reads``; the protocols in ``app.defi`` are handed
in by the composition root) add their calls to the same first pass, so positions whose
calls are known up front cost no extra round trip; calls that depend on those answers go out
together in one more round. Receipt tokens a position accounts for (aTokens, Comet, stETH) are
never also reported as plain balances.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from app.chains.evm import calls, chunking, replies
from app.chains.http import JsonRpcTransport, RpcTransportError
from app.domain.addresses import AddressFamily
from app.domain.balances import (
    AssetInfo,
    AssetKind,
    Balance,
    CallFailure,
    ChainReadResult,
    SourceState,
    native_info,
)
from app.domain.chains import ChainSpec
from app.domain.ids import AccountId
from app.domain.model import Wallet
from app.domain.position_reads import Call, PositionPass, PositionSource
from app.net.recorder import Reveals

Reply = tuple[bool, bytes]


@dataclass(slots=True)  # not frozen: a refresh builds one per balance, 2.4x faster so
class _Call:
    wallet: AccountId
    asset: AssetInfo
    target: str  # contract called by multicall (token, or multicall itself for native)
    data: bytes

    @property
    def native(self) -> bool:
        return self.asset.kind is AssetKind.NATIVE


@dataclass
class _Progress:
    """The first round of a read in flight: the balance calls and the answers so far."""

    plan: list[_Call]
    answers: list[Reply | None]
    positions_pending: bool
    started_requests: int


async def _all(coros: Sequence[Coroutine[Any, Any, list[Reply]]]) -> list[list[Reply]]:
    """Run concurrently; the first failure cancels the others (a failed node fails them all)."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(c) for c in coros]
    except ExceptionGroup as group:
        first = group.exceptions[0]
        raise first from None
    return [t.result() for t in tasks]


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
        self._progress: _Progress | None = None

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    def native_info(self) -> AssetInfo:
        return self.native_info_of(self._spec)

    @staticmethod
    def native_info_of(s: ChainSpec) -> AssetInfo:
        return native_info(s)

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
            max_calls=self._transport.memory.learned_calls(self._endpoint),
            batch=not self._spec.multicall3,
        )

    def _plan(self, wallets: Sequence[Wallet]) -> list[_Call]:
        native = self.native_info()
        mc = self._spec.multicall3 or ""
        out: list[_Call] = []
        targets = [(tok, tok.asset_id.asset_reference) for tok in self._tokens]
        for w in wallets:
            if w.family is not AddressFamily.EVM:
                continue
            acct = AccountId(self._spec.chain_id, w.address)
            out.append(_Call(acct, native, mc, calls.get_eth_balance(w.address)))
            data = calls.balance_of(w.address)  # the same calldata for every token of a wallet
            out.extend(_Call(acct, tok, target, data) for tok, target in targets)
        return out

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        plan = self._plan(wallets)
        accounts = list(dict.fromkeys(c.wallet for c in plan if c.native))
        pass_ = PositionPass(self._positions, accounts)
        start = self._transport.requests
        first = pass_.calls()
        progress = _Progress(plan, [None] * len(plan), bool(first), start)
        self._progress = progress
        per_round: list[int] = []
        try:
            answers: list[Reply | None] = [*progress.answers, *([None] * len(first))]
            progress.answers = answers  # filled chunk by chunk: partial_result reads it
            await self._send([*plan, *first], answers)
            per_round.append(self._transport.requests - start)
            pass_.feed(_answered(answers[len(plan) :]))
            while not pass_.done:  # dependent protocol calls: one more round for all of them
                more = pass_.calls()
                got: list[Reply | None] = [None] * len(more)
                await self._send(more, got)
                pass_.feed(_answered(got))
                per_round.append(self._transport.requests - start - sum(per_round))
        except RpcTransportError as exc:
            return ChainReadResult(
                self._spec.chain_id, SourceState.FAILED, error=str(exc),
                http_requests=self._transport.requests - start,
            )  # fmt: skip
        found = pass_.outcome()
        balances, failures = self._collect(plan, _answered(answers[: len(plan)]), found.covered)
        return ChainReadResult(
            self._spec.chain_id, SourceState.OK, (*balances, *found.balances),
            (*failures, *found.failures),
            http_requests=self._transport.requests - start,
            extra={"rounds": str(len(per_round)), "round_requests": ",".join(map(str, per_round))},
            accounts=tuple(found.accounts), rates=tuple(found.rates),
        )  # fmt: skip

    @staticmethod
    def _collect(
        plan: Sequence[_Call], answers: Sequence[Reply], covered: set[str]
    ) -> tuple[list[Balance], list[CallFailure]]:
        balances: list[Balance] = []
        failures: list[CallFailure] = []
        for call, (ok, raw) in zip(plan, answers, strict=True):
            value = calls.decode_uint256(raw) if ok else None
            if covered and call.asset.asset_id.asset_reference.lower() in covered:
                continue  # a receipt token the positions already account for
            if value is None:
                reason = "the token contract reverted" if not ok else "the token returned garbage"
                asset = call.asset
                failures.append(
                    CallFailure(call.wallet, asset.asset_id, reason, asset.symbol, asset.is_spam)
                )
            elif value or call.asset.kind is AssetKind.NATIVE:
                balances.append(Balance(call.wallet, call.asset, value))
        return balances, failures

    async def _send(self, plan: Sequence[_Call | Call], into: list[Reply | None]) -> None:
        """Every call of one round, chunked and sent concurrently; each chunk's answers are
        written into ``into`` (plan order) as soon as that chunk is answered."""
        if not plan:
            return
        send = self._multicall if self._spec.multicall3 else self._batch

        async def one(at: int, chunk: list[_Call | Call]) -> list[Reply]:
            got = await send(chunk)
            into[at : at + len(got)] = got
            return got

        jobs = []
        at = 0
        for chunk in self.chunks(plan):
            jobs.append(one(at, chunk))
            at += len(chunk)
        await _all(jobs)

    async def _multicall(self, chunk: list[_Call | Call]) -> list[Reply]:
        assert self._spec.multicall3
        data = calls.encode_aggregate3([(c.target, c.data) for c in chunk])
        payload = {
            "jsonrpc": "2.0", "id": 1, "method": "eth_call",
            # The calldata's JSON text made once, as bytes (hex digits need no escaping): no
            # 2 MB str to build and then encode again.
            "params": [{"to": self._spec.multicall3, "data": calls.hex_json(data)}, "latest"],
        }  # fmt: skip
        check = replies.multicall_check(len(chunk), 1)
        async with self._sem:
            got = await self._transport.post(payload, check=check, reveals=self._reveals(chunk))
        if not isinstance(got, replies.Rejected):
            return list(got)
        if len(chunk) == 1:
            if got.kind != "size" and not chunk[0].native:
                return [(False, b"")]  # this one call sinks the aggregate: the token's fault
            # The multicall's own getEthBalance cannot revert, nor is one call too large.
            raise RpcTransportError(f"Could not read the network: {got.reason}.")
        half = len(chunk) // 2
        self._transport.memory.remember_calls(self._endpoint, half)  # the size that can work
        a, b = await _all([self._multicall(chunk[:half]), self._multicall(chunk[half:])])
        return a + b

    def _reveals(self, chunk: list[_Call | Call]) -> Reveals:
        """What an aggregate3 of ``chunk`` carries, for the privacy ledger: a balance call's
        calldata holds its wallet's address and nothing else; the contracts called and the
        protocol calls' calldata are given to be searched."""
        wallets: dict[str, None] = {}
        rest = [self._spec.multicall3 or ""]
        for c in chunk:
            if isinstance(c, _Call):
                wallets[c.wallet.address] = None
            else:
                rest.append(c.data.hex())
        rest.extend({c.target for c in chunk})
        return Reveals(tuple(wallets), " ".join(rest).encode())

    async def _batch(self, part: list[_Call | Call]) -> list[Reply]:
        """Fallback without Multicall3: eth_getBalance / eth_call in one JSON-RPC batch array."""
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
        check = replies.batch_check([c.native for c in part])
        async with self._sem:
            got: list[Reply] = await self._transport.post(payload, check=check)
        return got

    def partial_result(self) -> ChainReadResult | None:
        """The wallets whose every balance call was answered, when the read was cut short.

        Position calls run in the same first round and may need a second one; a wallet's
        positions are only known when every round is done, so a chain with positions to read
        has no finished wallet before the whole read is finished (None)."""
        progress = self._progress
        if progress is None or progress.positions_pending:
            return None
        pairs = list(zip(progress.plan, progress.answers[: len(progress.plan)], strict=True))
        unread = list(dict.fromkeys(c.wallet for c, a in pairs if a is None))
        missing = set(unread)
        done = [(c, a) for c, a in pairs if c.wallet not in missing and a is not None]
        if not done:
            return None
        balances, failures = self._collect([c for c, _ in done], [a for _, a in done], set())
        return ChainReadResult(
            self._spec.chain_id, SourceState.OK, tuple(balances), tuple(failures),
            http_requests=self._transport.requests - progress.started_requests,
            unread=tuple(unread),
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._transport.aclose()


def _answered(answers: Sequence[Reply | None]) -> list[Reply]:
    """Answers of a finished round (every one present)."""
    out = [a for a in answers if a is not None]
    if len(out) != len(answers):
        raise RpcTransportError("Could not read the network: a reply was lost.")
    return out
