"""``python -m derive list``: the catalog, one entry a line (or JSON)."""

from __future__ import annotations

import argparse

from ..render import LANGUAGES
from .options import command_parser, write_output


def parser() -> argparse.ArgumentParser:
    result = command_parser("list", "List the catalog: name, family, title, targets. A name is what "
                                    "python -m derive NAME prints and check NAME checks.",
                            "list", "list --json --lang zh --catalog examples/teacher-catalog.toml")
    result.add_argument("--json", dest="format", action="store_const", const="json", default="text",
                        help="print the list as JSON")
    result.add_argument("--lang", choices=LANGUAGES, default="en", help="titles in en or zh")
    return result


def run(argv: list[str]) -> int:
    from .. import catalog
    from ..render import render_list

    options = parser().parse_args(argv)
    write_output(render_list(catalog.entries(), options.format, options.lang), None)
    return 0
