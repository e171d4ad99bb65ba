"""An Electrum-protocol client: JSON-RPC over one TCP or TLS connection, batched.

The protocol is newline-delimited JSON; a JSON array is a batch, answered by one array. Many
requests go out in one write (``batch_size`` per batch) and several batches are written without
waiting for the previous answer, so a wallet of 1,000 addresses costs a few round trips, not
thousands. Replies are matched to requests by id; a server that answers an item with an error
fails that item only.

Only script hashes (sha256 of an output script) and transaction ids are sent: never an address
list tied to a key, never the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
from collections.abc import Sequence
from typing import Any

from app.chains.bitcoin.servers import ElectrumServer
from app.domain.errors import ChainfolioError

log = logging.getLogger(__name__)

CLIENT_NAME = "Chainfolio"
PROTOCOL_VERSION = "1.4"
_LINE_LIMIT = 1 << 27  # a batch reply of thousands of histories is one line


class BitcoinServerError(ChainfolioError):
    """The Bitcoin server could not be reached or did not answer usably (text for a person)."""


class ItemError(Exception):
    """One request of a batch was answered with an error object."""


class ElectrumClient:
    def __init__(
        self,
        server: ElectrumServer,
        *,
        timeout: float = 20.0,
        batch_size: int = 100,
        verify_tls: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self._timeout = timeout
        self._batch_size = max(1, batch_size)
        self._verify = verify_tls
        self._tls = tls
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._connecting: asyncio.Lock | None = None
        self.requests = 0  # JSON-RPC calls sent
        self.writes = 0  # batches (round trips) sent

    # --- connection --------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext | None:
        if not self.server.tls:
            return None
        if self._tls is not None:
            return self._tls
        if self._verify:
            from app.tls import tls_context

            return tls_context()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the person's own server, self-signed, by choice
        return ctx

    async def _connect(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            return
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._writer is not None and not self._writer.is_closing():
                return
            where = f"{self.server.host}:{self.server.port}"
            try:
                from app.net.stream import open_connection  # proxy, own nodes, ledger

                self._reader, self._writer = await asyncio.wait_for(
                    open_connection(
                        "bitcoin",
                        self.server.host,
                        self.server.port,
                        ssl=self._context(),
                        limit=_LINE_LIMIT,
                    ),
                    self._timeout,
                )
            except TimeoutError:
                raise BitcoinServerError(
                    f"The Electrum server {where} did not answer in time."
                ) from None
            except ssl.SSLError as exc:
                log.info("TLS with the Electrum server %s failed: %s", where, exc)
                raise BitcoinServerError(
                    f"The Electrum server {where} could not be reached securely (its TLS "
                    "certificate was not accepted)."
                ) from None
            except OSError as exc:
                log.info("Electrum server %s unreachable: %s", where, exc)
                raise BitcoinServerError(
                    f"The Electrum server {where} cannot be reached: "
                    f"{exc.strerror or 'connection failed'}."
                ) from None
            self._pump = asyncio.ensure_future(self._read_replies())
            await self._batch([("server.version", [CLIENT_NAME, PROTOCOL_VERSION])])

    async def _read_replies(self) -> None:
        assert self._reader is not None
        reason = "the connection was closed"
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    reason = "it sent a reply that is not JSON"
                    break
                for item in message if isinstance(message, list) else [message]:
                    if not isinstance(item, dict):
                        continue
                    future = self._pending.pop(item.get("id"), None)  # type: ignore[arg-type]
                    if future is None or future.done():
                        continue  # a notification, or an id never asked
                    if item.get("error") is not None:
                        future.set_exception(ItemError(_error_text(item["error"])))
                    else:
                        future.set_result(item.get("result"))
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            reason = f"the connection failed ({exc.__class__.__name__})"
        finally:
            where = f"{self.server.host}:{self.server.port}"
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(
                        BitcoinServerError(f"The Electrum server {where} stopped answering.")
                    )
            self._pending.clear()
            log.info("Electrum connection to %s ended: %s", where, reason)

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
        self._writer = self._reader = None
        self._pump = None

    # --- calls -------------------------------------------------------------------------
    async def _batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send one batch in one write; results (or ItemError instances) in order."""
        assert self._writer is not None
        loop = asyncio.get_running_loop()
        ids = [next(self._ids) for _ in calls]
        futures = []
        for request_id in ids:
            future: asyncio.Future[Any] = loop.create_future()
            self._pending[request_id] = future
            futures.append(future)
        body = [
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
            for request_id, (method, params) in zip(ids, calls, strict=True)
        ]
        payload = body if len(body) > 1 else body[0]
        self._writer.write(json.dumps(payload, separators=(",", ":")).encode() + b"\n")
        self.requests += len(calls)
        self.writes += 1
        try:
            await self._writer.drain()
            done = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), self._timeout
            )
        except TimeoutError:
            for request_id in ids:
                self._pending.pop(request_id, None)
            where = f"{self.server.host}:{self.server.port}"
            raise BitcoinServerError(
                f"The Electrum server {where} did not answer in time."
            ) from None
        except OSError:
            where = f"{self.server.host}:{self.server.port}"
            raise BitcoinServerError(f"The Electrum server {where} stopped answering.") from None
        for result in done:
            if isinstance(result, BitcoinServerError):
                raise result
        return list(done)

    async def call_many(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Every call, in batches written back to back; results (or ItemError) in order."""
        if not calls:
            return []
        await self._connect()
        size = self._batch_size
        chunks = [calls[i : i + size] for i in range(0, len(calls), size)]
        answers = await asyncio.gather(*(self._batch(chunk) for chunk in chunks))
        return [result for chunk in answers for result in chunk]

    # --- the methods used ------------------------------------------------------------------
    async def histories(self, scripthashes: Sequence[str]) -> list[list[dict[str, Any]]]:
        results = await self.call_many(
            [("blockchain.scripthash.get_history", [sh]) for sh in scripthashes]
        )
        return [_checked_list(r, "history") for r in results]

    async def balances(self, scripthashes: Sequence[str]) -> list[int]:
        results = await self.call_many(
            [("blockchain.scripthash.get_balance", [sh]) for sh in scripthashes]
        )
        out = []
        for r in results:
            if isinstance(r, ItemError) or not isinstance(r, dict):
                raise BitcoinServerError(f"The Electrum server refused a balance: {r}")
            out.append(_sat(r.get("confirmed", 0)) + _sat(r.get("unconfirmed", 0)))
        return out

    async def transactions(self, txids: Sequence[str]) -> list[str]:
        results = await self.call_many([("blockchain.transaction.get", [t]) for t in txids])
        out = []
        for r in results:
            if isinstance(r, ItemError) or not isinstance(r, str):
                raise BitcoinServerError(f"The Electrum server refused a transaction: {r}")
            out.append(r)
        return out

    async def headers(self, heights: Sequence[int]) -> list[str]:
        results = await self.call_many([("blockchain.block.header", [h]) for h in heights])
        out = []
        for r in results:
            if isinstance(r, ItemError) or not isinstance(r, str) or len(r) != 160:
                raise BitcoinServerError(f"The Electrum server refused a block header: {r}")
            out.append(r)
        return out

    async def tip(self) -> int:
        (result,) = await self.call_many([("blockchain.headers.subscribe", [])])
        if not isinstance(result, dict) or not isinstance(result.get("height"), int):
            raise BitcoinServerError("The Electrum server did not say its chain tip.")
        return int(result["height"])


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message", "error"))[:200]
    return str(error)[:200]


def _checked_list(result: Any, what: str) -> list[dict[str, Any]]:
    if isinstance(result, ItemError):
        raise BitcoinServerError(f"The Electrum server refused a {what} request: {result}")
    if not isinstance(result, list):
        raise BitcoinServerError(f"The Electrum server sent a {what} that is not a list.")
    return [item for item in result if isinstance(item, dict)]


def _sat(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BitcoinServerError("The Electrum server sent a balance that is not in satoshis.")
    return value


def header_time(header_hex: str) -> int:
    """The timestamp of an 80-byte block header (bytes 68..72, little-endian)."""
    return int.from_bytes(bytes.fromhex(header_hex)[68:72], "little")
