"""The chain registry: ``resources/chains.toml`` plus the person's own networks and RPC URLs.

User changes live in ``networks.toml`` in the config directory. The secret parts of a keyed
provider URL (every form :func:`app.domain.secret_text.split_url_secrets` knows: ``?apikey=``,
``?api-key=``, ``?api_key=``, ``?key=``, ``/v2/<key>``, ``/v3/<key>``, ``user:password@`` …) never
go there: each is replaced by a ``{secret}`` mark and kept in the SecretStore under
``rpc.<chain>.<index>`` (further keys of the same URL: ``rpc.<chain>.<index>.<n>``).

Every name, symbol and URL is checked before anything is written: wallet secrets are refused,
text over its cap is refused, URLs must be plain http(s) URLs with a host.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.domain.addresses import parse_evm_address
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import ChainId
from app.domain.ports import SecretStore
from app.domain.price_routing import PRICE_ID_PREFIX, parse_price_id
from app.domain.secret_text import (
    SECRET_MARK,
    fill_marks,
    has_marks,
    refuse_secret,
    split_url_secrets,
)
from app.domain.text import (
    MAX_CHAIN_REFERENCE,
    MAX_NETWORK_NAME,
    MAX_SYMBOL,
    InvalidTextError,
    check_url,
    clean_text,
    person_text,
)
from app.logging_setup import register_secret

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CHAINS_FILE = RESOURCES / "chains.toml"
__all__ = ["SECRET_MARK", "ChainRegistry", "NetworkError", "load_builtin", "split_secret"]


class NetworkError(ChainfolioError):
    """A network the person named does not exist or cannot be changed that way."""


def _coin(price_id: str) -> str:
    """The bare CoinGecko coin id of a price id a person typed (checked)."""
    return parse_price_id(price_id).removeprefix(PRICE_ID_PREFIX)


def _spec_from_table(t: dict[str, Any], *, custom: bool = False) -> ChainSpec:
    try:
        return ChainSpec(
            chain_id=ChainId.parse(str(t["id"])),
            name=str(t["name"]),
            family=ChainFamily(t.get("family", "evm")),
            native_symbol=str(t["native_symbol"]),
            native_name=str(t.get("native_name", t["native_symbol"])),
            native_decimals=int(t.get("native_decimals", 18)),
            native_slip44=int(t.get("native_slip44", 60)),
            rpc_urls=tuple(str(u) for u in t["rpc_urls"]),
            explorer_url=str(t.get("explorer_url", "")),
            multicall3=t.get("multicall3") or None,
            price_ids={str(k): str(v) for k, v in t.get("price_ids", {}).items()},
            enabled=bool(t.get("enabled", True)),
            custom=custom,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise NetworkError(f"Network entry {t.get('id', '?')} is incomplete: {exc}") from exc


def load_builtin(path: Path = CHAINS_FILE) -> list[ChainSpec]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [_spec_from_table(t) for t in data.get("chain", [])]


def split_secret(url: str) -> tuple[str, str | None]:
    """(template, first secret): the one-key view of :func:`split_url_secrets`."""
    template, secrets = split_url_secrets(url)
    return template, (secrets[0] if secrets else None)


def _secret_name(chain: str, url_index: int, part: int) -> str:
    return f"rpc.{chain}.{url_index}" + (f".{part}" if part else "")


def _secret_names(chain: str, templates: list[str]) -> list[str]:
    names = []
    for i, template in enumerate(templates):
        if has_marks(template):
            names += [_secret_name(chain, i, k) for k in range(_mark_count(template))]
    return names


def _mark_count(template: str) -> int:
    count = template.count(SECRET_MARK)
    while "{secret:" + str(count) + "}" in template:
        count += 1
    return count


class ChainRegistry:
    """Built-in chains merged with ``networks.toml``; the one place that knows both."""

    def __init__(
        self, user_file: Path, secrets: SecretStore, builtin: list[ChainSpec] | None = None
    ) -> None:
        self._user_file = user_file
        self._secrets = secrets
        self._builtin = builtin if builtin is not None else load_builtin()
        self._user = self._read_user()
        self._move_leaked_keys()

    def _move_leaked_keys(self) -> None:
        """An older version left keys of forms it did not know (``?api-key=``, a short
        ``/v2/<key>``) in ``networks.toml``: move them to the secret store, rewrite the file.
        When the store cannot take them now, the URLs keep working and the move is retried at
        the next start."""
        moved: list[str] = []
        for cid, override in self._user["override"].items():
            urls = override.get("rpc_urls") if isinstance(override, dict) else None
            if not isinstance(urls, list):
                continue
            for i, url in enumerate(urls):
                if not isinstance(url, str) or has_marks(url):
                    continue
                template, secrets = split_url_secrets(url)
                if not secrets:
                    continue
                try:
                    for k, secret in enumerate(secrets):
                        register_secret(secret)
                        self._secrets.set(_secret_name(cid, i, k), secret)
                except ChainfolioError:
                    log.warning(
                        "networks.toml holds an API key of %s in plain text; it moves to the "
                        "keyring when one is available",
                        cid,
                    )
                    continue
                urls[i] = template
                moved.append(cid)
        if moved:
            try:
                self._save()
            except OSError as exc:
                log.warning("could not rewrite networks.toml without its keys: %s", exc)
            else:
                log.info("moved API keys of %s from networks.toml to the keyring", moved)

    def _read_user(self) -> dict[str, Any]:
        from app.chains.user_networks import read_user_networks

        return read_user_networks(self._user_file)

    def _save(self) -> None:
        from app.chains.user_networks import write_user_networks

        write_user_networks(self._user_file, self._user)

    def _resolve_urls(self, chain: str, urls: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for i, url in enumerate(urls):
            if has_marks(url):
                found = [
                    self._secrets.get(_secret_name(chain, i, k)) for k in range(_mark_count(url))
                ]
                secrets = [value for value in found if value is not None]
                if len(secrets) != len(found):
                    continue  # key removed from the keyring: skip the URL, keep the others
                for secret in secrets:
                    register_secret(secret)
                url = fill_marks(url, secrets)
            out.append(url)
        return tuple(out)

    def all(self) -> list[ChainSpec]:
        specs = list(self._builtin) + [
            _spec_from_table(t, custom=True) for t in self._user["network"]
        ]
        result = []
        for spec in specs:
            ov = self._user["override"].get(str(spec.chain_id), {})
            if "enabled" in ov:
                spec = replace(spec, enabled=bool(ov["enabled"]))
            if ov.get("rpc_urls"):
                spec = replace(
                    spec, rpc_urls=self._resolve_urls(str(spec.chain_id), ov["rpc_urls"])
                )
            if isinstance(ov.get("price_ids"), dict):
                spec = replace(spec, price_ids={**spec.price_ids, **ov["price_ids"]})
            result.append(spec)
        return result

    def enabled(self) -> list[ChainSpec]:
        return [s for s in self.all() if s.enabled]

    def get(self, chain: str) -> ChainSpec:
        refuse_secret(chain, "network name or id")
        for spec in self.all():
            if str(spec.chain_id) == chain or spec.name.lower() == chain.lower():
                return spec
        shown = clean_text(chain, MAX_CHAIN_REFERENCE)
        raise NetworkError(f"No network called {shown!r}. See: chainfolio networks list")

    def add(
        self, chain_id: int, name: str, symbol: str, rpc_urls: list[str], **extra: Any
    ) -> ChainSpec:
        """Add a custom EVM network; every field is checked before anything is written."""
        table = self.check_new(chain_id, name, symbol, rpc_urls, **extra)
        self._user["network"].append(table)
        try:
            self.set_rpc(str(table["id"]), rpc_urls)
        except BaseException:
            self._user["network"].remove(table)
            raise
        return self.get(str(table["id"]))

    def check_new(
        self, chain_id: int, name: str, symbol: str, rpc_urls: list[str], **extra: Any
    ) -> dict[str, Any]:
        """Check a custom network's fields without writing anything (before its URLs are asked
        for their chain id, so nothing refused is ever sent); return the table to store."""
        cid = str(ChainId.evm(chain_id))
        clean_name = person_text(name, "network name", MAX_NETWORK_NAME, required=True)
        clean_symbol = person_text(symbol, "symbol", MAX_SYMBOL, required=True)
        native_name = person_text(
            str(extra.get("native_name") or clean_symbol), "coin name", MAX_NETWORK_NAME
        )
        explorer = str(extra.get("explorer_url") or "")
        if explorer:
            check_url(explorer, "explorer URL", keyed=False)
            if split_url_secrets(explorer)[1]:
                raise InvalidTextError(
                    "The explorer URL carries a key or a password, which an explorer link never "
                    "needs. It was not saved."
                )
        multicall3 = str(extra.get("multicall3") or "")
        if multicall3:
            multicall3 = parse_evm_address(multicall3)
        if not rpc_urls:
            raise NetworkError("A network needs at least one RPC URL.")
        self._check_urls(rpc_urls)
        if any(str(s.chain_id) == cid for s in self.all()):
            raise NetworkError(f"A network with chain id {chain_id} already exists.")
        price_ids = {}
        if extra.get("price_id"):
            price_ids["coingecko_native"] = _coin(str(extra["price_id"]))
        return {
            "id": cid, "name": clean_name, "family": "evm", "native_symbol": clean_symbol,
            "native_name": native_name,
            "native_decimals": int(extra.get("native_decimals", 18)),
            "native_slip44": 60, "rpc_urls": [], "multicall3": multicall3,
            "explorer_url": explorer, **({"price_ids": price_ids} if price_ids else {}),
        }  # fmt: skip

    @staticmethod
    def _check_urls(urls: list[str]) -> None:
        for url in urls:
            check_url(url, "RPC URL")

    def remove(self, chain: str) -> None:
        cid = str(self.get(chain).chain_id)
        before = len(self._user["network"])
        self._user["network"] = [t for t in self._user["network"] if t["id"] != cid]
        if len(self._user["network"]) == before:
            raise NetworkError(
                f"{chain} is built in; disable it instead: chainfolio networks disable {chain}"
            )
        self._drop_secrets(cid)
        self._user["override"].pop(cid, None)
        self._save()

    def _stored_templates(self, cid: str) -> list[str]:
        return list(self._user["override"].get(cid, {}).get("rpc_urls", []))

    def _drop_secrets(self, cid: str, keep: frozenset[str] = frozenset()) -> None:
        """Delete only the keys this chain stored (no keyring access when there are none)."""
        for name in _secret_names(cid, self._stored_templates(cid)):
            if name not in keep:
                self._secrets.delete(name)

    def set_rpc(self, chain: str, urls: list[str]) -> None:
        """Replace the RPC URLs of a chain; an empty list goes back to the defaults.

        Every URL is checked first: one bad URL changes nothing. Keys go to the secret store
        before the file names their marks; keys of the old list no longer used are deleted after.
        """
        cid = str(self.get(chain).chain_id)
        self._check_urls(urls)
        templates: list[str] = []
        new_secrets: dict[str, str] = {}
        for i, url in enumerate(urls):
            template, secrets = split_url_secrets(url)
            for k, secret in enumerate(secrets):
                register_secret(secret)
                new_secrets[_secret_name(cid, i, k)] = secret
            templates.append(template)
        for name, secret in new_secrets.items():
            self._secrets.set(name, secret)
        keep = frozenset(new_secrets)
        old_names = [n for n in _secret_names(cid, self._stored_templates(cid)) if n not in keep]
        ov = self._user["override"].setdefault(cid, {})
        if templates:
            ov["rpc_urls"] = templates
        else:
            ov.pop("rpc_urls", None)
        self._save()
        for name in old_names:
            self._secrets.delete(name)

    def set_price_id(self, chain: str, price_id: str | None) -> ChainSpec:
        """Price a network's native coin as this CoinGecko coin (``None``: back to the
        default). Checked first; the next refresh prices the coin with it."""
        coin = None if price_id is None else _coin(price_id)
        cid = str(self.get(chain).chain_id)
        table = next((t for t in self._user["network"] if t["id"] == cid), None)
        if table is not None:  # a custom network: its own table says it
            ids = {k: v for k, v in table.get("price_ids", {}).items() if k != "coingecko_native"}
            if coin is not None:
                ids["coingecko_native"] = coin
            table["price_ids"] = ids
        else:
            ov = self._user["override"].setdefault(cid, {})
            ids = {k: v for k, v in ov.get("price_ids", {}).items() if k != "coingecko_native"}
            if coin is not None:
                ids["coingecko_native"] = coin
            if ids:
                ov["price_ids"] = ids
            else:
                ov.pop("price_ids", None)
        self._save()
        return self.get(cid)

    def set_enabled(self, chain: str, enabled: bool) -> None:
        cid = str(self.get(chain).chain_id)
        self._user["override"].setdefault(cid, {})["enabled"] = enabled
        self._save()
