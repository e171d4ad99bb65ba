"""What may leave, and how: the proxy, per-host stream isolation and own-nodes-only.

Pure data and parsing (no httpx): the settings module and the composition root build a
:class:`NetPolicy`; the transport reads it on every request, so a change applies at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.domain.errors import SettingsError

TOR_PRESET = "socks5h://127.0.0.1:9050"
PROXY_SCHEMES = ("socks5h", "socks5", "http")


@dataclass(frozen=True, slots=True)
class NetPolicy:
    proxy: str = ""  # "" = direct; else socks5h://host:port or http://host:port
    isolate: bool = True  # SOCKS: distinct credentials (so Tor circuits) per destination host
    own_nodes_only: bool = False
    own_hosts: frozenset[str] = field(default_factory=frozenset)

    def allows(self, host: str) -> bool:
        return not self.own_nodes_only or host in self.own_hosts

    @property
    def proxy_address(self) -> str:
        """``host:port`` of the proxy, as a message names it."""
        parts = urlsplit(self.proxy)
        return f"{parts.hostname}:{parts.port}"


def host_of(url: str) -> str:
    """``host`` or ``host:port`` (a non-default port), lowercase; "" for no host. The one way a
    host is named in the privacy ledger and in the own-nodes list."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return host if port is None or port == default else f"{host}:{port}"


def check_proxy(value: str) -> None:
    """A proxy URL: socks5h://host:port (DNS through the proxy), socks5:// or http://, with a
    port and no user name or password (credentials are chosen per host for isolation)."""
    if not value:
        return
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise SettingsError(
            "The proxy must look like socks5h://127.0.0.1:9050 or http://host:port."
        ) from None
    if parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname or port is None:
        raise SettingsError(
            "The proxy must look like socks5h://127.0.0.1:9050 or http://host:port "
            "(socks5h, socks5 or http, with a host and a port)."
        )
    if parts.username or parts.password:
        raise SettingsError(
            "The proxy address must not hold a user name or password; Chainfolio picks "
            "its own per host so that Tor keeps each host on its own circuit."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError("The proxy address is only a scheme, a host and a port.")
