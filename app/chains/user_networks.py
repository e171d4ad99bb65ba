"""Reading and writing ``networks.toml``, the person's own networks and RPC URLs.

Everything in the file is checked when it is read: a TOML error or a value of the wrong type
(``rpc_urls = 42``) is one sentence naming the file and the line, never a traceback and never
skipped silently. Keys this version does not know are kept and logged.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

from app.chains.registry import NetworkError
from app.config import unwritable_sentence, write_private_atomic
from app.domain.chains import ChainFamily
from app.domain.ids import ChainId

log = logging.getLogger(__name__)

_NETWORK_KEYS: dict[str, tuple[type, ...]] = {
    "id": (str,), "name": (str,), "family": (str,), "native_symbol": (str,),
    "native_name": (str,), "native_decimals": (int,), "native_slip44": (int,),
    "rpc_urls": (list,), "explorer_url": (str,), "multicall3": (str,), "price_ids": (dict,),
    "enabled": (bool,),
}  # fmt: skip
_REQUIRED = ("id", "name", "native_symbol", "rpc_urls")
_OVERRIDE_KEYS: dict[str, tuple[type, ...]] = {
    "enabled": (bool,), "rpc_urls": (list,), "price_ids": (dict,),
}  # fmt: skip
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


class NetworksFileError(NetworkError):
    """``networks.toml`` cannot be read or written; the message names the file and line."""


def _unquote(text: str) -> str:
    return ".".join(
        part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text)
    )


class _Lines:
    """Where each table and key of the file is, to name the line of a bad value."""

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[tuple[str, ...], str], int] = {}
        section: tuple[str, ...] = ()
        networks = 0
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                name = _unquote(header[2])
                if header[1] == "[[" and name == "network":
                    section = ("network", str(networks))
                    networks += 1
                else:
                    head, _, rest = name.partition(".")
                    section = (head, rest) if rest else (head,)
                self.tables.setdefault(section, number)
                continue
            key = _KEY.match(line)
            if key:
                name = key[1].strip("\"'")
                self.keys.setdefault((section, name), number)
                self.tables.setdefault((*section, name), number)  # an inline table

    def line(self, section: tuple[str, ...], key: str | None = None) -> int | None:
        if key is not None and (section, key) in self.keys:
            return self.keys[(section, key)]
        return self.tables.get(section)


def read_user_networks(path: Path) -> dict[str, Any]:
    """The file's ``network`` list and ``override`` table, every value checked."""
    if not path.exists():
        return {"network": [], "override": {}}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworksFileError(
            f"The networks file {path} cannot be read ({exc}): fix or remove it."
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"at line {found[1]}" if found else f"at its end, line {len(text.splitlines())}"
        reason = str(exc).split(" (at ")[0].lower()
        raise NetworksFileError(
            f"The networks file {path} is not valid TOML {where} ({reason}): fix that line, "
            "or remove the file to go back to the built-in networks."
        ) from None
    lines = _Lines(text)

    def bad(section: tuple[str, ...], key: str | None, what: str) -> NetworksFileError:
        number = lines.line(section, key)
        where = f" at line {number}" if number else ""
        return NetworksFileError(
            f"The networks file {path} is not valid{where} ({what}): fix it, or remove the file "
            "to go back to the built-in networks."
        )

    networks = data.get("network", [])
    if not isinstance(networks, list) or not all(isinstance(t, dict) for t in networks):
        raise bad(("network",), "network", "network must be a list of [[network]] tables")
    for i, table in enumerate(networks):
        section = ("network", str(i))
        for key in _REQUIRED:
            if key not in table:
                raise bad(section, None, f"a [[network]] needs its {key}")
        _check_values(table, _NETWORK_KEYS, section, bad, "a [[network]]")
        try:
            ChainId.parse(table["id"])
            ChainFamily(table.get("family", "evm"))
        except ValueError:
            raise bad(section, "id", "its id or family is not one Chainfolio knows") from None
    overrides = data.get("override", {})
    if not isinstance(overrides, dict):
        raise bad(("override",), "override", "override must be a table")
    for chain, table in overrides.items():
        section = ("override", chain)
        if not isinstance(table, dict):
            raise bad(section, None, f"the settings for {chain} must be a table")
        _check_values(table, _OVERRIDE_KEYS, section, bad, f"{chain}")
    for key in set(data) - {"network", "override"}:
        log.warning("%s: %r is not known to this version; kept as it is", path, key)
    data.setdefault("network", [])
    data.setdefault("override", {})
    return data


def _check_values(
    table: dict[str, Any],
    schema: dict[str, tuple[type, ...]],
    section: tuple[str, ...],
    bad: Any,
    owner: str,
) -> None:
    for key, value in table.items():
        kinds = schema.get(key)
        if kinds is None:
            log.warning("networks.toml: %s has %r, not known to this version; kept", owner, key)
            continue
        wrong = not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))
        if key == "rpc_urls" and not wrong:
            wrong = not all(isinstance(url, str) for url in value)
        if key == "price_ids" and not wrong:
            wrong = not all(isinstance(v, str) for v in value.values())
        if wrong:
            expected = {
                list: "a list of texts", str: "a text", int: "a whole number",
                bool: "true or false", dict: "a table",
            }[kinds[0]]  # fmt: skip
            raise bad(section, key, f"{key} of {owner} must be {expected}")


def write_user_networks(path: Path, data: dict[str, Any]) -> None:
    """Save atomically and private to the user; a full or read-only disk is one sentence."""
    import tomli_w

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private_atomic(path, tomli_w.dumps(data).encode("utf-8"))
    except OSError as exc:
        raise NetworksFileError(unwritable_sentence("Your networks", path, exc)) from None
