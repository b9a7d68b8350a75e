r"""check-steps on the course's own derivations (issue 17, "How it is checked"): the seeds'
derivations typed as the sheets write them (tests/seed_derivations/*.tex, one derivation a file),
each with the verdicts the issue demands, next to variants with one planted slip.

The manifest (tests/seed_derivations/manifest.json) gives, per file: the catalog problem it is
checked against; for a sheet's derivation, the kind of each line ("definition": a line that
introduces a quantity, to be accepted and named as a definition; "step": valid, equal, skips or a
definition), no first error and a correct final; for a slip variant (``slip_of``), the line of the
planted slip as the first error and the final where the slip reaches it (``null``: not asserted).
Lines are numbered as the file's lines of mathematics: comment lines (``%``) and environment lines
are not counted. Where the checker splits a file line into several statements (two displays set side
by side with ``\quad``), each report line is traced back to the file line that holds it.

KNOWN_GAPS lists what the checker gets wrong today, one entry a test: ``"<id>"`` for the
verdicts of a file, ``"<id>:definitions"`` for the naming of its definitions, ``"<id>:cli"`` for
the command line on it. Each reason reads "issue 17: <category>: <the construct>" (categories:
reader, reasons, definition, convention, crash, vector, final); the entries are non-strict
expected failures, to be deleted as the fixes land. A planted slip accepted as right is never a
known gap: ``test_a_planted_slip_is_never_accepted`` has no entries.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from hostile import run_table

from derive.check.batch import summarize_steps
from derive.check.steps import check_steps

pytestmark = pytest.mark.slow  # ~42 derivations checked in-process and once more through the CLI

KNOWN_GAPS: dict[str, str] = {
}
#: a sheet's derivation refused in-process exits 1 on the command line for the same reason
KNOWN_GAPS.update({f"{case_id}:cli": f"{reason} (so the command line exits 1)" for case_id, reason in list(KNOWN_GAPS.items())
                   if ":" not in case_id and "--slip-" not in case_id and f"{case_id}:cli" not in KNOWN_GAPS})

FOLDER = Path(__file__).parent / "seed_derivations"
CASES = json.loads((FOLDER / "manifest.json").read_text(encoding="utf-8"))
BY_ID = {case["id"]: case for case in CASES}
SHEETS = [case for case in CASES if "slip_of" not in case]
SLIPS = [case for case in CASES if "slip_of" in case]
#: the verdicts of a line that follows, or that a correct derivation may hold
ACCEPTED = ("valid", "equal", "skips", "definition")


def _param(case: dict, suffix: str = ""):
    key = case["id"] + suffix
    marks = [pytest.mark.xfail(strict=False, reason=KNOWN_GAPS[key])] if key in KNOWN_GAPS else []
    return pytest.param(case, id=case["id"], marks=marks)


def _text(case: dict) -> str:
    return (FOLDER / case["file"]).read_text(encoding="utf-8")


@functools.cache
def _checked(case_id: str) -> dict:
    """One file through check_steps in this process, once; an exception propagates (not cached)."""
    case = BY_ID[case_id]
    return check_steps(_text(case), case["problem"])


def _report(case: dict) -> dict:
    try:
        return _checked(case["id"])
    except Exception as error:
        raise AssertionError(f"check_steps raised {type(error).__name__}: {error}") from error


def _lines(case: dict) -> list[str]:
    """The file's lines of mathematics, as numbered in the manifest."""
    return [line.strip() for line in _text(case).splitlines()
            if line.strip() and not line.lstrip().startswith("%")
            and not re.fullmatch(r"\\(?:begin|end)\{\w+\*?\}", line.strip())]


def _squeeze(latex: str) -> str:
    return re.sub(r"\s+|&|\\\\\s*$", "", latex.strip())


def _file_lines(case: dict, report: dict) -> list[int]:
    """For each line of the report, the number of the file line it was read from (in order; a file
    line the checker splits gives several report lines)."""
    file_lines, numbers, k, start = [_squeeze(line) for line in _lines(case)], [], 0, 0
    for line in report["lines"]:
        text = _squeeze(line["latex"])
        while k < len(file_lines) and text not in file_lines[k][start:]:
            k, start = k + 1, 0
        assert k < len(file_lines), f"report line {line['n']} ({line['latex']!r}) is in no line of {case['file']}"
        start = file_lines[k].index(text, start) + len(text)  # the rest of the line holds the next statement
        numbers.append(k + 1)
    return numbers


def _first_error_line(case: dict, report: dict) -> int | None:
    """The file line of the report's first error."""
    if report["first_error"] is None:
        return None
    return _file_lines(case, report)[[line["n"] for line in report["lines"]].index(report["first_error"])]


def _verdicts(report: dict) -> str:
    return "; ".join(f"{line['n']} {line['verdict']} ({line['feedback'][:90]})" for line in report["lines"])


def test_the_manifest_names_every_file_once_and_counts_its_lines():
    assert sorted(case["file"] for case in CASES) == sorted(p.name for p in FOLDER.glob("*.tex"))
    assert len(BY_ID) == len(CASES)
    for case in SHEETS:
        assert set(case["lines"]) <= {"definition", "step"} and case["first_error"] is None, case["id"]
        assert len(_lines(case)) == len(case["lines"]), case["id"]
        assert case["final"] == "correct" and any(slip["slip_of"] == case["id"] for slip in SLIPS), case["id"]
    for case in SLIPS:
        sheet = BY_ID[case["slip_of"]]
        assert case["problem"] == sheet["problem"] and case["final"] in ("correct", "incorrect", None)
        assert 1 <= case["first_error"] <= len(_lines(case)), case["id"]
        assert _text(case) != _text(sheet)


@pytest.mark.parametrize("case", [_param(case) for case in SHEETS])
def test_a_sheets_derivation_is_judged_correct(case):
    """Every line valid, equal, skips or a definition; no first error; the final result correct."""
    report = _report(case)
    refused = [line["n"] for line in report["lines"] if line["verdict"] not in ACCEPTED]
    assert (refused, report["first_error"], report["final"]["verdict"]) == ([], None, "correct"), _verdicts(report)
    assert summarize_steps(report, "en")["verdict"] == "correct"


@pytest.mark.parametrize("case", [_param(case, ":definitions") for case in SHEETS if "definition" in case["lines"]])
def test_a_line_that_introduces_a_quantity_is_named_a_definition(case):
    report = _report(case)
    where = _file_lines(case, report)
    wanted = {n for n, kind in enumerate(case["lines"], 1) if kind == "definition"}
    assert wanted <= set(where), _verdicts(report)
    named = [(line["n"], line["verdict"]) for line, n in zip(report["lines"], where) if n in wanted]
    assert [verdict for _, verdict in named] == ["definition"] * len(named), _verdicts(report)


@pytest.mark.parametrize("case", [_param(case) for case in SLIPS])
def test_a_planted_slip_is_the_first_error(case):
    report = _report(case)
    assert _first_error_line(case, report) == case["first_error"], f"{case['note']}: {_verdicts(report)}"
    if case["final"] is not None:
        assert report["final"]["verdict"] == case["final"], f"{case['note']}: {_verdicts(report)}"


@pytest.mark.parametrize("case", [pytest.param(case, id=case["id"]) for case in SLIPS])
def test_a_planted_slip_is_never_accepted(case):
    """Zero false accepts: the slip's line is not accepted and the whole is not correct (unreadable
    or undecided is a shortcoming, not a false accept)."""
    report = _report(case)
    slipped = [line["verdict"] for line, n in zip(report["lines"], _file_lines(case, report))
               if n == case["first_error"]]
    assert slipped and not all(verdict in ACCEPTED for verdict in slipped), f"{case['note']}: {_verdicts(report)}"
    assert summarize_steps(report, "en")["verdict"] != "correct"


@pytest.fixture(scope="module")
def cli_runs() -> dict[str, tuple]:
    """Every file through `derive check-steps NAME --file F --json`, in one process."""
    return run_table({case["id"]: ["check-steps", case["problem"], "--file", str(FOLDER / case["file"]), "--json"]
                      for case in CASES}, timeout=1200)


@pytest.mark.parametrize("case", [_param(case, ":cli") for case in CASES])
def test_the_command_line_reports_without_a_traceback_or_an_error(cli_runs, case):
    """Exit 0 or 1 with a JSON report and nothing on standard error; no line reported as an error
    (a crash inside a worker) or as a timeout; a sheet's derivation exits 0."""
    status, out, err = cli_runs[case["id"]]
    assert "Traceback" not in err and err == "" and status in (0, 1), err[-2000:]
    report = json.loads(out)
    failed = [(line["n"], line["verdict"], line["feedback"][:120]) for line in report["lines"]
              if line["verdict"] == "error" or "longer than" in line["feedback"]]
    assert failed == []
    assert status == (1 if "slip_of" in case else 0), _verdicts(report)


@pytest.mark.parametrize("factor", [2, -1])
def test_a_final_result_in_the_students_own_names_is_compared_not_assumed(monkeypatch, factor):
    """Seed 002 Q3 ends at dl_n/dw_ij^(2): the final result is that derivative with the student's
    bindings put back (under one output unit), compared with the last value; a value off by a
    factor, all links as they were, is not right."""
    from derive.check import final as finals

    real = finals.final_result

    def scaled(known, derivation, subject, value, *args):
        return real(known, derivation, subject, value * factor, *args)

    monkeypatch.setattr(finals, "final_result", scaled)
    report = check_steps(_text(BY_ID["002-q3-chain"]), "mlp-backprop")
    assert all(line["verdict"] in ACCEPTED for line in report["lines"]), _verdicts(report)
    assert report["final"] == {"target": r"\frac{\partial \ell_n}{\partial w_{ij}^{(2)}}", "verdict": "incorrect"}
