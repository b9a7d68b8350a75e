"""``python -m derive audit CLAIMS.toml``: recompute what a published sheet claims; exit 1 if any claim disagrees."""

from __future__ import annotations

import argparse

from .. import limits
from ..render import LANGUAGES
from .options import command_parser, positive_seconds, write_output


def parser() -> argparse.ArgumentParser:
    from ..check.pool import DEFAULT_TIMEOUT
    result = command_parser("audit", "Recompute each claim of a published answer sheet and judge it: agrees, "
                                     "disagrees or undecided. Exit status 1 if any claim does not agree.",
                            "audit audits/seed-004.toml",
                            "audit audits/seed-000.toml --lang en --json -o report.json")
    result.add_argument("claims", help="a claims file (TOML), see audits/")
    result.add_argument("--lang", choices=LANGUAGES, help="wording: en or zh (default: the file's lang)")
    result.add_argument("--json", action="store_true", help="print the findings as JSON")
    result.add_argument("--timeout", type=positive_seconds("audit.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per formula check (default 5)")
    result.add_argument("--budget", type=positive_seconds("audit.budget", "--budget"),
                        default=limits.LIMITS["audit.budget"].default,
                        help="seconds for the whole file (default 300); claims not judged by then are undecided")
    result.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    return result


def run(argv: list[str]) -> int:
    from ..audit import audit, read_claims, render_text
    from ..audit import to_json as audit_json
    options = parser().parse_args(argv)
    deadline = limits.Deadline(options.budget)
    claims = read_claims(options.claims, deadline)
    lang = options.lang or claims.lang
    findings = audit(claims, lang, options.timeout, deadline=deadline)
    write_output(audit_json(claims, findings) if options.json else render_text(claims, findings, lang), options.output)
    return 0 if all(f.verdict == "agrees" for f in findings) else 1
