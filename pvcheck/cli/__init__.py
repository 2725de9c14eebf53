"""The ``pvcheck`` command line: a thin layer over the library API.

Each command is a module of this package with ``register(subparsers)`` and
``run(args) -> int``. Errors a user can cause print one line on stderr and exit 2;
no traceback reaches the user unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn, Optional, Sequence

from pvcheck.errors import PvcheckError

#: The commands, in the order ``pvcheck --help`` lists them.
COMMANDS = ("scan", "diff", "lock", "check", "graph", "history", "rules")  # each command module adds itself here

EXIT_OK = 0
EXIT_GATE = 1
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other error."""

    def error(self, message: str) -> NoReturn:
        command = " ".join(["pvcheck", self._command(), "--help"]).replace("  ", " ")
        self.exit(EXIT_ERROR, f"pvcheck: error: {message}; see '{command}'\n")

    def _command(self) -> str:
        parts = self.prog.split()
        return parts[1] if len(parts) > 1 else ""


def build_parser() -> argparse.ArgumentParser:
    from pvcheck import __version__

    parser = _Parser(prog="pvcheck", description="Is this change a new run, a new version, or a new pipeline?")
    parser.add_argument("--version", action="version", version=f"pvcheck {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"pvcheck.cli.{name}")
        module.register(subparsers)
    return parser


def common_options(parser: argparse.ArgumentParser, formats: Sequence[str] = ("text", "json"),
                   default_format: str = "text") -> None:
    """Options every command takes."""
    parser.add_argument("--format", choices=list(formats), default=default_format,
                        help=f"output format (default: {default_format})")
    parser.add_argument("--config", metavar="FILE", help="pvcheck.toml or pyproject.toml to read settings from")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the analysis cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")


def _default_project(args: argparse.Namespace) -> None:
    """A project folder not given on the command line is the one governing the current
    folder (its configuration or lock, found upwards), so ``cd src && pvcheck check``
    checks the project's lock instead of looking for one in ``src``."""
    from pathlib import Path

    from pvcheck.config import find_project

    for name in ("path", "repo"):
        if getattr(args, name, "") is None and not (name == "repo" and args.command == "graph"):
            here = Path.cwd()
            found = find_project(here)
            setattr(args, name, "." if found == here.resolve() else str(found))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``pvcheck`` script and ``python -m pvcheck``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments or bool(os.environ.get("PVCHECK_DEBUG"))
    try:
        parser = build_parser()
        args = parser.parse_args(arguments)
        if not args.command:  # a usage error like any other: one line
            print(f"pvcheck: error: no command given; use one of {', '.join(COMMANDS)}, e.g. 'pvcheck scan .' "
                  "(see 'pvcheck --help')", file=sys.stderr)
            return EXIT_ERROR
        _default_project(args)
        module = importlib.import_module(f"pvcheck.cli.{args.command}")
        return int(module.run(args))
    except PvcheckError as exc:
        if debug:
            raise
        print(f"pvcheck: error: {exc.one_line()}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("pvcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in pvcheck: still one line, never a traceback
        if debug:
            raise
        print(f"pvcheck: internal error: {type(exc).__name__}: {exc}; rerun with --debug and report it",
              file=sys.stderr)
        return EXIT_ERROR
