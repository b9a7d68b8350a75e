"""The command line: ``python -m derive NAME [--latex | --md | --json | --pdf] ...``, ``list``, ``sheet``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from . import catalog, limits, profiles
from .errors import DeriveError, UsageError
from .files import output_folder, publish, refuse_overwrite, safe_stem, write_atomic
from .params import parse_params
from .pdf import build_pdf
from .render import FORMATS, LANGUAGES, render, render_document, render_list, render_sheet, wording

# The commands import what only they need (checking, networks, backprop) when they run, so
# that `python -m derive NAME` starts as fast as SymPy allows.

class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line UsageErrors, not usage dumps."""

    def error(self, message: str):
        raise UsageError(message)


def positive_seconds(key: str, option: str = "--timeout"):
    """An argparse type for ``--timeout`` (or ``option``): a finite number of seconds, more than 0
    and at most the limit ``key`` of :mod:`derive.limits` (NaN, infinities, 0 and negatives are refused)."""
    def parse(text: str) -> float:
        try:
            given = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
        return limits.seconds(key, given, option)
    return parse


def job_count(text: str) -> int:
    """An argparse type for ``--jobs``: a whole number from 1 to the limit ``grade.jobs``."""
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not '{text}'")
    return limits.check("grade.jobs", jobs, what="--jobs")


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
    _notation_option(parser, profiles.DEFAULT)
    _show_checks_option(parser)
    parser.add_argument("--detail", choices=("rules",),
                        help="rules: an activation's derivatives one differentiation rule per step")
    return parser


def _notation_option(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument("--notation", metavar="PROFILE", default=default,
                        help="how quantities are written: course (M_{l-1}, default) or textbook (n_in), "
                             "or a profile of --template-dir" + ("" if default else "; wins over the spec's"))


def _show_checks_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show-checks", action="store_true",
                        help="print how each step was verified in the PDF (always kept as %% comments in the .tex)")


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
    _notation_option(parser, None)
    _show_checks_option(parser)
    parser.add_argument("--variants", metavar="ROSTER.csv|N",
                        help="one handout and key per student of a roster (CSV: id, name) or N students "
                             "001..N, the spec's ranges drawn per student; also variants.json")
    parser.add_argument("--seed", type=_whole, help="with --variants: the seed of the draws (default 0)")
    parser.add_argument("--jobs", type=job_count, default=1, help="with --variants --pdf: PDFs built at once")
    return parser


def _whole(text: str) -> int:
    """An argparse type for ``--seed``: a whole number from 0 to 2^63 - 1."""
    if not text.isdigit() or len(text) > 19 or int(text) >= 2**63:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number from 0 to 2^63 - 1")
    return int(text)


def _list_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive list", description="List the catalog: name, family, title, targets.")
    parser.add_argument("--json", dest="format", action="store_const", const="json", default="text")
    parser.add_argument("--lang", choices=LANGUAGES, default="en")
    return parser


def write_output(text: str, output: str | None) -> None:
    """Print, or write to a file whole (a failed write never leaves half a file; see
    :func:`derive.files.write_atomic` for links, devices and modes)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(output, text)


def _pdf(files: dict[str, str], folder: Path) -> list[Path]:
    """Write the .tex files, then build each as a PDF; returns every path written."""
    written = publish(files, folder)
    for name, tex in files.items():
        written.append(build_pdf(tex, Path(name).stem, folder))
    return written


def _document(name: str, tex: str, options) -> int:
    """``--pdf``: NAME-LANG.tex and .pdf in the ``-o`` folder (default out/); NAME is made a
    plain file name first (a spec's ``name = "../x"`` stays in the folder)."""
    folder = output_folder("out" if options.output is None else options.output)
    _report(_pdf({f"{safe_stem(name)}-{options.lang}.tex": tex}, folder))
    return 0


def _report(paths: list[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


def _check_parser() -> argparse.ArgumentParser:
    from .check.pool import DEFAULT_TIMEOUT
    parser = _Parser(prog="derive check", description="Check an answer against a derivation's target.")
    parser.add_argument("name", nargs="?", help="a catalog entry, a built-in network or worked example, or a "
                                                "network or backprop spec (.toml); or give --expected")
    parser.add_argument("--target", help="the target the answer is for (see: derive check NAME --targets)")
    parser.add_argument("--answer", help="the answer, in LaTeX")
    parser.add_argument("--targets", action="store_true", help="list the problem's targets (JSON with --json)")
    parser.add_argument("--convention", help="a network's counting: full (default), sheet, no-bn, no-bias, "
                                             "'no-bn no-bias'")
    parser.add_argument("--expected", help="LaTeX to compare with, instead of a catalog target")
    parser.add_argument("--assume", action="append", default=[], metavar="NAME:DOMAIN",
                        help="with --expected: a symbol's domain (real, positive, positive-integer, unit, label)")
    parser.add_argument("--notation", metavar="PROBLEM",
                        help="with --expected: read both in a catalog entry's notation (else every name is itself)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    parser.add_argument("--timeout", type=positive_seconds("check.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per check (default 5)")
    parser.add_argument("--log-base", choices=("e", "10"), default="e", help="what \\log means (default e)")
    return parser


def _check(argv: list[str]) -> int:
    from .check.batch import Batch, invalid
    from .check.decide import EXIT_CODES
    from .check.pool import CheckPool
    from .check import numeric
    options = _check_parser().parse_args(argv)
    if options.targets:
        return _targets(options.name, options.json)
    if options.answer is None:
        raise UsageError("the following arguments are required: --answer")
    if options.name is None and options.expected is None:
        raise UsageError("give a catalog entry and --target, or --expected")
    if options.notation is not None:
        if options.expected is None or options.name is not None:
            raise UsageError("--notation goes with --expected (and no problem): whose notation to read it in")
        catalog.get(options.notation)
    if options.name is not None and not numeric.is_numeric(options.name):
        catalog.get(options.name).target(options.target or "")
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


def _targets(name: str | None, as_json: bool) -> int:
    """``derive check NAME --targets``: the problem's targets, one a line (or as JSON)."""
    from .check.numeric import targets
    if name is None:
        raise UsageError("--targets needs a problem: derive check NAME --targets")
    listing = targets(name)
    print(json.dumps(listing, ensure_ascii=False) if as_json else "\n".join(listing["targets"]))
    return 0


def _check_steps_parser() -> argparse.ArgumentParser:
    from .check.pool import DEFAULT_TIMEOUT
    parser = _Parser(prog="derive check-steps", description="Check a derivation line by line.")
    parser.add_argument("name", help="the catalog entry the derivation is for")
    parser.add_argument("--file", default="-", help="the derivation in LaTeX (lines or an align block); - for stdin")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    parser.add_argument("--timeout", type=positive_seconds("check-steps.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per line (default 5)")
    parser.add_argument("--budget", type=positive_seconds("check-steps.budget", "--budget"),
                        default=limits.LIMITS["check-steps.budget"].default,
                        help="seconds for the whole file (default 60); lines not judged by then are undecided")
    return parser


def _read_input(name: str, limit: str = "check-steps.bytes", raw: bool = False) -> str | bytes:
    """A file's text (its bytes with ``raw``), or standard input for '-'; more bytes than the
    limit ``limit`` (``/dev/zero``) and every read or decoding failure is a one-line error."""
    most = limits.value(limit)
    try:
        if name == "-":  # a text stream without a buffer (a test's StringIO) is read as text
            data = getattr(sys.stdin, "buffer", sys.stdin).read(most + 1)
            data = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        else:
            with Path(name).open("rb") as stream:
                data = stream.read(most + 1)
        if len(data) > most:
            limits.refuse(limit, f"more than {most:,}", f"cannot read '{name}'")
        return data if raw else data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read '{name}': {getattr(error, 'strerror', None) or error}") from None


def _check_steps(argv: list[str]) -> int:
    """``derive check-steps NAME``: each line judged within ``--timeout``, the file within ``--budget``."""
    from .check.batch import summarize_steps
    from .check.timed import check_steps_timed
    options = _check_steps_parser().parse_args(argv)
    catalog.get(options.name)
    text = _read_input(options.file)
    result = check_steps_timed(text, options.name, options.lang, options.timeout, options.budget)
    if options.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(_steps_text(result, options.lang))
    return 0 if summarize_steps(result, options.lang)["verdict"] == "correct" else 1


def _steps_text(report: dict, lang: str) -> str:
    """The line-by-line report as text."""
    phrases = wording(lang)["steps"]
    out = []
    for line in report["lines"]:
        out.append(f"{line['n']:>3}. {line['verdict']:<10} {line['feedback']}")
        if line["parsed"]:
            out.append(f"     {phrases['read_as']}: {line['parsed']}")
    final = report["final"]
    out.append(f"{phrases['final']}: " + phrases[f"final_{final['verdict']}"].format(target=final["target"] or "-"))
    if report["first_error"] is not None:
        out.append(phrases["first_error"].format(n=report["first_error"], feedback="").rstrip(": "))
    return "\n".join(out)


def _grade_parser() -> argparse.ArgumentParser:
    from .check.batch import FORMATS as BATCH_FORMATS
    from .check.pool import DEFAULT_TIMEOUT
    parser = _Parser(prog="derive grade", description="Grade a class: one JSON line per answer.")
    parser.add_argument("file", help="JSON lines: {id, problem, target, answer} or {id, expected, answer}; - for stdin")
    parser.add_argument("--jobs", type=job_count, default=1,
                        help="checks at once (worker processes, 1 to 64)")
    parser.add_argument("-o", "--output", metavar="OUT", help="where to write (default: stdout; results.json for gradescope)")
    parser.add_argument("--format", choices=BATCH_FORMATS, default="jsonl")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="feedback in en or zh")
    parser.add_argument("--timeout", type=positive_seconds("check.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per check (default 5)")
    parser.add_argument("--variants", metavar="VARIANTS.json",
                        help="grade {student, problem, target|choice, answer} lines against each student's variant "
                             "(sheet --variants writes the file)")
    return parser


def _grade(argv: list[str]) -> int:
    from .check.batch import Batch, read_requests, summary
    from .check.batch import write as write_batch
    from .check.pool import CheckPool
    options = _grade_parser().parse_args(argv)
    start = time.perf_counter()
    if options.variants is not None:
        return _grade_variants(options, start)
    batch = Batch(read_requests(_read_input(options.file, "grade.bytes", raw=True)), options.lang)
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
    from .check import variant_grade
    roster = variant_grade.Roster(variant_grade.load(options.variants), options.variants)
    data = _read_input(options.file, "grade.bytes", raw=True)
    results = variant_grade.grade(data, roster, options.lang, options.jobs, options.timeout,
                                  progress=sys.stderr.isatty())
    output = options.output if options.output is not None else (
        "results.json" if options.format == "gradescope" else None)
    refuse_overwrite(output, options.file, options.variants)
    write_output(variant_grade.write(results, options.format, roster), output)
    print(variant_grade.summary(results, time.perf_counter() - start), file=sys.stderr)
    return 0


def _net_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive net", description="Shapes, parameters, memory, MACs and receptive fields.")
    parser.add_argument("network", help="a built-in network (see: derive net list) or a spec (TOML)")
    _format_options(parser)
    parser.add_argument("--input", metavar="HxWxC", help="another input size, for example 224x224x3")
    parser.add_argument("--bytes-per-value", type=int, default=4, help="bytes per activation (default 4)")
    parser.add_argument("--convention", choices=("full", "sheet"), default="full",
                        help="sheet: count as the course's ResNet-18 answer does")
    parser.add_argument("--no-bn", action="store_true", help="leave batch norm parameters out")
    parser.add_argument("--no-bias", action="store_true", help="leave biases out")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    _show_checks_option(parser)
    return parser


def _net(argv: list[str]) -> int:
    from .architecture.arithmetic import Convention, analyse
    from .architecture.arithmetic import to_json as net_json
    from .architecture.spec import parse_input, read_network
    from .catalog import architectures
    if argv[:1] == ["list"]:
        print("\n".join(f"{name:22} {architectures.builtin(name).title}" for name in architectures.network_names()))
        return 0
    options = _net_parser().parse_args(argv)
    if options.bytes_per_value < 1:
        raise UsageError("--bytes-per-value must be at least 1")
    source = options.network
    network = read_network(source) if source.endswith(".toml") else architectures.builtin(source)
    if options.input:
        network = replace(network, input=parse_input(options.input))
    convention = Convention(not options.no_bn, not options.no_bias, options.convention == "sheet")
    reference = architectures.REFERENCES.get(network.name)
    if reference:
        reference = analyse(architectures.builtin(reference), convention, options.bytes_per_value)
    report = analyse(network, convention, options.bytes_per_value, reference)
    if options.format == "pdf":
        return _document(network.name, render_document(report.derivation, options.lang,
                                                       show_checks=options.show_checks), options)
    text = net_json(report) if options.format == "json" else render(report.derivation, options.format or "text",
                                                                    options.lang)
    write_output(text, options.output)
    return 0


def _worked_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=description)
    _format_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    _show_checks_option(parser)
    return parser


def _emit(derivation, document: str | None, options, published: str = "", picture: dict | None = None) -> int:
    """Write a worked problem in the chosen format (its own JSON, or the shared templates)."""
    if options.format == "pdf":
        return _document(derivation.name, render_document(derivation, options.lang, picture=picture,
                                                          show_checks=options.show_checks), options)
    text = document if options.format == "json" else render(derivation, options.format or "text", options.lang)
    write_output(text + (published if options.format in (None, "text") else ""), options.output)
    return 0


def _summary_lines(result, lang: str) -> str:
    """Rounded values of the loss and the gradients, and whether the step lowered the loss."""
    words = wording(lang)["sheet"]
    lines = [f"  {result.graph.loss} ~ {float(result.loss):.6g}"]
    lines += [f"  d{result.graph.loss}/d{p} ~ {float(g):.6g}" for p, g in result.grads.items()]
    if result.loss_after is not None:
        change = "loss_decreased" if result.decreased else "loss_not_decreased"
        lines.append("  " + words[change].format(before=f"{float(result.loss):.6g}", after=f"{float(result.loss_after):.6g}"))
    return f"\n{words['rounded']}:\n" + "\n".join(lines) + "\n"


def _published_lines(rows: list[dict], lang: str) -> str:
    """The sheet's published numbers beside derive's, with the difference named."""
    if not rows:
        return ""
    words = wording(lang)["sheet"]
    lines = ["  " + words["published_row"].format(quantity=r["quantity"], published=r["published"], derive=r["derive"],
                                                  difference=words[f"difference_{r['difference'].replace(' ', '_')}"])
             for r in rows]
    return f"\n{words['published']}:\n" + "\n".join(lines) + "\n"


def _backprop(argv: list[str], table: dict | None = None) -> int:
    from .backprop.graph import compare_published, graph_from, read_graph
    from .backprop.graph import run as run_graph
    from .backprop.graph import to_json as graph_json
    from .backprop.picture import graph_picture
    parser = _worked_parser("derive backprop", "Forward pass, chain rule and one SGD step, exactly.")
    if table is None:
        parser.add_argument("spec", help="a problem spec (TOML)")
    parser.add_argument("--exact", action="store_true",
                        help="print exact fractions, not the course's decimals (the values are exact either way)")
    options = parser.parse_args(argv)
    graph = graph_from(table, table["name"]) if table else read_graph(options.spec)
    result = run_graph(graph, exact=options.exact)
    return _emit(result.derivation, graph_json(result), options,
                 _summary_lines(result, options.lang) + _published_lines(compare_published(result), options.lang),
                 graph_picture(result))


def _conv2d(argv: list[str], table: dict | None = None) -> int:
    import sympy as sp

    from .backprop.conv import agrees_with_published, exact_matrix, parse_matrix, worked
    parser = _worked_parser("derive conv2d", "Every output entry of a 2-D convolution as its sum of products.")
    if table is None:
        parser.add_argument("--image", required=True, help="rows of numbers, e.g. [[1, 2], [3, 4]]")
        parser.add_argument("--kernel", required=True, help="rows of numbers")
        parser.add_argument("--padding", type=int, default=0)
        parser.add_argument("--stride", type=int, default=1)
        parser.add_argument("--convolution", action="store_true", help="flip the kernel (true convolution)")
    options = parser.parse_args(argv)
    if table:
        image, kernel = exact_matrix(table["image"]), exact_matrix(table["kernel"])
        parts, flip, name, title = table["parts"], False, table["name"], table["title"]
    else:
        image, kernel = parse_matrix(options.image, "image"), parse_matrix(options.kernel, "kernel")
        parts, flip, name, title = [(options.padding, options.stride)], options.convolution, "conv2d", "conv2d"
    derivation, outputs = worked(image, kernel, parts, flip, name, title)
    mode = "convolution" if flip else "cross-correlation"
    documents = [{"output": [[int(v) if v.is_Integer else sp.sstr(v) for v in row] for row in out], "mode": mode,
                  "padding": p, "stride": s}
                 for out, (p, s) in zip(outputs, parts, strict=True)]
    published = ""
    if table and table.get("published"):
        same = agrees_with_published(outputs, table["published"])
        words = wording(options.lang)["sheet"]
        published = f"\n{words['published']}:\n" + "\n".join(
            "  " + words["published_matrix"].format(padding=p, stride=s, difference=words[
                "difference_equal" if ok else "difference_differs"]) for (p, s), ok in zip(parts, same, strict=True)) + "\n"
        for document, ok in zip(documents, same, strict=True):
            document["published_agrees"] = ok
    document = json.dumps(documents[0] if len(documents) == 1 else documents, ensure_ascii=False)
    return _emit(derivation, document, options, published)


def _example(argv: list[str]) -> int:
    from .catalog.examples import EXAMPLES, example, title
    if not argv or argv[0] == "list":
        print("\n".join(f"{name:18} {title(name)}" for name in EXAMPLES))
        return 0
    table = example(argv[0])
    kind = table.pop("kind")
    return (_backprop if kind == "backprop" else _conv2d)(argv[1:], table)


def _diff_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive diff", description="Differentiate a function rule by rule, every step verified.")
    parser.add_argument("definition", help="the function in LaTeX: 'f(x) = x \\tanh(\\ln(1 + e^{x}))'")
    parser.add_argument("--order", type=int, choices=(1, 2), default=1, help="1 (f') or 2 (f' and f'')")
    _format_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    _notation_option(parser, profiles.DEFAULT)
    _show_checks_option(parser)
    parser.add_argument("--timeout", type=positive_seconds("diff.timeout"),
                        default=limits.LIMITS["diff.timeout"].default, help="seconds for the derivation (default 60)")
    return parser


class _Expired(BaseException):
    """The time of ``--timeout`` is up (a BaseException: no ``except Exception`` inside SymPy swallows it)."""


def _within(seconds: float, work, message: str):
    """``work()``, stopped after ``seconds`` of wall time by SIGALRM with a one-line UsageError
    ``message``; outside the main thread (or without timers) it runs unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return work()

    def expire(number, frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return work()
    except _Expired:
        raise UsageError(message) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _diff(argv: list[str]) -> int:
    """``derive diff 'f(x) = ...'``: f' (and f'') one differentiation rule per verified step."""
    from .differentiate import function_derivation
    options = _diff_parser().parse_args(argv)
    derivation = _within(options.timeout, lambda: function_derivation("diff", options.definition, options.order),
                         f"the derivation takes more than {options.timeout:g} s (--timeout)")
    if options.format == "pdf":
        document = render_document(derivation, options.lang, show_checks=options.show_checks,
                                   notation=options.notation)
        return _document(derivation.name, document, options)
    write_output(render(derivation, options.format or "text", options.lang, notation=options.notation),
                 options.output)
    return 0


def _init_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive init", description="Initialization for any activation: E[f(z)^2], E[f'(z)^2], "
                                                     "Var(W) and the gain, every step verified.")
    parser.add_argument("--act", required=True, help="a catalog activation (relu, leaky-relu[:A], prelu[:A], elu[:A], "
                                                     "tanh, sigmoid, softplus, silu/swish, gelu, linear) or LaTeX "
                                                     "'f(z) = ...'")
    parser.add_argument("--density", default="normal", help="the density of z (normal)")
    parser.add_argument("--var-z", default="1", metavar="V",
                        help="Var(z) at which a moment without a closed form is integrated numerically (default 1)")
    parser.add_argument("--timeout", type=positive_seconds("init.timeout"),
                        default=limits.LIMITS["init.timeout"].default, help="seconds for the derivation (default 120)")
    _format_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    _notation_option(parser, profiles.DEFAULT)
    _show_checks_option(parser)
    return parser


def _init(argv: list[str]) -> int:
    """``derive init --act NAME|'f(z) = ...'``: Var(W) and the gain from E[f(z)^2] (issue 18, part B)."""
    from .catalog.any_init import init_derivation
    options = _init_parser().parse_args(argv)
    derivation = _within(options.timeout, lambda: init_derivation(options.act, options.density, options.var_z),
                         f"--act: the derivation took longer than --timeout {options.timeout:g} s")
    if options.format == "pdf":
        document = render_document(derivation, options.lang, show_checks=options.show_checks,
                                   notation=options.notation)
        stem = options.act.partition(":")[0] if options.act.replace("-", "").replace("_", "").replace(
            ":", "").replace(".", "").isalnum() else "f"
        return _document(f"init-{stem}", document, options)
    write_output(render(derivation, options.format or "text", options.lang, notation=options.notation),
                 options.output)
    return 0


def _simulate_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive simulate",
                     description="Monte Carlo of a deep fully-connected network's variance, forward and backward, "
                                 "against the variance recursion.")
    parser.add_argument("--act", required=True, help="tanh, relu, sigmoid, leaky_relu[:A] (A in [0, 1), "
                                                     "default 0.01) or linear")
    parser.add_argument("--init", required=True, help="xavier, kaiming, lecun, prelu[:A] or normal:S")
    parser.add_argument("--depth", default=30, help="layers (default 30)")
    parser.add_argument("--width", default=512, help="units per layer (default 512)")
    parser.add_argument("--batch", default=1024, help="inputs (default 1024)")
    parser.add_argument("--seed", default=0, help="seed of numpy.random.default_rng (default 0)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="print the layers and ratios as JSON")
    group.add_argument("--pdf", action="store_true", help="write a LaTeX report and its PDF into a folder (default out/)")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="wording: en or zh")
    _notation_option(parser, profiles.DEFAULT)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")
    return parser


def _simulate(argv: list[str]) -> int:
    from .simulate import parse_config, simulate
    from .simulate_view import render_tex, render_text
    from .simulate_view import to_json as simulation_json
    options = _simulate_parser().parse_args(argv)
    config = parse_config(options.act, options.init, options.depth, options.width, options.batch, options.seed)
    profiles.load(options.notation)   # a profile that does not exist is refused before the simulation runs
    result = simulate(config)
    if options.pdf:
        tex = render_tex(result, options.lang, options.notation)
        return _document(f"simulate-{config.act}-{config.init}".replace("_", "-"), tex, options)
    text = simulation_json(result) if options.json else render_text(result, options.lang, options.notation)
    write_output(text, options.output)
    return 0


def _sheet(argv: list[str]) -> int:
    from .sheet import build_sheet
    options = _sheet_parser().parse_args(argv)
    if options.variants is not None or options.seed is not None:
        from .variant_sheets import main

        return main(options)
    from .files import read_toml
    from .variants import refuse_draws

    table = read_toml(options.spec)
    refuse_draws(table, Path(options.spec))  # ranges and choices are drawn per student: --variants
    sheet = build_sheet(table, Path(options.spec), options.template_dir)
    lang = options.lang or sheet.lang or "en"
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    stem = safe_stem(sheet.name)
    layouts = {"handout": stem, "key": f"{stem}-key", "formulas": f"{stem}-formulas"}
    wanted = ["handout"] + (["key"] if options.key else []) + (["formulas"] if options.formulas else [])
    files = {f"{layouts[layout]}.tex": render_sheet(sheet, layout, lang, options.template_dir, options.show_checks,
                                                    options.notation)
             for layout in wanted}
    folder = output_folder(options.output)
    _report(_pdf(files, folder) if options.pdf else publish(files, folder))
    return 0


def _audit(argv: list[str]) -> int:
    """``derive audit CLAIMS.toml``: recompute what a published sheet claims; exit 1 if any claim disagrees."""
    from .audit import audit, read_claims, render_text
    from .audit import to_json as audit_json
    from .check.pool import DEFAULT_TIMEOUT
    parser = _Parser(prog="derive audit", description="Recompute each claim of a published sheet and judge it.")
    parser.add_argument("claims", help="a claims file (TOML), see audits/")
    parser.add_argument("--lang", choices=LANGUAGES, help="wording: en or zh (default: the file's lang)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--timeout", type=positive_seconds("audit.timeout"), default=DEFAULT_TIMEOUT,
                        help="seconds per formula check (default 5)")
    parser.add_argument("--budget", type=positive_seconds("audit.budget", "--budget"),
                        default=limits.LIMITS["audit.budget"].default,
                        help="seconds for the whole file (default 300); claims not judged by then are undecided")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    options = parser.parse_args(argv)
    deadline = limits.Deadline(options.budget)
    claims = read_claims(options.claims, deadline)
    lang = options.lang or claims.lang
    findings = audit(claims, lang, options.timeout, deadline=deadline)
    write_output(audit_json(claims, findings) if options.json else render_text(claims, findings, lang), options.output)
    return 0 if all(f.verdict == "agrees" for f in findings) else 1


def _catalog_files(argv: list[str]) -> tuple[list[str], list[str]]:
    """Take every ``--catalog FILE`` (or ``--catalog=FILE``) out of ``argv``, wherever it stands: a global
    option of every command (a teacher's catalog file, see :mod:`derive.catalog.teacher`)."""
    rest, files, given = [], [], iter(argv)
    for word in given:
        if word == "--catalog":
            files.append(next(given, None))
            if files[-1] is None or files[-1].startswith("--"):
                raise UsageError("--catalog needs a file: --catalog FILE.toml")
        elif word.startswith("--catalog="):
            files.append(word.split("=", 1)[1])
        else:
            rest.append(word)
    return rest, files


def run(argv: list[str]) -> int:
    """Dispatch one command, with the entries of its ``--catalog`` files; raises DeriveError on bad input."""
    from .catalog.teacher import catalogs

    argv, files = _catalog_files(argv)
    with catalogs(files):
        return _dispatch(argv)


def _dispatch(argv: list[str]) -> int:
    """Dispatch one command; raises DeriveError on bad input."""
    if not argv or argv[0] in ("-h", "--help"):
        _derivation_parser().print_help()
        print("\ncommands: list | sheet SPEC.toml | check NAME --target T --answer LATEX | grade FILE.jsonl"
              " | check-steps NAME --file ANSWER.tex"
              " | net NAME|SPEC.toml | backprop SPEC.toml | conv2d | example list|NAME | simulate --act A --init I"
              " | audit CLAIMS.toml | diff 'f(x) = ...' | init --act NAME|'f(z) = ...'"
              " | export SPEC.toml --format moodle|gradescope -o FILE"
              " | serve [--sheet SPEC.toml] [--host H] [--port P] | NAME (a catalog entry)"
              "\nevery command: --catalog FILE.toml (a teacher's own entries; repeatable)")
        return 0 if argv else 2
    if argv[0] == "list":
        options = _list_parser().parse_args(argv[1:])
        write_output(render_list(catalog.entries(), options.format, options.lang), None)
        return 0
    commands = {"sheet": _sheet, "check": _check, "grade": _grade, "net": _net, "backprop": _backprop,
                "conv2d": _conv2d, "example": _example, "simulate": _simulate,
                "check-steps": _check_steps, "audit": _audit, "diff": _diff, "init": _init,
                "export": lambda args: __import__("derive.export", fromlist=["main"]).main(args),
                "serve": lambda args: __import__("derive.web.serve", fromlist=["main"]).main(args)}
    if argv[0] in commands:
        return commands[argv[0]](argv[1:])
    options = _derivation_parser().parse_args(argv)
    derivation = catalog.get(options.name)
    if options.detail == "rules":
        from .catalog.activations import with_rules
        derivation = with_rules(options.name)
    values = parse_params(derivation, options.param)
    if options.template_dir and not Path(options.template_dir).is_dir():
        raise UsageError(f"template folder '{options.template_dir}' does not exist")
    if options.format == "pdf":
        document = render_document(derivation, options.lang, values, options.template_dir,
                                   show_checks=options.show_checks, notation=options.notation)
        return _document(derivation.name, document, options)
    text = render(derivation, options.format or "text", options.lang, values, options.template_dir,
                  notation=options.notation)
    write_output(text, options.output)
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that every ``with`` and ``finally`` cleans up."""


def _stop(number: int, frame) -> None:
    # Once: a second signal must not cut short the cleaning up the first one started.
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise _Terminated() if number == signal.SIGTERM else KeyboardInterrupt()


def _catch_signals() -> dict:
    """Turn SIGINT and SIGTERM into exceptions (unless they are ignored, as under nohup);
    returns the handlers to put back. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for number, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        if signal.getsignal(number) is default:
            previous[number] = signal.signal(number, _stop)
    return previous


def cli(args: list[str] | None = None) -> int:
    """Run the command line with ``args`` (default: ``sys.argv[1:]``); return the exit status.

    Bad input prints one line, ``derive: error: ...``, on standard error and returns 2.
    SIGINT and SIGTERM print one line and return 130 and 143, after every temporary file and
    folder is removed (files being written are left whole or untouched).
    """
    previous = _catch_signals()
    try:
        return run(list(sys.argv[1:] if args is None else args))
    except DeriveError as error:
        print(f"derive: error: {' '.join(str(error).splitlines())}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        terminated = isinstance(stop, _Terminated)
        print(f"derive: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main() -> None:
    """Entry point of the ``derive`` console script."""
    try:
        status = cli()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of our output went away (``derive ... | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    _exit(status)


def _exit(status: int) -> None:
    """End the process with ``status``, without Python's teardown when nothing else runs.

    Freeing every SymPy object one by one at exit takes a fifth of a second, longer than a
    cached command's own work. Every file and temporary folder is closed by then (``with``),
    and the exit handlers (``atexit``: multiprocessing, logging, ``weakref.finalize``) still run;
    with another thread alive, Python exits as usual and waits for it."""
    if threading.active_count() > 1:
        sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
