"""The command line: ``python -m derive NAME [--latex | --md | --json | --pdf] ...``, ``list``, ``sheet``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import catalog
from .errors import DeriveError, UsageError
from .files import output_folder, publish, write_atomic
from .params import parse_params
from .pdf import build_pdf
from .render import FORMATS, LANGUAGES, render, render_document, render_list, render_sheet
from .sheet import read_spec


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
    group.add_argument("--pdf", dest="format", action="store_const", const="pdf",
                       help="write NAME-LANG.tex and NAME-LANG.pdf into a folder (default out/)")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="wording: en or zh")


def _derivation_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Print a derivation, every step verified by SymPy.")
    parser.add_argument("name", help="a catalog entry (see: derive list)")
    _format_options(parser)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="give a parameter a value (exact: 0.25 is 1/4); repeatable")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output (with --pdf: a folder, default out/)")
    parser.add_argument("--template-dir", metavar="DIR", help="a folder of templates searched first")
    return parser


def _sheet_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive sheet", description="Write a homework handout and its answer key.")
    parser.add_argument("spec", help="a sheet spec (TOML), see examples/")
    parser.add_argument("--pdf", action="store_true", help="also build PDFs (needs TeX)")
    parser.add_argument("--tex", action="store_true", help="write the .tex files (the default)")
    parser.add_argument("--lang", choices=LANGUAGES, help="wording: en or zh (default: the spec's)")
    parser.add_argument("--key", action=argparse.BooleanOptionalAction, default=True,
                        help="also write the answer key NAME-key (default: yes)")
    parser.add_argument("--formulas", action="store_true", help="also write a formula sheet NAME-formulas")
    parser.add_argument("-o", "--output", metavar="DIR", default="out", help="output folder (default out/)")
    parser.add_argument("--template-dir", metavar="DIR", help="a folder of templates searched first")
    return parser


def _list_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive list", description="List the catalog: name, family, title, targets.")
    parser.add_argument("--json", dest="format", action="store_const", const="json", default="text")
    parser.add_argument("--lang", choices=LANGUAGES, default="en")
    return parser


def write_output(text: str, output: str | None) -> None:
    """Print, or write to a file whole (a failed write never leaves half a file)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(Path(output), text)


def _pdf(files: dict[str, str], folder: Path) -> list[Path]:
    """Write the .tex files, then build each as a PDF; returns every path written."""
    written = publish(files, folder)
    for name, tex in files.items():
        written.append(build_pdf(tex, Path(name).stem, folder))
    return written


def _report(paths: list[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


def _sheet(argv: list[str]) -> int:
    options = _sheet_parser().parse_args(argv)
    sheet = read_spec(options.spec)
    lang = options.lang or sheet.lang or "en"
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    layouts = {"handout": sheet.name, "key": f"{sheet.name}-key", "formulas": f"{sheet.name}-formulas"}
    wanted = ["handout"] + (["key"] if options.key else []) + (["formulas"] if options.formulas else [])
    files = {f"{layouts[layout]}.tex": render_sheet(sheet, layout, lang, options.template_dir)
             for layout in wanted}
    folder = output_folder(options.output)
    _report(_pdf(files, folder) if options.pdf else publish(files, folder))
    return 0


def run(argv: list[str]) -> int:
    """Dispatch one command; raises DeriveError on bad input."""
    if not argv or argv[0] in ("-h", "--help"):
        _derivation_parser().print_help()
        print("\ncommands: list | sheet SPEC.toml | NAME (a catalog entry)")
        return 0 if argv else 2
    if argv[0] == "list":
        options = _list_parser().parse_args(argv[1:])
        write_output(render_list(catalog.entries(), options.format, options.lang), None)
        return 0
    if argv[0] == "sheet":
        return _sheet(argv[1:])
    options = _derivation_parser().parse_args(argv)
    derivation = catalog.get(options.name)
    values = parse_params(derivation, options.param)
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    if options.format == "pdf":
        tex = render_document(derivation, options.lang, values, options.template_dir)
        _report(_pdf({f"{derivation.name}-{options.lang}.tex": tex}, output_folder(options.output or "out")))
        return 0
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
