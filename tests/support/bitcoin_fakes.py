"""A deterministic Bitcoin history and two servers that serve it on 127.0.0.1:

- :class:`ElectrumFake`: the Electrum protocol (newline-delimited JSON-RPC over TCP, batches),
  ``server.version``, ``blockchain.scripthash.get_history``/``get_balance``,
  ``blockchain.transaction.get`` (real raw transactions made with embit),
  ``blockchain.block.header``, ``blockchain.headers.subscribe``; an optional latency per
  message (each reply is sent ``latency`` seconds after its message arrived).
- :class:`EsploraFake`: the Esplora HTTP API (``/address/:a``, ``/address/:a/txs/chain[/:last]``,
  ``/blocks/tip/height``), on a threading HTTP server.

The history (:class:`FakeChain`) funds chosen addresses from outside and spends some back out,
with fees, so balances, deltas and fees are all known exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from embit.networks import NETWORKS
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from app.domain.bitcoin import scripthash

GENESIS_TIME = 1_700_000_000
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
OUTSIDE = bytes.fromhex("0014" + "11" * 20)  # a P2WPKH script of nobody we watch


@dataclass
class FakeTx:
    txid: str
    raw: str
    height: int
    tx: Transaction


@dataclass
class FakeChain:
    tip: int = 800_100
    txs: dict[str, FakeTx] = field(default_factory=dict)
    by_script: dict[bytes, list[str]] = field(default_factory=dict)
    _n: int = 0
    _spent: tuple[int, set[tuple[str, int]]] | None = None

    def header(self, height: int) -> str:
        head = bytearray(80)
        head[0:4] = (height & 0xFFFFFFFF).to_bytes(4, "little")
        head[68:72] = self.time(height).to_bytes(4, "little")
        return head.hex()

    @staticmethod
    def time(height: int) -> int:
        return GENESIS_TIME + (height - 800_000) * 600

    def _add(self, tx: Transaction, height: int) -> FakeTx:
        txid = tx.txid().hex()
        fake = FakeTx(txid, tx.serialize().hex(), height, tx)
        self.txs[txid] = fake
        touched = {bytes(o.script_pubkey.data) for o in tx.vout}
        for vin in tx.vin:
            prev = self.txs.get(vin.txid.hex())
            if prev is not None:
                touched.add(bytes(prev.tx.vout[vin.vout].script_pubkey.data))
        for script in touched:
            self.by_script.setdefault(script, []).append(txid)
        return fake

    def fund(self, script: bytes, amount: int, height: int) -> FakeTx:
        """An outside payment of ``amount`` to ``script`` (with change back outside)."""
        self._n += 1
        outside_prev = hashlib.sha256(f"outside-{self._n}".encode()).digest()
        tx = Transaction(
            version=2,
            vin=[TransactionInput(outside_prev, 0)],
            vout=[
                TransactionOutput(amount, Script(script)),
                TransactionOutput(50_000 + self._n, Script(OUTSIDE)),
            ],
        )
        return self._add(tx, height)

    def spend(
        self,
        outpoints: Sequence[tuple[str, int]],
        pay: int,
        change_script: bytes | None,
        fee: int,
        height: int,
    ) -> FakeTx:
        """Spend the given outputs: ``pay`` to the outside, the rest less ``fee`` as change."""
        total = sum(int(self.txs[t].tx.vout[n].value) for t, n in outpoints)
        outs = [TransactionOutput(pay, Script(OUTSIDE))]
        change = total - pay - fee
        if change_script is not None and change > 0:
            outs.append(TransactionOutput(change, Script(change_script)))
        vin = [TransactionInput(bytes.fromhex(t), n) for t, n in outpoints]
        return self._add(Transaction(version=2, vin=vin, vout=outs), height)

    # --- what a server says -------------------------------------------------------------
    def spent_outpoints(self) -> set[tuple[str, int]]:
        if self._spent is None or self._spent[0] != len(self.txs):
            spent = {(vin.txid.hex(), int(vin.vout)) for t in self.txs.values() for vin in t.tx.vin}
            self._spent = (len(self.txs), spent)
        return self._spent[1]

    def balance(self, script: bytes) -> int:
        spent = self.spent_outpoints()
        total = 0
        for txid in self.by_script.get(script, []):
            for n, out in enumerate(self.txs[txid].tx.vout):
                if bytes(out.script_pubkey.data) == script and (txid, n) not in spent:
                    total += int(out.value)
        return total

    def stats(self, script: bytes) -> tuple[int, int, int]:
        """(funded, spent, tx count) of one script."""
        spent_set = self.spent_outpoints()
        funded = spent = 0
        for txid in self.by_script.get(script, []):
            for n, out in enumerate(self.txs[txid].tx.vout):
                if bytes(out.script_pubkey.data) == script:
                    funded += int(out.value)
                    if (txid, n) in spent_set:
                        spent += int(out.value)
        return funded, spent, len(self.by_script.get(script, []))

    def history(self, script: bytes) -> list[FakeTx]:
        return sorted((self.txs[t] for t in self.by_script.get(script, [])), key=lambda t: t.height)

    def by_hash(self) -> dict[str, bytes]:
        return {scripthash(s): s for s in self.by_script}


# ---------------------------------------------------------------- Electrum


class ElectrumFake:
    """Serves a FakeChain over the Electrum protocol on 127.0.0.1 (plain TCP)."""

    def __init__(
        self, chain: FakeChain, latency: float = 0.0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.chain = chain
        self.latency = latency
        self.tls = tls
        self.messages = 0  # lines received (one batch = one message)
        self.calls = 0  # JSON-RPC requests received
        self.methods: dict[str, int] = {}
        self.seen: list[str] = []  # every param received (to show no key is ever sent)
        self.refuse: str | None = None  # a method answered with an error object
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> ElectrumFake:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, limit=1 << 26, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"{'ssl' if self.tls else 'tcp'}://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                self.messages += 1
                task = asyncio.ensure_future(self._answer(line, writer, lock))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for task in pending:
                task.cancel()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, line: bytes, writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)
        message = json.loads(line)
        items = message if isinstance(message, list) else [message]
        replies = [self._one(item) for item in items]
        body = replies if isinstance(message, list) else replies[0]
        async with lock:
            writer.write(json.dumps(body).encode() + b"\n")
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    def _one(self, item: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        method, params = item["method"], item.get("params", [])
        self.methods[method] = self.methods.get(method, 0) + 1
        self.seen.extend(str(p) for p in params)
        if method == self.refuse:
            return {
                "jsonrpc": "2.0",
                "id": item["id"],
                "error": {"code": 1, "message": "too large"},
            }
        try:
            result = self._result(method, params)
        except KeyError:
            return {"jsonrpc": "2.0", "id": item["id"], "error": {"code": 2, "message": "unknown"}}
        return {"jsonrpc": "2.0", "id": item["id"], "result": result}

    def _result(self, method: str, params: list[Any]) -> Any:
        chain = self.chain
        if method == "server.version":
            return ["FakeElectrum 1.0", "1.4"]
        if method == "blockchain.headers.subscribe":
            return {"height": chain.tip, "hex": chain.header(chain.tip)}
        if method == "blockchain.block.header":
            return chain.header(int(params[0]))
        if method == "blockchain.transaction.get":
            return chain.txs[params[0]].raw
        script = self._scripts().get(params[0])
        if method == "blockchain.scripthash.get_history":
            if script is None:
                return []
            return [{"tx_hash": t.txid, "height": t.height} for t in chain.history(script)]
        if method == "blockchain.scripthash.get_balance":
            return {"confirmed": chain.balance(script) if script else 0, "unconfirmed": 0}
        raise KeyError(method)

    _cache: tuple[int, dict[str, bytes]] | None = None

    def _scripts(self) -> dict[str, bytes]:
        size = len(self.chain.by_script)
        if self._cache is None or self._cache[0] != size:
            self._cache = (size, self.chain.by_hash())
        return self._cache[1]


# ---------------------------------------------------------------- Esplora


def _address(script: bytes) -> str:
    return str(Script(script).address(NETWORKS["main"]))


class EsploraFake:
    """Serves a FakeChain as an Esplora HTTP API on 127.0.0.1."""

    def __init__(self, chain: FakeChain, latency: float = 0.0) -> None:
        self.chain = chain
        self.latency = latency
        self.paths: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.paths.append(self.path)
                if fake.latency:
                    time.sleep(fake.latency)
                status, body = fake.answer(self.path)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.request_queue_size = 128
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd = httpd
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/api"
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(5)

    _by_address: tuple[int, dict[str, bytes]] | None = None

    def _scripts(self) -> dict[str, bytes]:
        size = len(self.chain.by_script)
        if self._by_address is None or self._by_address[0] != size:
            self._by_address = (size, {_address(s): s for s in self.chain.by_script})
        return self._by_address[1]

    def _tx(self, fake: FakeTx) -> dict[str, Any]:
        vin = []
        total_in = 0
        for i in fake.tx.vin:
            prev = self.chain.txs.get(i.txid.hex())
            if prev is None:
                prevout = {"scriptpubkey_address": _address(OUTSIDE), "value": 100_000_000}
            else:
                out = prev.tx.vout[i.vout]
                prevout = {
                    "scriptpubkey_address": _address(bytes(out.script_pubkey.data)),
                    "value": int(out.value),
                }
            total_in += prevout["value"]
            vin.append({"txid": i.txid.hex(), "vout": int(i.vout), "prevout": prevout})
        vout = [
            {"scriptpubkey_address": _address(bytes(o.script_pubkey.data)), "value": int(o.value)}
            for o in fake.tx.vout
        ]
        return {
            "txid": fake.txid,
            "vin": vin,
            "vout": vout,
            "fee": total_in - sum(o["value"] for o in vout),
            "status": {
                "confirmed": True,
                "block_height": fake.height,
                "block_time": self.chain.time(fake.height),
            },
        }

    def answer(self, path: str) -> tuple[int, Any]:
        parts = path.removeprefix("/api").strip("/").split("/")
        if parts == ["blocks", "tip", "height"]:
            return 200, self.chain.tip
        if parts == ["block-height", "0"]:
            return 200, GENESIS_HASH.encode()
        if len(parts) >= 2 and parts[0] == "address":
            script = self._scripts().get(parts[1])
            if len(parts) == 2:
                funded, spent, count = self.chain.stats(script) if script else (0, 0, 0)
                return 200, {
                    "address": parts[1],
                    "chain_stats": {
                        "funded_txo_sum": funded,
                        "spent_txo_sum": spent,
                        "tx_count": count,
                    },
                    "mempool_stats": {"funded_txo_sum": 0, "spent_txo_sum": 0, "tx_count": 0},
                }
            if parts[2:4] == ["txs", "chain"]:
                txs = list(reversed(self.chain.history(script))) if script else []
                if len(parts) == 5:
                    ids = [t.txid for t in txs]
                    txs = txs[ids.index(parts[4]) + 1 :]
                return 200, [self._tx(t) for t in txs[:25]]
        return 404, {"error": "not found"}


DEMO_ZPUB = (  # BIP84's account key of the mnemonic "abandon … about"
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf3"
    "1mGDtKsAYz2oz2AGutZYs"
)


def demo_chain(key_text: str = DEMO_ZPUB) -> FakeChain:
    """r0 +1,000,000; r1 +250,000; r0's coins spent: 300,000 out, fee 1,000, change to c0;
    r5 +40,000 (after a gap of 3); r30 +7,000,000 (after a gap of 24). Balance with a gap
    limit of 4 to 24: 989,000 sat; from 25 on: 7,989,000 sat."""
    from app.domain.bitcoin import CHANGE, RECEIVE, Deriver, parse_bitcoin

    d = Deriver(parse_bitcoin(key_text))
    chain = FakeChain()
    f0 = chain.fund(d.derive(RECEIVE, 0).script, 1_000_000, 800_001)
    chain.fund(d.derive(RECEIVE, 1).script, 250_000, 800_002)
    chain.spend([(f0.txid, 0)], 300_000, d.derive(CHANGE, 0).script, 1_000, 800_003)
    chain.fund(d.derive(RECEIVE, 5).script, 40_000, 800_004)
    chain.fund(d.derive(RECEIVE, 30).script, 7_000_000, 800_005)
    return chain


def self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate of 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "electrum.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
