"""check-steps: a corpus of derivations written as students write them, each with the expected
first wrong line and final verdict; focused verdicts and rules; the CLI's JSON, exit statuses,
standard input, Chinese feedback, hostile input, and whole derivations in `derive grade`.

The corpus (`steps_corpus.jsonl`, one derivation a line) holds correct derivations in the
course's notations and orders, and derivations with one planted slip at a known line (lines
are numbered as the checker numbers them: the non-empty lines, environment lines not
counted). A case the checker gets wrong carries `"xfail"`: the checker's shortcoming, kept as
an expected failure (strict, so a fix shows up) instead of a weakened expectation.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from derive.check.batch import summarize_steps
from derive.check.steps import check_steps
from derive.cli import cli

CORPUS_FILE = Path(__file__).parent / "steps_corpus.jsonl"
CORPUS = [json.loads(line) for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
BY_ID = {case["id"]: case for case in CORPUS}
KEYS = {"id", "problem", "steps", "first_error", "final", "note"}


def _param(case: dict):
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
    return pytest.param(case, id=case["id"], marks=marks)


ALL = [_param(case) for case in CORPUS]
#: every case that must not come out all-correct: a planted slip, or a final that is not the target
NOT_ALL_CORRECT = [pytest.param(case, id=case["id"]) for case in CORPUS
                   if case["first_error"] is not None or case["final"] != "correct"]


@functools.lru_cache(maxsize=None)
def _checked(case_id: str) -> dict:
    """One corpus case through check_steps, in this process, once (the file is grouped by problem, so
    each entry is derived once); an exception propagates and is not cached."""
    case = BY_ID[case_id]
    return check_steps("\n".join(case["steps"]), case["problem"])


def _report(case: dict) -> dict:
    try:
        return _checked(case["id"])
    except Exception as error:  # noqa: BLE001 - reported as the failure of the case
        raise AssertionError(f"check_steps raised {type(error).__name__}: {error}") from error


def _verdicts(report: dict) -> str:
    return "; ".join(f"{line['n']} {line['verdict']}" for line in report["lines"])


# -- the corpus ------------------------------------------------------------------------------

def test_corpus_is_well_formed():
    assert len(CORPUS) == len(BY_ID) >= 80
    for case in CORPUS:
        assert KEYS <= set(case) <= KEYS | {"xfail"}, case["id"]
        assert case["final"] in ("correct", "incorrect", "no_target") and case["note"]
        assert all(isinstance(step, str) and step.strip() for step in case["steps"])
        numbered = [s for s in case["steps"] if s.strip() not in (r"\begin{align*}", r"\end{align*}")]
        assert case["first_error"] is None or 1 <= case["first_error"] <= len(numbered), case["id"]
    problems = Counter(case["problem"] for case in CORPUS)
    slips = Counter(case["problem"] for case in CORPUS if case["first_error"] is not None)
    for problem in ("sigmoid", "tanh", "softplus", "silu", "log-softmax", "softmax", "softmax-ce", "mse", "bce",
                    "bce-sigmoid", "xavier", "lecun", "kaiming", "prelu-init"):
        assert problems[problem] >= 3 and slips[problem] >= 1, problem
    assert sum(1 for case in CORPUS if case["first_error"] is not None) >= 35


@pytest.mark.parametrize("case", ALL)
def test_corpus_first_error_and_final(case):
    report = _report(case)
    got = (report["first_error"], report["final"]["verdict"])
    assert got == (case["first_error"], case["final"]), f"{case['note']}: {_verdicts(report)}"


@pytest.mark.parametrize("case", NOT_ALL_CORRECT)
def test_a_planted_slip_is_never_reported_all_correct(case):
    try:
        report = _checked(case["id"])
    except Exception as error:  # noqa: BLE001 - a crash is no false 'correct'; the case's own test fails on it
        pytest.xfail(f"check_steps raised {type(error).__name__}: {error}")
    assert summarize_steps(report, "en")["verdict"] != "correct", _verdicts(report)
    if case["first_error"] is not None:
        assert report["first_error"] is not None or any(line["verdict"] == "unreadable" for line in report["lines"])


# The reference's own derivations, as derive prints them (--latex, --md, both languages and profiles),
# are checked in tests/test_round_trip.py.


# -- verdicts and rules on small cases -------------------------------------------------------

XAVIER_FORWARD = [  # seed 001 section 3.1, as the course writes it
    r"\operatorname{Var}(z_i^{(l)}) = \sum_{j=1}^{M_{l-1}} \operatorname{Var}(W_{ij}^{(l)} a_j^{(l-1)})",
    r"\operatorname{Var}(W_{ij}^{(l)} a_j^{(l-1)}) = \operatorname{Var}(W_{ij}^{(l)}) \operatorname{Var}(a_j^{(l-1)})"
    r" + \operatorname{Var}(W_{ij}^{(l)}) \mathbb{E}[a_j^{(l-1)}]^2 + \operatorname{Var}(a_j^{(l-1)}) \mathbb{E}[W_{ij}^{(l)}]^2",
    r"= \operatorname{Var}(W_{ij}^{(l)}) \operatorname{Var}(a_j^{(l-1)})",
    r"\operatorname{Var}(z_i^{(l)}) = \operatorname{Var}(a_j^{(l-1)})",
    r"\Rightarrow \sum_{j=1}^{M_{l-1}} \operatorname{Var}(W_{ij}^{(l)}) \operatorname{Var}(a_j^{(l-1)}) = \operatorname{Var}(a_j^{(l-1)})",
    r"\Rightarrow M_{l-1} \operatorname{Var}(W_{ij}^{(l)}) \operatorname{Var}(a_j^{(l-1)}) = \operatorname{Var}(a_j^{(l-1)})",
    r"\Rightarrow \operatorname{Var}(W_{ij}^{(l)}) = \frac{1}{M_{l-1}}",
]
SIGMOID_SLIP = [
    r"\sigma'(x) = \frac{d}{dx}\left(\frac{1}{1+e^{-x}}\right)",
    r"= \frac{-e^{-x}}{(1+e^{-x})^2}",
    r"= -\sigma(x)(1-\sigma(x))",
]


def test_every_link_of_the_forward_condition_is_named_by_its_rule():
    report = check_steps("\n".join(XAVIER_FORWARD), "xavier")
    assert [line["verdict"] for line in report["lines"]] == ["valid"] * 7
    assert [line["rule"] for line in report["lines"]] == [
        "variance-of-independent-sum", "independence-variance", "zero-means", "forward-condition-linear",
        "rearrange", "rearrange", "solve"]
    assert report["final"] == {"target": "forward_var", "verdict": "correct"} and report["first_error"] is None


def test_a_solve_step_after_rightarrow_is_valid_by_the_rule_solve():
    report = check_steps("\n".join([r"\frac{r^2}{3} = \frac{2}{n_{in}+n_{out}}",
                                    r"\Rightarrow r = \sqrt{\frac{6}{n_{in}+n_{out}}}"]), "xavier")
    assert (report["lines"][1]["verdict"], report["lines"][1]["rule"]) == ("valid", "solve")
    assert report["final"] == {"target": "uniform_bound", "verdict": "correct"}


def test_a_one_line_jump_over_more_than_two_steps_skips():
    report = check_steps(r"\sigma''(x) = \sigma(x)(1-\sigma(x))(1-2\sigma(x))", "sigmoid")
    line = report["lines"][0]
    assert line["verdict"] == "skips" and line["rule"] is not None
    assert "skips several steps" in line["feedback"]
    assert report["first_error"] is None and report["final"] == {"target": "d2", "verdict": "correct"}
    assert summarize_steps(report, "en")["verdict"] == "correct"        # flagged, not failed


def test_two_steps_at_once_are_still_valid():
    report = check_steps(r"\sigma'(x) = \frac{d}{dx}\left(\frac{1}{1+e^{-x}}\right) = \sigma(x)(1-\sigma(x))",
                         "sigmoid")
    assert report["lines"][0]["verdict"] == "valid"


def test_a_wrong_line_gives_a_point_where_the_two_sides_differ():
    line = check_steps("\n".join(SIGMOID_SLIP), "sigmoid")["lines"][1]
    assert line["verdict"] == "wrong" and line["rule"] is None
    assert "At x = " in line["feedback"] and "the line before is" in line["feedback"]


def test_after_the_first_error_lines_are_judged_against_what_the_student_wrote():
    report = check_steps("\n".join(SIGMOID_SLIP), "sigmoid")
    assert report["first_error"] == 2
    carried = report["lines"][2]
    assert carried["verdict"] == "equal"                               # -sigma(1 - sigma) follows from line 2
    assert "error carried forward" in carried["feedback"]
    assert report["final"] == {"target": "d1", "verdict": "incorrect"}
    # the right result after a wrong line does not follow from that line
    fixed = check_steps("\n".join([*SIGMOID_SLIP[:2], r"= \sigma(x)(1-\sigma(x))"]), "sigmoid")
    assert fixed["lines"][2]["verdict"] == "wrong" and fixed["first_error"] == 2
    assert fixed["final"]["verdict"] == "correct"


def test_a_bare_statement_starts_and_a_continuation_follows_it():
    report = check_steps("\n".join([r"\sigma'(x)", r"= \frac{e^{-x}}{(1+e^{-x})^2}"]), "sigmoid")
    assert [line["verdict"] for line in report["lines"]][0] == "start"
    assert report["lines"][1]["verdict"] in ("valid", "skips")


def test_an_unreadable_line_is_reported_and_the_others_still_judged():
    report = check_steps("\n".join([SIGMOID_SLIP[0], r"= \foo{x}", r"= \frac{e^{-x}}{(1+e^{-x})^2}"]), "sigmoid")
    verdicts = [line["verdict"] for line in report["lines"]]
    # the line after an unreadable one is not judged against a line before it
    assert verdicts == ["valid", "unreadable", "start"] and "could not be read" in report["lines"][2]["feedback"]
    assert "\\foo" in report["lines"][1]["feedback"]
    assert summarize_steps(report, "en")["verdict"] == "incorrect"


def test_environments_comments_and_align_marks_are_not_lines():
    report = check_steps("\n".join([r"\begin{align*}", r"\sigma'(x) &= \sigma(x)(1-\sigma(x)) \quad \text{(chain rule)} \\",
                                    r"\end{align*}"]), "sigmoid")
    assert [line["n"] for line in report["lines"]] == [1]
    assert report["lines"][0]["verdict"] in ("valid", "skips")


# -- the command line ------------------------------------------------------------------------

def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = cli(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_json_contract_and_exit_0(capsys, tmp_path):
    answer = tmp_path / "a.tex"
    answer.write_text("\\begin{align*}\n" + " \\\\\n".join(XAVIER_FORWARD) + "\n\\end{align*}\n", encoding="utf-8")
    status, out, _ = _run(capsys, "check-steps", "xavier", "--file", str(answer), "--json")
    report = json.loads(out)
    assert status == 0
    assert set(report) == {"problem", "lines", "final", "first_error"}
    assert report["problem"] == "xavier" and report["first_error"] is None
    assert set(report["final"]) == {"target", "verdict"} and report["final"]["verdict"] == "correct"
    assert len(report["lines"]) == 7
    for n, line in enumerate(report["lines"], 1):
        assert set(line) == {"n", "latex", "parsed", "verdict", "rule", "feedback", "reason"} and line["n"] == n
        assert line["verdict"] in ("start", "equal", "valid", "skips", "wrong", "unreadable")
        assert line["reason"] == ""  # the lines give no reason of their own
    assert report["lines"][0]["latex"] == XAVIER_FORWARD[0]


@pytest.mark.parametrize(("written", "reason"), [
    (r"= \sigma(x) - \sigma(x)^2 \tag{expand}", "expand"),
    (r"= \sigma(x) - \sigma(x)^2 % multiply out", "multiply out"),
    (r"= \sigma(x) - \sigma(x)^2 \quad \text{(multiply out)}", "multiply out"),
    (r"= \sigma(x) - \sigma(x)^2", ""),
])
def test_json_gives_each_lines_reason_as_plain_text(capsys, tmp_path, written, reason):
    answer = tmp_path / "a.tex"
    answer.write_text("\n".join([r"\sigma'(x) = \sigma(x)(1-\sigma(x))", written]), encoding="utf-8")
    _status, out, _ = _run(capsys, "check-steps", "sigmoid", "--file", str(answer), "--json")
    lines = json.loads(out)["lines"]
    assert [line["reason"] for line in lines] == ["", reason], lines
    assert lines[1]["verdict"] in ("equal", "valid", "skips") and "\\" not in lines[1]["reason"]


def test_exit_1_for_a_wrong_line_and_for_a_wrong_final(capsys, tmp_path):
    slip = tmp_path / "slip.tex"
    slip.write_text("\n".join(SIGMOID_SLIP), encoding="utf-8")
    status, out, _ = _run(capsys, "check-steps", "sigmoid", "--file", str(slip), "--json")
    assert status == 1 and json.loads(out)["first_error"] == 2
    unfinished = tmp_path / "unfinished.tex"
    unfinished.write_text("\n".join(BY_ID["xavier-ends-at-recursion"]["steps"]), encoding="utf-8")
    status, out, _ = _run(capsys, "check-steps", "xavier", "--file", str(unfinished), "--json")
    report = json.loads(out)
    assert status == 1 and report["first_error"] is None and report["final"]["verdict"] == "no_target"


def test_text_report_names_the_first_error(capsys, tmp_path):
    slip = tmp_path / "slip.tex"
    slip.write_text("\n".join(SIGMOID_SLIP), encoding="utf-8")
    status, out, _ = _run(capsys, "check-steps", "sigmoid", "--file", str(slip))
    assert status == 1
    assert "  2. wrong" in out and "line 2" in out and "final: The final result is not right (d1)." in out


def test_chinese_feedback(capsys, tmp_path):
    slip = tmp_path / "slip.tex"
    slip.write_text("\n".join(SIGMOID_SLIP), encoding="utf-8")
    status, out, _ = _run(capsys, "check-steps", "sigmoid", "--file", str(slip), "--lang", "zh", "--json")
    report = json.loads(out)
    assert status == 1
    assert report["lines"][0]["feedback"].startswith("成立")
    assert report["lines"][1]["feedback"].startswith("不能由上一行得到")
    assert "错误后延续" in report["lines"][2]["feedback"]


@pytest.mark.parametrize("args", [("--file", "-"), ()], ids=["file-dash", "no-file"])
def test_standard_input(capsys, monkeypatch, args):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(SIGMOID_SLIP[:1] + [r"= \frac{e^{-x}}{(1+e^{-x})^2}"])))
    status, out, _ = _run(capsys, "check-steps", "sigmoid", *args, "--json")
    report = json.loads(out)
    assert status == 0 and [line["verdict"] for line in report["lines"]] == ["valid", "valid"]


@pytest.mark.parametrize("args, message", [
    (("check-steps", "xavir", "--file", "-"), "unknown derivation 'xavir'; did you mean 'xavier'?"),
    (("check-steps", "sigmoid", "--file", "/nonexistent/answer.tex"), "cannot read '/nonexistent/answer.tex'"),
    (("check-steps", "sigmoid", "--file", "EMPTY"), "the derivation has no lines"),
    (("check-steps", "sigmoid", "--file", "ENVIRONMENT"), "the derivation has no lines"),
    (("check-steps", "sigmoid", "--file", "LONG"), "lines in the derivation: 200; at most 60 (limit check-steps.lines)"),
], ids=["unknown-entry", "missing-file", "empty", "only-an-environment", "200-lines"])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, message):
    files = {"EMPTY": "", "ENVIRONMENT": "\\begin{align*}\n\\end{align*}\n",
             "LONG": "\n".join([r"\sigma'(x) = \sigma(x)(1-\sigma(x))"] * 200)}
    paths = []
    for arg in args:
        if arg in files:
            (tmp_path / arg).write_text(files[arg], encoding="utf-8")
            arg = str(tmp_path / arg)
        paths.append(arg)
    status, out, err = _run(capsys, *paths)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("derive: error: ") and message in err


HOSTILE = {
    "input": (r"\input{/etc/passwd}", None),
    "write18": (r"\write18{ls}", None),
    "power-tower": (r"9^{9^{9^{9}}}", None),
    "10000-braces": ("{" * 10_000, None),
    "200-lines": ("\n".join([r"\sigma'(x) = 9^{9^{9^{9}}}"] * 200), None),
    "after-a-good-line": ("\\sigma'(x) = \\sigma(x)(1-\\sigma(x))\n= \\input{/etc/passwd}\n= \\write18{ls}", None),
    "control-character": ("\\sigma'(x) = \\sigma(x)\u202e(1-\\sigma(x))\n= \\sigma(x) - \\sigma(x)^2", None),
}


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """Every hostile input through `python -m derive check-steps sigmoid`, as processes run at once."""
    folder = tmp_path_factory.mktemp("hostile")
    started = {}
    for name, (text, _) in HOSTILE.items():
        path = folder / f"{name}.tex"
        path.write_text(text, encoding="utf-8")
        started[name] = (time.perf_counter(), subprocess.Popen(
            [sys.executable, "-m", "derive", "check-steps", "sigmoid", "--file", str(path), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent))
    runs = {}
    for name, (start, process) in started.items():
        try:
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        runs[name] = (process.returncode, out, err, time.perf_counter() - start)
    return runs


@pytest.mark.parametrize("name", [pytest.param(name, marks=[pytest.mark.xfail(reason=reason, strict=True)] if reason
                                               else []) for name, (_, reason) in HOSTILE.items()])
def test_hostile_input_is_refused_or_unreadable_never_a_traceback_or_a_hang(hostile_runs, name):
    status, out, err, seconds = hostile_runs[name]
    assert seconds < 60 and "Traceback" not in err
    assert status in (1, 2)
    if status == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith("derive: error: ")
    else:
        report = json.loads(out)
        assert err == ""
        assert any(line["verdict"] in ("unreadable", "wrong") for line in report["lines"])
        assert summarize_steps(report, "en")["verdict"] != "correct"


def test_grade_checks_whole_derivations_line_by_line(capsys, tmp_path):
    requests = tmp_path / "class.jsonl"
    requests.write_text("\n".join(json.dumps(r) for r in [
        {"id": "s1", "problem": "xavier", "steps": XAVIER_FORWARD},
        {"id": "s2", "problem": "sigmoid", "steps": SIGMOID_SLIP},
        {"id": "s3", "problem": "sigmoid", "steps": 3},
    ]) + "\n", encoding="utf-8")
    status, out, _ = _run(capsys, "grade", str(requests))
    results = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert status in (0, 1)
    good, slip, bad = results["s1"], results["s2"], results["s3"]
    assert good["verdict"] == "correct" and good["first_error"] is None and good["target"] == "forward_var"
    assert [line["verdict"] for line in good["lines"]] == ["valid"] * 7
    assert slip["verdict"] == "incorrect" and slip["first_error"] == 2
    assert [line["verdict"] for line in slip["lines"]] == ["valid", "wrong", "equal"]
    assert "line 2" in slip["feedback"]
    assert bad["verdict"] == "error" and "'steps' must be a list of strings" in bad["feedback"]
