"""The httpx side of the one way out: an ``AsyncBaseTransport`` every client is built on.

For each request it (1) refuses a host the policy does not allow, before any connection,
(2) picks the connection pool: direct, through the HTTP proxy, or through the SOCKS proxy with
the credentials of the destination host (stream isolation: Tor's IsolateSOCKSAuth puts
different credentials on different circuits; the proxy resolves the name, so DNS goes through
it too), (3) sends, and (4) hands the request to the recorder once the host has received it.
When a proxy is set and does not answer, the request fails with one sentence and nothing goes
out directly: there is no fallback pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from app.net import isolation
from app.net.names import NO_NAMES, NameFailures, unanswered_lookup
from app.net.policy import NetPolicy, host_of
from app.net.recorder import REVEALS

if TYPE_CHECKING:
    import ssl

    from app.net import Egress


class EgressRefused(httpx.ConnectError):
    """Nothing was sent; ``str(exc)`` is a sentence for the person."""


class HostRefused(EgressRefused):
    """Own-nodes-only: the host is not one the person configured."""


class ProxyDown(EgressRefused):
    """The proxy is set and does not answer."""


class NetworkDown(EgressRefused):
    """No name resolves (see :mod:`app.net.names`): the request was not tried."""


def refusal_sentence(host: str) -> str:
    return (
        f"Own nodes only is on: {host} is not one of your own servers, so nothing was sent to it."
    )


def proxy_sentence(policy: NetPolicy) -> str:
    return f"The proxy at {policy.proxy_address} does not answer; nothing was sent."


class EgressTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        egress: Egress,
        purpose: str,
        *,
        limits: httpx.Limits,
        verify: Callable[[], ssl.SSLContext] | bool,
    ) -> None:
        """``verify``: the TLS context (made when the first TLS connection needs it: loading
        the CA store is ~30 ms a process need not spend talking to a node over plain HTTP)."""
        self._egress = egress
        self._purpose = purpose
        self._limits = limits
        self._verify = verify
        self._pools: dict[tuple[bool, str, str, str], httpx.AsyncHTTPTransport] = {}

    def _pool(self, policy: NetPolicy, host: str, secure: bool) -> httpx.AsyncHTTPTransport:
        """The connection pool for ``host``; ``secure``: the request's URL is https (TLS to
        the host: certificates checked). Plain-HTTP requests get pools of their own."""
        scheme = urlsplit(policy.proxy).scheme.lower() if policy.proxy else ""
        isolated = scheme.startswith("socks") and policy.isolate
        tls = secure or scheme == "https"  # to the host, or to an HTTPS proxy
        tag = isolation.get()  # unlinkable reads: never a connection shared between wallets
        key = (tls, policy.proxy, host if isolated else "", tag)
        pool = self._pools.get(key)
        if pool is None:
            proxy: httpx.Proxy | None = None
            if policy.proxy:
                url = (
                    "socks5h" + policy.proxy[len(scheme) :] if scheme == "socks5" else policy.proxy
                )
                auth = self._egress.credentials(host, tag) if isolated else None
                proxy = httpx.Proxy(url, auth=auth)
            # No TLS is made through a plain-HTTP pool: its context is never used, and
            # ``False`` builds one without reading the CA store.
            verify: ssl.SSLContext | bool = (
                self._verify
                if isinstance(self._verify, bool)
                else (self._verify() if tls else False)
            )
            pool = httpx.AsyncHTTPTransport(
                verify=verify, limits=self._limits, proxy=proxy, trust_env=False
            )
            self._pools[key] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        egress = self._egress
        policy = egress.policy
        host = host_of(str(request.url))
        if not policy.allows(host):
            if egress.recorder is not None:
                egress.recorder.refused(host, self._purpose)
            raise HostRefused(refusal_sentence(host), request=request)
        # Direct connections look names up here (through a proxy, the proxy does): when the
        # names of several hosts failed to resolve and nothing was reached since, the network
        # is down and this request fails at once instead of waiting on its own lookup.
        names = None if policy.proxy else egress.names
        if names is not None and names.down(request.url.host):
            raise NetworkDown(NO_NAMES, request=request)
        pool = self._pool(policy, host, request.url.scheme == "https")
        began = time.monotonic()
        try:
            response = await pool.handle_async_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
            if policy.proxy and not await _answers(policy):
                raise ProxyDown(proxy_sentence(policy), request=request) from exc
            if names is not None and (
                isinstance(exc, httpx.ConnectTimeout)  # the lookup may be what never came
                or unanswered_lookup(exc, time.monotonic() - began)
            ):
                names.failed(request.url.host)
            raise  # not sent: the host learnt nothing
        except httpx.TransportError:
            self._reached(names)
            self._sent(host, request)  # sent (or partly): count it
            raise
        self._reached(names)
        self._sent(host, request)
        return response

    @staticmethod
    def _reached(names: NameFailures | None) -> None:
        if names is not None:
            names.reached()

    def _sent(self, host: str, request: httpx.Request) -> None:
        recorder = self._egress.recorder
        if recorder is None:
            return
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        reveals = request.extensions.get(REVEALS)
        recorder.sent(host, self._purpose, str(request.url), body, reveals)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            with contextlib.suppress(Exception):
                await pool.aclose()


async def _answers(policy: NetPolicy, timeout: float = 3.0) -> bool:
    """Whether the proxy accepts a TCP connection at all."""
    parts = urlsplit(policy.proxy)
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), timeout
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def isolation_credentials(salt: bytes, host: str) -> tuple[str, str]:
    """SOCKS user name and password for ``host``: stable for the session, distinct per host,
    revealing neither the host nor anything about the person to the proxy."""
    tag = hmac.new(salt, host.encode(), hashlib.sha256).hexdigest()
    return f"cf-{tag[:16]}", tag[16:32]


def build_client(
    egress: Egress,
    purpose: str,
    *,
    timeout: float | httpx.Timeout,
    limits: httpx.Limits | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    from app.tls import tls_context

    transport = EgressTransport(
        egress,
        purpose,
        limits=limits or httpx.Limits(max_connections=8, max_keepalive_connections=8),
        verify=tls_context,
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        headers=headers,
        trust_env=False,
    )
