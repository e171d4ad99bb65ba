"""Settings and paths.

Paths come from platformdirs, or from one directory given by ``--data-dir`` /
``CHAINFOLIO_DATA_DIR`` (portable mode: database, settings and logs together).

Settings are a flat registry of typed keys (``refresh.interval_minutes``) stored as TOML tables
in the user config dir. Every value is validated on load and on set; an invalid file on disk is
reported, kept aside for the person to inspect, and the last good copy is used instead.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from app.domain.errors import ChainfolioError, SettingsError
from app.domain.secret_text import refusal, secret_kind, split_url_secrets
from app.domain.text import check_url, clean_text

log = logging.getLogger(__name__)

APP_NAME = "Chainfolio"
DATA_DIR_ENV = "CHAINFOLIO_DATA_DIR"


@dataclass(frozen=True, slots=True)
class Paths:
    data_dir: Path
    config_dir: Path
    log_dir: Path
    portable: bool

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().resolve()
            return cls(root, root, root / "logs", portable=True)
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
            portable=False,
        )

    @property
    def database(self) -> Path:
        return self.data_dir / "chainfolio.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    def ensure(self) -> None:
        """Create the folders private to the user (0700) and tighten the app's files and folders
        made before (0600 / 0700). A read-only folder that exists is fine: reads still work."""
        for d in (self.data_dir, self.config_dir, self.log_dir):
            try:
                d.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            except OSError:
                if d is not self.log_dir and not d.is_dir():
                    raise  # logging copes without its folder; the data cannot
        if os.name == "posix":
            self._tighten()

    def _tighten(self) -> None:
        mine = os.getuid()
        dirs = (self.data_dir, self.config_dir, self.log_dir, self.backups_dir)
        files = [
            *self.data_dir.glob("chainfolio.sqlite3*"),
            *self.config_dir.glob("settings.toml*"),
            *self.config_dir.glob("networks.toml*"),
            *self.log_dir.glob("chainfolio.log*"),
            *self.backups_dir.glob("chainfolio-r*.sqlite3"),
        ]
        for path, mode in [*((d, PRIVATE_DIR) for d in dirs), *((f, PRIVATE_FILE) for f in files)]:
            try:
                st = path.lstat()
                if st.st_uid == mine and st.st_mode & 0o077 and not stat.S_ISLNK(st.st_mode):
                    path.chmod(stat.S_IMODE(st.st_mode) & mode)
            except OSError:
                continue  # missing, or on a read-only disk: nothing to tighten there


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def write_private_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` private to the user (0600), atomically: a full disk or a crash leaves the
    old file whole and no ``.tmp`` file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def unwritable_sentence(what: str, path: Path, exc: OSError) -> str:
    """One sentence for a file that could not be written, naming it and what to do."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{what} could not be saved to {path}: the disk is full; free some space and try again."
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"{what} could not be saved to {path}: the file or its folder is read-only; make it "
            "writable and try again."
        )
    return f"{what} could not be saved to {path} ({exc.strerror or exc}); nothing was changed."


# ---------------------------------------------------------------- the settings registry

Parser = Callable[[str], Any]
Validator = Callable[[Any], None]


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    default: Any
    help: str
    parse: Parser
    validate: Validator = lambda _value: None

    def coerce(self, value: Any) -> Any:
        """Turn a TOML or CLI value into the setting's type and validate it.

        A wallet secret is refused before anything else, and no message repeats a value whole.
        """
        if isinstance(value, str):
            kind = secret_kind(value)
            if kind is not None:
                name = setting_name(self.key)
                name = "the " + name[4:] if name.startswith("The ") else name
                raise SettingsError(refusal(kind, f"value for {name}"))
        if isinstance(value, str) and not isinstance(self.default, str):
            value = self.parse(value)
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            kind_words = _KINDS.get(expected, "a different kind of value")
            raise SettingsError(
                f"{setting_name(self.key)} must be {kind_words}, not {_shown(value)}."
            )
        self.validate(value)
        return value


# What a person is told a setting is, in messages: never its key (refresh.interval_minutes),
# which only the command line uses. Settings without a name here are named by their help text.
SETTING_NAMES: dict[str, str] = {
    "currency": "The display currency",
    "refresh.auto": "Automatic refresh",
    "refresh.interval_minutes": "The refresh interval",
    "refresh.notify_after_failures": "The number of failed refreshes before a notification",
    "ui.theme": "The appearance",
    "ui.holdings_group_by": "The grouping of the Portfolio tab",
    "ui.portfolio": "The portfolio shown",
    "log.level": "The log detail",
    "prices.order": "The order of the price sources",
    "prices.coingecko.url": "The CoinGecko address",
    "prices.coingecko.pro_url": "The CoinGecko Pro address",
    "prices.defillama.url": "The DefiLlama address",
    "prices.stooq.url": "The Stooq address",
    "prices.fx_history.url": "The exchange-rate history address",
    "prices.ttl_seconds": "The time a price is reused",
    "prices.timeout_seconds": "The price request timeout",
    "history.explorer": "The history explorer",
    "history.etherscan.url": "The Etherscan address",
    "history.blockscout.instances": "The Blockscout instance address",
}
_KINDS: dict[type, str] = {
    bool: "true or false", int: "a whole number", float: "a number", str: "text", list: "a list",
}  # fmt: skip


def setting_name(key: str) -> str:
    """A setting as a message names it: "The refresh interval", never "refresh.interval_minutes"."""
    if key in SETTING_NAMES:
        return SETTING_NAMES[key]
    setting = SETTINGS.get(key)
    if setting is not None and setting.help:
        return f"The setting \u201c{setting.help.split(';')[0].rstrip('.')}\u201d"
    return "This setting"


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"Enter true or false, not {_shown(text)}.")


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise SettingsError(f"Enter a whole number, not {_shown(text)}.") from None


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def in_range(key: str, low: int, high: int) -> Validator:
    def check(value: Any) -> None:
        if not low <= value <= high:
            raise SettingsError(
                f"{setting_name(key)} must be between {low} and {high}, not {value}."
            )

    return check


def one_of(key: str, choices: tuple[str, ...]) -> Validator:
    def check(value: Any) -> None:
        if value not in choices:
            raise SettingsError(
                f"{setting_name(key)} must be one of {', '.join(choices)}, not {_shown(value)}."
            )

    return check


def _shown(value: Any) -> str:
    """A refused value as an error message may show it: quoted, plain, and short."""
    return repr(clean_text(str(value), 40))


def validate_url(key: str) -> Validator:
    """http(s) only, a host, no spaces or control characters, and no API key or password in it:
    keys belong in the keyring, never in the settings file."""

    def check(value: Any) -> None:
        try:
            check_url(value, setting_name(key).removeprefix("The "), keyed=False)
        except ChainfolioError as exc:
            raise SettingsError(str(exc)) from None
        if split_url_secrets(value)[1]:
            raise SettingsError(
                f"{setting_name(key)} carries an API key or a password, so it was not saved: keys "
                "are kept in the keyring (chainfolio keys set NAME, or Settings → API keys)."
            )

    return check


SUPPORTED_CURRENCIES = (
    "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "CNY", "HKD", "SGD", "SEK", "NOK", "DKK",
    "PLN", "CZK", "NZD", "KRW", "INR", "BRL", "MXN", "ZAR", "TRY", "BTC", "ETH",
)  # fmt: skip

SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "currency",
            "USD",
            "Display currency for values (ISO code).",
            str,
            one_of("currency", SUPPORTED_CURRENCIES),
        ),
        Setting(
            "refresh.auto",
            True,
            "Refresh automatically in the background.",
            parse_bool,
        ),
        Setting(
            "refresh.interval_minutes",
            15,
            "Minutes between automatic refreshes.",
            parse_int,
            in_range("refresh.interval_minutes", 1, 1440),
        ),
        Setting(
            "refresh.notify_after_failures",
            3,
            "Desktop notification after this many failed refreshes in a row (0: never).",
            parse_int,
            in_range("refresh.notify_after_failures", 0, 100),
        ),
        Setting(
            "ui.theme",
            "system",
            "Appearance: system, light or dark.",
            str,
            one_of("ui.theme", ("system", "light", "dark")),
        ),
        Setting(
            "ui.start_minimized",
            False,
            "Start hidden in the system tray.",
            parse_bool,
        ),
        Setting(
            "ui.close_to_tray",
            True,
            "Closing the window keeps Chainfolio running in the tray.",
            parse_bool,
        ),
        Setting(
            "ui.holdings_group_by",
            "none",
            "How the Portfolio tab groups holdings: none, asset, chain, wallet or protocol.",
            str,
            one_of("ui.holdings_group_by", ("none", "asset", "chain", "wallet", "protocol")),
        ),
        Setting(
            "ui.portfolio",
            "",
            "The portfolio the window shows (empty: all wallets and accounts).",
            str,
        ),
        Setting(
            "ui.hide_small_balances",
            True,
            "The Portfolio tab hides holdings worth less than 1 of your currency.",
            parse_bool,
        ),
        Setting(
            "ui.show_spam",
            False,
            "The Portfolio tab also lists tokens marked as spam (never counted in totals).",
            parse_bool,
        ),
        Setting(
            "ui.tray_hint_shown",
            False,
            'Whether the "still running in the tray" message was shown once already.',
            parse_bool,
        ),
        Setting(
            "log.level",
            "info",
            "Log file detail: debug, info, warning or error.",
            str,
            one_of("log.level", ("debug", "info", "warning", "error")),
        ),
        Setting(
            "ledger.cost_basis",
            "fifo",
            "Cost basis of the ledger's P&L: fifo (oldest lots first) or average (average cost).",
            str,
            one_of("ledger.cost_basis", ("fifo", "average")),
        ),
        Setting(
            "ledger.basis_scope",
            "account",
            "Cost basis kept per account, or pooled across all accounts of the ledger.",
            str,
            one_of("ledger.basis_scope", ("account", "pooled")),
        ),
    )
}


def register_setting(setting: Setting) -> None:
    """Add a setting of a feature module; every feature module is listed in FEATURE_SETTINGS."""
    if setting.key in SETTINGS and SETTINGS[setting.key] is not setting:
        raise ValueError(f"setting {setting.key} registered twice")
    SETTINGS[setting.key] = setting


# Feature packages declare their settings in a small ``settings`` module (no heavy imports),
# so `chainfolio config` knows every key without loading web3 or httpx.
FEATURE_SETTINGS = (
    "app.chains.settings",
    "app.prices.settings",
    "app.chains.bitcoin.settings",
    "app.chains.evm.history_settings",
    "app.net.settings",
    "app.storage.postgres_settings",
)


def _load_feature_settings() -> None:
    import importlib

    for name in FEATURE_SETTINGS:
        module = importlib.import_module(name)
        for setting in module.SETTINGS:
            register_setting(setting)


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        node = root
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return root


def _lookup(key: str) -> Setting:
    try:
        return SETTINGS[key]
    except KeyError:
        raise SettingsError(
            f"unknown setting {key!r}; `chainfolio config list` shows every setting"
        ) from None


class Settings:
    """The user's settings: defaults overlaid with the values saved on disk."""

    def __init__(self, path: Path, values: dict[str, Any] | None = None) -> None:
        self.path = path
        self._values: dict[str, Any] = dict(values or {})
        self.load_problem: str | None = None

    @property
    def last_good_path(self) -> Path:
        return self.path.with_name(self.path.name + ".last-good")

    @classmethod
    def load(cls, path: Path) -> Settings:
        settings = cls(path)
        if not path.exists():
            return settings
        try:
            settings._values = cls._read_valid(path)
        except SettingsError as exc:
            settings.load_problem = (
                f"The settings file {path} is not valid ({exc}); it was left as it is and the "
                "last good settings are used until you fix or remove it."
            )
            log.warning("%s", settings.load_problem)
            if settings.last_good_path.exists():
                try:
                    settings._values = cls._read_valid(settings.last_good_path)
                except SettingsError:
                    settings._values = {}
        else:
            try:
                write_private_atomic(settings.last_good_path, path.read_bytes())
            except OSError as exc:  # a read-only or full folder: the settings still load
                log.info("could not keep a last good copy of the settings: %s", exc)
        return settings

    @staticmethod
    def _read_valid(path: Path) -> dict[str, Any]:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"not valid TOML: {exc}") from None
        values: dict[str, Any] = {}
        for key, value in _flatten(raw):
            if key not in SETTINGS:
                # A setting of a newer version, or one a feature module registers later:
                # keep it untouched so nothing the person set is lost.
                values[key] = value
                continue
            values[key] = SETTINGS[key].coerce(value)
        return values

    def get(self, key: str) -> Any:
        setting = _lookup(key)
        value = self._values.get(key, setting.default)
        try:
            return setting.coerce(value)
        except SettingsError:
            return setting.default

    def set(self, key: str, value: Any) -> Any:
        """Validate and store one value (in memory; call save()). A value equal to the default is
        not stored, so the file holds only what the person changed."""
        setting = _lookup(key)
        coerced = setting.coerce(value)
        if coerced == setting.default:
            self._values.pop(key, None)
        else:
            self._values[key] = coerced
        return coerced

    def remember(self, key: str, value: Any) -> None:
        """Set and save one value the app keeps for the user (a view choice, a hint shown);
        a file that cannot be written is logged, not raised: the app goes on without it."""
        self.set(key, value)
        try:
            self.save()
        except SettingsError as exc:
            log.warning("could not save settings: %s", exc)

    def reset(self, key: str) -> None:
        _lookup(key)
        self._values.pop(key, None)

    def is_default(self, key: str) -> bool:
        """True when the setting has its default value (also when a file stores the default)."""
        return key not in self._values or self.get(key) == _lookup(key).default

    def items(self) -> Iterator[tuple[Setting, Any]]:
        for key in sorted(SETTINGS):
            yield SETTINGS[key], self.get(key)

    def save(self) -> None:
        """Write atomically and private to the user. A broken file found at load time is moved
        aside, never lost. A file that cannot be written raises SettingsError with one sentence
        (disk full, read-only) and leaves the old file whole."""
        text = tomli_w.dumps(_nest(self._values)).encode("utf-8")
        try:
            self.path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            if self.load_problem and self.path.exists():
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                self.path.replace(self.path.with_name(f"{self.path.name}.invalid-{stamp}"))
                self.load_problem = None
            write_private_atomic(self.path, text)
        except OSError as exc:
            raise SettingsError(unwritable_sentence("Your settings", self.path, exc)) from None
        try:
            write_private_atomic(self.last_good_path, text)
        except OSError as exc:
            log.warning("could not keep a last good copy of the settings: %s", exc)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


class NetSettings:
    """Typed accessors of the one HTTP layer's settings (``net.*``, declared in
    ``app.net.settings``)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def proxy(self) -> str:
        return str(self._settings.get("net.proxy"))

    @property
    def isolate_hosts(self) -> bool:
        return bool(self._settings.get("net.isolate_hosts"))

    @property
    def own_nodes_only(self) -> bool:
        return bool(self._settings.get("net.own_nodes_only"))

    @property
    def unlinkable_reads(self) -> bool:
        return bool(self._settings.get("net.unlinkable_reads"))


DATABASE_URL_ENV = "CHAINFOLIO_DATABASE_URL"


class StorageSettings:
    """Where the history lives: ``--database-url`` / ``CHAINFOLIO_DATABASE_URL`` first, then the
    ``storage.url`` setting; empty: the SQLite file in the data folder. Never holds a password
    (that is the keyring's ``storage.password``)."""

    def __init__(self, settings: Settings, environ: dict[str, str] | None = None) -> None:
        self._settings = settings
        self._environ = os.environ if environ is None else environ

    @property
    def url(self) -> str:
        override = self._environ.get(DATABASE_URL_ENV, "").strip()
        if override:
            return str(_lookup("storage.url").coerce(override))
        return str(self._settings.get("storage.url")).strip()

    @property
    def shared(self) -> bool:
        """True when the history is on a database server rather than in the local file."""
        return bool(self.url)


__all__ = [
    "SETTINGS",
    "Paths",
    "Setting",
    "Settings",
    "SettingsError",
    "format_value",
    "in_range",
    "one_of",
    "parse_bool",
    "parse_int",
    "parse_list",
    "register_setting",
    "validate_url",
]

_load_feature_settings()
