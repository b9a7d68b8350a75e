"""``python -m derive init --act NAME|'f(z) = ...'``: Var(W) and the gain from E[f(z)^2] (issue 18, part B)."""

from __future__ import annotations

import argparse

from .. import limits, profiles
from .options import (
    command_parser,
    document,
    format_options,
    notation_option,
    positive_seconds,
    show_checks_option,
    within,
    write_output,
)


def parser() -> argparse.ArgumentParser:
    result = command_parser("init", "Initialization for any activation: E[f(z)^2], E[f'(z)^2], Var(W) and the "
                                    "gain, every step verified.",
                            "init --act tanh",
                            r"init --act 'f(z) = z \tanh(\ln(1 + e^{z}))' --md")
    result.add_argument("--act", required=True, help="a catalog activation (relu, leaky-relu[:A], prelu[:A], elu[:A], "
                                                     "tanh, sigmoid, softplus, silu/swish, gelu, linear) or LaTeX "
                                                     "'f(z) = ...'")
    result.add_argument("--density", default="normal", help="the density of z (normal)")
    result.add_argument("--var-z", default="1", metavar="V",
                        help="Var(z) at which a moment without a closed form is integrated numerically (default 1)")
    result.add_argument("--timeout", type=positive_seconds("init.timeout"),
                        default=limits.LIMITS["init.timeout"].default, help="seconds for the derivation (default 120)")
    format_options(result)
    result.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    notation_option(result, profiles.DEFAULT, template_dir=False)
    show_checks_option(result)
    return result


def run(argv: list[str]) -> int:
    from ..catalog.any_init import init_derivation
    from ..render import render, render_document
    options = parser().parse_args(argv)
    derivation = within(options.timeout, lambda: init_derivation(options.act, options.density, options.var_z),
                        f"--act: the derivation took longer than --timeout {options.timeout:g} s")
    if options.format == "pdf":
        tex = render_document(derivation, options.lang, show_checks=options.show_checks, notation=options.notation)
        stem = options.act.partition(":")[0] if options.act.replace("-", "").replace("_", "").replace(
            ":", "").replace(".", "").isalnum() else "f"
        return document(f"init-{stem}", tex, options)
    write_output(render(derivation, options.format or "text", options.lang, notation=options.notation),
                 options.output)
    return 0
