"""The chain registry: ``resources/chains.toml`` plus the person's own networks and RPC URLs.

User changes live in ``networks.toml`` in the config directory. The secret part of a keyed
provider URL (``https://host/v2/<key>`` or ``?apikey=<key>``) never goes there: it is replaced by
``{secret}`` and kept in the SecretStore under ``rpc.<chain>.<index>``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.domain.chains import ChainFamily, ChainSpec
from app.domain.errors import ChainfolioError
from app.domain.ids import ChainId
from app.domain.ports import SecretStore
from app.logging_setup import register_secret

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
CHAINS_FILE = RESOURCES / "chains.toml"
SECRET_MARK = "{secret}"
_KEYLIKE = re.compile(r"^[A-Za-z0-9_\-]{20,}$")
_SECRET_QUERY = ("apikey", "api_key", "key", "token", "access_token")


class NetworkError(ChainfolioError):
    """A network the person named does not exist or cannot be changed that way."""


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
    """Return (template, secret): the key-like part of a provider URL becomes ``{secret}``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    for i, (name, value) in enumerate(query):
        if name.lower() in _SECRET_QUERY and value:
            query[i] = (name, "SECRETMARK")
            q = urlencode(query).replace("SECRETMARK", SECRET_MARK)
            return urlunsplit(parts._replace(query=q)), value
    segments = parts.path.split("/")
    for i, seg in enumerate(segments):
        if _KEYLIKE.match(seg):
            segments[i] = SECRET_MARK
            return urlunsplit(parts._replace(path="/".join(segments))), seg
    return url, None


class ChainRegistry:
    """Built-in chains merged with ``networks.toml``; the one place that knows both."""

    def __init__(
        self, user_file: Path, secrets: SecretStore, builtin: list[ChainSpec] | None = None
    ) -> None:
        self._user_file = user_file
        self._secrets = secrets
        self._builtin = builtin if builtin is not None else load_builtin()
        self._user = self._read_user()

    def _read_user(self) -> dict[str, Any]:
        if not self._user_file.exists():
            return {"network": [], "override": {}}
        with self._user_file.open("rb") as fh:
            data = tomllib.load(fh)
        data.setdefault("network", [])
        data.setdefault("override", {})
        return data

    def _save(self) -> None:
        import tomli_w

        self._user_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._user_file.with_suffix(".tmp")
        tmp.write_bytes(tomli_w.dumps(self._user).encode())
        tmp.replace(self._user_file)

    def _resolve_urls(self, chain: str, urls: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        for i, url in enumerate(urls):
            if SECRET_MARK in url:
                secret = self._secrets.get(f"rpc.{chain}.{i}")
                if secret is None:
                    continue  # key removed from the keyring: skip the URL, keep the others
                register_secret(secret)
                url = url.replace(SECRET_MARK, secret)
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
            result.append(spec)
        return result

    def enabled(self) -> list[ChainSpec]:
        return [s for s in self.all() if s.enabled]

    def get(self, chain: str) -> ChainSpec:
        for spec in self.all():
            if str(spec.chain_id) == chain or spec.name.lower() == chain.lower():
                return spec
        raise NetworkError(f"No network called {chain!r}. See: chainfolio networks list")

    def add(
        self, chain_id: int, name: str, symbol: str, rpc_urls: list[str], **extra: Any
    ) -> ChainSpec:
        cid = str(ChainId.evm(chain_id))
        if any(str(s.chain_id) == cid for s in self.all()):
            raise NetworkError(f"A network with chain id {chain_id} already exists.")
        table = {
            "id": cid, "name": name, "family": "evm", "native_symbol": symbol,
            "native_name": extra.get("native_name", symbol),
            "native_decimals": int(extra.get("native_decimals", 18)),
            "native_slip44": 60, "rpc_urls": [], "multicall3": extra.get("multicall3", ""),
            "explorer_url": extra.get("explorer_url", ""),
        }  # fmt: skip
        self._user["network"].append(table)
        self.set_rpc(cid, rpc_urls)
        return self.get(cid)

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

    def _drop_secrets(self, cid: str) -> None:
        """Delete only the keys this chain stored (no keyring access when there are none)."""
        for i, url in enumerate(self._user["override"].get(cid, {}).get("rpc_urls", [])):
            if SECRET_MARK in url:
                self._secrets.delete(f"rpc.{cid}.{i}")

    def set_rpc(self, chain: str, urls: list[str]) -> None:
        """Replace the RPC URLs of a chain; an empty list goes back to the defaults."""
        cid = str(self.get(chain).chain_id)
        self._drop_secrets(cid)
        templates: list[str] = []
        for i, url in enumerate(urls):
            if not re.match(r"^https?://", url):
                raise NetworkError(f"Not an http(s) URL: {url.split('?')[0]}")
            template, secret = split_secret(url)
            if secret is not None:
                register_secret(secret)
                self._secrets.set(f"rpc.{cid}.{i}", secret)
            templates.append(template)
        ov = self._user["override"].setdefault(cid, {})
        if templates:
            ov["rpc_urls"] = templates
        else:
            ov.pop("rpc_urls", None)
        self._save()

    def set_enabled(self, chain: str, enabled: bool) -> None:
        cid = str(self.get(chain).chain_id)
        self._user["override"].setdefault(cid, {})["enabled"] = enabled
        self._save()
