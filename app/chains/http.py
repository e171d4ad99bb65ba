"""A JSON-RPC-over-HTTP transport shared by chain readers.

Why its own client: public RPC endpoints rate-limit and fail often; one keep-alive connection
pool, retries with backoff and jitter (honouring Retry-After), rotation through the URL list and
a circuit breaker per endpoint let one flaky provider cost seconds, not the whole refresh.
The payload is opaque JSON (one request or a batch array), so any JSON-RPC chain can use it.

Limits are per URL and learned: a URL starts fast, and a 429 or a rate-limit error reply
(``RateLimited`` from the caller's ``check``) spaces its requests out, remembered in the
session's :class:`~app.chains.endpoints.EndpointMemory`. With a :class:`ChainCheck`, the first
request to each URL carries an ``eth_chainId`` item in the same batch (no extra round trip); a
URL that serves another chain is never used again in the session.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from app import net
from app.chains.endpoints import EndpointMemory
from app.domain.errors import ChainfolioError
from app.net.recorder import REVEALS, Reveals
from app.net.transport import HostRefused, NetworkDown, ProxyDown

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
CHAIN_ID_ITEM_ID = "chainfolio-chain-id"


_JSON = {"content-type": "application/json"}


def _json_bytes(payload: Any) -> bytes:
    """The request body, encoded by msgspec: the same bytes as httpx's ``json=`` (compact,
    UTF-8) in a quarter of the time for a 2 MB multicall (7.4 ms -> 2.1 ms); a
    ``msgspec.Raw`` value in it is written as it is."""
    import msgspec

    return msgspec.json.encode(payload)


def _json_reply(body: bytes) -> Any:
    """A reply's JSON, decoded by msgspec from the bytes (``json.loads`` of the text took four
    times as long on a 2 MB multicall reply). Not JSON raises ValueError (``DecodeError``)."""
    import msgspec

    return msgspec.json.decode(body)


class RpcTransportError(ChainfolioError):
    """No endpoint of a chain gave a usable reply."""


class ReplyError(ValueError):
    """The endpoint answered, but not with a usable reply (an error object where data belongs,
    a result that is not hex, a batch with missing or repeated ids): retried and rotated like a
    timeout. Its text is a plain reason a person may read."""


class RateLimited(ReplyError):
    """The endpoint refused the request for going too fast (e.g. JSON-RPC -32005)."""


@dataclass(frozen=True)
class ChainCheck:
    """The chain every URL must serve; ``names`` name other chains in the refusal."""

    chain_id: int
    name: str
    names: Mapping[int, str] = field(default_factory=dict)

    def refusal(self, served: int) -> str:
        other = self.names.get(served)
        which = f"chain {served} ({other})" if other else f"chain {served}"
        return f"This RPC URL serves {which}, not {self.name} ({self.chain_id})."


@dataclass
class _Breaker:
    """Opens after ``threshold`` consecutive failures; lets one request through after cooldown."""

    threshold: int = 3
    cooldown: float = 30.0
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> bool:
        return self.opened_at is None or now - self.opened_at >= self.cooldown

    def ok(self) -> None:
        self.failures, self.opened_at = 0, None

    def fail(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now


class _WrongChain(Exception):
    """The URL serves another chain: it is skipped, not retried."""


@dataclass
class JsonRpcTransport:
    """Posts JSON to a list of URLs in fallback order; counts the HTTP requests it made."""

    urls: Sequence[str]
    timeout: float = 10.0
    retries: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 8.0
    max_connections: int = 16
    requests: int = 0
    chain_check: ChainCheck | None = None
    memory: EndpointMemory = field(default_factory=EndpointMemory)
    purpose: str = "rpc"  # what the privacy ledger files these requests under
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _breakers: dict[str, _Breaker] = field(default_factory=dict, repr=False)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(
                max_connections=self.max_connections, max_keepalive_connections=self.max_connections
            )
            self._client = net.client(self.purpose, timeout=self.timeout, limits=limits)
        return self._client

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.backoff_cap)
            except ValueError:
                pass
        base = min(self.backoff_cap, self.backoff_base * 2**attempt)
        return float(base / 2 + random.uniform(0, base / 2))

    async def post(
        self,
        payload: Any,
        decode: Callable[[bytes], Any] | None = None,
        check: Callable[[Any], Any] | None = None,
        reveals: Reveals | None = None,
    ) -> Any:
        """Send ``payload``; return the parsed JSON reply of the first endpoint that answers.
        ``decode`` (body bytes to reply, raising ValueError when the body is not a reply) replaces
        the plain JSON parse; a reply it refuses is retried like one that is not JSON. ``check``
        (reply to reply) raises :class:`ReplyError` for a reply that parsed but is not usable, or
        :class:`RateLimited`; both are retried, the latter also slows this URL down.
        ``reveals`` tells the privacy ledger what the payload carries (see ``app.net.recorder``).

        Raises RpcTransportError with a human reason (never a URL: it may hold a key).
        """
        if not self.urls:
            raise RpcTransportError("This network has no RPC URL configured.")
        last = "no endpoint answered"
        refused: set[str] = set()
        for attempt in range(self.retries + 1):
            usable = [u for u in self.urls if not self._wrong_chain(u)]
            if not usable:
                raise RpcTransportError(self._refusal())
            now = time.monotonic()
            candidates = [u for u in usable if self._breaker(u).allows(now)] or usable
            retry_after: str | None = None
            for url in candidates:
                if self._wrong_chain(url) or url in refused:  # learned meanwhile
                    continue
                pace = self.memory.pace(url)
                verify = decode is None and self._unverified(url)
                await pace.wait()
                try:
                    self.requests += 1
                    resp = await self._http().post(
                        url,
                        content=_json_bytes(self._with_chain_id(payload) if verify else payload),
                        headers=_JSON,
                        extensions=None if reveals is None else {REVEALS: reveals},
                    )
                except ProxyDown as exc:
                    self.requests -= 1  # nothing was sent
                    raise RpcTransportError(str(exc)) from None  # no direct way round it
                except HostRefused as exc:
                    self.requests -= 1
                    refused.add(url)
                    last = str(exc)
                    continue  # own-nodes-only: another URL may be the person's own
                except NetworkDown:
                    self.requests -= 1  # nothing was sent, and this URL is not to blame
                    last = "the RPC endpoint could not be reached (no network connection)"
                    continue  # an address (a node on this computer) may still answer
                except httpx.TimeoutException:
                    last = "the RPC endpoint timed out"
                except httpx.HTTPError as exc:
                    last = f"the RPC endpoint could not be reached ({type(exc).__name__})"
                else:
                    if resp.status_code == 429:
                        pace.refused()
                    if resp.status_code in RETRY_STATUS:
                        last = f"the RPC endpoint answered HTTP {resp.status_code}"
                        retry_after = resp.headers.get("retry-after") or retry_after
                    elif resp.status_code >= 400:
                        last = f"the RPC endpoint refused the request (HTTP {resp.status_code})"
                    else:
                        try:
                            data = decode(resp.content) if decode else _json_reply(resp.content)
                            if verify:
                                data = self._verified(url, data, payload)
                            if check is not None:
                                data = check(data)
                        except _WrongChain as exc:
                            last = str(exc)
                            continue  # not the URL's health: no breaker strike
                        except RateLimited as exc:
                            pace.refused()
                            last = str(exc)
                        except ReplyError as exc:
                            last = str(exc)
                        except ValueError:
                            last = "the RPC endpoint sent a reply that is not JSON"
                        else:
                            pace.answered()
                            self._breaker(url).ok()
                            return data
                self._breaker(url).fail(time.monotonic())
            if refused.issuperset(usable):
                raise RpcTransportError(last)
            if attempt < self.retries:
                await asyncio.sleep(self._delay(attempt, retry_after))
        if not [u for u in self.urls if not self._wrong_chain(u)]:
            raise RpcTransportError(self._refusal())
        raise RpcTransportError(f"Could not read the network: {last}.")

    def _unverified(self, url: str) -> bool:
        return self.chain_check is not None and url not in self.memory.served

    def _wrong_chain(self, url: str) -> bool:
        served = self.memory.served.get(url)
        return (
            self.chain_check is not None
            and served is not None
            and served != self.chain_check.chain_id
        )

    def _refusal(self) -> str:
        assert self.chain_check is not None
        reasons = [self.chain_check.refusal(self.memory.served[u]) for u in self.urls]
        return " ".join(dict.fromkeys(reasons))

    @staticmethod
    def _with_chain_id(payload: Any) -> list[Any]:
        item = {"jsonrpc": "2.0", "id": CHAIN_ID_ITEM_ID, "method": "eth_chainId", "params": []}
        return [item, *payload] if isinstance(payload, list) else [item, payload]

    def _verified(self, url: str, data: Any, payload: Any) -> Any:
        """The reply without its ``eth_chainId`` item, after recording the chain the URL serves.

        A reply that is one object answers the batch as a whole (body too large, rate limit):
        it goes to the caller's check unchanged, and the URL stays unverified."""
        assert self.chain_check is not None
        if isinstance(data, dict) and "error" in data:
            return data
        if not isinstance(data, list):
            raise ReplyError("the RPC endpoint sent a malformed reply")
        mine = [i for i in data if isinstance(i, dict) and i.get("id") == CHAIN_ID_ITEM_ID]
        rest = [i for i in data if not (isinstance(i, dict) and i.get("id") == CHAIN_ID_ITEM_ID)]
        if len(mine) != 1:
            raise ReplyError("the RPC endpoint did not answer every request of a batch")
        try:
            served = int(str(mine[0].get("result")), 16)
        except (TypeError, ValueError):
            raise ReplyError("the RPC endpoint did not tell which chain it serves") from None
        self.memory.served[url] = served
        if served != self.chain_check.chain_id:
            raise _WrongChain(self.chain_check.refusal(served))
        if isinstance(payload, list):
            return rest
        if len(rest) != 1:
            raise ReplyError("the RPC endpoint did not answer every request of a batch")
        return rest[0]

    def _breaker(self, url: str) -> _Breaker:
        return self._breakers.setdefault(url, _Breaker())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
