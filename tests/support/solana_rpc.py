"""A local Solana JSON-RPC server on top of ``solders.litesvm`` (a real SVM with the real SPL
Token / Token-2022 programs). Accounts are written with the programs' own byte layouts and every
reply is rendered from what the SVM holds.

Answers getMultipleAccounts, getBalance, getEpochInfo (from the SVM's clock),
getTokenAccountsByOwner (jsonParsed, per program), getProgramAccounts (memcmp / dataSize
filters), and, for transactions executed with ``send`` (real LiteSVM runs, kept by
:mod:`tests.support.solana_ledger`), getSignaturesForAddress and getTransaction (jsonParsed);
single calls and batch arrays. ``GET /stats`` tells HTTP requests, RPC calls and the
seconds in which the server was building replies (injected latency excluded), so a benchmark can tell the server's share of
the wall time from the client's; ``GET /stats?reset=1`` starts the counts over. Modes for tests:
``latency`` per HTTP request, ``rate_limit_http`` (next N requests get HTTP 429),
``rate_limit_rpc`` (next N requests get -32005 without ``data`` per item), ``timeout`` (hold
replies until stopped), ``malformed`` (next N requests get broken JSON), ``gather`` (hold each
request until that many are in flight at once, at most 10 s: ``peak_in_flight`` in the stats then
tells how many requests a client had on the wire together), ``stall`` (a test on each call of a
request: a request with a call it matches is never answered, until the server stops, and does
not hold up the others).
"""

from __future__ import annotations

import base64
import contextlib
import json
import struct
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from solders.account import Account
from solders.clock import Clock
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount
from solders.transaction import Transaction, VersionedTransaction

from tests.support.net import free_port, port_open, wait_until
from tests.support.solana_ledger import Ledger, Recorded

TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
STAKE_PROGRAM = Pubkey.from_string("Stake11111111111111111111111111111111111111")
METAPLEX_PROGRAM = "metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s"
SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
RENT_MINT = 1_461_600
RENT_TOKEN_ACCOUNT = 2_039_280
STAKE_SPACE = 200
STAKE_RESERVE = 2_282_880
NO_EPOCH = 2**64 - 1


def mint_bytes(decimals: int, supply: int = 10**15, authority: Pubkey | None = None) -> bytes:
    auth = bytes(authority) if authority else bytes(32)
    tag = 1 if authority else 0
    return struct.pack("<I32sQB?I32s", tag, auth, supply, decimals, True, 0, bytes(32))


def token_account_bytes(mint: Pubkey, owner: Pubkey, amount: int) -> bytes:
    return (
        bytes(mint)
        + bytes(owner)
        + struct.pack("<Q", amount)
        + struct.pack("<I32s", 0, bytes(32))  # delegate: none
        + bytes([1])  # state: initialized
        + struct.pack("<IQ", 0, 0)  # is_native: none
        + struct.pack("<Q", 0)  # delegated amount
        + struct.pack("<I32s", 0, bytes(32))  # close authority: none
    )


def tlv(ext_type: int, value: bytes) -> bytes:
    return struct.pack("<HH", ext_type, len(value)) + value


def metadata_extension(mint: Pubkey, name: str, symbol: str, uri: str = "") -> bytes:
    def s(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<I", len(raw)) + raw

    value = bytes(32) + bytes(mint) + s(name) + s(symbol) + s(uri) + struct.pack("<I", 0)
    return tlv(19, value)


def token2022_mint_bytes(decimals: int, extensions: bytes) -> bytes:
    base = mint_bytes(decimals)
    return base + bytes(165 - len(base)) + bytes([1]) + extensions


def stake_bytes(
    staker: Pubkey,
    withdrawer: Pubkey,
    voter: Pubkey | None,
    stake: int,
    activation: int = 0,
    deactivation: int = NO_EPOCH,
) -> bytes:
    """``StakeStateV2``: Stake(meta, delegation) with a voter, Initialized(meta) without one."""
    meta = struct.pack("<Q", STAKE_RESERVE) + bytes(staker) + bytes(withdrawer)
    lockup = struct.pack("<qQ", 0, 0) + bytes(32)
    if voter is None:
        body = struct.pack("<I", 1) + meta + lockup
    else:
        delegation = bytes(voter) + struct.pack("<QQQd", stake, activation, deactivation, 0.25)
        body = struct.pack("<I", 2) + meta + lockup + delegation + struct.pack("<Q", 0)
        body += bytes([0])
    return body + bytes(STAKE_SPACE - len(body))


class SolanaRpcServer:
    """Start with ``start()``; populate with the ``add_*`` helpers; stop with ``stop()``."""

    def __init__(self) -> None:
        self.svm = LiteSVM()
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.latency = 0.0
        self.rate_limit_http = 0
        self.rate_limit_rpc = 0
        self.malformed = 0
        self.timeout = False
        self.http_requests = 0
        self.rpc_calls = 0
        self.processing_s = 0.0
        self.gather = 0
        self.stall: Callable[[dict[str, Any]], bool] | None = None
        self.stalled = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._arrived = threading.Condition(self.lock)
        # Replies are built one at a time in arrival order, each after its own latency, as by a
        # node's request queue: eight threads sharing one GIL finished their replies late
        # together instead of in turn.
        self._tickets = 0
        self._serving = 0
        self._turn = threading.Condition(threading.Lock())
        self._busy_count = 0
        self._busy_since = 0.0
        self._stop = threading.Event()
        self._cache: dict[str, list[tuple[Pubkey, Account, bytes]]] = {}
        self._by_owner: dict[str, dict[bytes, list[tuple[Pubkey, Account]]]] = {}
        self._mint_decimals: dict[str, int] = {}
        self._rendered: dict[Pubkey, str] = {}
        self._rendered_ui: dict[Pubkey, str] = {}
        self._results: dict[str, str] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self.ledger = Ledger(self.svm)

    def send(self, tx: Transaction | VersionedTransaction) -> Recorded:
        """Executes ``tx`` in the SVM and keeps it for getTransaction / getSignaturesForAddress
        (see :mod:`tests.support.solana_ledger`)."""
        with self.lock:
            record = self.ledger.execute(tx)
            self._cache.clear()
            self._by_owner.clear()
            self._mint_decimals.clear()
            self._rendered.clear()
            self._rendered_ui.clear()
            self._results.clear()
        return record

    # --- state -------------------------------------------------------------------------------
    def _set(self, key: Pubkey, account: Account) -> None:
        with self.lock:
            self.svm.set_account(key, account)
            self._cache.clear()
            self._by_owner.clear()
            self._mint_decimals.clear()
            self._rendered.clear()
            self._rendered_ui.clear()
            self._results.clear()

    def set_epoch(self, epoch: int) -> None:
        """The SVM's clock at the start of ``epoch`` (getEpochInfo and the stake program agree)."""
        schedule = self.svm.get_epoch_schedule()
        slot = schedule.get_first_slot_in_epoch(epoch) + 1_000
        with self.lock:
            self.svm.set_clock(Clock(slot, 1_700_000_000, epoch, epoch + 1, 1_700_000_000))

    def fund(self, owner: Pubkey, lamports: int) -> None:
        self._set(owner, Account(lamports, b"", SYSTEM_PROGRAM, False, 0))

    def add_mint(self, mint: Pubkey, decimals: int, program: Pubkey = TOKEN_PROGRAM) -> None:
        data = mint_bytes(decimals)
        Mint.from_bytes(data)  # the real layout, checked by the SPL parser
        self._set(mint, Account(RENT_MINT, data, program, False, 0))

    def add_mint_raw(self, mint: Pubkey, data: bytes, program: Pubkey) -> None:
        Mint.from_bytes(data[:82])
        self._set(mint, Account(RENT_MINT * 2, data, program, False, 0))

    def add_metaplex_metadata(self, mint: Pubkey, name: str, symbol: str) -> Pubkey:
        """A Metaplex MetadataV1 account at the mint's PDA (strings NUL-padded as on chain)."""
        program = Pubkey.from_string(METAPLEX_PROGRAM)
        seeds = [b"metadata", bytes(program), bytes(mint)]
        key = Pubkey.find_program_address(seeds, program)[0]

        def s(text: str, width: int) -> bytes:
            raw = text.encode().ljust(width, b"\x00")
            return struct.pack("<I", len(raw)) + raw

        data = bytes([4]) + bytes(32) + bytes(mint) + s(name, 32) + s(symbol, 10) + s("", 200)
        data += struct.pack("<H?B", 0, False, 0) + bytes(679 - len(data) - 4)
        self._set(key, Account(5_616_720, data, program, False, 0))
        return key

    def add_token_account(
        self, owner: Pubkey, mint: Pubkey, amount: int, program: Pubkey = TOKEN_PROGRAM
    ) -> Pubkey:
        key = Pubkey.new_unique()
        data = token_account_bytes(mint, owner, amount)
        if program == TOKEN_2022_PROGRAM:
            data += bytes([2]) + tlv(7, b"")  # account type + ImmutableOwner, as an ATA has
        TokenAccount.from_bytes(data[:165])
        self._set(key, Account(RENT_TOKEN_ACCOUNT, data, program, False, 0))
        return key

    def add_stake(
        self,
        staker: Pubkey,
        withdrawer: Pubkey,
        lamports: int,
        *,
        delegated: int | None = None,
        activation: int = 0,
        deactivation: int = NO_EPOCH,
        undelegated: bool = False,
    ) -> Pubkey:
        """A stake account; by default all but the rent-exempt reserve delegated since epoch 0.
        ``undelegated`` makes an Initialized account (funded, never delegated)."""
        key = Pubkey.new_unique()
        stake = lamports - STAKE_RESERVE if delegated is None else delegated
        voter = None if undelegated else Pubkey.new_unique()
        data = stake_bytes(staker, withdrawer, voter, stake, activation, deactivation)
        self._set(key, Account(lamports, data, STAKE_PROGRAM, False, 0))
        return key

    def _program_accounts(self, program: Pubkey) -> list[tuple[Pubkey, Account, bytes]]:
        """(key, account, its data) of every account the program owns, read once per state."""
        with self.lock:
            key = str(program)
            if key not in self._cache:
                found = self.svm.get_program_accounts(program)
                self._cache[key] = [(k, acc, bytes(acc.data)) for k, acc in found]
            return self._cache[key]

    def _token_accounts_of(self, program: Pubkey, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Token accounts of ``owner`` (bytes 32..64 of the layout), indexed per program."""
        accounts = self._program_accounts(program)
        with self.lock:
            index = self._by_owner.get(str(program))
            if index is None:
                index = {}
                for key, acc, data in accounts:
                    if len(data) >= 165:
                        index.setdefault(data[32:64], []).append((key, acc))
                self._by_owner[str(program)] = index
        return index.get(bytes(owner), [])

    def _get(self, key: Pubkey) -> Account | None:
        with self.lock:
            return self.svm.get_account(key)

    # --- rendering ---------------------------------------------------------------------------
    # Replies are assembled from JSON text built once per account while the SVM state is
    # unchanged: a real node renders in native code, and re-encoding ~4 MB of replies per refresh
    # in Python made the harness, not the client, the slow part of a benchmark. Not a byte of a
    # reply changes.
    def _once(self, cache: dict[Any, str], key: Any, render: Any) -> str:
        text = cache.get(key)
        if text is None:
            text = render()
            with self.lock:
                cache[key] = text
        return text

    def _ui_json(self, key: Pubkey, acc: Account) -> str:
        return self._once(self._rendered_ui, key, lambda: json.dumps(self._ui(acc)))

    @staticmethod
    def _ui(acc: Account) -> dict[str, Any]:
        data = bytes(acc.data)
        return {
            "lamports": acc.lamports,
            "data": [base64.b64encode(data).decode(), "base64"],
            "owner": str(acc.owner),
            "executable": acc.executable,
            "rentEpoch": acc.rent_epoch,
            "space": len(data),
        }

    def _keyed_token_json(self, key: Pubkey, acc: Account) -> str:
        """``{"pubkey": …, "account": <jsonParsed token account>}``."""
        return self._once(
            self._rendered,
            key,
            lambda: json.dumps({"pubkey": str(key), "account": self._render_token(acc)}),
        )

    def _render_token(self, acc: Account) -> dict[str, Any]:
        data = bytes(acc.data)
        ta = TokenAccount.from_bytes(data[:165])
        decimals = self._decimals(ta.mint)
        ui = str(Decimal(ta.amount).scaleb(-decimals).normalize()) if ta.amount else "0"
        program = "spl-token-2022" if acc.owner == TOKEN_2022_PROGRAM else "spl-token"
        info = {
            "isNative": False,
            "mint": str(ta.mint),
            "owner": str(ta.owner),
            "state": "initialized",
            "tokenAmount": {
                "amount": str(ta.amount),
                "decimals": decimals,
                "uiAmount": float(ui),
                "uiAmountString": ui if "E" not in ui else format(Decimal(ui), "f"),
            },
        }
        return {
            "lamports": acc.lamports,
            "data": {
                "program": program,
                "parsed": {"info": info, "type": "account"},
                "space": len(data),
            },
            "owner": str(acc.owner),
            "executable": False,
            "rentEpoch": acc.rent_epoch,
            "space": len(data),
        }

    def _decimals(self, mint: Pubkey) -> int:
        key = str(mint)
        cached = self._mint_decimals.get(key)
        if cached is None:
            mint_acc = self._get(mint)
            cached = Mint.from_bytes(bytes(mint_acc.data)[:82]).decimals if mint_acc else 0
            with self.lock:
                self._mint_decimals[key] = cached
        return cached

    @staticmethod
    def _ctx(value_json: str) -> str:
        return '{"context":{"slot":1,"apiVersion":"2.2.0"},"value":' + value_json + "}"

    def handle_call(self, req: dict[str, Any]) -> str:
        """One call's reply envelope, as JSON text."""
        rid = json.dumps(req.get("id"))
        method = req.get("method")
        params = req.get("params") or []
        try:
            result = self._dispatch(str(method), params)
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            error = {"code": -32602, "message": str(exc)}
            return '{"jsonrpc":"2.0","id":' + rid + ',"error":' + json.dumps(error) + "}"
        return '{"jsonrpc":"2.0","id":' + rid + ',"result":' + result + "}"

    def _dispatch(self, method: str, params: list[Any]) -> str:
        """The ``result`` of one call, as JSON text. The owner and program-account queries are
        answered once per SVM state and then from the text they gave."""
        if method in ("getTokenAccountsByOwner", "getProgramAccounts"):
            key = method + json.dumps(params)
            return self._once(self._results, key, lambda: self._query(method, params))
        return self._query(method, params)

    def _query(self, method: str, params: list[Any]) -> str:
        if method == "getBalance":
            acc = self._get(Pubkey.from_string(params[0]))
            return self._ctx(str(acc.lamports if acc else 0))
        if method == "getEpochInfo":
            with self.lock:
                clock, schedule = self.svm.get_clock(), self.svm.get_epoch_schedule()
            return json.dumps(
                {
                    "absoluteSlot": clock.slot,
                    "blockHeight": clock.slot,
                    "epoch": clock.epoch,
                    "slotIndex": clock.slot - schedule.get_first_slot_in_epoch(clock.epoch),
                    "slotsInEpoch": schedule.get_slots_in_epoch(clock.epoch),
                    "transactionCount": 0,
                }
            )
        if method == "getMultipleAccounts":
            keys = params[0]
            if len(keys) > 100:
                raise ValueError("Too many inputs provided; max 100")
            parts = []
            for k in keys:
                pk = Pubkey.from_string(k)
                acc = self._get(pk)
                parts.append(self._ui_json(pk, acc) if acc else "null")
            return self._ctx("[" + ",".join(parts) + "]")
        if method == "getTokenAccountsByOwner":
            owner = Pubkey.from_string(params[0])
            program = Pubkey.from_string(params[1]["programId"])
            found = self._token_accounts_of(program, owner)
            config = params[2] if len(params) > 2 else {}
            if config.get("encoding") == "base64":  # with an optional dataSlice
                cut = config.get("dataSlice") or {}
                start = int(cut.get("offset", 0))
                end = start + int(cut["length"]) if "length" in cut else None
                keyed = []
                for k, acc in found:
                    ui = self._ui(acc)
                    ui["data"] = [base64.b64encode(bytes(acc.data)[start:end]).decode(), "base64"]
                    keyed.append(json.dumps({"pubkey": str(k), "account": ui}))
                return self._ctx("[" + ",".join(keyed) + "]")
            return self._ctx("[" + ",".join(self._keyed_token_json(k, a) for k, a in found) + "]")
        if method == "getProgramAccounts":
            program = Pubkey.from_string(params[0])
            cfg = params[1] if len(params) > 1 else {}
            filters = self._filters(cfg.get("filters", []))
            parts = []
            for key, acc, data in self._program_accounts(program):
                if self._matches(data, filters):
                    ui = self._ui_json(key, acc)
                    parts.append('{"pubkey":"' + str(key) + '","account":' + ui + "}")
            return "[" + ",".join(parts) + "]"
        if method == "getSignaturesForAddress":
            with self.lock:
                found = self.ledger.signatures(params[0], params[1] if len(params) > 1 else {})
            return json.dumps(found)
        if method == "getTransaction":
            with self.lock:
                tx = self.ledger.transaction(params[0], params[1] if len(params) > 1 else {})
            return json.dumps(tx)
        raise ValueError(f"Method not found: {method}")

    @staticmethod
    def _filters(filters: list[dict[str, Any]]) -> list[tuple[int, int | None, bytes]]:
        """(offset, dataSize, bytes) per filter, decoded once per call."""
        out: list[tuple[int, int | None, bytes]] = []
        for f in filters:
            if "dataSize" in f:
                out.append((0, int(f["dataSize"]), b""))
            if "memcmp" in f:
                want = bytes(Pubkey.from_string(f["memcmp"]["bytes"]))
                out.append((int(f["memcmp"]["offset"]), None, want))
        return out

    @staticmethod
    def _matches(data: bytes, filters: list[tuple[int, int | None, bytes]]) -> bool:
        for offset, size, want in filters:
            if size is not None and len(data) != size:
                return False
            if want and data[offset : offset + len(want)] != want:
                return False
        return True

    # --- HTTP --------------------------------------------------------------------------------
    def start(self) -> SolanaRpcServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, the body waits for the
            # client's delayed ACK (~40 ms on Linux), a stall no real node adds.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if not self.path.startswith("/stats"):
                    self.send_error(404)
                    return
                payload = json.dumps(server.stats(reset="reset=1" in self.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if server._stalls(body):
                    server._stop.wait(30)
                    self.close_connection = True
                    return
                ticket = server._admit()
                try:
                    with server._in_turn(ticket), server._busy():
                        status, payload = server._respond(body)
                        self.send_response(status)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                finally:
                    with server.lock:
                        server.in_flight -= 1

        ThreadingHTTPServer.request_queue_size = 128
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        wait_until(lambda: port_open(self.port), what="solana rpc server")
        return self

    def stats(self, *, reset: bool = False) -> dict[str, Any]:
        with self.lock:
            out = {
                "http_requests": self.http_requests,
                "rpc_calls": self.rpc_calls,
                "processing_s": round(self.processing_s, 4),
                "peak_in_flight": self.peak_in_flight,
            }
            if reset:
                self.http_requests = self.rpc_calls = self.peak_in_flight = 0
                self.processing_s = 0.0
        return out

    def stop(self) -> None:
        self._stop.set()
        with self._turn:
            self._turn.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _stalls(self, body: bytes) -> bool:
        """Whether this request is one the ``stall`` test holds unanswered (counted in
        ``stalled``)."""
        test = self.stall
        if test is None:
            return False
        req = json.loads(body)
        if not any(test(i) for i in (req if isinstance(req, list) else [req])):
            return False
        with self.lock:
            self.stalled += 1
        return True

    def _admit(self) -> int:
        """Counts the request and gives it its place in the queue, then holds it for the
        injected latency (or the timeout mode)."""
        with self._turn:
            ticket = self._tickets
            self._tickets += 1
        with self.lock:
            self.http_requests += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._arrived.notify_all()
            if self.gather:
                self._arrived.wait_for(lambda: self.peak_in_flight >= self.gather, timeout=10)
        if self.latency:
            self._stop.wait(self.latency)
        if self.timeout:
            self._stop.wait(30)
        return ticket

    @contextlib.contextmanager
    def _in_turn(self, ticket: int) -> Iterator[None]:
        """Runs after every earlier request has been answered (or the server is stopping)."""
        with self._turn:
            self._turn.wait_for(lambda: self._serving >= ticket or self._stop.is_set(), timeout=30)
        try:
            yield
        finally:
            with self._turn:
                self._serving = max(self._serving, ticket + 1)
                self._turn.notify_all()

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        """Busy time: the union of the intervals in which some reply is being built or written.
        Threads share one GIL, so summing each request's own duration would count overlaps."""
        with self.lock:
            if self._busy_count == 0:
                self._busy_since = time.perf_counter()
            self._busy_count += 1
        try:
            yield
        finally:
            with self.lock:
                self._busy_count -= 1
                if self._busy_count == 0:
                    self.processing_s += time.perf_counter() - self._busy_since

    def _respond(self, body: bytes) -> tuple[int, bytes]:
        if self.rate_limit_http > 0:
            self.rate_limit_http -= 1
            return (
                429,
                b'{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests"},"id":null}',
            )
        if self.malformed > 0:
            self.malformed -= 1
            return 200, b'{"jsonrpc":"2.0","result":{"context":'
        return self._answer(body)

    def _answer(self, body: bytes) -> tuple[int, bytes]:
        req = json.loads(body)
        items = req if isinstance(req, list) else [req]
        with self.lock:
            self.rpc_calls += len(items)
        if self.rate_limit_rpc > 0:
            self.rate_limit_rpc -= 1
            error = {"code": -32005, "message": "Too many requests"}
            replies = [
                json.dumps({"jsonrpc": "2.0", "id": i.get("id"), "error": error}) for i in items
            ]
        else:
            replies = [self.handle_call(i) for i in items]
        out = "[" + ",".join(replies) + "]" if isinstance(req, list) else replies[0]
        return 200, out.encode()
