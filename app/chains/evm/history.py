"""An EVM chain's history of a set of wallets, from the person's own node (``HistorySource``).

What is read, per window of blocks (all wallets of the chain together):

1. ERC-20 ``Transfer`` logs from and to the wallets: two ``eth_getLogs`` filters (the wallets as
   a topic OR-list in position 1, then in position 2), cut into block ranges whose span adapts
   to what the node accepts (:mod:`app.chains.evm.ranges`), sent as concurrent JSON-RPC batches.
   Logs that share the Transfer topic but not its layout (ERC-721's id in a third topic, data
   that is not one 32-byte word) are skipped: a token contract writes them, not the node.
2. Native transfers: ``trace_filter`` by ``fromAddress`` and by ``toAddress`` where the node has
   it (asked once per endpoint; "method not found" is remembered). Without it, and only if the
   person chose one, a block explorer's transaction and internal-transaction lists
   (:mod:`app.chains.evm.explorer`). With neither, native transfers are not known and every
   batch says so in ``notes``.
3. Fees of the transactions a wallet sent (token-only ones too): ``gasUsed × effectiveGasPrice``
   plus an OP-stack ``l1Fee`` and blob gas, from receipts fetched in batches from the node.
4. Block times: the log's ``blockTimestamp`` where the node gives one, else
   ``eth_getBlockByNumber(n, false)`` in batches.

Re-org safety: a cursor is the last block read, as text; a resumed scan starts ``depth`` blocks
before it (the chain's confirmation depth, ``resources/chains.toml`` ``[history.confirmations]``)
and says so in ``ScanBatch.reread_from``. Each batch is complete for its wallets through its
last block, so the service may store it with its cursors and a stopped scan loses nothing.

Identity: a movement's index is the log index (token) or a number derived from the trace
position (native, 0 for the transaction's own value). The incoming side of a wallet's transfer
to itself adds ``SELF_OFFSET`` so both sides keep distinct keys.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.chains.evm.explorer import (
    ETHERSCAN_KEY,
    BlockExplorer,
    ExplorerError,
    ExplorerRow,
    HistorySettings,
    blockscout,
    etherscan,
)
from app.chains.evm.history_replies import (
    ADDRESS,
    TRANSFER_TOPIC,
    Log,
    Trace,
    parse_log,
    parse_trace,
    quantity,
    raise_for,
    receipt,
    topic,
    trace_index,
)
from app.chains.evm.ranges import (
    MethodMissing,
    Query,
    RangedFetcher,
    RangeMemory,
    gather,
    spread,
)
from app.chains.evm.replies import batch_items
from app.chains.http import ChainCheck, JsonRpcTransport, ReplyError
from app.domain.addresses import to_checksum_address
from app.domain.chains import ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import AssetId
from app.domain.onchain import Fee, Movement, MovementKind, ScanBatch, ScanRequest
from app.domain.ports import SecretStore

log = logging.getLogger(__name__)

SELF_OFFSET = 1 << 32
UNSTAMPED = -1  # a movement's time until its block's time is known
DEFAULT_DEPTH = 256
RECEIPTS_PER_REQUEST = 100
BLOCKS_PER_REQUEST = 200
STATE_PER_REQUEST = 250
NO_NATIVE_NOTE = (
    "Native coin transfers were not read: this node does not offer trace_filter and no block "
    "explorer is chosen for the history (Settings → History). Token transfers and the fees of "
    "transactions with token transfers are complete."
)
_CLASS_NAME = re.compile(r" ?\(\w*(Error|Exception|Timeout)\w*\)")
_CHAINS_FILE = Path(__file__).resolve().parents[3] / "resources" / "chains.toml"


class HistoryError(ChainfolioError):
    """The history of a chain could not be read (a sentence a person can read)."""


def history_table(path: Path = _CHAINS_FILE) -> dict[str, Any]:
    with open(path, "rb") as fh:
        table = tomllib.load(fh).get("history", {})
    return table if isinstance(table, dict) else {}


def confirmation_depth(chain: str, table: dict[str, Any] | None = None) -> int:
    """Blocks a resumed scan reads again (re-org safety) for ``chain``; custom networks get the
    ``default`` of ``resources/chains.toml``."""
    depths = (table if table is not None else history_table()).get("confirmations", {})
    value = depths.get(chain, depths.get("default", DEFAULT_DEPTH))
    return int(value) if isinstance(value, int) and value >= 0 else DEFAULT_DEPTH


def blockscout_instance(chain: str, table: dict[str, Any] | None = None) -> str | None:
    """The public Blockscout instance of a chain, if it has one."""
    urls = (table if table is not None else history_table()).get("blockscout", {})
    found = urls.get(chain)
    return str(found) if isinstance(found, str) else None


@dataclass
class _Window:
    lo: int
    hi: int
    wallets: tuple[str, ...]  # lower-case
    stored: dict[str, str]  # lower-case -> the form the request named
    movements: dict[str, Movement] = field(default_factory=dict)
    fee_txs: dict[str, int] = field(default_factory=dict)  # tx a wallet may have sent -> block
    fees: list[tuple[str, str, int, int]] = field(default_factory=list)  # tx, wallet, block, wei
    ts: dict[int, int] = field(default_factory=dict)


class EvmHistorySource:
    """Implements :class:`app.domain.onchain.HistorySource` for one EVM chain."""

    def __init__(
        self,
        spec: ChainSpec,
        transport: JsonRpcTransport,
        *,
        explorer: BlockExplorer | None = None,
        depth: int | None = None,
        memory: RangeMemory | None = None,
        max_concurrency: int = 8,
        items_per_request: int = 16,
        window_blocks: int | None = None,
    ) -> None:
        self._spec = spec
        self._transport = transport
        self._explorer = explorer
        self._depth = confirmation_depth(self.chain) if depth is None else depth
        self._memory = memory or RangeMemory()
        self._sem = asyncio.Semaphore(max_concurrency)
        self._fetch = RangedFetcher(
            transport, self._memory, self._sem, items_per_request, max_concurrency
        )
        self._concurrency = max_concurrency
        self._items = items_per_request
        self._window_blocks = window_blocks
        self._native = str(spec.native_asset)
        self._tokens: dict[str, str] = {}
        self._checksums: dict[str, str] = {}
        self._explorer_rows: dict[str, list[ExplorerRow]] | None = None
        self._scan_head = 0
        self._never_moved: set[str] = set()

    @property
    def chain(self) -> str:
        return str(self._spec.chain_id)

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def memory(self) -> RangeMemory:
        return self._memory

    @property
    def requests(self) -> int:
        """HTTP requests made to the node so far (the transport's count)."""
        return self._transport.requests

    async def aclose(self) -> None:
        await self._transport.aclose()
        if self._explorer is not None:
            await self._explorer.aclose()

    # ------------------------------------------------------------------ the scan

    async def scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]:
        try:
            async for batch in self._scan(requests):
                yield batch
        except (ReplyError, ChainfolioError) as exc:
            if isinstance(exc, HistoryError):
                raise
            text = _CLASS_NAME.sub("", str(exc))  # "(ConnectError)" is for the log, not a person
            text = text[0].upper() + text[1:] if text else "No answer"
            log.info("%s: history scan failed: %s", self.chain, exc)
            raise HistoryError(
                f"The history of {self._spec.name} could not be read. {text.rstrip('.')}."
            ) from None

    def _wallets(self, requests: Sequence[ScanRequest]) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in requests:
            if not ADDRESS.fullmatch(r.wallet):
                raise HistoryError(f"{r.wallet[:60]!r} is not an EVM address.")
            out[r.wallet.lower()] = r.wallet
        return out

    def _start(self, request: ScanRequest, head: int) -> int | None:
        """The first block to read for a wallet; None when it was never scanned (from 0)."""
        if request.cursor is None:
            return None
        if not request.cursor.isdigit() or len(request.cursor) > 20:
            raise HistoryError(
                f"The stored scan position of {request.wallet} on {self._spec.name} is not a "
                "block number; scan that wallet again from the start."
            )
        return max(0, min(int(request.cursor), head) - self._depth)

    async def _scan(self, requests: Sequence[ScanRequest]) -> AsyncIterator[ScanBatch]:
        stored = self._wallets(requests)
        if not stored:
            return
        fresh = [r.wallet.lower() for r in requests if r.cursor is None]
        head, self._never_moved = await self._head(fresh)
        self._scan_head = head
        self._explorer_rows = None  # an explorer's lists are read once per scan
        starts: dict[str, int] = {}
        reread: dict[str, int] = {}
        for r in requests:
            start = self._start(r, head)
            starts[r.wallet.lower()] = 0 if start is None else start
            if start is not None:
                reread[r.wallet.lower()] = start
        first = min(starts.values())
        total = head - first + 1
        joined: set[str] = set()
        cur = first
        while cur <= head:
            active = tuple(sorted(w for w, s in starts.items() if s <= cur))
            later = [s for s in starts.values() if s > cur]
            hi = min(head, (min(later) - 1) if later else head, cur + self._window_size() - 1)
            window = _Window(cur, hi, active, stored)
            notes = await self._read(window, starts)
            new = [w for w in active if w not in joined]
            joined.update(new)
            yield ScanBatch(
                chain=self.chain,
                movements=tuple(sorted(window.movements.values(), key=_order)),
                fees=tuple(sorted(self._fees_of(window), key=lambda f: (f.block, f.tx))),
                cursors={stored[w]: str(hi) for w in active},
                reread_from={stored[w]: reread[w] for w in new if w in reread},
                done=hi - first + 1,
                total=total,
                notes=notes,
            )
            if not self._fetch.refused:
                for method in ("eth_getLogs", "trace_filter"):
                    self._memory.grow(self._fetch.url, method)
            self._fetch.refused = False
            cur = hi + 1

    def _window_size(self) -> int:
        if self._window_blocks:
            return self._window_blocks
        span = self._memory.span(self._fetch.url, "eth_getLogs")
        return max(1, span * self._concurrency * self._items // 2)

    async def _head(self, fresh: Sequence[str]) -> tuple[int, set[str]]:
        """The chain's head, and which wallets read from the start never moved their own coin:
        a plain account (no code) that never sent (nonce 0) and holds no coin cannot have
        received any either. Asked "latest" in the head's own batch (no extra round trip): a
        wallet that never moved by a later block never moved by the head either."""
        payload: list[dict[str, Any]] = [
            {"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []}
        ]
        for w in fresh:
            for method in ("eth_getCode", "eth_getTransactionCount", "eth_getBalance"):
                payload.append(
                    {"jsonrpc": "2.0", "id": len(payload), "method": method,
                     "params": [w, "latest"]}
                )  # fmt: skip

        def check(reply: Any) -> tuple[int, set[str]]:
            items = batch_items(reply, len(payload))
            if items[0].get("error") is not None:
                raise_for(items[0]["error"])
            head = quantity(items[0].get("result"), "a block number")
            still: set[str] = set()
            for n, w in enumerate(fresh):
                code, nonce, balance = (items[1 + 3 * n + k].get("result") for k in range(3))
                if code == "0x" and nonce in ("0x0", "0x") and balance in ("0x0", "0x"):
                    still.add(w)
            return head, still

        async with self._sem:
            got: tuple[int, set[str]] = await self._transport.post(payload, check=check)
        return got

    # ------------------------------------------------------------------ one window

    async def _read(self, window: _Window, starts: dict[str, int]) -> tuple[str, ...]:
        url = self._fetch.url
        moved = _Window(
            window.lo,
            window.hi,
            tuple(w for w in window.wallets if w not in self._never_moved),
            window.stored,
        )
        _, quiet = await gather([self._logs(window), self._quiet(moved)])
        quiet |= self._never_moved
        busy = tuple(w for w in window.wallets if w not in quiet)
        traces: list[tuple[str, Trace]] | None = []
        if busy and not self._memory.lacks(url, "trace_filter"):
            traces = await self._traces(window, busy)
        elif busy:
            traces = None
        notes: tuple[str, ...] = ()
        if traces is not None:
            nested = {t.tx for _, t in traces if t.value and t.path and not t.failed}
            voided = await self._voided(nested)
            self._trace_movements(window, traces, voided)
        elif self._explorer is not None:
            await self._explorer_movements(window, starts, busy)
        else:
            notes = (NO_NATIVE_NOTE,)
            for m in window.movements.values():  # the receipt tells who sent each of them
                window.fee_txs.setdefault(m.tx, m.block)
        self._drop_before_start(window, starts)
        need = {m.block for m in window.movements.values() if m.ts == UNSTAMPED}
        need.update(window.fee_txs.values())
        need.difference_update(window.ts)
        _, times = await gather([self._receipts(window), self._block_times(need)])
        window.ts.update(times)
        self._stamp(window)
        return notes

    async def _quiet(self, window: _Window) -> set[str]:
        """Wallets whose own coin could not have moved in the window: no code (a plain account,
        not a contract or an EIP-7702 delegate), the same nonce (it sent nothing, so paid no
        fee and sent no coin) and the same balance before and after (so it received nothing).
        Their traces are not asked for (trace_filter is a node's costliest query) and they are
        never named to an explorer. A node without the old state (not an archive node) answers
        with errors: those wallets are simply traced."""
        before = hex(max(0, window.lo - 1))
        after = hex(window.hi)
        calls: list[tuple[str, str, list[Any]]] = []
        for w in window.wallets:
            calls += [
                (w, "eth_getCode", [w, after]),
                (w, "eth_getTransactionCount", [w, before]),
                (w, "eth_getTransactionCount", [w, after]),
                (w, "eth_getBalance", [w, before]),
                (w, "eth_getBalance", [w, after]),
            ]

        async def part(chunk: list[tuple[str, str, list[Any]]]) -> list[Any]:
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": m, "params": p}
                for n, (_, m, p) in enumerate(chunk)
            ]

            def check(reply: Any) -> list[Any]:
                return [i.get("result") if i.get("error") is None else None
                        for i in batch_items(reply, len(chunk))]  # fmt: skip

            async with self._sem:
                got: list[Any] = await self._transport.post(payload, check=check)
            return got

        parts = await gather([part(c) for c in spread(calls, STATE_PER_REQUEST, 1)])
        answers = [a for p in parts for a in p]
        quiet = set()
        for n, w in enumerate(window.wallets):
            code, n0, n1, b0, b1 = answers[5 * n : 5 * n + 5]
            if code == "0x" and n0 is not None and n0 == n1 and b0 is not None and b0 == b1:
                quiet.add(w)
        return quiet

    async def _logs(self, window: _Window) -> None:
        f = self._fetch
        queries = [
            *f.plan("eth_getLogs", "out", window.lo, window.hi, window.wallets),
            *f.plan("eth_getLogs", "in", window.lo, window.hi, window.wallets),
        ]

        def params(q: Query) -> list[Any]:
            topics: list[Any] = [TRANSFER_TOPIC, None, None]
            topics[1 if q.key == "out" else 2] = [topic(w) for w in q.wallets]
            return [{"fromBlock": hex(q.lo), "toBlock": hex(q.hi), "topics": topics}]

        def check(q: Query, result: Any) -> list[Log]:
            if not isinstance(result, list):
                raise ReplyError("the RPC node answered a log query without a list")
            return [log for raw in result if (log := parse_log(raw, q)) is not None]

        for query, logs in await f.run(queries, params, check):
            for lg in logs:
                self._log_movement(window, query.key, lg)

    def _log_movement(self, window: _Window, key: str, lg: Log) -> None:
        if not lg.value:
            return  # zero-value transfers (address poisoning) move nothing
        asset = self._token(lg.token)
        if lg.ts is not None:
            window.ts[lg.block] = lg.ts
        ts = UNSTAMPED if lg.ts is None else lg.ts
        if key == "out":
            m = Movement(
                self.chain, lg.tx, lg.block, ts, window.stored[lg.sender], asset, -lg.value,
                MovementKind.TOKEN, self._checksum(lg.receiver), lg.index,
            )  # fmt: skip
        else:
            index = lg.index + (SELF_OFFSET if lg.sender == lg.receiver else 0)
            m = Movement(
                self.chain, lg.tx, lg.block, ts, window.stored[lg.receiver], asset, lg.value,
                MovementKind.TOKEN, self._checksum(lg.sender), index,
            )  # fmt: skip
        window.movements[m.key] = m

    def _checksum(self, address: str) -> str:
        """EIP-55 form of a lower-case address (a keccak each: kept for the source's life)."""
        found = self._checksums.get(address)
        if found is None:
            found = self._checksums[address] = to_checksum_address(address)
        return found

    def _token(self, address: str) -> str:
        found = self._tokens.get(address)
        if found is None:
            found = self._tokens[address] = str(
                AssetId(self._spec.chain_id, "erc20", self._checksum(address))
            )
        return found

    async def _traces(
        self, window: _Window, wallets: tuple[str, ...]
    ) -> list[tuple[str, Trace]] | None:
        f = self._fetch
        queries = [
            *f.plan("trace_filter", "from", window.lo, window.hi, wallets),
            *f.plan("trace_filter", "to", window.lo, window.hi, wallets),
        ]

        def params(q: Query) -> list[Any]:
            side = "fromAddress" if q.key == "from" else "toAddress"
            return [{"fromBlock": hex(q.lo), "toBlock": hex(q.hi), side: list(q.wallets)}]

        def check(q: Query, result: Any) -> list[Trace]:
            if not isinstance(result, list):
                raise ReplyError("the RPC node answered a trace query without a list")
            out = []
            for raw in result:
                t = parse_trace(raw)
                if t is None:
                    continue
                if not q.lo <= t.block <= q.hi:
                    raise ReplyError("the RPC node sent a trace outside the blocks asked for")
                if (t.sender if q.key == "from" else t.receiver) in q.wallets:
                    out.append(t)
            return out

        try:
            answered = await f.run(queries, params, check)
        except MethodMissing:
            log.info("%s: the node has no trace_filter; native history from elsewhere", self.chain)
            return None
        return [(q.key, t) for q, traces in answered for t in traces]

    async def _voided(self, txs: set[str]) -> set[tuple[str, tuple[int, ...]]]:
        """Calls inside a reverted call: they show in a trace without an error of their own,
        yet moved nothing. The whole traces of the transactions with nested value calls."""
        if not txs:
            return set()
        ordered = sorted(txs)
        voided: set[tuple[str, tuple[int, ...]]] = set()

        async def part(chunk: list[str]) -> None:
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": "trace_transaction", "params": [tx]}
                for n, tx in enumerate(chunk)
            ]

            def check(reply: Any) -> list[list[Trace]]:
                out = []
                for item in batch_items(reply, len(chunk)):
                    if item.get("error") is not None:
                        raise_for(item["error"])
                    result = item.get("result")
                    if not isinstance(result, list):
                        raise ReplyError("the RPC node sent no trace of a transaction it traced")
                    out.append([t for raw in result if (t := parse_trace(raw)) is not None])
                return out

            async with self._sem:
                answered = await self._transport.post(payload, check=check)
            for traces in answered:
                failed = [t.path for t in traces if t.failed]
                for t in traces:
                    if any(t.path[: len(p)] == p for p in failed):
                        voided.add((t.tx, t.path))

        await gather([part(c) for c in spread(ordered, RECEIPTS_PER_REQUEST, 1)])
        return voided

    def _trace_movements(
        self, window: _Window, traces: Iterable[tuple[str, Trace]], voided: set[Any]
    ) -> None:
        for key, t in traces:
            if key == "from" and t.root:
                window.fee_txs[t.tx] = t.block  # the wallet sent it: it paid the fee
            if not t.value or not t.moves or t.failed or (t.tx, t.path) in voided:
                continue
            index = trace_index(t.path)
            if key == "from":
                wallet, delta, other = t.sender, -t.value, t.receiver
            else:
                wallet, delta, other = t.receiver, t.value, t.sender
                index += SELF_OFFSET if t.sender == t.receiver else 0
            m = Movement(
                self.chain, t.tx, t.block, UNSTAMPED, window.stored[wallet], self._native, delta,
                MovementKind.NATIVE,
                self._checksum(other) if other else None, index,
            )  # fmt: skip
            window.movements[m.key] = m

    async def _explorer_movements(
        self, window: _Window, starts: dict[str, int], wallets: tuple[str, ...]
    ) -> None:
        """Only wallets whose coin balance or nonce changed are named to the explorer."""
        assert self._explorer is not None
        if self._explorer_rows is None:
            self._explorer_rows = {}
        missing = [w for w in wallets if w not in self._explorer_rows]
        explorer, end = self._explorer, self._scan_head

        async def rows_of(wallet: str) -> None:
            try:
                got = [
                    *await explorer.rows("txlist", wallet, starts[wallet], end),
                    *await explorer.rows("txlistinternal", wallet, starts[wallet], end),
                ]
            except ExplorerError as exc:
                raise HistoryError(str(exc)) from None
            assert self._explorer_rows is not None
            self._explorer_rows[wallet] = got

        await gather([rows_of(w) for w in missing])
        for wallet in wallets:
            for row in self._explorer_rows.get(wallet, []):
                if window.lo <= row.block <= window.hi:
                    self._explorer_row(window, wallet, row)

    def _explorer_row(self, window: _Window, wallet: str, row: ExplorerRow) -> None:
        if row.action == "txlist" and row.sender == wallet:
            window.fee_txs[row.tx] = row.block
        if row.failed or not row.value:
            return
        index = 0 if row.action == "txlist" else zlib.crc32(row.trace_id.encode()) + 1
        sides = []
        if row.sender == wallet:
            sides.append((-row.value, row.receiver, index))
        if row.receiver == wallet:
            sides.append(
                (row.value, row.sender, index + (SELF_OFFSET if row.sender == wallet else 0))
            )
        for delta, other, idx in sides:
            m = Movement(
                self.chain, row.tx, row.block, UNSTAMPED, window.stored[wallet], self._native, delta,
                MovementKind.NATIVE, self._checksum(other) if other else None, idx,
            )  # fmt: skip
            window.movements[m.key] = m

    def _drop_before_start(self, window: _Window, starts: dict[str, int]) -> None:
        """A wallet joins at its own start block (later wallets get their own windows first)."""
        for key, m in list(window.movements.items()):
            if m.block < starts[m.wallet.lower()]:
                del window.movements[key]

    async def _receipts(self, window: _Window) -> None:
        """The fee of every transaction a wallet sent: the receipt names the sender."""
        txs = sorted(window.fee_txs)

        async def part(chunk: list[str]) -> list[tuple[str, int, int]]:
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": "eth_getTransactionReceipt", "params": [tx]}
                for n, tx in enumerate(chunk)
            ]

            def check(reply: Any) -> list[tuple[str, int, int]]:
                return [receipt(i) for i in batch_items(reply, len(chunk))]

            async with self._sem:
                got: list[tuple[str, int, int]] = await self._transport.post(payload, check=check)
            return got

        parts = await gather([part(c) for c in spread(txs, RECEIPTS_PER_REQUEST, 1)])
        for tx, (sender, block, amount) in zip(txs, [r for p in parts for r in p], strict=True):
            if sender in window.wallets and amount and window.lo <= block <= window.hi:
                window.fees.append((tx, sender, block, amount))

    async def _block_times(self, blocks: Iterable[int]) -> dict[int, int]:
        """Block times in JSON-RPC batches of ``eth_getBlockByNumber(n, false)``."""
        wanted = sorted(set(blocks))

        async def part(chunk: list[int]) -> list[int]:
            payload = [
                {"jsonrpc": "2.0", "id": n, "method": "eth_getBlockByNumber",
                 "params": [hex(b), False]}
                for n, b in enumerate(chunk)
            ]  # fmt: skip

            def check(reply: Any) -> list[int]:
                out = []
                for b, item in zip(chunk, batch_items(reply, len(chunk)), strict=True):
                    if item.get("error") is not None:
                        raise_for(item["error"])
                    r = item.get("result")
                    if not isinstance(r, dict) or quantity(r.get("number"), "a block") != b:
                        raise ReplyError("the RPC node did not send a block it has")
                    out.append(quantity(r.get("timestamp"), "a block time"))
                return out

            async with self._sem:
                got: list[int] = await self._transport.post(payload, check=check)
            return got

        chunks = spread(wanted, BLOCKS_PER_REQUEST, 1)
        parts = await gather([part(c) for c in chunks])
        return dict(zip(wanted, [t for p in parts for t in p], strict=True))

    def _fees_of(self, window: _Window) -> list[Fee]:
        return [
            Fee(
                self.chain, tx, block, window.ts[block], window.stored[sender], self._native, amount
            )
            for tx, sender, block, amount in window.fees
        ]

    def _stamp(self, window: _Window) -> None:
        """Block times for the movements whose source gave none (traces, explorers, logs of
        nodes without ``blockTimestamp``)."""
        for key, m in list(window.movements.items()):
            if m.ts == UNSTAMPED:
                window.movements[key] = replace(m, ts=window.ts[m.block])


def _order(m: Movement) -> tuple[int, str, int, str]:
    return (m.block, m.tx, m.index, m.wallet)


# ---------------------------------------------------------------------- building


def evm_history_source(
    spec: ChainSpec,
    transport_or_urls: JsonRpcTransport | Sequence[str],
    explorer: BlockExplorer | None = None,
    *,
    memory: RangeMemory | None = None,
    depth: int | None = None,
    timeout: float = 10.0,
    retries: int = 3,
    max_concurrency: int = 8,
    chain_names: dict[int, str] | None = None,
) -> EvmHistorySource:
    """The history source of one EVM chain. ``transport_or_urls``: the chain's transport (its
    endpoint memory and chain-id check shared with the balance reader) or its RPC URLs (a new
    transport that checks the chain id). ``memory``: the session's :class:`RangeMemory` (keep
    one per session so spans and missing methods are learned once). ``explorer``: only one the
    person chose (:func:`explorer_for`); None sends nothing to any explorer."""
    if isinstance(transport_or_urls, JsonRpcTransport):
        transport = transport_or_urls
    else:
        transport = JsonRpcTransport(
            tuple(transport_or_urls),
            timeout=timeout,
            retries=retries,
            chain_check=ChainCheck(int(spec.chain_id.reference), spec.name, chain_names or {}),
        )
    return EvmHistorySource(
        spec, transport, explorer=explorer, depth=depth, memory=memory,
        max_concurrency=max_concurrency,
    )  # fmt: skip


def explorer_for(
    spec: ChainSpec, settings: HistorySettings, secrets: SecretStore
) -> BlockExplorer | None:
    """The explorer the person chose for ``spec``'s native history, or None (the default:
    no explorer, nothing sent). Raises HistoryError when the choice cannot serve this network
    (no Etherscan key stored, no Blockscout instance known)."""
    if settings.explorer == "etherscan":
        key = secrets.get(ETHERSCAN_KEY)
        if not key:
            raise HistoryError(
                "Etherscan is chosen for the history but no Etherscan API key is stored: add "
                "it in Settings → History, or choose another explorer."
            )
        return etherscan(int(spec.chain_id.reference), key, settings.etherscan_url)
    if settings.explorer == "blockscout":
        own = dict(settings.blockscout_instances)
        url = own.get(str(spec.chain_id)) or blockscout_instance(str(spec.chain_id))
        if url is None:
            raise HistoryError(
                f"No Blockscout instance is known for {spec.name}: name one in the settings "
                "(history.blockscout.instances), or choose Etherscan."
            )
        return blockscout(url)
    return None
