"""Settings of the one HTTP layer: proxy, Tor, own-nodes-only, unlinkable reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from app.config import SETTING_NAMES, Setting, parse_bool
from app.domain.errors import SettingsError
from app.net.policy import NetPolicy, check_proxy, host_of

if TYPE_CHECKING:
    from app.config import Settings


def _check_proxy(value: Any) -> None:
    try:
        check_proxy(str(value))
    except SettingsError:
        raise
    except ValueError as exc:  # pragma: no cover - check_proxy raises SettingsError
        raise SettingsError(str(exc)) from None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "net.proxy",
        "",
        "Proxy for all traffic: socks5h://host:port (DNS through the proxy too) or "
        "http://host:port; empty: direct. Tor: socks5h://127.0.0.1:9050.",
        str,
        _check_proxy,
    ),
    Setting(
        "net.isolate_hosts",
        True,
        "With a SOCKS proxy, use distinct credentials per host so that Tor sends each host "
        "over its own circuit.",
        parse_bool,
    ),
    Setting(
        "net.own_nodes_only",
        False,
        "Contact only the hosts you configured yourself (your RPC URLs and price-source "
        "addresses); everything else is refused before any connection.",
        parse_bool,
    ),
    Setting(
        "net.unlinkable_reads",
        False,
        "Read each wallet in its own requests and connections instead of one batch, so a "
        "node cannot link your wallets by batch (costs more requests).",
        parse_bool,
    ),
)

SETTING_NAMES.update(
    {
        "net.proxy": "The proxy",
        "net.isolate_hosts": "Stream isolation per host",
        "net.own_nodes_only": "Own nodes only",
        "net.unlinkable_reads": "Unlinkable reads",
    }
)

# Server addresses a person may set (price sources, their Electrum server): one they set
# points at a server of their own choosing, so own-nodes-only allows it.
OWN_URL_KEYS = (
    "prices.coingecko.url",
    "prices.coingecko.pro_url",
    "prices.defillama.url",
    "prices.stooq.url",
    "prices.fx_history.url",
    "bitcoin.electrum_server",
)


def network_policy(settings: Settings, own_rpc_urls: Callable[[], Iterable[str]]) -> NetPolicy:
    """The policy the settings ask for; own hosts are only worked out when the mode is on."""
    from app.config import NetSettings

    net = NetSettings(settings)
    own: frozenset[str] = frozenset()
    only = net.own_nodes_only
    if only:
        from app.config import SETTINGS

        keys = [k for k in OWN_URL_KEYS if k in SETTINGS and not settings.is_default(k)]
        urls = [str(settings.get(k)) for k in keys]
        urls += list(own_rpc_urls())
        own = frozenset(h for h in map(host_of, urls) if h)
    return NetPolicy(
        proxy=net.proxy,
        isolate=net.isolate_hosts,
        own_nodes_only=only,
        own_hosts=own,
    )
