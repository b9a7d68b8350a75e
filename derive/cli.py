"""The command line: ``python -m derive NAME [--latex | --md | --json] ...`` and ``list``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import catalog
from .errors import DeriveError, UsageError
from .params import parse_params
from .render import FORMATS, LANGUAGES, render, render_list


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line UsageErrors, not usage dumps."""

    def error(self, message: str):
        raise UsageError(message)


def _format_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    for fmt in FORMATS:
        flag = "--md" if fmt == "md" else f"--{fmt}"
        group.add_argument(flag, dest="format", action="store_const", const=fmt,
                           help=f"print as {fmt}")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="wording: en or zh")


def _derivation_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Print a derivation, every step verified by SymPy.")
    parser.add_argument("name", help="a catalog entry (see: derive list)")
    _format_options(parser)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="give a parameter a value (exact: 0.25 is 1/4); repeatable")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--template-dir", metavar="DIR", help="a folder of templates searched first")
    return parser


def _list_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive list", description="List the catalog: name, family, title, targets.")
    parser.add_argument("--json", dest="format", action="store_const", const="json", default="text")
    parser.add_argument("--lang", choices=LANGUAGES, default="en")
    return parser


def write_output(text: str, output: str | None) -> None:
    """Print, or write to a file atomically (a failed write never leaves half a file)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise UsageError(f"cannot write '{output}': folder '{target.parent}' does not exist")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(argv: list[str]) -> int:
    """Dispatch one command; raises DeriveError on bad input."""
    if not argv or argv[0] in ("-h", "--help"):
        _derivation_parser().print_help()
        print("\ncommands: list | NAME (a catalog entry)")
        return 0 if argv else 2
    if argv[0] == "list":
        options = _list_parser().parse_args(argv[1:])
        write_output(render_list(catalog.entries(), options.format, options.lang), None)
        return 0
    options = _derivation_parser().parse_args(argv)
    derivation = catalog.get(options.name)
    values = parse_params(derivation, options.param)
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    text = render(derivation, options.format or "text", options.lang, values, options.template_dir)
    write_output(text, options.output)
    return 0


def cli(args: list[str] | None = None) -> int:
    """Run the command line with ``args`` (default: ``sys.argv[1:]``); return the exit status.

    Bad input prints one line, ``derive: error: ...``, on standard error and returns 2.
    """
    try:
        return run(list(sys.argv[1:] if args is None else args))
    except DeriveError as error:
        print(f"derive: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130


def main() -> None:
    """Entry point of the ``derive`` console script."""
    sys.exit(cli())
