"""Command line: the GUI by default, headless sub-commands for scripts and cron.

Each command group lives in its own module with a ``register(subparsers)`` function, and a
command loads only its own (``app/cli/<command>_cmd.py``; every group for help or a typo); the
handlers receive the parsed arguments and a :class:`CliEnv` that builds the app context lazily,
so ``chainfolio --version`` or ``config get`` never open the database.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from app import __version__
from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError, os_error_sentence

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _command_groups(only: str | None = None) -> list[Register]:
    """Every ``app/cli/*_cmd.py`` module is a command group (keep their top imports light);
    ``only``: just the module of that name."""
    import importlib
    import pkgutil

    import app.cli as package

    names = (
        [only]
        if only
        else sorted(
            m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd")
        )
    )
    return [importlib.import_module(f"app.cli.{name}").register for name in names]


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep database, settings and logs in DIR (portable mode; also CHAINFOLIO_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="keep the history in a shared PostgreSQL database, postgresql://user@host:5432/name "
        "(password from the keyring entry storage.password; also CHAINFOLIO_DATABASE_URL and "
        "the storage.url setting)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log to the console too")
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read passphrases (an encrypted database's, a backup's) as lines on standard input "
        "instead of asking at the terminal",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run offline checks of this installation (no network, no data touched) and exit",
    )


def _wanted_command(argv: Sequence[str]) -> str | None:
    """The one command ``argv`` runs, when that is clear before parsing: ``""`` for none (the
    window, ``--version``, ``--self-test``); None for help, a typo or anything unclear, which
    loads every command group. Importing them all cost every command, and the window's
    start, ~0.1 s."""

    class Quiet(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # the full parser says it properly
            raise ValueError(message)

    pre = Quiet(add_help=False)
    _global_options(pre)
    pre.add_argument("--version", action="store_true")
    pre.add_argument("command", nargs="?")
    pre.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        args, extra = pre.parse_known_args(argv)
    except ValueError:
        return None
    if extra:
        return None
    return "" if args.command is None else str(args.command)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line; with ``argv``, only the command group it uses is loaded (every one
    when that is not clear, e.g. for ``--help``). A command ``x`` lives in ``app/cli/x_cmd.py``
    or is found by loading them all."""
    import importlib.util

    parser = argparse.ArgumentParser(
        prog="chainfolio",
        description="Local-first portfolio tracker for crypto and DeFi. "
        "Without a command, opens the desktop window.",
    )
    parser.add_argument("--version", action="version", version=f"Chainfolio {__version__}")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = None if argv is None else _wanted_command(argv)
    if command == "":
        return parser
    module = f"{command}_cmd" if command else None
    if module and (
        not module.isidentifier() or importlib.util.find_spec(f"app.cli.{module}") is None
    ):
        command = module = None
    for register in _command_groups(module):
        register(sub)
    if command and command not in sub.choices:  # registered by a module named otherwise
        return build_parser()
    return parser


def _refuse_spread_secret(argv: Sequence[str]) -> None:
    """A seed phrase typed without quotes is spread over many arguments, and argparse would
    print the extra ones back: refuse it before parsing (one argument is its field's job)."""
    from app.domain.secret_text import SEED_PHRASE, secret_kind

    if secret_kind(" ".join(argv)) == SEED_PHRASE and not any(secret_kind(a) for a in argv):
        print(
            "chainfolio: error: The command line looks like it holds a seed phrase. Chainfolio "
            "never needs it: nothing was saved. Anyone who has it controls the funds: keep it "
            "offline.",
            file=sys.stderr,
        )
        raise SystemExit(2)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(given)
    _refuse_spread_secret(given)
    args, extra = parser.parse_known_args(given)
    out = stdout or sys.stdout
    if args.database_url is not None:
        from app.config import DATABASE_URL_ENV  # read by bootstrap through StorageSettings

        os.environ[DATABASE_URL_ENV] = args.database_url
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test(data_dir=args.data_dir, out=out)
    if args.command is None:
        from app.ui.launcher import run_gui

        return run_gui(data_dir=args.data_dir, verbose=args.verbose, qt_args=extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    env = CliEnv(
        data_dir=args.data_dir,
        verbose=args.verbose,
        out=out,
        passphrase_stdin=args.passphrase_stdin,
    )
    try:
        code = int(args.func(args, env))
        out.flush()  # a closed pipe shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe(out)
    except ChainfolioError as exc:
        from app.domain.outcome import plain_reason
        from app.domain.secret_text import redact_secrets  # a net under every field's own check

        print(f"chainfolio: error: {redact_secrets(plain_reason(str(exc)))}", file=sys.stderr)
        return 1
    except OSError as exc:
        sentence = os_error_sentence(exc)
        if sentence is None:
            raise
        print(f"chainfolio: error: {sentence}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        env.close()


def _quiet_broken_pipe(out: TextIO) -> int:
    """The reader of our output went away (``| head -1``): stop quietly, like other Unix tools.
    Later writes (and the flush at exit) go to /dev/null instead of raising again."""
    try:
        fd = out.fileno()
    except (OSError, ValueError):
        return 1
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return 1


def gui_main() -> int:
    return main([])
