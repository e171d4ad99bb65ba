"""Block explorers as the fallback for native transfers, for nodes without ``trace_filter``.

Only ever used when the person chose the explorer (``history.explorer``): the explorer then
learns every address whose history is read, which the settings tab says in so many words.
Two dialects of the same Etherscan-style account API are spoken:

- Etherscan API v2, multichain: ``https://api.etherscan.io/v2/api?chainid=<id>&module=account
  &action=txlist|txlistinternal&address=…&apikey=…``; the key comes from the OS keyring.
- Blockscout's Etherscan-compatible API of one chain's instance: ``<instance>/api?module=account
  &action=txlist|txlistinternal&address=…`` (no key needed).

Both answer ``{"status": "1", "message": "OK", "result": [...]}``; "no transactions" is
``status "0"`` with an empty list, and errors are ``status "0"`` with the reason as ``result``
("Invalid API Key", "Max rate limit reached"). At most 10,000 rows come back per query, so a
longer history is paged by moving ``startblock`` to the last block seen (rows of that block are
read again and de-duplicated). Requests are paced (Etherscan's free tier allows a few per
second) and a rate-limit answer is retried after a pause.

Only *which* transactions and internal transfers exist is taken from the explorer: amounts of
native transfers are its numbers, but fees always come from the person's own node (receipts).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from app.chains.evm.explorers import ETHERSCAN_V2
from app.domain.errors import ChainfolioError
from app.net.transport import EgressRefused

log = logging.getLogger(__name__)
EXPLORER_NAMES = {"none": "No explorer", "etherscan": "Etherscan", "blockscout": "Blockscout"}
ETHERSCAN_KEY = "etherscan"  # the keyring entry of the Etherscan API key
PAGE_ROWS = 10_000
Action = Literal["txlist", "txlistinternal"]
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"\d{1,78}")


class ExplorerError(ChainfolioError):
    """The explorer could not give the history (plain words; never the key or the URL)."""


@dataclass(frozen=True, slots=True)
class ExplorerRow:
    """One transaction (``txlist``) or internal transfer (``txlistinternal``) of an address."""

    action: Action
    tx: str  # lower-case hash
    block: int
    ts: int
    sender: str  # lower-case
    receiver: str  # lower-case ("" for a contract creation)
    value: int
    failed: bool
    trace_id: str = ""  # internal: the explorer's position of the call in the transaction


class BlockExplorer(Protocol):
    """What the history source needs of an explorer."""

    @property
    def name(self) -> str: ...

    async def rows(
        self, action: Action, address: str, start: int, end: int
    ) -> list[ExplorerRow]: ...

    async def aclose(self) -> None: ...


@dataclass
class EtherscanStyleExplorer:
    """One chain's Etherscan-style account API (Etherscan v2 or a Blockscout instance)."""

    name: str
    base_url: str
    params: dict[str, str] = field(default_factory=dict)  # chainid, apikey
    per_second: float = 4.0
    timeout: float = 30.0
    retries: int = 4
    requests: int = 0
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _next_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            from app import net  # the one way out: proxy, own-nodes-only, privacy ledger

            self._client = net.client("explorer", timeout=self.timeout)
        return self._client

    async def _pace(self) -> None:
        if self.per_second <= 0:
            return
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next_at)
            self._next_at = at + 1 / self.per_second
        if at > now:
            await asyncio.sleep(at - now)

    async def rows(self, action: Action, address: str, start: int, end: int) -> list[ExplorerRow]:
        """Every row of ``address`` in blocks ``start..end``, oldest first, paged past the
        explorer's 10,000-row cap."""
        out: dict[tuple[str, str, str], ExplorerRow] = {}
        lo = start
        while lo <= end:
            page = await self._page(action, address, lo, end)
            for row in page:
                out[(row.tx, row.trace_id, f"{row.sender}>{row.receiver}:{row.value}")] = row
            if len(page) < PAGE_ROWS:
                break
            last = max(r.block for r in page)
            if last <= lo:  # 10,000 rows in one block: nothing more can be paged
                raise ExplorerError(
                    f"{self.name} returned more rows for one block than it can page through."
                )
            lo = last
        return sorted(out.values(), key=lambda r: (r.block, r.tx, r.trace_id))

    async def _page(self, action: Action, address: str, lo: int, hi: int) -> list[ExplorerRow]:
        query = {
            **self.params, "module": "account", "action": action, "address": address,
            "startblock": str(lo), "endblock": str(hi), "page": "1", "offset": str(PAGE_ROWS),
            "sort": "asc",
        }  # fmt: skip
        last = "it did not answer"
        for attempt in range(self.retries + 1):
            await self._pace()
            self.requests += 1
            try:
                resp = await self._http().get(self.base_url, params=query)
            except EgressRefused as exc:  # own nodes only, or the proxy is down: no way round
                raise ExplorerError(str(exc)) from None
            except httpx.TimeoutException:
                last = "it timed out"
            except httpx.HTTPError as exc:
                last = f"it could not be reached ({type(exc).__name__})"
            else:
                if resp.status_code in (429, 500, 502, 503, 504):
                    last = f"it answered HTTP {resp.status_code}"
                elif resp.status_code >= 400:
                    raise ExplorerError(
                        f"{self.name} refused the history request (HTTP {resp.status_code})."
                    )
                else:
                    try:
                        return _parse(action, resp.json())
                    except _RateLimited:
                        last = "it is limiting requests"
                    except ValueError as exc:
                        raise ExplorerError(
                            f"{self.name} sent an unusable answer: {exc}."
                        ) from None
            if attempt < self.retries:
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
        raise ExplorerError(f"{self.name} could not give the transaction history: {last}.")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _RateLimited(Exception):
    pass


_EMPTY = ("no transactions found", "no records found", "no internal transactions found")


def _parse(action: Action, body: Any) -> list[ExplorerRow]:
    if not isinstance(body, dict):
        raise ValueError("not an Etherscan-style reply")
    status, message, result = body.get("status"), str(body.get("message", "")), body.get("result")
    if status == "1" and isinstance(result, list):
        return [_row(action, r) for r in result]
    said = str(result if isinstance(result, str) else message)
    lower = f"{message} {said}".lower()
    if isinstance(result, list) and (not result or any(e in lower for e in _EMPTY)):
        return []
    if "rate limit" in lower or "too many" in lower:
        raise _RateLimited
    if "api key" in lower or "apikey" in lower:
        raise ExplorerError(
            "The explorer refused the API key: check the key stored in Settings → History."
        )
    if "upgrade your api plan" in lower or "not supported for this chain" in lower:
        raise ExplorerError(
            "The explorer's plan for this API key does not cover this network; choose "
            "Blockscout for it, or use a node that offers trace_filter."
        )
    raise ValueError(_clean(said))


def _clean(text: str) -> str:
    kept = re.sub(r"[^\w .,:;()'-]", "", text)[:80]
    return kept or "an error without a reason"


def _field(row: dict[str, Any], name: str, pattern: re.Pattern[str], *, empty: bool = False) -> str:
    value = row.get(name, "")
    text = str(value) if value is not None else ""
    if empty and text == "":
        return ""
    if not pattern.fullmatch(text):
        raise ValueError(f"a row's {name} is not valid")
    return text


def _row(action: Action, raw: Any) -> ExplorerRow:
    if not isinstance(raw, dict):
        raise ValueError("a row is not an object")
    failed = str(raw.get("isError", "0")) != "0" or str(raw.get("txreceipt_status", "1")) == "0"
    return ExplorerRow(
        action=action,
        tx=_field(raw, "hash", _HASH).lower(),
        block=int(_field(raw, "blockNumber", _DIGITS)),
        ts=int(_field(raw, "timeStamp", _DIGITS)),
        sender=_field(raw, "from", _HEX_ADDRESS).lower(),
        receiver=_field(raw, "to", _HEX_ADDRESS, empty=True).lower(),
        value=int(_field(raw, "value", _DIGITS)),
        failed=failed,
        trace_id=str(raw.get("traceId") or raw.get("index") or "")[:32]
        if action == "txlistinternal"
        else "",
    )


def etherscan(chain_id: int, api_key: str, base_url: str = ETHERSCAN_V2) -> EtherscanStyleExplorer:
    """Etherscan API v2 for one chain (the key is a query parameter: the log redacts it)."""
    return EtherscanStyleExplorer(
        "Etherscan", base_url, {"chainid": str(chain_id), "apikey": api_key}, per_second=4.0
    )


def blockscout(instance_url: str) -> EtherscanStyleExplorer:
    """A Blockscout instance's Etherscan-compatible API (``<instance>/api``)."""
    return EtherscanStyleExplorer("Blockscout", instance_url.rstrip("/") + "/api", per_second=8.0)


class _Settings(Protocol):
    def get(self, key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """The typed view of the ``history.*`` settings (see ``history_settings``)."""

    explorer: str = "none"
    etherscan_url: str = ETHERSCAN_V2
    blockscout_instances: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, settings: _Settings) -> HistorySettings:
        return cls(
            explorer=str(settings.get("history.explorer")),
            etherscan_url=str(settings.get("history.etherscan.url")),
            blockscout_instances=tuple(
                _instances(list(settings.get("history.blockscout.instances"))).items()
            ),
        )


def _instances(items: list[str]) -> dict[str, str]:
    """``network=URL`` items (already validated by their setting) as {network: URL}."""
    out = {}
    for item in items:
        chain, _, url = str(item).partition("=")
        out[chain.strip()] = url.strip()
    return out
