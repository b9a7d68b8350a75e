"""``python -m derive diff 'f(x) = ...'``: f' (and f'') one differentiation rule per verified step."""

from __future__ import annotations

import argparse

from .. import limits, profiles
from .options import (
    command_parser,
    document,
    format_options,
    notation_option,
    output_option,
    positive_seconds,
    show_checks_option,
    within,
    write_output,
)


def parser() -> argparse.ArgumentParser:
    result = command_parser("diff", "Differentiate a function of your own (LaTeX), one differentiation rule per "
                                    "step, every step verified by SymPy.",
                            r"diff 'f(x) = x \tanh(\ln(1 + e^{x}))'",
                            r"diff 'f(x) = \frac{1}{1 + e^{-x}}' --order 2 --latex")
    result.add_argument("definition", help="the function in LaTeX: 'f(x) = x \\tanh(\\ln(1 + e^{x}))'")
    result.add_argument("--order", type=int, choices=(1, 2), default=1, help="1 (f') or 2 (f' and f'')")
    format_options(result)
    output_option(result)
    notation_option(result, profiles.DEFAULT, template_dir=False)
    show_checks_option(result)
    result.add_argument("--timeout", type=positive_seconds("diff.timeout"),
                        default=limits.LIMITS["diff.timeout"].default, help="seconds for the derivation (default 60)")
    return result


def run(argv: list[str]) -> int:
    from ..differentiate import function_derivation
    from ..render import render, render_document
    options = parser().parse_args(argv)
    derivation = within(options.timeout, lambda: function_derivation("diff", options.definition, options.order),
                        f"the derivation takes more than {options.timeout:g} s (--timeout)")
    if options.format == "pdf":
        tex = render_document(derivation, options.lang, show_checks=options.show_checks, notation=options.notation)
        return document(derivation.name, tex, options)
    write_output(render(derivation, options.format or "text", options.lang, notation=options.notation),
                 options.output)
    return 0
