"""Where an Electrum server is (``ssl://host:port``, ``tcp://host:port`` or ``host:port:s``), and
the typed accessor of the ``bitcoin.*`` settings (declared in :mod:`app.chains.bitcoin.settings`;
this module does not import ``app.config``, which imports that one at start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.domain.errors import SettingsError

ELECTRUM_SCHEMES = ("tcp", "ssl")


@dataclass(frozen=True, slots=True)
class ElectrumServer:
    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{'ssl' if self.tls else 'tcp'}://{self.host}:{self.port}"


def parse_electrum_server(text: str) -> ElectrumServer | None:
    """``ssl://host:50002``, ``tcp://host:50001`` or Electrum's own ``host:50002:s`` form
    (``:t`` plain TCP); empty: none. Raises SettingsError with a plain sentence."""
    s = text.strip()
    if not s:
        return None
    tls: bool | None = None
    if "://" in s:
        scheme, _, s = s.partition("://")
        if scheme.lower() not in ELECTRUM_SCHEMES:
            raise SettingsError("An Electrum server is written ssl://host:port or tcp://host:port.")
        tls = scheme.lower() == "ssl"
    parts = s.rsplit(":", 2) if not s.startswith("[") else None
    if parts is None:  # [ipv6]:port
        host, _, rest = s[1:].partition("]")
        rest = rest.lstrip(":")
        port_text, _, flag = rest.partition(":")
    elif len(parts) == 3 and parts[2] in ("s", "t"):
        host, port_text, flag = parts
    elif len(parts) >= 2:
        host, port_text, flag = ":".join(parts[:-1]), parts[-1], ""
    else:
        raise SettingsError("An Electrum server needs a port: ssl://host:50002.")
    if flag:
        tls = flag == "s"
    try:
        port = int(port_text)
    except ValueError:
        raise SettingsError("An Electrum server's port is a number: ssl://host:50002.") from None
    if not host or not 0 < port < 65536 or any(c.isspace() or c in "/@?#" for c in host):
        raise SettingsError("An Electrum server is written ssl://host:port or tcp://host:port.")
    return ElectrumServer(host, port, True if tls is None else tls)


class _Settings(Protocol):
    def get(self, key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class BitcoinSettings:
    """The ``bitcoin.*`` settings, typed (read once per refresh or scan)."""

    electrum: ElectrumServer | None
    verify_tls: bool
    gap_limit: int
    batch_size: int
    esplora_concurrency: int
    request_timeout: float

    @classmethod
    def of(cls, settings: _Settings) -> BitcoinSettings:
        return cls(
            electrum=parse_electrum_server(str(settings.get("bitcoin.electrum_server"))),
            verify_tls=bool(settings.get("bitcoin.electrum_verify_tls")),
            gap_limit=int(settings.get("bitcoin.gap_limit")),
            batch_size=int(settings.get("bitcoin.batch_size")),
            esplora_concurrency=int(settings.get("bitcoin.esplora_concurrency")),
            request_timeout=int(settings.get("chains.request_timeout_ms")) / 1000,
        )
