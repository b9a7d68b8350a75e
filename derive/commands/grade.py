"""``python -m derive grade FILE.jsonl``: a class's answers, one JSON line each, graded in worker processes."""

from __future__ import annotations

import argparse
import sys
import time

from ..render import LANGUAGES
from .options import command_parser, job_count, positive_seconds, read_input, write_output


def parser() -> argparse.ArgumentParser:
    from ..check.batch import FORMATS as BATCH_FORMATS
    from ..check.pool import DEFAULT_TIMEOUT
    result = command_parser(
        "grade", "Grade a class: read answers, one JSON object a line, and write one verdict a line "
                 "(or CSV, or Gradescope's results.json). A summary goes to standard error.",
        """ echo '{"id": "s1", "problem": "xavier", "target": "var", "answer": "1/n_{in}"}' """
        "| python -m derive grade - --jobs 2")
    result.add_argument("file", help="JSON lines: {id, problem, target, answer} or {id, expected, answer}; - for stdin")
    result.add_argument("--jobs", type=job_count, default=1,
                        help="checks at once (worker processes, 1 to 64)")
    result.add_argument("-o", "--output", metavar="OUT",
                        help="where to write (default: stdout; results.json for gradescope)")
    result.add_argument("--format", choices=BATCH_FORMATS, default="jsonl", help="the output's format")
    result.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    result.add_argument("--timeout", type=positive_seconds("check.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per check (default 5)")
    result.add_argument("--variants", metavar="VARIANTS.json",
                        help="grade {student, problem, target|choice, answer} lines against each student's variant "
                             "(sheet --variants writes the file)")
    return result


def run(argv: list[str]) -> int:
    from ..check.batch import Batch, read_requests, summary
    from ..check.batch import write as write_batch
    from ..check.pool import CheckPool
    from ..files import refuse_overwrite
    options = parser().parse_args(argv)
    start = time.perf_counter()
    if options.variants is not None:
        return _grade_variants(options, start)
    batch = Batch(read_requests(read_input(options.file, "grade.bytes", raw=True)), options.lang)
    with CheckPool(min(options.jobs, max(1, len(batch.checks))), options.timeout) as pool:
        results = batch.run(pool, progress=sys.stderr.isatty())
    text = write_batch(results, options.format)
    output = options.output if options.output is not None else (
        "results.json" if options.format == "gradescope" else None)
    refuse_overwrite(output, options.file)
    write_output(text, output)
    print(summary(results, time.perf_counter() - start), file=sys.stderr)
    return 0


def _grade_variants(options: argparse.Namespace, start: float) -> int:
    """``grade --variants``: each line judged against its student's own variant."""
    from ..check import variant_grade
    from ..files import refuse_overwrite
    roster = variant_grade.Roster(variant_grade.load(options.variants), options.variants)
    data = read_input(options.file, "grade.bytes", raw=True)
    results = variant_grade.grade(data, roster, options.lang, options.jobs, options.timeout,
                                  progress=sys.stderr.isatty())
    output = options.output if options.output is not None else (
        "results.json" if options.format == "gradescope" else None)
    refuse_overwrite(output, options.file, options.variants)
    write_output(variant_grade.write(results, options.format, roster), output)
    print(variant_grade.summary(results, time.perf_counter() - start), file=sys.stderr)
    return 0
