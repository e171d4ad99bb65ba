"""Command line: the GUI by default, headless sub-commands for scripts and cron.

Each command group lives in its own module with a ``register(subparsers)`` function; the
handlers receive the parsed arguments and a :class:`CliEnv` that builds the app context lazily,
so ``chainfolio --version`` or ``config get`` never open the database.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from app import __version__
from app.cli.env import CliEnv
from app.domain.errors import ChainfolioError, os_error_sentence

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _command_groups() -> list[Register]:
    """Every ``app/cli/*_cmd.py`` module is a command group (keep their top imports light)."""
    import importlib
    import pkgutil

    import app.cli as package

    names = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if m.name.endswith("_cmd")
    )
    return [importlib.import_module(f"app.cli.{name}").register for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainfolio",
        description="Local-first portfolio tracker for crypto and DeFi. "
        "Without a command, opens the desktop window.",
    )
    parser.add_argument("--version", action="version", version=f"Chainfolio {__version__}")
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _command_groups():
        register(sub)
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
    parser = build_parser()
    _refuse_spread_secret(sys.argv[1:] if argv is None else argv)
    args, extra = parser.parse_known_args(argv)
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
