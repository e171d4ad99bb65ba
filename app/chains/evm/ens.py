"""ENS names (``vitalik.eth``) resolved to addresses through web3's async ENS client.

web3 is imported lazily: this adapter is built at start-up but only pays for web3 on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.domain.errors import ChainfolioError

log = logging.getLogger(__name__)


class EnsLookupError(ChainfolioError):
    """The Ethereum network could not be asked about a name."""


class EnsResolver:
    """Implements NameResolver against Ethereum mainnet RPC URLs (tried in order)."""

    def __init__(
        self, rpc_urls: Sequence[str] | Callable[[], Sequence[str]], timeout: float = 10.0
    ) -> None:
        self._urls = rpc_urls
        self._timeout = timeout

    async def resolve(self, name: str) -> str | None:
        from web3 import AsyncHTTPProvider, AsyncWeb3
        from web3.exceptions import Web3Exception

        last: Exception | None = None
        urls = self._urls() if callable(self._urls) else self._urls
        for url in urls:
            w3: Any = AsyncWeb3(_provider(AsyncHTTPProvider, url, self._timeout))
            try:
                from ens import AsyncENS

                address = await AsyncENS.from_web3(w3).address(name)
                return str(address) if address else None
            except (Web3Exception, OSError, TimeoutError, ValueError) as exc:
                last = exc
            except Exception as exc:  # aiohttp errors and the like: try the next URL
                last = exc
            finally:
                await w3.provider.disconnect()
        # The person reads a sentence; the exception (e.g. aiohttp's ClientConnectorDNSError
        # when offline) goes to the log only.
        log.info("ENS lookup of %s failed on every URL", name, exc_info=last)
        if last is not None and _egress_sentence(last):
            raise EnsLookupError(f"Could not look up {name}: {_egress_sentence(last)}")
        raise EnsLookupError(
            f"Could not look up {name}: Ethereum could not be reached. Check the internet "
            "connection and try again, or paste the 0x address instead."
        )


def _provider(base: type[Any], url: str, timeout: float) -> Any:
    """web3's HTTP provider with its POST sent through the one HTTP layer (``app.net``: proxy,
    own-nodes-only, privacy ledger) instead of web3's own aiohttp session."""
    from app import net

    class Provider(base):  # type: ignore[misc]
        _net_client: Any = None

        async def _make_request(self, method: Any, request_data: bytes) -> bytes:
            if self._net_client is None:
                self._net_client = net.client("ens", timeout=timeout)
            response = await self._net_client.post(
                self.endpoint_uri, content=request_data,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            response.raise_for_status()
            return bytes(response.content)

        async def disconnect(self) -> None:
            if self._net_client is not None:
                await self._net_client.aclose()
                self._net_client = None

    return Provider(url)


def mainnet_resolver(config_dir: Path) -> EnsResolver:
    """The app's resolver: Ethereum's RPC URLs as the person configured them, read on use."""

    def urls() -> Sequence[str]:
        from app.chains.registry import ChainRegistry
        from app.secrets import KeyringSecretStore

        registry = ChainRegistry(config_dir / "networks.toml", KeyringSecretStore())
        return registry.get("eip155:1").rpc_urls

    return EnsResolver(urls)


def _egress_sentence(exc: BaseException) -> str | None:
    """The one HTTP layer's own sentence (proxy down, host refused), if that was the cause."""
    from app.net.transport import EgressRefused

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EgressRefused):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None
