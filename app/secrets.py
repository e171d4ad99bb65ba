"""Named secrets in the OS keyring (service ``chainfolio``), and nowhere else.

Why an allow-list of backends: on a headless Linux machine keyring picks its ``fail`` backend,
and when keyrings.alt is installed it silently picks a plaintext file. Both are refused here: the
app keeps working without keys and :func:`secret_status` says exactly what is missing and how to
fix it. Keyring cannot enumerate entries, so the NAMES (never values) are kept as a JSON list in
one extra keyring entry; nothing is written to disk by this module.

Every value read or stored is registered with :func:`app.logging_setup.register_secret`, and
keyring errors are re-raised as :class:`SecretStoreError` with redacted text and no chained
cause, so a value can never ride along in a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any

from app.domain.errors import ChainfolioError
from app.domain.secret_text import refuse_secret
from app.logging_setup import redact, register_secret

log = logging.getLogger(__name__)

SERVICE = "chainfolio"
INDEX_ENTRY = "_index"  # cannot collide: secret names must start with a letter or digit
KNOWN_NAMES: dict[str, str] = {
    "coingecko.demo": "CoinGecko Demo API key",
    "coingecko.pro": "CoinGecko Pro API key",
    "stooq": "Stooq API key (stock, ETF and metal closes)",
    "etherscan": "Etherscan API key (native transfer history, if chosen in Settings → History)",
}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_VALUE_LENGTH = 4096

# Backends that keep secrets encrypted by the operating system (module.Class of an MRO entry).
SECURE_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)
FIX_LINUX = (
    "Install and unlock a Secret Service provider, for example GNOME Keyring "
    "(`apt install gnome-keyring`, then log in to a desktop session or run "
    "`gnome-keyring-daemon --unlock --components=secrets`) or KeePassXC with its Secret Service "
    "integration enabled; then restart Chainfolio."
)


class SecretStoreError(ChainfolioError):
    """The keyring refused or failed an operation. The message never contains a value."""


class SecretStoreUnavailable(SecretStoreError):
    """No acceptable keyring backend: keys cannot be stored on this machine right now."""


class InvalidSecretName(SecretStoreError, ValueError):
    """A secret name outside the safe pattern."""


@dataclass(frozen=True)
class SecretStatus:
    """What the UI and the self-test show about the keyring."""

    usable: bool
    backend: str
    problem: str | None = None
    fix: str | None = None

    @property
    def backend_label(self) -> str:
        """The keyring in words ("GNOME Keyring or another Secret Service"); ``backend`` keeps
        the class path for the log and ``keys status --json``."""
        return backend_label(self.backend)

    def describe(self) -> str:
        if self.usable:
            return (
                f"Keyring: OK ({self.backend_label}). API keys are stored encrypted by the system."
            )
        return f"Keyring: NOT AVAILABLE. {self.problem} {self.fix}"


# What a person is told about a keyring backend: never its class path.
BACKEND_LABELS = {
    "keyring.backends.SecretService.Keyring": "GNOME Keyring or another Secret Service",
    "keyring.backends.libsecret.Keyring": "GNOME Keyring or another Secret Service",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.macOS.Keyring": "the macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.chainer.ChainerBackend": "several keyrings together",
    "keyring.backends.fail.Keyring": "no keyring",
    "keyring.backends.null.Keyring": "a disabled keyring",
}


def backend_label(path: str) -> str:
    if path in BACKEND_LABELS:
        return BACKEND_LABELS[path]
    package = path.split(".")[0] if path and path != "unknown" else ""
    return f"a keyring from the {package} package" if package else "an unknown keyring"


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_secure(backend: Any) -> bool:
    return any(f"{c.__module__}.{c.__qualname__}" in SECURE_BACKENDS for c in type(backend).__mro__)


def _chained(backend: Any) -> list[Any] | None:
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return list(backend.backends)
    return None


def assess_backend(backend: Any) -> SecretStatus:
    """Judge a keyring backend: only OS-encrypted stores are accepted."""
    from keyring.backends import fail, null

    name = _backend_name(backend)
    parts = _chained(backend)
    if parts is not None:
        if not parts:
            return SecretStatus(False, name, "No keyring backend is available.", FIX_LINUX)
        refused = [_backend_name(b) for b in parts if not _is_secure(b)]
        if refused:
            log.info("keyring backends refused (no OS encryption): %s", ", ".join(refused))
            return SecretStatus(
                False,
                name,
                f"Some of the keyrings in use do not encrypt secrets "
                f"({', '.join(sorted({backend_label(r) for r in refused}))}).",
                "Uninstall keyrings.alt (or any plaintext backend) and use a Secret Service "
                "provider such as GNOME Keyring or KeePassXC.",
            )
        return SecretStatus(True, name)
    if isinstance(backend, fail.Keyring):
        return SecretStatus(
            False,
            name,
            "No system keyring (Secret Service) is running in this session, so API keys cannot "
            "be stored; Chainfolio works without them.",
            FIX_LINUX,
        )
    if isinstance(backend, null.Keyring):
        return SecretStatus(
            False, name, "The system keyring is switched off for this session.", FIX_LINUX
        )
    if not _is_secure(backend):
        log.info("keyring backend refused (no OS encryption): %s", name)
        return SecretStatus(
            False,
            name,
            f"The keyring in use ({backend_label(name)}) stores secrets without encryption by "
            "the system (for example keyrings.alt's plain-text file); Chainfolio refuses to "
            "use it.",
            "Uninstall keyrings.alt or choose another backend, and use a Secret Service "
            "provider such as GNOME Keyring or KeePassXC.",
        )
    return SecretStatus(True, name)


def default_backend() -> Any:
    """The backend keyring itself chooses (``PYTHON_KEYRING_BACKEND`` and its configuration
    file apply), for API keys and database keys alike."""
    if sys.platform != "darwin":
        # keyring loads every backend it ships; its macOS one binds the Security framework at
        # import, on any system, through ``find_library`` (which runs ldconfig, then the C
        # compiler, when the library is not found): ~70 ms of every first keyring use. Outside
        # macOS that backend refuses itself anyway ("macOS required"), so its bindings are not
        # loaded: the keyring chosen is the same.
        sys.modules.setdefault("keyring.backends.macOS.api", None)  # type: ignore[arg-type]
    import keyring

    return keyring.get_keyring()


def secret_status(backend: Any | None = None) -> SecretStatus:
    """Status of the keyring Chainfolio would use (for the settings dialog and self-test)."""
    try:
        return assess_backend(backend if backend is not None else default_backend())
    except Exception as exc:  # keyring's own discovery failing must not stop the app
        log.warning("the keyring could not be loaded: %s", redact(f"{type(exc).__name__}: {exc}"))
        return SecretStatus(
            False, "unknown", "The keyring could not be loaded (details in the log).", FIX_LINUX
        )


def check_name(name: str) -> str:
    refuse_secret(name, "key name")
    if not NAME_PATTERN.match(name):
        raise InvalidSecretName(
            f"'{name[:60]}' is not a valid key name: use letters, digits and . _ : - "
            "(for example coingecko.demo or rpc.eip155:1.0)."
        )
    return name


def check_value(name: str, value: str) -> str:
    """Refuse a wallet secret pasted as a key's value (an API key is never a seed phrase), never
    repeating it. The secret part of an RPC URL (``rpc.*``) may be 64 hex digits: some
    providers' keys are, and so are some exchanges' API secrets (``exchange.*``)."""
    refuse_secret(value, "key value", allow_hex_key=name.startswith(("rpc.", "exchange.")))
    return value


class KeyringSecretStore:
    """:class:`app.domain.ports.SecretStore` over keyring; degrades to "no keys" when refused."""

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend
        self._status: SecretStatus | None = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            self._backend = default_backend()
        return self._backend

    def status(self) -> SecretStatus:
        if self._status is None:
            self._status = secret_status(self.backend)
        return self._status

    @property
    def available(self) -> bool:
        return self.status().usable

    def require(self) -> None:
        status = self.status()
        if not status.usable:
            raise SecretStoreUnavailable(f"{status.problem} {status.fix}")

    def _call(self, action: str, name: str, func: Any, *args: str) -> Any:
        try:
            return func(SERVICE, name, *args)
        except Exception as exc:
            detail = redact(f"{type(exc).__name__}: {exc}")[:300]
            log.warning("the keyring could not %s %s: %s", action, name, detail)
            raise SecretStoreError(
                f"The keyring could not {action} '{name}'. Is the keyring unlocked? "
                "The log has the details."
            ) from None

    def get(self, name: str) -> str | None:
        check_name(name)
        if not self.available:
            return None
        value: str | None = self._call("read", name, self.backend.get_password)
        if value:
            register_secret(value)
        return value

    def set(self, name: str, value: str) -> None:
        check_name(name)
        register_secret(value)
        check_value(name, value)
        if not value or len(value) > MAX_VALUE_LENGTH or "\n" in value or "\0" in value:
            raise SecretStoreError(
                f"The value for '{name}' is empty, too long or spans several lines; "
                "paste the key alone on one line."
            )
        self.require()
        self._call("store", name, self.backend.set_password, value)
        names = self._read_index()
        if name not in names:
            self._write_index([*names, name])
        log.info("Stored secret %s in the keyring", name)

    def delete(self, name: str) -> None:
        check_name(name)
        self.require()
        from keyring.errors import PasswordDeleteError

        try:
            self.backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            pass  # already gone: deleting is idempotent
        except Exception as exc:
            log.warning(
                "the keyring could not delete %s: %s",
                name,
                redact(f"{type(exc).__name__}: {exc}")[:300],
            )
            raise SecretStoreError(
                f"The keyring could not delete '{name}'. Is the keyring unlocked? "
                "The log has the details."
            ) from None
        names = self._read_index()
        if name in names:
            self._write_index([n for n in names if n != name])
        log.info("Removed secret %s from the keyring", name)

    def names(self) -> list[str]:
        if not self.available:
            return []
        return sorted(self._read_index())

    def _read_index(self) -> list[str]:
        raw = self._call("read", INDEX_ENTRY, self.backend.get_password)
        if not raw:
            return []
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("The keyring's list of Chainfolio key names is damaged; starting afresh")
            return []
        if not isinstance(data, list):
            return []
        return [n for n in data if isinstance(n, str) and NAME_PATTERN.match(n)]

    def _write_index(self, names: list[str]) -> None:
        self._call("store", INDEX_ENTRY, self.backend.set_password, json.dumps(sorted(set(names))))


def describe_name(name: str) -> str:
    """Human label for a key name (known names, keyed RPC URL parts, or the name itself)."""
    if name in KNOWN_NAMES:
        return KNOWN_NAMES[name]
    if name.startswith("rpc."):
        return f"Secret part of an RPC URL ({name[4:]})"
    return name
