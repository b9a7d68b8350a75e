"""Building PDFs: xelatex in a temporary folder, never with shell escape; run again only while
the log asks for it (a longtable's widths, a label), as latexmk would, but without its second run
of every document whose first run made its .aux file.

Only the finished PDF (or, on an error, the log) leaves the temporary folder. A TeX error
becomes one line naming the problem and the template that wrote the failing line, and the log
is kept for reading.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .errors import DeriveError, UsageError
from .files import publish

TEX_PACKAGES = ("texlive-xetex texlive-lang-chinese texlive-latex-recommended texlive-latex-extra "
                "texlive-pictures fonts-noto-cjk")
INSTALL_HINT = f"apt-get update && apt-get install -y {TEX_PACKAGES}"
TIMEOUT = 300
JOB = "document"  # the job's name in the temporary folder, whatever the output is called
MAX_RUNS = 4
_RERUN = re.compile(r"Rerun (?:LaTeX|to get)|Label\(s\) may have changed|Table widths have changed")
_TEMPLATE_MARK = re.compile(r"^% template: (\S+)")


class TexMissingError(DeriveError):
    """No TeX on this machine: the .tex was written, the PDF was not."""

    exit_code = 1


class TexError(DeriveError):
    """TeX stopped with an error; the message names it and the template it came from."""

    exit_code = 1


def tex_available() -> bool:
    """Whether xelatex is on the PATH."""
    return shutil.which("xelatex") is not None


def template_of_line(tex: str, line: int) -> str:
    """The template that wrote line ``line`` of a generated .tex (its last ``% template:`` mark)."""
    found = "?"
    for number, text in enumerate(tex.splitlines(), 1):
        if number > line:
            break
        mark = _TEMPLATE_MARK.match(text)
        if mark:
            found = mark.group(1)
    return found


def _first_error(log: str) -> tuple[str, int | None]:
    """The first TeX error message of a log and its line number, if the log names one."""
    match = re.search(r"^(?:\S*?:(\d+): |! )(.+)$", log, flags=re.M)
    if not match:
        return "TeX stopped without an error message", None
    line = int(match.group(1)) if match.group(1) else None
    if line is None:
        at = re.search(r"^l\.(\d+)", log[match.end():], flags=re.M)
        line = int(at.group(1)) if at else None
    return match.group(2).strip(), line


def build_pdf(tex: str, stem: str, folder: Path, keep_log: bool = False) -> Path:
    """Compile ``tex`` as ``folder/stem.pdf`` (and keep ``folder/stem.log`` too if ``keep_log``).

    TeX runs in a temporary folder (``derive-tex-*``) as the job ``document``, in a process
    group of its own: whatever stops the build (an error, the time limit, Ctrl-C, SIGTERM
    raised as an exception by the command line) kills the whole group and removes the folder.

    Raises:
        TexMissingError: no TeX installed (the caller has written the .tex).
        TexError: TeX failed; ``folder/stem.log`` keeps the log.
    """
    if not tex_available():
        raise TexMissingError(f"no TeX found, so {folder / stem}.tex was written but no PDF; "
                              f"install TeX with: {INSTALL_HINT}")
    try:
        return _build(tex, stem, folder, keep_log)
    except OSError as error:  # the temporary folder or TeX itself
        raise UsageError(f"cannot build {stem}.pdf: {error.strerror or error}" +
                         (f" ({error.filename})" if error.filename else "")) from None


def _build(tex: str, stem: str, folder: Path, keep_log: bool) -> Path:
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as work:
        source = Path(work) / f"{JOB}.tex"
        source.write_text(tex, encoding="utf-8")
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        command = ["xelatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                   "-file-line-error", f"{JOB}.tex"]
        for _ in range(MAX_RUNS):
            returncode, output = _run_group(command, work, environment)
            log_path = Path(work) / f"{JOB}.log"
            if returncode != 0 or not log_path.exists() or not _RERUN.search(
                    log_path.read_text(encoding="utf-8", errors="replace")):
                break
        if returncode is None:
            raise TexError(f"TeX did not finish {stem}.tex within {TIMEOUT} s")
        pdf = Path(work) / f"{JOB}.pdf"
        if returncode != 0 or not pdf.exists():
            log_path = Path(work) / f"{JOB}.log"
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else output
            (kept,) = publish({f"{stem}.log": log}, folder)
            message, line = _first_error(log)
            where = f" (line {line}, from template {template_of_line(tex, line)})" if line else ""
            raise TexError(f"TeX failed on {stem}.tex: {message}{where}; log kept at {kept}")
        if keep_log:
            publish({f"{stem}.log": (Path(work) / f"{JOB}.log").read_text(encoding="utf-8", errors="replace")},
                    folder)
        (target,) = publish({f"{stem}.pdf": pdf.read_bytes()}, folder)
        return target


def _run_group(command: list[str], folder: str, environment: dict) -> tuple[int | None, str]:
    """Run ``command`` in a new process group; (exit status, output), status None after TIMEOUT.
    On any way out but a normal end, the whole group (xelatex and what it started) is killed."""
    process = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", env=environment,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return None, ""
    except BaseException:
        _kill_group(process)
        raise
    return process.returncode, output


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
