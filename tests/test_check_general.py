"""The generic mode of the checker: equations as equations, a neutral table, structured answers.

Every right pair comes with wrong pairs in the same notation that must stay incorrect, with the
feedback that says why (zero false accepts). Expected values are the mathematics by hand.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from derive.check.batch import failed, run_request
from derive.check.compare import Comparer
from derive.check.decide import check
from derive.check.reader import Reading
from derive.check.table import table_for
from derive.render import wording
from derive.verify import Verifier
from tests.hostile import assert_one_line_error, run_cli

WORDS = wording("en")["check"]


def phrase_start(key: str) -> str:
    """The longest fixed part of a feedback phrase (between placeholders): its beginning alone can be as
    unspecific as 'A ' or 'At '."""
    return max(re.split(r"\{[^}]*\}", WORDS[key]), key=len)


RIGHT = [  # (id, expected, answer)
    ("line-rearranged", "y = -x/2 + 3/4", "2x + 4y - 3 = 0"),
    ("pythagoras-swapped", "c^2 = a^2 + b^2", "a^2 + b^2 = c^2"),
    ("multiplied-through", r"\frac{x}{2} = 3", "x = 6"),
    ("negated", "x - y = 1", "y - x = -1"),
    ("rational-cleared", r"\frac{1}{x} = 2", "2x = 1"),
    ("exponential-rearranged", "y = e^{x}", "e^{x} - y = 0"),
    ("exponential-scaled", "y = 2e^{x}", r"\frac{y}{2} = e^{x}"),
    ("log-solved", r"y = \ln(x)", r"x = e^{y}"),
    ("identity-swapped", "(a+b)^2 = a^2 + 2ab + b^2", "a^2 + 2ab + b^2 = (a+b)^2"),
    ("name-equals-value", "11", "x = 11"),
    ("plain", "x^2", "x x"),
    ("irrational-factor", r"\sqrt{2} x = \pi y", r"x = \frac{\pi}{\sqrt{2}} y"),
    ("pm-is-the-square", r"x = \pm 2", "x^2 = 4"),
    ("double-root", "x = 2", "(x-2)^2 = 0"),
    ("chain-all-links-hold", "x = 10", "x = 5 + 5 = 10"),
    ("le-is-ge", r"x \le 5", r"5 \ge x"),
    ("negated-flips", r"x \ge 5", r"-x \le -5"),
    ("scaled-inequality", "2x < 6", "x < 3"),
    ("descending-chain", "5 > x > 1", "(1, 5)"),
    ("ray", "x < 3", r"(-\infty, 3)"),
    ("quadratic-inequality", "x^2 < 4", "-2 < x < 2"),
    ("ne-is-or", r"x \ne 3", r"x < 3 \text{ or } x > 3"),
    ("or-is-union", r"x < 0 \text{ or } x > 1", r"(-\infty, 0) \cup (1, \infty)"),
    ("chained-is-the-interval", "-793 < a < 10", "(-793, 10)"),
    ("interval-is-the-relation", r"(1, +\infty)", "x > 1"),
    ("set-unordered", r"\{1, 2\}", r"\{2, 1\}"),
    ("list-unordered", r"6 \text{ and } 8", "8, 6"),
    ("point", r"(1, \frac{9}{2})", "(1, 4.5)"),
    ("applied-function", "f(x) = x^2", "f(x) - x^2 = 0"),
    ("f-alone-is-a-name", "f = ma", "f = m a"),
    ("declared-function-applies-in-the-answer", "F(x) = x^2", "F(x) - x^2 = 0"),
    ("conventional-function", "g(x) + 1", "1 + g(x)"),
    ("system-in-any-order", "x = 1, y = 2", "y = 2, x = 1"),
    ("point-equation-reordered", "(x, y) = (1, 2)", "(y, x) = (2, 1)"),
    ("membership-is-the-relation", r"x \in [0, 1)", r"0 \le x < 1"),
    ("relation-is-the-membership", r"0 \le x < 1", r"x \in [0, 1)"),
    ("matrix-either-brackets", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"),
]

WRONG = [  # (id, expected, answer, feedback key)
    ("sign-of-y", "x+y=0", "x-y=0", "equation_differs"),
    ("a-number-for-an-equation", "a+3z=0", "0", "one_side_only"),
    ("one-side", "7 = 11a+c", "11a+c", "one_side_only"),
    ("other-side", "7 = 11a+c", "7", "one_side_only"),
    ("expression-for-equation", "x + y = 1", "x", "not_an_equation"),
    ("z-is-not-x", "x", "z", "incorrect"),
    ("two-numbers-no-point", "1 000", "0", "incorrect_number"),
    ("false-link-of-numbers", "11", "x = 5 + 5 = 11", "link_number"),
    ("theta-is-not-sigmoid", r"\theta", r"\frac{1}{1+e^{-x}}", "incorrect"),
    ("sigma-is-not-sigmoid", r"\sigma", r"\frac{1}{1+e^{-x}}", "incorrect"),
    ("line-off-by-constant", "y = -x/2 + 3/4", "2x + 4y - 4 = 0", "equation_differs"),
    ("squared-is-not-linear", "x = 2", "x^2 = 4", "equation_differs"),
    ("irrational-factor-wrong", r"\sqrt{2} x = \pi y", r"x = \frac{\sqrt{2}}{\pi} y", "equation_differs"),
    ("variable-factor", "x = y", "x^2 = x y", "equation_differs"),
    ("pythagoras-wrong", "c^2 = a^2 + b^2", "c^2 = a^2 - b^2", "equation_differs"),
    ("removable-point", "x^2 - 1 = 0", r"\frac{x^2-1}{x-1} = 0", "equation_differs"),
    ("exponential-wrong", "y = e^{x}", "y = e^{-x}", "equation_differs"),
    ("extra-solutions", "y = e^{x}", "(x+2)(y - e^{x}) = 0", "equation_differs"),
    ("extra-solutions-swapped", "(x+2)(y - e^{x}) = 0", "y = e^{x}", "equation_differs"),
    ("identity-for-identity", "(a+b)^2 = a^2 + 2ab + b^2", "a = a", "equation_differs"),
    ("chain-false-link", "11", "x = 5 + 5 = 11", "broken_link"),
    ("chain-to-equation", "x = 10", "x = 5 + 5 = 11", "broken_link"),
    ("left-side-not-a-name", "3", "x + y = 3", "broken_link"),
    ("equation-in-the-name", "2x", "x = 2x", "shape_mismatch"),
    ("value-of-the-expected-name", "x", "x = 3", "shape_mismatch"),
    ("cube-has-complex-roots", "x = 2", "x^3 = 8", "equation_differs"),
    ("no-real-roots-differ", "x^2 = -1", "x^2 = -4", "equation_differs"),
    ("pm-is-two-values", r"x = \pm 2", "x = 2", "equation_differs"),
    ("reciprocal-equation", "x = 1", r"x = \frac{1}{x}", "equation_differs"),
    ("le-is-not-lt", r"x \le 5", "x < 5", "sets_differ"),
    ("le-is-not-ge", r"x \le 5", r"x \ge 5", "sets_differ"),
    ("or-with-a-gap", r"x \ne 3", r"x < 3 \text{ or } x > 4", "sets_differ"),
    ("negated-not-flipped", r"x \ge 5", r"-x \ge -5", "sets_differ"),
    ("ray-closed", "x < 3", r"(-\infty, 3]", "sets_differ"),
    ("quadratic-half-open", "x^2 < 4", r"-2 \le x < 2", "sets_differ"),
    ("relation-for-equation", "x = 3", r"x \le 3", "not_an_equation"),
    ("system-swapped-values", "x = 1, y = 2", "x = 2, y = 1", "elements_differ"),
    ("point-equation-swapped", "(x, y) = (1, 2)", "(x, y) = (2, 1)", "equation_differs"),
    ("membership-other-variable", r"0 \le x < 1", r"y \in [0, 1)", "relation_differs"),
    ("relation-other-variable", r"x \le 5", r"y \le 5", "relation_differs"),
    ("two-values-for-one", "x = 1", "x = 1, 2", "equation_differs"),
    ("open-is-not-closed", "-793 < a < 10", "[-793, 10]", "sets_differ"),
    ("set-wrong-element", r"\{1, 2\}", r"\{1, 3\}", "elements_differ"),
    ("list-missing-one", r"6 \text{ and } 8", "6", "shape_mismatch"),
    ("point-swapped", r"(1, \frac{9}{2})", r"(\frac{9}{2}, 1)", "entry_differs"),
    ("applied-function-wrong", "f(x) = x^2", "f(x) = x^3", "equation_differs"),
    ("declared-function-wrong", "F(x) = x^2", "F(x) - x^3 = 0", "equation_differs"),
    ("function-of-another-argument", "g(x)", "g(y)", "incorrect"),
    ("function-at-another-point", "h(2)", "h(3)", "incorrect_number"),
    ("application-is-not-a-product", "f(x)", "f x", "incorrect"),
    ("matrix-entry", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 2 \\ 4 & 3 \end{pmatrix}",
     "entry_differs"),
    ("number-for-interval", "[0, 1)", "0", "shape_mismatch"),
    ("equation-for-set", r"\{1, 2\}", "x = 1", "shape_mismatch"),
]


@pytest.mark.parametrize(("expected", "answer"), [pytest.param(*r[1:], id=r[0]) for r in RIGHT])
def test_right_pairs_are_correct(expected, answer):
    result = check(answer, expected=expected)
    assert result["verdict"] == "correct", result


@pytest.mark.parametrize(("expected", "answer", "key"), [pytest.param(*r[1:], id=r[0]) for r in WRONG])
def test_wrong_pairs_stay_incorrect(expected, answer, key):
    result = check(answer, expected=expected)
    assert result["verdict"] == "incorrect", result
    assert phrase_start(key) in result["feedback"], result["feedback"]


def test_the_neutral_table_has_no_course_aliases():
    table = table_for(None)
    assert table.names == {}
    assert {"x", "z", "theta", "sigma"}.isdisjoint(table.functions)
    assert {"f", "g", "h"} <= table.applied_only
    assert set(table.quantities) == set(table.functions.values())  # compared at concrete functions


@pytest.mark.parametrize(("expected", "answer", "verdict"), [
    pytest.param(r"\sigma", r"\frac{1}{1+e^{-x}}", "correct", id="sigma-is-the-sigmoid"),
    pytest.param(r"\sigma'(x) = \sigma(x)(1-\sigma(x))", r"\sigma'(x) = \sigma(x) - \sigma(x)^2", "correct", id="d1"),
    pytest.param(r"\sigma'(x) = \sigma(x)(1-\sigma(x))", r"\sigma'(x) = \sigma(x)(1+\sigma(x))", "incorrect",
                 id="d1-sign"),
    pytest.param(r"\sigma'(x) = \sigma(x)(1-\sigma(x))", r"x = x", "incorrect", id="d1-identity-is-not-it"),
])
def test_notation_borrows_a_catalog_table(expected, answer, verdict):
    assert check(answer, expected=expected, notation="sigmoid")["verdict"] == verdict


@pytest.mark.parametrize("answer", [r"\sigma'(x) = \sigma(x)(1-\sigma(x))", r"\sigma(x)(1-\sigma(x))"])
def test_course_mode_equation_naming_the_target_still_works(answer):
    assert check(answer, "sigmoid", "d1")["verdict"] == "correct"


@pytest.mark.parametrize("answer", [r"x \le 5", r"\{\sigma(x)(1-\sigma(x))\}", "(1, 2)", r"\sigma(x), 1",
                                    r"\begin{pmatrix} 1 \end{pmatrix}", r"\sigma'(x) = \{1\}"])
def test_course_mode_structured_answer_for_an_expression_is_incorrect(answer):
    result = run_request({"problem": "sigmoid", "target": "d1", "answer": answer})
    assert result["verdict"] == "incorrect" and phrase_start("shape_mismatch") in result["feedback"], result


X, Y, A = (sp.Symbol(n, real=True) for n in "xya")
# Structured values as the reader hands them over (the agreed representation), compared by shape.
STRUCTURES = [  # (id, expected value, expected notes, answer value, answer notes, verdict, feedback key)
    ("le-vs-ge", sp.Le(X, 5), [], sp.Ge(5, X), [], "correct", "correct_sets"),
    ("le-vs-interval", sp.Le(X, 5), [], sp.Interval(-sp.oo, 5), [], "correct", "correct_sets"),
    ("le-vs-lt", sp.Le(X, 5), [], sp.Lt(X, 5), [], "incorrect", "sets_differ"),
    ("chain-vs-open-pair", sp.And(sp.Lt(-793, A), sp.Lt(A, 10)), [], sp.Tuple(-793, 10), [], "correct", "correct_sets"),
    ("chain-vs-closed", sp.And(sp.Lt(-793, A), sp.Lt(A, 10)), [], sp.Interval(-793, 10), [], "incorrect",
     "sets_differ"),
    ("two-variables-scaled", sp.Lt(X + Y, 1), [], sp.Gt(2, 2 * X + 2 * Y), [], "correct", "correct_sets"),
    ("two-variables-flipped", sp.Lt(X + Y, 1), [], sp.Gt(X + Y, 1), [], "incorrect", "relation_differs"),
    ("set-unordered", sp.FiniteSet(1, 2), [], sp.FiniteSet(2, 1), [], "correct", "correct_structure"),
    ("set-wrong-element", sp.FiniteSet(1, 2), [], sp.FiniteSet(1, 3), [], "incorrect", "elements_differ"),
    ("set-vs-list", sp.FiniteSet(6, 8), [], sp.Tuple(8, 6), ["list"], "correct", "correct_structure"),
    ("set-vs-point", sp.FiniteSet(1, 2), [], sp.Tuple(1, 2), [], "incorrect", "shape_mismatch"),
    ("list-short", sp.Tuple(6, 8), ["list"], sp.Tuple(6), ["list"], "incorrect", "size_differs"),
    ("tuple-ordered", sp.Tuple(1, sp.Rational(9, 2)), [], sp.Tuple(1, sp.Rational(9, 2)), [], "correct",
     "correct_structure"),
    ("tuple-swapped", sp.Tuple(1, sp.Rational(9, 2)), [], sp.Tuple(sp.Rational(9, 2), 1), [], "incorrect",
     "entry_differs"),
    ("union", sp.Union(sp.Interval(-sp.oo, 0), sp.Interval.open(1, sp.oo)), [],
     sp.Union(sp.Interval.open(1, sp.oo), sp.Interval(-sp.oo, 0)), [], "correct", "correct_sets"),
    ("interval-open-end", sp.Interval.Ropen(0, 1), [], sp.Interval(0, 1), [], "incorrect", "sets_differ"),
    ("matrix", sp.ImmutableMatrix([[1, X], [0, 1]]), [], sp.ImmutableMatrix([[1, X], [0, 1]]), [], "correct",
     "correct_structure"),
    ("matrix-entry", sp.ImmutableMatrix([[1, X], [0, 1]]), [], sp.ImmutableMatrix([[1, -X], [0, 1]]), [],
     "incorrect", "entry_differs"),
    ("matrix-shape", sp.ImmutableMatrix([[1, 2]]), [], sp.ImmutableMatrix([[1], [2]]), [], "incorrect",
     "size_differs"),
    ("number-for-set", sp.FiniteSet(3), [], sp.Integer(3), [], "incorrect", "shape_mismatch"),
    ("set-for-number", sp.Integer(3), [], sp.FiniteSet(3), [], "incorrect", "shape_mismatch"),
]


@pytest.mark.parametrize(("expected", "expected_notes", "answer", "answer_notes", "verdict", "key"),
                         [pytest.param(*r[1:], id=r[0]) for r in STRUCTURES])
def test_structured_answers_by_shape(expected, expected_notes, answer, answer_notes, verdict, key):
    comparer = Comparer(Verifier({}, seed=0))
    outcome = comparer.judge(Reading([answer], answer_notes), Reading([expected], expected_notes))
    assert (outcome.verdict, outcome.key) == (verdict, key)


@pytest.mark.parametrize(("expected", "named"), [
    (r"\frac{1}{", r"\frac{1}{"), ("x +", "x +"), (r"\foo{x}", r"\foo{x}"), ("x = = 1", "x = = 1"),
    ("x +\n\n 1 +", "x + 1 +"),  # one line, whatever the expected holds
    ("\x1b[31mx +", "\\x1b[31mx +"), ("x\u202e +", "x\\u202e +"),  # control characters escaped
    ("(" * 80, "(" * 60 + "..."),
])
def test_unreadable_expected_is_one_line_naming_it(capsys, expected, named):
    status, _, err = run_cli(capsys, "check", "--expected", expected, "--answer", "x")
    assert_one_line_error(status, err, mentions=f"the expected answer '{named}' cannot be read")
    assert "\x1b" not in err and "\u202e" not in err


@pytest.mark.parametrize(("args", "mentions"), [
    (("--notation", "sigmod"), "did you mean 'sigmoid'"),
    (("sigmoid", "--target", "d1", "--notation", "sigmoid"), "--notation goes with --expected"),
])
def test_notation_errors(capsys, args, mentions):
    extra = () if "sigmoid" in args[:1] else ("--expected", "x")
    status, _, err = run_cli(capsys, "check", *args, *extra, "--answer", "x")
    assert_one_line_error(status, err, mentions=mentions)


GRADE_LINES = [  # (line, verdict, feedback part)
    ({"expected": "x+y=0", "answer": "x-y=0"}, "incorrect", phrase_start("equation_differs")),
    ({"expected": "y = -x/2 + 3/4", "answer": "2x + 4y - 3 = 0"}, "correct", phrase_start("correct_equation")),
    ({"expected": r"\sigma", "answer": r"\frac{1}{1+e^{-x}}", "notation": "sigmoid"}, "correct", ""),
    ({"expected": r"\sigma", "answer": r"\frac{1}{1+e^{-x}}"}, "incorrect", ""),
    ({"expected": "x", "answer": "x", "notation": 3}, "error", "'notation' must be a string"),
    ({"expected": "x", "answer": "x", "notation": "nope"}, "error", "'nope'"),
    ({"problem": "sigmoid", "target": "d1", "answer": "x", "notation": "sigmoid"}, "error", "'notation' goes with"),
    ({"expected": r"\frac{1}{", "answer": "x"}, "error", r"the expected answer '\frac{1}{' cannot be read"),
]


@pytest.mark.parametrize(("line", "verdict", "part"), GRADE_LINES)
def test_grade_lines_with_expected_and_notation(capsys, tmp_path, line, verdict, part):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "a", **line}) + "\n", encoding="utf-8")
    status, out, _ = run_cli(capsys, "grade", str(path))
    result = json.loads(out.splitlines()[0])
    assert status == 0 and result["verdict"] == verdict and part in result["feedback"], result


def _raise(*_args, **_kwargs):
    raise RuntimeError("inside\nthe check")


# a derivation's failure is its line's (check_steps_guarded): the line is named, the others judged on
@pytest.mark.parametrize(("request_", "patched", "names", "reason"), [
    ({"expected": "x", "answer": "x^2 +\n 1"}, "derive.check.batch.check", "the answer 'x^2 + 1'",
     "could not be checked: an internal fault of the checker, not a mistake in what was written"),
    ({"problem": "sigmoid", "steps": ["x"]}, "derive.check.steps.check_steps", "line 1",
     "the checker failed on this line (an internal fault of the checker, not a mistake in what was written)"),
    ({"expected": "x", "answer": "x^{2}", "lang": "zh"}, "derive.check.batch.check", "答案“x^{2}”无法检查",
     "检查器内部故障，并非所写内容有误"),
])
def test_a_failure_inside_a_check_is_error_naming_the_answer(monkeypatch, request_, patched, names, reason):
    monkeypatch.setattr(patched, _raise)
    result = run_request(request_)
    assert result["verdict"] == "error" and names in result["feedback"], result
    assert reason in result["feedback"] and "\n" not in result["feedback"]
    assert "RuntimeError" not in result["feedback"] and "inside" not in result["feedback"]  # never the exception


def test_the_worker_reply_to_a_failure_is_error_not_timeout():
    reply = failed({"answer": "x"}, ZeroDivisionError())
    assert reply["verdict"] == "error" and reply["feedback"] == \
        "the answer 'x' could not be checked: an internal fault of the checker, not a mistake in what was written"


class _Replies:
    """A stand-in pool that answers every request with one fixed worker reply."""

    timeout = 5.0

    def __init__(self, reply: dict):
        self.reply = reply

    def map(self, jobs):
        return [dict(self.reply) for _ in jobs]


@pytest.mark.parametrize(("reason", "verdict", "part"), [
    ("memory", "error", "the answer 'x^2' could not be checked: it needs more memory than the checker may use"),
    ("worker", "error", "the answer 'x^2' could not be checked: the process checking it stopped"),
    ("time", "timeout", "took longer than 5 s"),
])
def test_only_an_overrun_of_the_time_is_timeout(reason, verdict, part):
    from derive.check.batch import Batch

    result = Batch([{"id": 1, "expected": "x", "answer": "x^2"}]).run(_Replies({"verdict": "timeout", "reason": reason,
                                                                                "ms": 1.0}))[0]
    assert result["verdict"] == verdict and part in result["feedback"], result


NEW_PHRASES = ("not_an_equation", "one_side_only", "equation_differs", "correct_equation", "correct_equation_sampled",
               "shape_mismatch", "sets_differ", "relation_differs", "correct_sets", "correct_structure",
               "size_differs", "elements_differ", "entry_differs", *(f"shape_{shape}" for shape in (
                   "expression", "equation", "relation", "set", "list", "tuple", "interval", "matrix")))


@pytest.mark.parametrize("key", NEW_PHRASES)
def test_every_phrase_in_both_languages_with_the_same_placeholders(key):
    import string

    fields = {lang: {f for _, f, _, _ in string.Formatter().parse(wording(lang)["check"][key]) if f}
              for lang in ("en", "zh")}
    assert fields["en"] == fields["zh"]


def test_feedback_in_chinese():
    result = check("x-y=0", expected="x+y=0", lang="zh")
    assert result["verdict"] == "incorrect" and wording("zh")["check"]["equation_differs"].split("{")[0] in result["feedback"]
