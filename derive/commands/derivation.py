"""``python -m derive NAME``: a catalog entry's derivation as text, LaTeX, Markdown, JSON or a PDF."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

from .. import catalog, profiles
from ..errors import UsageError
from ..params import parse_params
from ..render import render, render_document
from .options import (
    command_parser,
    document,
    format_options,
    notation_option,
    show_checks_option,
    write_output,
)


def parser() -> argparse.ArgumentParser:
    result = command_parser(
        "", "Print a derivation of the catalog, every step verified by SymPy "
                "(python -m derive list shows the names).",
        "xavier --latex --param n_in=256 --param n_out=128",
        "sigmoid --pdf --lang zh -o out/")
    result.add_argument("name", help="a catalog entry (see: python -m derive list)")
    format_options(result)
    result.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="give a parameter a value (exact: 0.25 is 1/4); repeatable")
    result.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output (with --pdf: a folder, default out/)")
    result.add_argument("--template-dir", metavar="DIR", help="a folder of templates searched first")
    notation_option(result, profiles.DEFAULT)
    show_checks_option(result)
    result.add_argument("--detail", choices=("rules",),
                        help="rules: an activation's derivatives one differentiation rule per step")
    return result


def _entry(name: str):
    """The catalog entry ``name``; a name that is not one but is close to a command (``lsit``) is
    refused naming that command, since the reader most likely mistyped it."""
    try:
        return catalog.get(name)
    except UsageError:
        from . import BY_NAME

        close = difflib.get_close_matches(name, BY_NAME, n=1, cutoff=0.75)
        if close:
            raise UsageError(f"unknown command or derivation '{name}'; did you mean the command '{close[0]}'? "
                             "(python -m derive --help lists the commands)") from None
        raise


def run(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-"):
        _entry(argv[0])  # an unknown name is refused before --help would print an entry's options
    options = parser().parse_args(argv)
    derivation = _entry(options.name)
    if options.detail == "rules":
        from ..catalog.activations import with_rules
        derivation = with_rules(options.name)
    values = parse_params(derivation, options.param)
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    if options.format == "pdf":
        tex = render_document(derivation, options.lang, values, options.template_dir,
                              show_checks=options.show_checks, notation=options.notation)
        return document(derivation.name, tex, options)
    text = render(derivation, options.format or "text", options.lang, values, options.template_dir,
                  notation=options.notation)
    write_output(text, options.output)
    return 0
