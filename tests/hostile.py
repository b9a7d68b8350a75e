"""Shared checks for the hostile-input tables (tests/test_hostile_*.py).

Each table row runs the real command line, as a user would, in a subprocess (``run_derive``)
or in-process (``run_cli``), and the row's expectations are asserted with ``assert_refused``
and friends: exit status, exactly one line on standard error, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
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


def default_sigint() -> None:
    """``preexec_fn`` of a child a test stops with SIGINT: the signal's default action, even where the
    test runner ignores SIGINT (a background job of a non-interactive shell), which a child inherits."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


# Specs for the tables (TOML text), each field settable: a network, a backprop problem, a sheet.
def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


def net_spec(name: str = "tiny", title: str = "Tiny", layer: str = "conv1") -> str:
    """A one-layer network spec."""
    return (f"name = {toml_string(name)}\ntitle = {toml_string(title)}\ninput = [8, 8, 1]\n"
            f"[[layer]]\ntype = \"conv\"\nname = {toml_string(layer)}\nout = 2\nkernel = 3\npadding = 1\n")


def backprop_spec(name: str = "bp", title: str = "BP", input: str = "x2", param: str = "w2",
                  node: str = "unused") -> str:
    """y = w1 x1, E = (y - 1)^2/2, with one more input, parameter and node under the given names."""
    return (f"name = {toml_string(name)}\ntitle = {toml_string(title)}\nloss = \"E\"\nlearning_rate = 1\n"
            f"[inputs]\nx1 = 0.5\n{toml_string(input)} = 1\n[params]\nw1 = 0.25\n{toml_string(param)} = 1\n"
            f"[nodes]\ny = \"w1*x1\"\nE = \"(y - 1)^2/2\"\n{toml_string(node)} = \"x1\"\n")


def sheet_spec(title: str = "Sheet", course: str = "Course", date: str = "May", statement: str = "Find it.",
               extra: str = "") -> str:
    """A one-problem sheet (mse), plus ``extra`` problems."""
    return (f"title = {toml_string(title)}\ncourse = {toml_string(course)}\ndate = {toml_string(date)}\n"
            f"lang = \"en\"\n[[problem]]\nentry = \"mse\"\nstatement = {toml_string(statement)}\n{extra}")


def write(path: Path, text: str) -> str:
    """Write ``text`` to ``path`` (UTF-8); returns the path as a string, for a command line."""
    path.write_text(text, encoding="utf-8")
    return str(path)


_TABLE_RUNNER = """
import contextlib, io, json, sys, traceback
from derive.cli import cli
rows, results = json.load(sys.stdin), {}
for key, args in rows.items():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli(args)
        except BaseException:  # noqa: BLE001 - a row's traceback is its failure, not the table's
            status, _ = -1, err.write(traceback.format_exc())
    results[key] = [status, out.getvalue(), err.getvalue()]
json.dump(results, sys.__stdout__)
"""


def run_table(rows: dict[str, list[str]], timeout: float = 300, cwd: str | Path | None = None) -> dict[str, tuple]:
    """Run many command lines in ONE fresh process under one time limit: ``{row: (status, stdout,
    stderr)}``. Each row runs as ``derive.cli.cli(args)`` would (a traceback is recorded as its
    stderr, status -1); a row that hangs fails the whole table with TimeoutExpired instead of
    hanging the test run, and the table pays for starting Python and SymPy once."""
    done = subprocess.run([sys.executable, "-c", _TABLE_RUNNER], input=json.dumps(rows).encode(),
                          capture_output=True, cwd=cwd or ROOT, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(done.stderr.decode("utf-8", "replace")[-3000:])
    return {key: tuple(value) for key, value in json.loads(done.stdout).items()}


def assert_display_is_computed(shown, computed, ranges: dict[str, tuple[float, float]], seed: str,
                               points: int = 5) -> None:
    """A display form and the expression it stands for are the same: their difference simplifies
    to 0, and they agree, evaluated with Python floats and ``math`` (lambdify), at ``points`` random
    points (each symbol drawn from ``ranges`` by name, else from (0.1, 5))."""
    import math
    import random

    import sympy as sp

    assert sp.simplify(shown.doit() - computed) == 0, (shown, computed)
    rng = random.Random(seed)
    symbols = sorted(shown.free_symbols | computed.free_symbols, key=str)
    first, second = (sp.lambdify(symbols, expr.doit(), modules="math") for expr in (shown, computed))
    for _ in range(points):
        point = [rng.uniform(*ranges.get(s.name, (0.1, 5.0))) for s in symbols]
        a, b = float(first(*point)), float(second(*point))
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), (shown, dict(zip(symbols, point)), a, b)


def assert_each_step_moves_on(name: str) -> None:
    """No line of the catalog entry ``name`` repeats the one before it (as printed), and no two
    substitutions follow each other (never a bare 代入 twice in a row)."""
    from itertools import pairwise

    import derive
    from derive.printing import NotationLatexPrinter

    derivation = derive.get(name)
    printed = NotationLatexPrinter(derivation.quantities).doprint
    for before, after in pairwise(derivation.steps):
        if after.kind == "equals":
            assert printed(after.display) != printed(before.display), (name, after.rule)
        assert not (before.rule == after.rule and after.rule.startswith("substitute")), (name, after.rule)
