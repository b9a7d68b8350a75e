"""``python -m derive check NAME --target T --answer LATEX``: one answer judged against a target."""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from ..render import LANGUAGES
from . import PROG
from .options import command_parser, positive_seconds


def parser() -> argparse.ArgumentParser:
    from ..check.pool import DEFAULT_TIMEOUT
    result = command_parser(
        "check", "Check one answer (LaTeX) against a derivation's target and say why: correct, incorrect, "
                 "unparsable or timeout.\nExit status: 0 correct, 1 incorrect, 2 unparsable or bad input, "
                 "3 not decided within --timeout.",
        "check xavier --targets",
        r"check xavier --target var --answer '\frac{2}{n_{in} + n_{out}}'")
    result.add_argument("name", nargs="?", help="a catalog entry, a built-in network or worked example, or a "
                                                "network or backprop spec (.toml); or give --expected")
    result.add_argument("--target", help="the target the answer is for (see: python -m derive check NAME --targets)")
    result.add_argument("--answer", help="the answer, in LaTeX")
    result.add_argument("--targets", action="store_true", help="list the problem's targets (JSON with --json)")
    result.add_argument("--convention", help="a network's counting: full (default), sheet, no-bn, no-bias, "
                                             "'no-bn no-bias'")
    result.add_argument("--expected", help="LaTeX to compare with, instead of a catalog target")
    result.add_argument("--assume", action="append", default=[], metavar="NAME:DOMAIN",
                        help="with --expected: a symbol's domain (real, positive, positive-integer, unit, label)")
    result.add_argument("--notation", metavar="PROBLEM",
                        help="with --expected: read both in a catalog entry's notation (else every name is itself)")
    result.add_argument("--json", action="store_true", help="print the verdict as JSON")
    result.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    result.add_argument("--timeout", type=positive_seconds("check.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per check (default 5)")
    result.add_argument("--log-base", choices=("e", "10"), default="e", help="what \\log means (default e)")
    return result


def run(argv: list[str]) -> int:
    from .. import catalog
    from ..check import numeric
    from ..check.batch import Batch, invalid
    from ..check.decide import EXIT_CODES
    from ..check.pool import CheckPool
    options = parser().parse_args(argv)
    if options.targets:
        return targets(options.name, options.json)
    if options.answer is None:
        raise UsageError("the following arguments are required: --answer")
    if options.name is None and options.expected is None:
        raise UsageError("give a catalog entry and --target, or --expected")
    if options.notation is not None:
        if options.expected is None or options.name is not None:
            raise UsageError("--notation goes with --expected (and no problem): whose notation to read it in")
        catalog.get(options.notation)
    if options.name is not None and not options.target:
        catalog.get(options.name) if not numeric.is_numeric(options.name) else numeric.problem(options.name)
        raise UsageError(f"give --target: which result of '{options.name}' the answer is for "
                         f"({PROG} check {options.name} --targets lists them)")
    if options.name is not None and not numeric.is_numeric(options.name):
        catalog.get(options.name).target(options.target)
    request = {"answer": options.answer, "problem": options.name, "target": options.target,
               "expected": options.expected, "lang": options.lang, "assume": options.assume,
               "log_base": options.log_base, "convention": options.convention, "notation": options.notation}
    request = {k: v for k, v in request.items() if v is not None}
    if reason := invalid(request):
        raise UsageError(reason)
    with CheckPool(1, options.timeout) as pool:
        result = Batch([request], options.lang).run(pool)[0]
    if result["verdict"] == "error":
        raise UsageError(result["feedback"])
    result.pop("id"), result.pop("points")
    if options.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{result['verdict']}: {result['feedback']}")
        print(f"  read as:  {result['parsed']}\n  expected: {result['expected']}")
    return EXIT_CODES[result["verdict"]]


def targets(name: str | None, as_json: bool) -> int:
    """``python -m derive check NAME --targets``: the problem's targets, one a line (or as JSON)."""
    from ..check.numeric import targets as listing_of
    if name is None:
        raise UsageError("--targets needs a problem: derive check NAME --targets")
    listing = listing_of(name)
    print(json.dumps(listing, ensure_ascii=False) if as_json else "\n".join(listing["targets"]))
    return 0
