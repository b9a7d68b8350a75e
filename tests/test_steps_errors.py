"""check-steps: a crash is never a timeout (issue 17, point 5).

An exception while one line is judged (the reader, SymPy, the verifier) is that line's verdict
``error`` with the failure in words, never the exception's name or message; the other lines are still judged, a wrong line after
it is still found, and nothing reaches standard error. A worker that dies is ``error`` for the
line it was judging, never "took longer than". A line that really is slow stays a timeout.

Faults are planted by patching a function on the worker's path; the worker tests fork the
worker from the test process (``forked``) so that the patch is in it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal

import pytest
from hostile import TEX_ATTACKS, run_cli, run_table, write

from derive.check import final as finals
from derive.check import steps, timed
from derive.check.batch import run_request
from derive.errors import UsageError, VerificationError

#: sigma' derived; line 3 carries the fault marker, line 6 is wrong (sigma + sigma^2).
LINES = [
    r"\sigma'(x) = \frac{d}{dx}\left(\frac{1}{1+e^{-x}}\right)",
    r"= \frac{e^{-x}}{(1+e^{-x})^2}",
    r"= \frac{e^{-x}}{(1+e^{-x})^2} \cdot q_{fault}",
    r"\sigma'(x) = \sigma(x)(1-\sigma(x))",
    r"= \sigma(x) - \sigma(x)^2",
    r"= \sigma(x) + \sigma(x)^2",
]
#: the verdicts of a line that follows (steps.py's own list, less wrong and undecided)
FOLLOWS = set(steps._ORDER) - {"wrong", "error", "undecided"}
MARKER = "q_{fault}"


def _faulty_read(fault):
    """steps.read, but ``fault()`` on a part holding the marker."""
    real = steps.read

    def read(part, table):
        if MARKER in part:
            fault()
        return real(part, table)

    return read


def _raise(error: BaseException):
    def fault():
        raise error
    return fault


def _spin():
    while True:  # a line that never ends: only the per-line limit stops it
        pass


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def forked(monkeypatch):
    """check-steps' worker forked from this process, so that a function patched here is patched there."""
    real = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: real("fork"))


#: the failures in words, as the wording says them (the test's own copy: a change of wording is seen)
INTERNAL = "an internal fault of the checker, not a mistake in what was written"
DEPTH = "it is nested too deeply for the checker"
MEMORY = "it needs more memory than the checker may use"
#: a Python exception's name (KeyError, ZeroDivisionError, MemoryError) or its message's quoting
EXCEPTION = re.compile(r"[A-Z][a-z]+(Error|Exception)\b|'n'|division by zero|truth value|no domain declared")


def assert_words_not_exception(feedback: str) -> None:
    """A failure's feedback is a sentence: no exception name, no exception message, one line."""
    assert not EXCEPTION.search(feedback) and "Traceback" not in feedback and "\n" not in feedback, feedback


def _assert_one_line_reason(line: dict, reason: str) -> None:
    assert line["verdict"] == "error", line
    assert reason in line["feedback"], line["feedback"]
    assert "longer than" not in line["feedback"]
    if "SIGKILL" not in reason:
        assert_words_not_exception(line["feedback"])


def _assert_others_judged(report: dict, failed: int) -> None:
    """Every other line as hand-checked: lines 1-5 follow, line 6 is wrong and found."""
    verdicts = {line["n"]: line["verdict"] for line in report["lines"]}
    assert [n for n in verdicts if verdicts[n] == "error"] == [failed], report["lines"]
    assert all(verdicts[n] in FOLLOWS for n in (1, 2, 4, 5) if n != failed), report["lines"]
    assert verdicts[6] == "wrong" and report["first_error"] == 6, report["lines"]


# -- in process: the exception types a line can meet, each an error of that line only --------------------
@pytest.mark.parametrize(("error", "reason"), [
    (KeyError("n"), INTERNAL),                       # seed 000 2.3 before ed52cde: verify._point
    (RecursionError("maximum recursion depth exceeded"), DEPTH),
    (ZeroDivisionError("division by zero"), INTERNAL),
    (MemoryError(), MEMORY),
    (TypeError("cannot determine truth value\nof Relational"), INTERNAL),
    # a DeriveError inside a line is not bad input (exit 2) either
    (VerificationError("no domain declared for 'n'"), INTERNAL),
    (UsageError("a usage error inside a line"), INTERNAL),  # not exit 2
])
def test_an_exception_in_one_line_is_that_lines_error(monkeypatch, error, reason):
    monkeypatch.setattr(steps, "read", _faulty_read(_raise(error)))
    report = timed.check_steps_guarded("\n".join(LINES), "sigmoid")
    _assert_one_line_reason(report["lines"][2], reason)
    _assert_others_judged(report, 3)
    assert [line["n"] for line in report["lines"]] == [1, 2, 3, 4, 5, 6]
    assert report["final"]["verdict"] == "incorrect"  # the last line, sigma + sigma^2, is not sigma'


@pytest.mark.parametrize(("where", "final"), [
    (0, "correct"),  # the first line; line 2 continues it: not judged
    (1, "correct"),  # the middle
    (2, "error"),    # the last line: the final result is not compared
])
def test_the_failed_line_may_be_anywhere(monkeypatch, where, final):
    text = [r"\sigma'(x) = \frac{e^{-x}}{(1+e^{-x})^2}", r"= \sigma(x)(1-\sigma(x))",
            r"= \sigma(x) - \sigma(x)^2"]
    text[where] += f" + 0 {MARKER}"
    monkeypatch.setattr(steps, "read", _faulty_read(_raise(KeyError("n"))))
    report = timed.check_steps_guarded("\n".join(text), "sigmoid")
    got = [line["verdict"] for line in report["lines"]]
    assert got[where] == "error" and all(v in FOLLOWS for i, v in enumerate(got) if i != where), got
    assert report["final"]["verdict"] == final
    after = report["lines"][where + 1:where + 2]
    assert all(line["feedback"] == "not judged: the checker failed on the line before" for line in after)
    assert len(got) == 3


def test_a_failed_final_comparison_keeps_every_line(monkeypatch):
    monkeypatch.setattr(finals, "final_result", lambda *args: {}["n"])
    report = timed.check_steps_guarded("\n".join(LINES[:2] + LINES[3:5]), "sigmoid")
    assert all(line["verdict"] in FOLLOWS for line in report["lines"]), report["lines"]
    assert report["final"] == {"target": None, "verdict": "error"}


def test_a_failure_before_any_line_is_every_lines_error_not_bad_input(monkeypatch):
    monkeypatch.setattr(steps, "knowledge", lambda *args: {}["n"])
    report = timed.check_steps_guarded("\n".join(LINES[:2]), "sigmoid", "zh")
    assert [line["verdict"] for line in report["lines"]] == ["error", "error"]
    assert report["lines"][0]["feedback"] == "未判定：检查器在这一行出错（检查器内部故障，并非所写内容有误）；之后的各行照常判定"
    assert report["final"]["verdict"] == "error"


def test_an_unknown_entry_is_still_bad_input():
    with pytest.raises(UsageError, match="unknown"):
        timed.check_steps_guarded("x = 1", "no-such-entry")


def test_grade_reports_a_failed_line_as_error_and_a_wrong_one_as_incorrect(monkeypatch):
    monkeypatch.setattr(steps, "read", _faulty_read(_raise(KeyError("n"))))
    failed = run_request({"problem": "sigmoid", "steps": LINES[:5]})
    assert failed["verdict"] == "error" and failed["lines"][2]["verdict"] == "error"
    assert "line 3" in failed["feedback"] and INTERNAL in failed["feedback"]
    assert_words_not_exception(failed["feedback"])
    wrong = run_request({"problem": "sigmoid", "steps": LINES})
    assert wrong["verdict"] == "incorrect" and wrong["first_error"] == 6


# -- inside check_steps itself: a link that fails is that link's error, a comparison evaluable nowhere undecided
def _faulty_link(error: BaseException):
    """steps.link, but raising ``error`` on the first link whose right side holds sigma^2 (line 4)."""
    real, raised = steps.link, []

    def link(known, a, b, *options):
        if not raised and "**2" in str(b) and "sigma" in str(b) and "exp" not in str(b):
            raised.append(b)
            raise error
        return real(known, a, b, *options)

    return link


@pytest.mark.parametrize(("error", "verdict", "reason"), [
    (KeyError("n"), "error", INTERNAL),
    (RecursionError("maximum recursion\ndepth exceeded"), "error", DEPTH),
    (TypeError("cannot determine truth value of Relational"), "error", INTERNAL),
    (VerificationError("no point to compare at"), "undecided", "it can be evaluated at no point"),  # nowhere
])
def test_a_failing_link_is_an_error_and_an_unevaluable_one_undecided(monkeypatch, error, verdict, reason):
    monkeypatch.setattr(steps, "link", _faulty_link(error))
    report = steps.check_steps("\n".join(LINES[:2] + LINES[3:]), "sigmoid")
    got = [line["verdict"] for line in report["lines"]]
    assert got[3] == verdict, report["lines"]
    assert reason in report["lines"][3]["feedback"] and "carried" not in report["lines"][3]["feedback"]
    assert_words_not_exception(report["lines"][3]["feedback"])
    # the other lines are judged as by hand: 1-3 follow, sigma + sigma^2 is wrong
    assert all(v in FOLLOWS for v in got[:3]) and got[4] == "wrong", got
    assert report["first_error"] == 5


def test_error_ranks_after_wrong_and_before_undecided():
    order = steps._ORDER
    assert order.index("wrong") < order.index("error") < order.index("undecided")
    assert steps._worst([steps.Link("valid"), steps.Link("error"), steps.Link("undecided")]) == "error"
    assert steps._worst([steps.Link("error"), steps.Link("wrong")]) == "wrong"


class _Nowhere:
    """A verifier whose comparisons can be evaluated at no point."""

    def compare(self, *args, **kwargs):
        raise VerificationError("no point to compare at")


@pytest.mark.parametrize(("lang", "phrase"), [
    ("en", "The final result was not compared: it can be evaluated at no point (sigmoid_derivative)."),
    ("zh", "未比较最终结果：它在任何一点都无法求值（sigmoid_derivative）。"),
])
def test_a_final_result_evaluable_nowhere_says_so_not_stopped(monkeypatch, capsys, tmp_path, lang, phrase):
    import dataclasses

    real = finals.final_result

    def final(known, *args):
        return real(dataclasses.replace(known, plain=_Nowhere()), *args)

    monkeypatch.setattr(finals, "final_result", final)
    report = steps.check_steps("\n".join(LINES[3:5]), "sigmoid")
    assert report["final"]["verdict"] == "unevaluable", report["final"]
    from derive.commands.check_steps import steps_text as _steps_text
    text = _steps_text(report, lang)
    assert phrase.split("(")[0].split("（")[0] in text and "stopped" not in text and "停止" not in text


def test_the_unfolding_cache_belongs_to_its_knowledge():
    # a module-wide cache keyed by id(knowledge) grew without limit and met a reused id
    assert not hasattr(steps, "_UNFOLDED")
    first = steps.check_steps(LINES[3], "sigmoid")
    second = steps.check_steps(LINES[3], "sigmoid")
    assert first["lines"][0]["verdict"] == second["lines"][0]["verdict"]


# -- the verifier's crash sources, fixed where they arose: a verdict, right and wrong lines alike ------
@pytest.mark.parametrize(("problem", "text", "verdicts", "final"), [
    # an index whose size is in neither side (C): verify._point drew i without C (KeyError),
    # fixed in ed52cde
    ("softmax", r"\frac{\partial p_i}{\partial x_k} = p_i(\delta_{ik} - p_k)", FOLLOWS, "correct"),
    ("softmax", r"\frac{\partial p_i}{\partial x_k} = p_i(1 - p_k)", {"wrong"}, "incorrect"),
    ("softmax-ce", r"\frac{\partial L}{\partial z_k} = p_k - y_k", FOLLOWS, "correct"),
    ("softmax-ce", r"\frac{\partial L}{\partial z_k} = p_k + y_k", {"wrong"}, "incorrect"),
    # f'(x) of the unknown activation f: the point's x was put into d/dx first ("Can't calculate
    # derivative wrt 0.3", a ValueError: the line was undecided); f' is now taken first
    ("kaiming", r"f'(x) = \sigma(x)", {"wrong"}, None),  # sigma is kaiming's standard deviation
    ("kaiming", r"f'(x) = f'(x) + 0 \cdot x", FOLLOWS, None),
])
def test_the_verifiers_crash_sources_give_verdicts(problem, text, verdicts, final):
    report = timed.check_steps_guarded(text, problem)
    line = report["lines"][0]
    assert line["verdict"] in verdicts and "Error" not in line["feedback"], line
    assert final is None or report["final"]["verdict"] == final


#: seed 000 2.4's error recursion of a convolution (the sheet's LaTeX, from seed 001)
CONV = [(r"\frac{\partial \mathcal{L}}{\partial z_{ij}^{(l)}} = \sum_{u=0}^{K-1} \sum_{v=0}^{K-1} "
         r"\frac{\partial \mathcal{L}}{\partial z_{(i-u)(j-v)}^{(l+1)}} \cdot "
         r"\frac{\partial z_{(i-u)(j-v)}^{(l+1)}}{\partial a_{ij}^{(l)}} \cdot "
         r"\frac{\partial a_{ij}^{(l)}}{\partial z_{ij}^{(l)}}"),
        (r"= f'(z_{ij}^{(l)}) \cdot \sum_{u=0}^{K-1} \sum_{v=0}^{K-1} \omega_{uv}^{(l+1)} \cdot "
         r"\frac{\partial \mathcal{L}}{\partial z_{(i-u)(j-v)}^{(l+1)}}")]


def test_a_sum_whose_bounds_are_no_integers_has_no_value_there():
    # checked against elu, where K is no size: K - 1 drawn as -1.34 left the sum whole, and its
    # "value" reached mpmath (TypeError: cannot create mpf from ... Sum(...)) in the final comparison
    report = timed.check_steps_guarded("\n".join(CONV), "elu")
    assert not [line for line in report["lines"] if line["verdict"] == "error"], report["lines"]
    assert report["final"]["verdict"] != "error"


# -- the command line, the check in its worker -------------------------------------------------------------
@pytest.mark.parametrize("as_json", [True, False])
def test_an_exception_in_the_worker_is_an_error_line_and_the_rest_is_judged(monkeypatch, forked, capsys,
                                                                             tmp_path, as_json):
    monkeypatch.setattr(steps, "read", _faulty_read(_raise(KeyError("n"))))
    answer = write(tmp_path / "answer.tex", "\n".join(LINES))
    options = ["--json"] if as_json else []
    status, out, err = run_cli(capsys, "check-steps", "sigmoid", "--file", answer, *options)
    assert status == 1 and err == ""
    assert "longer than" not in out and "Traceback" not in out
    if as_json:
        report = json.loads(out)
        _assert_one_line_reason(report["lines"][2], INTERNAL)
        _assert_others_judged(report, 3)
        assert "stopped" not in report
    else:
        assert f"  3. error      not judged: the checker failed on this line ({INTERNAL})" in out, out
        for line in out.splitlines():
            assert_words_not_exception(line)
        assert "  6. wrong" in out and "The first line that does not follow is line 6" in out, out


def test_a_worker_that_dies_is_an_error_not_a_timeout(monkeypatch, forked, capsys, tmp_path):
    monkeypatch.setattr(steps, "read", _faulty_read(_die))
    answer = write(tmp_path / "answer.tex", "\n".join(LINES))
    status, out, err = run_cli(capsys, "check-steps", "sigmoid", "--file", answer, "--json")
    report = json.loads(out)
    assert status == 1 and err == ""
    assert [line["verdict"] for line in report["lines"]][2:] == ["error", *["undecided"] * 3]
    _assert_one_line_reason(report["lines"][2], "stopped by SIGKILL")
    assert all(line["verdict"] in FOLLOWS for line in report["lines"][:2])
    assert "longer than" not in out and report["final"]["verdict"] == "undecided"


def test_a_slow_line_is_still_a_timeout(monkeypatch, forked, capsys, tmp_path):
    # the first line spins (no earlier line can meet the tiny limit on a busy machine)
    monkeypatch.setattr(steps, "read", _faulty_read(_spin))
    answer = write(tmp_path / "answer.tex", "\n".join([f"{LINES[0]} + 0 {MARKER}", *LINES[1:]]))
    status, out, err = run_cli(capsys, "check-steps", "sigmoid", "--file", answer, "--json",
                               "--timeout", "0.2")
    report = json.loads(out)
    assert status == 1 and err == ""
    assert [line["verdict"] for line in report["lines"]] == ["undecided"] * 6
    assert "took longer than 0.2 s" in report["lines"][0]["feedback"]
    assert report["stopped"] == report["lines"][0]["feedback"]


# -- the seeds' lines that crashed the worker, and odd lines: each a verdict, never a traceback ------------
SEED_MLP = [  # seed 000 2.3, as the sheet writes it
    r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}",
    r"\delta^{(L)} = (a^{(L)} - y) \odot \sigma'(z^{(L)})",
    r"\delta^{(l)} = ((W^{(l+1)})^T \delta^{(l+1)}) \odot \sigma'(z^{(l)})",
    r"\nabla_{W^{(l)}} = \delta^{(l)} (a^{(l-1)})^T",
    r"\nabla_{b^{(l)}} = \delta^{(l)}",
    r"\delta^{(L)}_i = a^{(L)}_i - y_i",  # the index i of size n, n in neither side: the KeyError 'n'
]
SEED_THETA = [  # seed 002 question 3, theta for the sigmoid
    r"\hat{y} = \theta(S_j^{(3)})",
    r"\frac{\partial \hat{y}}{\partial S_j^{(3)}} = \theta'(S_j^{(3)})",
    r"\theta'(S_j^{(3)}) = \theta(S_j^{(3)})(1 - \theta(S_j^{(3)}))",
]
ODD = {  # (problem, text)
    "empty-sides": ("sigmoid", "= =\na = b = \n= "),
    "division-by-zero": ("sigmoid", r"\frac{1}{0} = 1/0"),
    "a-tower": ("sigmoid", r"10^{10^{10}} = x^{x^{x^{x}}}"),
    "deep-parentheses": ("sigmoid", "(" * 150 + "x" + ")" * 150 + " = x"),
    "a-huge-sum": ("xavier", r"\sum_{i=1}^{10^{9}} i = 0"),
    "a-size-as-a-variable": ("xavier", (r"\frac{\partial n_{in}}{\partial n_{in}} = 1" "\n"
                                        r"\Rightarrow n_{in} = 0")),
    "an-index-alone": ("softmax", r"\delta_{ik} = \delta_{ki}" + "\n" + r"= p_i"),
    "tex-attacks": ("sigmoid", "\n".join(TEX_ATTACKS)),
}
VERDICTS = set(steps._ORDER) | {"unreadable", "error"}


@pytest.fixture(scope="module")
def odd_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd")
    mlp, theta = (write(folder / name, "\n".join(lines)) for name, lines in
                  (("mlp.tex", SEED_MLP), ("theta.tex", SEED_THETA)))
    rows = {"seed-mlp": ["check-steps", "mlp-backprop", "--file", mlp, "--json", "--budget", "900",
                         "--timeout", "60"],
            "seed-theta": ["check-steps", "sigmoid", "--file", theta, "--json", "--timeout", "60"]}
    for key, (problem, text) in ODD.items():
        answer = write(folder / f"{key}.tex", text)
        rows[key] = ["check-steps", problem, "--file", answer, "--json", "--timeout", "60"]
    return run_table(rows, timeout=1500)


@pytest.mark.parametrize("key", ["seed-mlp", "seed-theta", *ODD])
def test_odd_lines_get_a_verdict_never_a_traceback(odd_runs, key):
    status, out, err = odd_runs[key]
    assert status in (0, 1) and err == "", err
    report = json.loads(out)
    for line in report["lines"]:
        assert line["verdict"] in VERDICTS and "\n" not in line["feedback"], line
        assert "longer than" not in line["feedback"], line
    # none of these crashes the checker any more: every line is judged, or refused as unreadable
    assert not [line for line in report["lines"] if line["verdict"] == "error"], report["lines"]
    assert report["final"]["verdict"] != "error"


# -- Taylor lines where the problem defines the function expanded: a step, never the checker's failure --
# tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + ...;  sigma(x) = 1/2 + x/4 - x^3/48 + x^5/480 - ...
# (tables of Maclaurin series).  \tanh(x) under tanh was an ``error`` ("TypeError: Variables are not
# symbols, got [rational]": the O(x^4) went into the definition's numeric comparison).
@pytest.mark.parametrize(("problem", "line", "right"), [
    ("tanh", r"\tanh(x) = x - \frac{x^3}{3} + O(x^4)", True),   # the x^4 term is 0
    ("tanh", r"\tanh(x) = x - \frac{x^3}{3} + O(x^5)", True),
    ("tanh", r"\tanh(x) = x + O(x^3)", True),                    # the x^2 term is 0
    ("tanh", r"\tanh(x) = x - \frac{x^3}{3} + \frac{2x^5}{15} + O(x^7)", True),
    ("tanh", r"\tanh(x) = x - \frac{x^3}{6} + O(x^5)", False),  # 1/6 is sin's
    ("tanh", r"\tanh(x) = x + \frac{x^3}{3} + O(x^5)", False),  # the sign
    ("tanh", r"\tanh(x) = x + O(x^4)", False),                   # the x^3 term missing
    ("tanh", r"\tanh(x) = x - \frac{x^3}{3} + \frac{x^5}{15} + O(x^7)", False),
    ("tanh", r"\tanh(x) = 1 - x^2 + O(x^4)", False),              # tanh' s expansion, not tanh's
    ("xavier", r"\tanh(x) = x - \frac{x^3}{3} + O(x^4)", True),
    ("xavier", r"\tanh(x) = x - \frac{x^3}{6} + O(x^4)", False),
    ("sigmoid", r"\sigma(x) = \frac{1}{2} + \frac{x}{4} - \frac{x^3}{48} + O(x^5)", True),
    ("sigmoid", r"\sigma(x) = \frac{1}{2} + \frac{x}{4} + O(x^3)", True),
    ("sigmoid", r"\sigma(x) = \frac{1}{2} + \frac{x}{2} + O(x^3)", False),
    ("sigmoid", r"\sigma(x) = \frac{1}{2} + \frac{x}{4} + \frac{x^3}{48} + O(x^5)", False),
])
def test_a_taylor_line_of_the_problems_own_function_gets_its_verdict(problem, line, right):
    report = timed.check_steps_guarded(line, problem)
    (judged,) = report["lines"]
    assert judged["verdict"] in (FOLLOWS if right else {"wrong"}), judged
    assert_words_not_exception(judged["feedback"])
    # an expansion is a step, never a result: not right, and the sentence says which results it missed
    assert report["final"]["verdict"] == "incorrect" and report["final"]["target"] is None, report["final"]


@pytest.mark.parametrize(("lang", "sentence"), [
    ("en", "The final result is not right: the last line reaches none of the problem's results (d1, d2)."),
    ("zh", "最终结果不正确：最后一行没有得到本题的任何结果（d1, d2）。"),
])
def test_a_last_line_that_reaches_no_result_says_so_in_words(capsys, tmp_path, lang, sentence):
    # tanh's results are d1 and d2 (`python -m derive check tanh --targets`); the "(-)" said nothing
    answer = write(tmp_path / "taylor.tex", r"\tanh(x) = x - \frac{x^3}{3} + O(x^4)")
    status, out, err = run_cli(capsys, "check-steps", "tanh", "--file", answer, "--lang", lang)
    assert status == 1 and err == "" and out.splitlines()[-1].endswith(sentence), out
    assert "(-)" not in out and "（-）" not in out
    report = timed.check_steps_guarded(r"\tanh(x) = x - \frac{x^3}{3} + O(x^4)", "tanh", lang)
    assert report["final"]["results"] == ["d1", "d2"]
    assert run_request({"problem": "tanh", "steps": [r"\tanh(x) = x + O(x^3)"], "lang": lang})["feedback"] == sentence
