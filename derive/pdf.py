"""Building PDFs: latexmk with xelatex in a temporary folder, never with shell escape.

Only the finished PDF leaves the temporary folder. A TeX error becomes one line naming the
problem and the template that wrote the failing line, and the log is kept for reading.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .errors import DeriveError

TEX_PACKAGES = ("texlive-xetex texlive-lang-chinese texlive-latex-recommended texlive-latex-extra "
                "texlive-pictures latexmk fonts-noto-cjk")
INSTALL_HINT = f"apt-get update && apt-get install -y {TEX_PACKAGES}"
TIMEOUT = 300
_TEMPLATE_MARK = re.compile(r"^% template: (\S+)")


class TexMissingError(DeriveError):
    """No TeX on this machine: the .tex was written, the PDF was not."""

    exit_code = 1


class TexError(DeriveError):
    """TeX stopped with an error; the message names it and the template it came from."""

    exit_code = 1


def tex_available() -> bool:
    """Whether latexmk and xelatex are on the PATH."""
    return all(shutil.which(tool) for tool in ("latexmk", "xelatex"))


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


def build_pdf(tex: str, stem: str, folder: Path) -> Path:
    """Compile ``tex`` as ``folder/stem.pdf``.

    Raises:
        TexMissingError: no TeX installed (the caller has written the .tex).
        TexError: TeX failed; ``folder/stem.log`` keeps the log.
    """
    if not tex_available():
        raise TexMissingError(f"no TeX found, so {folder / stem}.tex was written but no PDF; "
                              f"install TeX with: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as work:
        source = Path(work) / f"{stem}.tex"
        source.write_text(tex, encoding="utf-8")
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        command = ["latexmk", "-xelatex", "-no-shell-escape", "-interaction=nonstopmode",
                   "-halt-on-error", "-file-line-error", f"{stem}.tex"]
        try:
            done = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                  timeout=TIMEOUT, env=environment, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TexError(f"TeX did not finish {stem}.tex within {TIMEOUT} s") from None
        pdf = Path(work) / f"{stem}.pdf"
        if done.returncode != 0 or not pdf.exists():
            log_path = Path(work) / f"{stem}.log"
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else done.stdout
            kept = folder / f"{stem}.log"
            kept.write_text(log, encoding="utf-8")
            message, line = _first_error(log)
            where = f" (line {line}, from template {template_of_line(tex, line)})" if line else ""
            raise TexError(f"TeX failed on {stem}.tex: {message}{where}; log kept at {kept}")
        target, partial = folder / f"{stem}.pdf", folder / f".{stem}.pdf.part"
        shutil.copyfile(pdf, partial)
        os.replace(partial, target)
        return target
