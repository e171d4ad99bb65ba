"""An Esplora HTTP API client (Blockstream's and mempool.space's API, or the person's own).

Esplora has no batch requests: one address is one ``GET /address/:address`` (its funded and
spent sums, and its transaction count), sent concurrently up to a limit over one keep-alive
pool. History pages come from ``/address/:address/txs`` and ``…/txs/chain/:last_txid``; each
transaction carries its inputs' previous outputs and its fee. URLs are tried in order: a URL
that fails moves the rest of the read to the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from app.chains.bitcoin.electrum import BitcoinServerError
from app.domain.secret_text import redact_url
from app.net.transport import HostRefused, ProxyDown

log = logging.getLogger(__name__)

PAGE = 25  # confirmed transactions per /txs/chain page
_RETRY = frozenset({429, 500, 502, 503, 504})


class EsploraClient:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout: float = 20.0,
        concurrency: int = 8,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not urls:
            raise BitcoinServerError("No Esplora address is set for Bitcoin.")
        self._urls = [u.rstrip("/") for u in urls]
        self._current = 0
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self._retries = retries
        if client is None:
            from app import net  # the one way out: proxy, own-nodes-only, privacy ledger

            client = net.client(
                "bitcoin",
                timeout=timeout,
                limits=httpx.Limits(max_connections=max(1, concurrency)),
                headers={"User-Agent": "Chainfolio"},
            )
        self._client = client
        self.requests = 0

    @property
    def where(self) -> str:
        return redact_url(self._urls[self._current])

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str) -> Any:
        """GET a JSON (or plain-text number) resource; retried, then the next URL."""
        last = ""
        for _ in range(len(self._urls)):
            base = self._urls[self._current]
            for attempt in range(self._retries + 1):
                async with self._limit:
                    self.requests += 1
                    try:
                        reply = await self._client.get(base + path)
                    except ProxyDown as exc:  # nothing was sent; no other URL fares better
                        raise BitcoinServerError(str(exc)) from None
                    except HostRefused as exc:  # own nodes only: the next URL may be allowed
                        last = str(exc).rstrip(".")
                        break
                    except httpx.HTTPError as exc:
                        last = f"{redact_url(base)} cannot be reached"
                        log.info("Esplora %s%s: %s", redact_url(base), path[:20], exc)
                        continue
                if reply.status_code in _RETRY and attempt < self._retries:
                    await asyncio.sleep(0.2 * 2**attempt)
                    continue
                if reply.status_code == 400 or reply.status_code == 404:
                    raise BitcoinServerError(
                        f"The Esplora server {redact_url(base)} refused a request "
                        f"(HTTP {reply.status_code})."
                    )
                if reply.status_code != 200:
                    last = f"{redact_url(base)} answered HTTP {reply.status_code}"
                    break
                try:
                    return reply.json()
                except ValueError:
                    last = f"{redact_url(base)} sent a reply that is not JSON"
                    break
            if len(self._urls) > 1:
                self._current = (self._current + 1) % len(self._urls)
        raise BitcoinServerError(f"Bitcoin could not be read: {last or 'no server answered'}.")

    async def address(self, address: str) -> tuple[bool, int]:
        """(used, balance in satoshis: confirmed and in the mempool)."""
        data = await self.get(f"/address/{address}")
        if not isinstance(data, dict):
            raise BitcoinServerError("The Esplora server sent an address in an unknown form.")
        used = False
        balance = 0
        for part in ("chain_stats", "mempool_stats"):
            stats = data.get(part) or {}
            funded, spent, count = (
                stats.get("funded_txo_sum", 0),
                stats.get("spent_txo_sum", 0),
                stats.get("tx_count", 0),
            )
            if not all(
                isinstance(v, int) and not isinstance(v, bool) for v in (funded, spent, count)
            ):
                raise BitcoinServerError("The Esplora server sent amounts that are not satoshis.")
            balance += funded - spent
            used = used or count > 0
        return used, balance

    async def confirmed_txs(self, address: str, stop_below: int = 0) -> list[dict[str, Any]]:
        """The address's confirmed transactions, newest first, down to height ``stop_below``."""
        out: list[dict[str, Any]] = []
        path = f"/address/{address}/txs/chain"
        while True:
            page = await self.get(path)
            if not isinstance(page, list):
                raise BitcoinServerError("The Esplora server sent a history in an unknown form.")
            txs = [
                t for t in page if isinstance(t, dict) and (t.get("status") or {}).get("confirmed")
            ]
            out.extend(txs)
            heights = [int((t.get("status") or {}).get("block_height") or 0) for t in txs]
            if len(page) < PAGE or not txs or (heights and min(heights) < stop_below):
                return out
            path = f"/address/{address}/txs/chain/{txs[-1]['txid']}"

    async def tip(self) -> int:
        value = await self.get("/blocks/tip/height")
        if isinstance(value, bool) or not isinstance(value, int):
            raise BitcoinServerError("The Esplora server did not say its chain tip.")
        return value
