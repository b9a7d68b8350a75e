"""``python -m derive check-steps NAME --file ANSWER.tex``: a whole derivation judged line by line."""

from __future__ import annotations

import argparse
import json

from .. import limits
from ..render import LANGUAGES, wording
from .options import command_parser, positive_seconds, read_input


def parser() -> argparse.ArgumentParser:
    from ..check.pool import DEFAULT_TIMEOUT
    result = command_parser(
        "check-steps", "Check a student's derivation line by line: each line is judged against the one before "
                       "and the last against the target. Exit status 0 if every line and the result are right.",
        r""" printf '%s\n' "\sigma'(x) = \frac{e^{-x}}{(1+e^{-x})^2}" "= \sigma(x)(1-\sigma(x))" """
        "| python -m derive check-steps sigmoid")
    result.add_argument("name", help="the catalog entry the derivation is for")
    result.add_argument("--file", default="-", help="the derivation in LaTeX (lines or an align block); - for stdin")
    result.add_argument("--json", action="store_true", help="print the report as JSON")
    result.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    result.add_argument("--timeout", type=positive_seconds("check-steps.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per line (default 5)")
    result.add_argument("--budget", type=positive_seconds("check-steps.budget", "--budget"),
                        default=limits.LIMITS["check-steps.budget"].default,
                        help="seconds for the whole file (default 60); lines not judged by then are undecided")
    return result


def run(argv: list[str]) -> int:
    """Each line judged within ``--timeout``, the file within ``--budget``."""
    from .. import catalog
    from ..check.batch import summarize_steps
    from ..check.timed import check_steps_timed
    options = parser().parse_args(argv)
    catalog.get(options.name)
    text = read_input(options.file)
    result = check_steps_timed(text, options.name, options.lang, options.timeout, options.budget)
    if options.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(steps_text(result, options.lang))
    return 0 if summarize_steps(result, options.lang)["verdict"] == "correct" else 1


def steps_text(report: dict, lang: str) -> str:
    """The line-by-line report as text."""
    from ..check.batch import final_sentence

    phrases = wording(lang)["steps"]
    out = []
    for line in report["lines"]:
        out.append(f"{line['n']:>3}. {line['verdict']:<10} {line['feedback']}")
        if line["parsed"]:
            out.append(f"     {phrases['read_as']}: {line['parsed']}")
    final = report["final"]
    out.append(f"{phrases['final']}: " + final_sentence(final, phrases))
    if report["first_error"] is not None:
        out.append(phrases["first_error"].format(n=report["first_error"], feedback="").rstrip(": "))
    return "\n".join(out)
