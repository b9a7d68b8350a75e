"""``python -m derive simulate --act A --init I``: a Monte Carlo of the variance across depth."""

from __future__ import annotations

import argparse

from .. import profiles
from ..render import LANGUAGES
from .options import command_parser, document, notation_option, write_output


def parser() -> argparse.ArgumentParser:
    result = command_parser("simulate", "Monte Carlo of a deep fully-connected network's variance, forward and "
                                        "backward, against the variance recursion.",
                            "simulate --act tanh --init xavier --depth 10 --width 256 --batch 256",
                            "simulate --act relu --init kaiming --json")
    result.add_argument("--act", required=True, help="tanh, relu, sigmoid, leaky_relu[:A] (A in [0, 1), "
                                                     "default 0.01), linear, or any activation init --act takes "
                                                     "(gelu, elu:1, 'f(z) = ...', a --catalog entry)")
    result.add_argument("--init", required=True, help="xavier, kaiming, lecun, prelu[:A] or normal:S")
    result.add_argument("--depth", default=30, help="layers (default 30)")
    result.add_argument("--width", default=512, help="units per layer (default 512)")
    result.add_argument("--batch", default=1024, help="inputs (default 1024)")
    result.add_argument("--seed", default=0, help="seed of numpy.random.default_rng (default 0)")
    group = result.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="print the layers and ratios as JSON")
    group.add_argument("--pdf", action="store_true", help="write a LaTeX report and its PDF into a folder (default out/)")
    result.add_argument("--lang", choices=LANGUAGES, default="en", help="wording: en or zh")
    notation_option(result, profiles.DEFAULT, template_dir=False)
    result.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    return result


def run(argv: list[str]) -> int:
    from ..simulate import parse_config, simulate
    from ..simulate_view import render_tex, render_text
    from ..simulate_view import to_json as simulation_json
    options = parser().parse_args(argv)
    config = parse_config(options.act, options.init, options.depth, options.width, options.batch, options.seed)
    profiles.load(options.notation)   # a profile that does not exist is refused before the simulation runs
    result = simulate(config)
    if options.pdf:
        tex = render_tex(result, options.lang, options.notation)
        return document(f"simulate-{config.act}-{config.init}".replace("_", "-"), tex, options)
    text = simulation_json(result) if options.json else render_text(result, options.lang, options.notation)
    write_output(text, options.output)
    return 0
