"""Shared checks for the hostile-input tables (tests/test_hostile_*.py).

Each table row runs the real command line, as a user would, in a subprocess (``run_derive``)
or in-process (``run_cli``), and the row's expectations are asserted with ``assert_refused``
and friends: exit status, exactly one line on standard error, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from derive.cli import cli

ROOT = Path(__file__).resolve().parent.parent
#: Strings that must never reach a .tex file raw, whatever field carried them.
TEX_ATTACKS = (
    r"\input{/etc/hostname}",
    r"\immediate\write18{touch /tmp/derive-pwned}",
    r"\write18{touch /tmp/derive-pwned}",
    r"\catcode`\@=11",
    r"^^5cinput{/etc/hostname}",
    "a\n\\input{/etc/hostname}",
)


def run_derive(*args: str, stdin: str | bytes | None = None, cwd: str | Path | None = None,
               timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m derive ARGS`` in a fresh process; output as text (bytes in, text out)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run([sys.executable, "-m", "derive", *args], input=data, capture_output=True,
                          cwd=cwd or ROOT, timeout=timeout, env={**os.environ, **(env or {})})
    done.stdout = done.stdout.decode("utf-8", "replace")
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """The command line in this process: (status, stdout, stderr)."""
    status = cli(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status: int, err: str, expected_status: int = 2, mentions: str | None = None) -> None:
    """A refusal as the project promises it: the status, one line ``derive: error: ...``, no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == expected_status, (status, err)
    assert len(lines) == 1 and lines[0].startswith("derive: "), err
    if mentions is not None:
        assert mentions in lines[0], lines[0]


def assert_no_raw_tex(tex: str) -> None:
    """None of the attack strings' commands appears unescaped in a generated .tex."""
    for command in (r"\input{/etc", r"\write18", r"\immediate", r"\catcode", "^^5c"):
        assert command not in tex, command


def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` with its mode and content: to show that nothing changed."""
    return {str(p.relative_to(folder)): (p.lstat().st_mode, p.read_bytes() if p.is_file() else b"")
            for p in sorted(folder.rglob("*"))}
