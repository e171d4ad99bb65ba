"""``chainfolio config get|set|reset|list``: every user setting, headless."""

from __future__ import annotations

import argparse

from app.cli.env import CliEnv
from app.config import SETTINGS, format_value
from app.domain.errors import SettingsError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="read and change settings")
    cs = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    get = cs.add_parser("get", help="print one setting")
    get.add_argument("key")
    get.set_defaults(func=_get)
    st = cs.add_parser("set", help="change one setting")
    st.add_argument("key")
    st.add_argument("value")
    st.set_defaults(func=_set)
    rs = cs.add_parser("reset", help="return one setting to its default")
    rs.add_argument("key")
    rs.set_defaults(func=_reset)
    ls = cs.add_parser("list", help="every setting with its value and meaning")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)


def _report_problem(env: CliEnv) -> None:
    if env.settings.load_problem:
        import sys

        print(f"chainfolio: warning: {env.settings.load_problem}", file=sys.stderr)


def _get(args: argparse.Namespace, env: CliEnv) -> int:
    _report_problem(env)
    env.print(format_value(env.settings.get(args.key)))
    return 0


def _set(args: argparse.Namespace, env: CliEnv) -> int:
    _report_problem(env)
    try:
        value = env.settings.set(args.key, args.value)
    except SettingsError as exc:
        if args.key not in SETTINGS:
            raise
        # On the command line the key is what the person typed: name it before the sentence
        # the window shows under the field.
        raise SettingsError(f"{args.key}: {exc}") from None
    env.settings.save()
    env.print(f"{args.key} = {format_value(value)}")
    return 0


def _reset(args: argparse.Namespace, env: CliEnv) -> int:
    env.settings.reset(args.key)
    env.settings.save()
    env.print(f"{args.key} = {format_value(env.settings.get(args.key))} (default)")
    return 0


def _list(args: argparse.Namespace, env: CliEnv) -> int:
    _report_problem(env)
    if args.json:
        env.print_json({s.key: value for s, value in env.settings.items()})
        return 0
    for setting, value in env.settings.items():
        marker = "" if env.settings.is_default(setting.key) else "  (changed)"
        env.print(f"{setting.key} = {format_value(value)}{marker}\n    {setting.help}")
    return 0
