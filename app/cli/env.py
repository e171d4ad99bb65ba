"""What a CLI handler gets: output stream, paths, settings and a lazily built context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from app.config import Paths, Settings
from app.logging_setup import setup_logging

if TYPE_CHECKING:
    from app.bootstrap import AppContext
    from app.net import Egress


@dataclass
class CliEnv:
    data_dir: str | None
    verbose: bool
    out: TextIO
    passphrase_stdin: bool = False  # passphrases come as lines on standard input
    _paths: Paths | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)
    _context: AppContext | None = field(default=None, repr=False)
    _egress: Egress | None = field(default=None, repr=False)  # installed before this command

    @property
    def paths(self) -> Paths:
        if self._paths is None:
            self._paths = Paths.resolve(self.data_dir)
            self._paths.ensure()
            setup_logging(self._paths.log_dir, verbose=self.verbose)
        return self._paths

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.paths.settings_file)
            # Commands that talk to a URL the person just typed (``networks add``'s check) go
            # through the proxy too; the app context installs the full policy and the ledger.
            from app.net import Egress, install
            from app.net.policy import NetPolicy

            proxy = str(self._settings.get("net.proxy"))
            isolate = bool(self._settings.get("net.isolate_hosts"))
            self._egress = install(Egress(NetPolicy(proxy, isolate)))
        return self._settings

    @property
    def context(self) -> AppContext:
        if self._context is None:
            from app.bootstrap import bootstrap  # SQLAlchemy: only for commands that need it
            from app.keccak_binding import prefer_ctypes

            prefer_ctypes()  # a short process: the Keccak binding that loads fast
            self._context = bootstrap(
                self.paths, self.settings, passphrase=self.passphrase_prompt("database")
            )
        return self._context

    def read_passphrase(self, question: str) -> str | None:
        """One passphrase: the next line of standard input with ``--passphrase-stdin``, else
        typed unseen at the terminal; None when neither is possible (never an argument)."""
        import sys

        if self.passphrase_stdin:
            line = sys.stdin.readline()
            return line.rstrip("\r\n") or None
        if not sys.stdin.isatty():
            return None
        import getpass

        try:
            return getpass.getpass(f"{question}: ") or None
        except (EOFError, KeyboardInterrupt):
            return None

    def passphrase_prompt(self, what: str) -> Callable[[str | None], str | None]:
        """Asks for the passphrase of ``what``; a problem (a wrong passphrase) is said first."""

        def prompt(problem: str | None) -> str | None:
            if problem and not self.passphrase_stdin:  # stdin: the final error says it
                import sys

                print(f"chainfolio: {problem}", file=sys.stderr)
            return self.read_passphrase(f"Passphrase of the Chainfolio {what}")

        return prompt

    def print(self, *parts: object) -> None:
        print(*parts, file=self.out)

    def print_json(self, data: Any) -> None:
        """Indented JSON (:func:`json_document`) in one write, as bytes when the stream has
        them (``json.dump`` streamed a write per token: 3.5 s for a 15 MB refresh document)."""
        body = json_document(data) + b"\n"
        buffer = getattr(self.out, "buffer", None)
        if buffer is None:
            self.out.write(body.decode())
            return
        self.out.flush()
        buffer.write(body)
        buffer.flush()

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
        if self._egress is not None:  # the process goes on as before the command (tests)
            from app.net import install

            install(self._egress)


def _orjson_default(value: object) -> str:
    if type(value) is Decimal:
        return str(value)
    raise TypeError  # any other type: the document goes to msgspec


def json_document(data: Any) -> bytes:
    """``data`` as JSON indented by two spaces: UTF-8 as is, keys in order, a Decimal (or any
    other type JSON has no form for) as its text.

    orjson writes it in one pass: a 22 MB refresh document in ~0.02 s, against ~0.05 s for
    msgspec's encode and re-format. What orjson does not take the same way (an integer beyond
    64 bits, a key that is not text, a date, any type but Decimal) goes to msgspec. The bytes
    are msgspec's either way but for a float in exponent form, written as Python writes it
    (``1e+22``, msgspec ``1e22``); tests/unit/test_cli_json.py compares the two."""
    try:
        import orjson

        return orjson.dumps(
            data,
            option=orjson.OPT_INDENT_2
            | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_SUBCLASS,
            default=_orjson_default,
        )
    except (ImportError, TypeError):  # orjson.JSONEncodeError is a TypeError
        import msgspec

        return msgspec.json.format(msgspec.json.encode(data, enc_hook=str), indent=2)
