"""What the commands share: the parser whose errors are one line, the option types
(``--timeout``, ``--jobs``, ``--seed``), the options many commands have (formats, ``--notation``,
``--show-checks``), and writing the output (standard output, a file, .tex and PDFs)."""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
import threading
from pathlib import Path

from .. import limits
from ..errors import UsageError
from ..files import output_folder, publish, safe_stem, write_atomic
from ..pdf import build_pdf
from ..render import FORMATS, LANGUAGES
from . import PROG


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line UsageErrors, not usage dumps; its epilog
    (the examples) is printed as written."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise UsageError(message)


def command_parser(name: str, description: str, *examples: str) -> Parser:
    """The parser of ``python -m derive NAME``, its epilog the ``examples`` (command lines after
    ``python -m derive ``; a line starting with a space is shown as written). The description is
    wrapped, each of its lines a paragraph; the epilog is printed as written."""
    lines = [line[1:] if line.startswith(" ") else f"{PROG} {line}" for line in examples]
    description = "\n".join(textwrap.fill(paragraph, 79) for paragraph in description.split("\n"))
    epilog = ("example:" if len(examples) == 1 else "examples:") + "".join(f"\n  {line}" for line in lines)
    epilog += "\n\nevery command also takes --catalog FILE.toml: a teacher's own entries (repeatable)"
    return Parser(prog=f"{PROG} {name}".rstrip(), description=description, epilog=epilog)


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


def whole(text: str) -> int:
    """An argparse type for ``--seed``: a whole number from 0 to 2^63 - 1."""
    if not text.isdigit() or len(text) > 19 or int(text) >= 2**63:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number from 0 to 2^63 - 1")
    return int(text)


def format_options(parser: argparse.ArgumentParser) -> None:
    """--text, --latex, --md, --json, --pdf (one of them) and --lang."""
    group = parser.add_mutually_exclusive_group()
    for fmt in FORMATS:
        flag = "--md" if fmt == "md" else f"--{fmt}"
        group.add_argument(flag, dest="format", action="store_const", const=fmt,
                           help=f"print as {fmt}")
    group.add_argument("--pdf", dest="format", action="store_const", const="pdf",
                       help="write NAME-LANG.tex and NAME-LANG.pdf into a folder (default out/)")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="wording: en or zh")


def output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (with --pdf: a folder, default out/)")


def notation_option(parser: argparse.ArgumentParser, default: str | None, template_dir: bool = True) -> None:
    """``--notation PROFILE``; ``template_dir``: the command also takes ``--template-dir`` (whose profiles count)."""
    parser.add_argument("--notation", metavar="PROFILE", default=default,
                        help="how quantities are written: course (M_{l-1}, default) or textbook (n_in)"
                             + (", or a profile of --template-dir" if template_dir else "")
                             + ("" if default else "; wins over the spec's"))


def show_checks_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--show-checks", action="store_true",
                        help="print how each step was verified in the PDF (always kept as %% comments in the .tex)")


def write_output(text: str, output: str | None) -> None:
    """Print, or write to a file whole (a failed write never leaves half a file; see
    :func:`derive.files.write_atomic` for links, devices and modes)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_atomic(output, text)


def pdf_files(files: dict[str, str], folder: Path) -> list[Path]:
    """Write the .tex files, then build each as a PDF; returns every path written."""
    written = publish(files, folder)
    for name, tex in files.items():
        written.append(build_pdf(tex, Path(name).stem, folder))
    return written


def document(name: str, tex: str, options) -> int:
    """``--pdf``: NAME-LANG.tex and .pdf in the ``-o`` folder (default out/); NAME is made a
    plain file name first (a spec's ``name = "../x"`` stays in the folder)."""
    folder = output_folder("out" if options.output is None else options.output)
    report(pdf_files({f"{safe_stem(name)}-{options.lang}.tex": tex}, folder))
    return 0


def report(paths: list[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


def read_input(name: str, limit: str = "check-steps.bytes", raw: bool = False) -> str | bytes:
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


class _Expired(BaseException):
    """The time of ``--timeout`` is up (a BaseException: no ``except Exception`` inside SymPy swallows it)."""


def within(seconds: float, work, message: str):
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
