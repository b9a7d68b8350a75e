"""Grading a class against each student's own variant (``derive grade FILE --variants variants.json``).

A line names a student of the roster, a problem (its number, ``1`` or ``"1"``, or its ``id`` in the
spec) and what the student answered::

    {"student": "s001", "problem": "xavier", "target": "var", "answer": "\\\\frac{1}{192}"}
    {"student": "s001", "problem": 2, "choice": "B"}            # or "A,C", "AC", [0, 2] (0-based positions)
    {"student": "s001", "problem": 3, "answer": "错"}           # true/false: true/false, T/F, 对/错, 正确/错误
    {"student": "s001", "problem": 4, "answer": "0.25"}         # numeric; short answers: verdict manual

optional ``"id"`` (names the line; default: the student) and ``"lang"``. Each answer is judged
against that student's variant as ``variants.json`` records it (:func:`derive.variants.load`):
choice letters in the order the student's handout shows the options; a formula target by the
checker with the variant's ``expected`` and ``notation`` (a network's or worked problem's target,
whose values are not drawn, as ``check PROBLEM --target T`` checks it); a number by its tolerance or, without
one, by the digits it shows (:func:`derive.check.numeric.check_number`); a short answer is left
to the teacher (verdict ``manual``, the model answer in the feedback). Formula and number checks
are requests of :class:`derive.check.batch.Batch`, run in the same worker pool as every
``grade`` (identical requests checked once); choice and true/false are judged here. A line that
names a student not in the roster, a problem or target the variants file does not have, a choice
out of range, or that is not a JSON object of these fields gets the verdict ``error`` with one
line saying why, and the batch goes on. A line's points are its problem's (a derivation's shared
evenly among its targets).
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

from ..audit.judge import format_exact
from ..errors import DeriveError, UsageError
from ..render import LANGUAGES, wording
from .batch import MAX_POINTS, Batch, _shown_id, field_error, read_requests
from .batch import write as write_batch
from .decide import VERDICTS, quoted

#: The fields a line may have.
KEYS = ("id", "student", "problem", "target", "choice", "answer", "lang")
#: Verdicts of these lines, in the order a summary counts them (``manual``: a short answer).
ALL_VERDICTS = (*VERDICTS, "manual")
#: The kinds of problem that ask a question (the others are a derivation's or a network's targets).
QUESTIONS = ("choice", "truefalse", "numeric", "short")
_TRUE = {"true", "t", "对", "正确", "√", "✓", "yes"}
_FALSE = {"false", "f", "错", "错误", "×", "✗", "no"}
_SEPARATORS = re.compile(r"[\s,;.()，、；。（）]+")  # "A, C", "A、C", "(B)", "B."
_MAX_ID = 200


def load(path: str | Path) -> dict:
    """The variants file at ``path`` as :func:`derive.variants.load` reads and validates it."""
    from ..variants import load as load_variants

    return load_variants(path)


class Roster:
    """The students of a variants file and, per student, each problem by its number and its id.

    Raises:
        UsageError: a file whose students or problems do not have the shape grading needs.
    """

    def __init__(self, variants: Mapping, source: str = "variants.json"):
        self.source, self.students, self.names = source, {}, {}
        self.columns: dict[str, float] = {}
        students = variants.get("students") if isinstance(variants, Mapping) else None
        if not isinstance(students, list):
            raise UsageError(f"{source}: 'students' must be a list")
        for n, student in enumerate(students, 1):
            where = f"{source}: student {n}"
            if not isinstance(student, Mapping) or not isinstance(student.get("id"), str) \
                    or not isinstance(student.get("problems"), list):
                raise UsageError(f"{where}: needs 'id' (a string) and 'problems' (a list)")
            problems = {}
            for problem in student["problems"]:
                if not isinstance(problem, Mapping) or not isinstance(problem.get("number"), int) \
                        or not isinstance(problem.get("kind"), str):
                    raise UsageError(f"{where}: each problem needs 'number' and 'kind'")
                key = str(problem.get("id") or problem["number"])
                problems[str(problem["number"])] = problems[key] = problem
                for column, points in _questions(problem, key):
                    self.columns.setdefault(column, points)
            self.students[student["id"]] = problems
            self.names[student["id"]] = student.get("name") or ""

    def problem(self, request: Mapping) -> Mapping:
        """The variant's problem a valid line names (DeriveError naming what is unknown)."""
        student = str(request["student"])
        if student not in self.students:
            raise DeriveError(f"student '{quoted(student, 40)}' is not in the roster ({self.source})")
        problems, asked = self.students[student], request["problem"]
        problem = problems.get(str(asked))
        if problem is None:
            known = ", ".join(dict.fromkeys(str(p.get("id") or p["number"]) for p in problems.values()))
            raise DeriveError(f"problem '{quoted(str(asked), 40)}' is not in {self.source} (problems: {known})")
        return problem

    def validate(self, request: dict) -> str | None:
        """Why a decoded line cannot be graded (naming the field, the student or the problem), or
        None; a line without ``id`` is named by its student."""
        if reason := field_error(request, KEYS, "known with --variants"):
            return reason
        for key in ("student", "problem"):
            value = request.get(key)
            if isinstance(value, bool) or not isinstance(value, (str, int)) or len(str(value)) > _MAX_ID:
                return f"needs '{key}' (a string or an integer)"
        request.setdefault("id", request["student"])
        if "lang" in request and request["lang"] not in LANGUAGES:
            return f"'lang' must be one of {', '.join(LANGUAGES)}"
        if "target" in request and not isinstance(request["target"], str):
            return "'target' must be a string"
        try:
            self.problem(request)
        except DeriveError as error:
            return str(error)
        return None


def _questions(problem: Mapping, key: str) -> list[tuple[str, float]]:
    """The columns of one problem (a derivation: one per target) and the points of each."""
    points = problem.get("points")
    points = 1 if isinstance(points, bool) or not isinstance(points, (int, float)) \
        or not 0 <= points <= MAX_POINTS else points
    targets = problem.get("targets")
    if problem["kind"] in QUESTIONS or not isinstance(targets, Mapping) or not targets:
        return [(key, points)]
    share = round(points / len(targets), 4)
    return [(f"{key}/{target}", int(share) if share == int(share) else share) for target in targets]


def _fits(problem: Mapping, request: Mapping) -> str | None:
    """Why a line's answer does not fit its problem's kind (a target not there, a choice for a
    true/false question, ...), or None."""
    kind, name = problem["kind"], str(problem.get("id") or problem["number"])
    answer, targets = request.get("answer"), problem.get("targets")
    if kind in QUESTIONS and "target" in request and not (isinstance(targets, Mapping) and request["target"] in targets):
        return f"problem {name} ({kind}) has no target '{quoted(request['target'], 40)}'"
    if "choice" in request and kind != "choice":
        return f"problem {name} is a {kind} question, not a choice: give 'answer'"
    if kind == "choice":
        if "choice" not in request and not isinstance(answer, str):
            return f"problem {name} is a choice question: give 'choice' (\"B\", \"A,C\" or [0, 2])"
        return None
    if kind == "truefalse":
        return None if isinstance(answer, (str, bool)) else f"problem {name} is true/false: 'answer' must be a string"
    if not isinstance(answer, str):
        return "'answer' must be a string"
    if kind in QUESTIONS:
        return None
    if not isinstance(targets, Mapping) or not targets:
        return f"problem {name}: the variants file gives no targets for this {kind} problem"
    target = request.get("target")
    if target is None and len(targets) != 1:
        return f"problem {name} has several targets: give 'target' (one of {', '.join(targets)})"
    if target is not None and target not in targets:
        return f"problem {name} has no target '{quoted(target, 40)}' (targets: {', '.join(targets)})"
    spec = targets[target or next(iter(targets))]
    if not isinstance(spec, Mapping) or not any(isinstance(spec.get(key), str) for key in ("expected", "problem")):
        return f"problem {name}: the variants file's target '{quoted(str(target), 40)}' has no expected answer"
    return None


# -- judging here: choice, true/false, short ------------------------------------------------------------
def letters(positions) -> str:
    """Positions 0, 2 as the letters the handout shows, ``A, C``."""
    return ", ".join(chr(ord("A") + p) for p in positions)


def chosen(given, count: int) -> tuple[int, ...]:
    """A choice as positions in the shown order: letters (``"B"``, ``"A,C"``, ``"AC"``, full-width
    or lower case) or a list of 0-based positions. DeriveError for anything else, or an option
    the question does not have."""
    top = letters([count - 1]) if count else "-"
    if isinstance(given, list):
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in given):
            raise DeriveError("'choice' as a list holds 0-based positions (integers)")
        outside = [p for p in given if not 0 <= p < count]
        if outside:
            raise DeriveError(f"choice position {quoted(str(outside[0]), 20)} is not among the {count} options "
                              f"(0 to {count - 1})")
        return tuple(sorted(set(given)))
    if not isinstance(given, str):
        raise DeriveError("'choice' must be letters (\"B\", \"A,C\") or a list of 0-based positions")
    text = unicodedata.normalize("NFKC", given).strip().upper()
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not all(t.isascii() and t.isalpha() for t in tokens):
        raise DeriveError(f"choice '{quoted(given, 40)}' is not letters A to {top}")
    positions = [ord(c) - ord("A") for t in tokens for c in t]
    outside = [p for p in positions if p >= count]
    if outside:
        raise DeriveError(f"choice '{chr(ord('A') + outside[0])}' is not among the {count} options (A to {top})")
    return tuple(sorted(set(positions)))


def truth(given) -> bool | None:
    """A true/false answer (``true``/``false``, ``T``/``F``, 对/错, 正确/错误, √/×), None if unreadable."""
    if isinstance(given, bool):
        return given
    text = unicodedata.normalize("NFKC", given).strip().rstrip("。.!！").strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _judge_choice(problem: Mapping, request: Mapping, words: Mapping) -> dict:
    order, right = problem.get("order"), problem.get("answer")
    if not isinstance(order, list) or not isinstance(right, list) or not all(isinstance(p, int) for p in right):
        raise DeriveError(f"{_name(problem)}: the variants file has no 'order' and 'answer' for this choice")
    picked = chosen(request.get("choice", request.get("answer")), len(order))
    right, expected = tuple(sorted(set(right))), letters(sorted(set(right)))
    if not picked:
        verdict, feedback = "incorrect", words["none_chosen"].format(right=expected)
    elif picked == right:
        verdict, feedback = "correct", words["choice_correct"]
    elif len(picked) > 1 and not problem.get("multiple"):
        verdict, feedback = "incorrect", words["one_only"].format(chosen=letters(picked), right=expected)
    else:
        verdict, feedback = "incorrect", words["choice_wrong"].format(chosen=letters(picked), right=expected)
    return _fields(verdict, expected, letters(picked), feedback)


def _judge_truth(problem: Mapping, request: Mapping, words: Mapping) -> dict:
    right = problem.get("truth")
    if not isinstance(right, bool):
        raise DeriveError(f"{_name(problem)}: the variants file has no 'truth' for this true/false question")
    expected = words["true"] if right else words["false"]
    said = truth(request["answer"])
    if said is None:
        return _fields("unparsable", expected, "", words["truth_unreadable"].format(answer=quoted(request["answer"], 40)))
    parsed = words["true"] if said else words["false"]
    if said == right:
        return _fields("correct", expected, parsed, words["truth_correct"].format(expected=expected))
    return _fields("incorrect", expected, parsed, words["truth_wrong"].format(expected=expected))


def _judge_short(problem: Mapping, words: Mapping) -> dict:
    model = problem.get("model")
    model = model if isinstance(model, str) else ""
    return _fields("manual", model, "", words["manual"].format(model=quoted(model, 2000)))


def _fields(verdict: str, expected: str, parsed: str, feedback: str) -> dict:
    return {"verdict": verdict, "expected": expected, "parsed": parsed, "feedback": feedback, "certificate": None,
            "ms": 0.0}


def _name(problem: Mapping) -> str:
    return f"problem {problem.get('id') or problem['number']}"


# -- judging in the worker pool: formulas and numbers -------------------------------------------------
def _request(problem: Mapping, request: Mapping, lang: str) -> dict:
    """The batch request that checks a formula or numeric answer against the variant."""
    answer, kind = request["answer"], problem["kind"]
    if kind == "numeric":
        value, tolerance = problem.get("value"), problem.get("tolerance")
        if not isinstance(value, str) or not isinstance(tolerance, (str, type(None))):
            raise DeriveError(f"{_name(problem)}: the variants file has no 'value' for this numeric question")
        return {"value": value, "tolerance": tolerance, "answer": answer, "lang": lang,
                "problem": str(problem.get("id") or problem["number"]), "target": "value"}
    targets = problem["targets"]
    target = request.get("target") or next(iter(targets))
    spec = targets[target]
    convention = spec.get("convention") if isinstance(spec.get("convention"), str) else "full"
    if isinstance(spec.get("problem"), str) and target in _checker_targets(spec["problem"], convention):
        # a network's or worked problem's target, not drawn, by a name the checker grades: checked as
        # `check PROBLEM --target T` checks it, shapes, matrices and counting conventions included
        job = {"problem": spec["problem"], "target": target, "answer": answer, "lang": lang}
        if convention != "full":  # "full" is the default, and a worked example takes no convention
            job["convention"] = convention
        return job
    # a formula, a value drawn for this student, or a derivation's own target (grad_w11): against the
    # variant's expected answer, a number by the digits shown, else the checker's free mode in the entry's notation
    job = {"expected": spec["expected"], "answer": answer, "lang": lang}
    if isinstance(spec.get("notation"), str):
        job["notation"] = spec["notation"]
    if isinstance(spec["expected"], str) and _is_number(spec["expected"]):
        return {"value": spec["expected"], "tolerance": None, "answer": answer, "lang": lang,
                "problem": str(problem.get("id") or problem["number"]), "target": target, "formula": job}
    return job


@functools.lru_cache(maxsize=256)
def _checker_targets(name: str, convention: str) -> frozenset[str]:
    """The names ``check NAME --target`` grades (under ``convention``), none for an unknown problem."""
    from . import numeric

    try:
        found = numeric.problem(name)
    except DeriveError:
        return frozenset()
    return frozenset(found.values.get(convention, found.values["full"]))


@functools.lru_cache(maxsize=4096)
def _is_number(latex: str) -> bool:
    """Whether an expected answer is a number (a value drawn for the student, 1/192, sqrt(2)/16),
    read by the course reader (never evaluated)."""
    from .numeric import read_number

    try:
        read_number(latex)
    except ValueError:
        return False
    return True


def _expected_number(text: str):
    """The exact number a variants file expects: its text (``1/4``, ``0.25``) or LaTeX (``\\frac{\\sqrt{2}}{16}``)."""
    import sympy as sp

    from .numeric import read_number

    try:
        value = exact_value(text)
        return sp.Rational(value.numerator, value.denominator)
    except DeriveError:
        try:
            return read_number(text).value
        except ValueError:
            raise DeriveError(f"the variants file's value '{quoted(text, 40)}' is not a number") from None


def exact_value(text: str) -> Fraction:
    """A value as the variants file writes it (``0.25``, ``1/4``, ``2.536``, ``1e-3``), exactly."""
    top, _, bottom = text.strip().partition("/")
    try:
        value = Fraction(top.strip()) / (Fraction(int(bottom)) if bottom else 1)
    except (ValueError, ZeroDivisionError):
        raise DeriveError(f"the variants file's value '{quoted(text, 40)}' is not a number") from None
    return value


def judge_number(request: Mapping) -> dict:
    """A number answered for a variant's value (in a worker): within ``tolerance`` (absolute), or
    without one by the digits it shows (:func:`derive.check.numeric.check_number`). Never raises
    for bad input (verdict ``error``)."""
    import sympy as sp

    from . import numeric

    problem, target, lang = request.get("problem"), request.get("target"), request.get("lang", "en")
    try:
        answer = request["answer"]
        formula = request.get("formula")
        if isinstance(formula, Mapping) and not numeric.is_plain(answer):  # 1/192 as a formula: its diagnosis
            from .batch import run_request

            return run_request(formula)
        if request.get("tolerance") is None:
            judged = numeric.check_number(answer, _expected_number(request["value"]), problem, target, lang,
                                          approximate=False)
            if judged is not None:
                return judged
        value = exact_value(request["value"])
        exact = sp.Rational(value.numerator, value.denominator)
        tolerance = None if request.get("tolerance") is None else abs(exact_value(request["tolerance"]))
        words, shown = wording(lang)["variant_grade"], format_exact(value)
        expected = shown if tolerance is None else f"{shown} ± {format_exact(tolerance)}"
        try:
            written = numeric.read_number(answer)
        except ValueError as error:
            return {"problem": problem, "target": target, "verdict": "unparsable", "expected": expected,
                    "parsed": "", "feedback": wording(lang)["numeric"]["unreadable_number"].format(reason=error),
                    "certificate": None}
        rational = isinstance(written.value, sp.Rational)
        parsed = format_exact(Fraction(int(written.value.p), int(written.value.q))) if rational else ""
        if not rational or len(parsed) > 24:  # 1e-99 as 1.000000000e-99, not 1/1000...
            parsed = f"{sp.sstr(written.value)[:24]} (≈ {sp.N(written.value, 10)})" if not rational \
                else str(sp.N(written.value, 10))
        off = abs(Fraction(int(written.value.p), int(written.value.q)) - value) if rational \
            else abs(Fraction(str(sp.N(written.value - exact, 60))))
        within = off <= tolerance
        false = numeric.false_side(answer, lambda number: abs(Fraction(int(number.value.p), int(number.value.q))
                                                              - value) <= tolerance) if within else None
        if false is not None:  # 0.3 = 0.25: every number the answer claims equal must be within the tolerance
            return {"problem": problem, "target": target, "verdict": "incorrect", "expected": expected,
                    "parsed": parsed, "certificate": None,
                    "feedback": words["outside_tolerance"].format(answer=quoted(false, 40), value=shown,
                                                                  tolerance=format_exact(tolerance))}
        key = "within_tolerance" if within else "outside_tolerance"
        return {"problem": problem, "target": target, "verdict": "correct" if within else "incorrect",
                "expected": expected, "parsed": parsed, "certificate": {"method": "tolerance"} if within else None,
                "feedback": words[key].format(answer=quoted(parsed, 40), value=shown,
                                              tolerance=format_exact(tolerance))}
    except DeriveError as error:
        return {"problem": problem, "target": target, "verdict": "error", "expected": "", "parsed": "",
                "feedback": str(error), "certificate": None}


# -- the whole batch ---------------------------------------------------------------------------------
def grade(data: bytes, roster: Roster, lang: str = "en", jobs: int = 1, timeout: float | None = None,
          progress: bool = False) -> list[dict]:
    """Every line of ``data`` judged against its student's variant, in input order: one result
    each (``id``, ``student``, ``question``, ``problem``, ``target``, ``verdict``, ``expected``,
    ``parsed``, ``feedback``, ``certificate``, ``ms``, ``points``)."""
    from .pool import DEFAULT_TIMEOUT, CheckPool

    requests = read_requests(data, roster.validate)
    results, checks = [], []
    for request in requests:
        result, job = _judged(request, roster, lang)
        if job is not None:
            checks.append((len(results), job))
        results.append(result)
    if checks:
        batch = Batch([job for _, job in checks], lang)
        with CheckPool(min(jobs, max(1, len(batch.checks))), timeout or DEFAULT_TIMEOUT) as pool:
            replies = batch.run(pool, progress=progress)
        for (index, _), reply in zip(checks, replies, strict=True):
            results[index].update({k: reply[k] for k in ("verdict", "expected", "parsed", "feedback",
                                                          "certificate", "ms")})
    return results


def _judged(request: Mapping, roster: Roster, lang: str) -> tuple[dict, dict | None]:
    """One line's result, judged here (an error, a choice, ...) or waiting for the pool: then with
    the batch request that checks it."""
    if "error" in request:
        return {"id": request["id"], "student": None, "question": None, "problem": None, "target": None,
                **_fields("error", "", "", request["error"]), "points": request.get("points", 1)}, None
    problem = roster.problem(request)
    key = str(problem.get("id") or problem["number"])
    columns = dict(_questions(problem, key))
    target, unfit = request.get("target"), _fits(problem, request)
    if not unfit and problem["kind"] not in QUESTIONS:
        target = target or next(iter(problem["targets"]))
    question = f"{key}/{target}" if f"{key}/{target}" in columns else key
    result = {"id": _shown_id(request["id"]), "student": str(request["student"]), "question": question,
              "problem": key, "target": target, "points": columns.get(question, 1)}
    if unfit:
        return {**result, **_fields("error", "", "", unfit)}, None
    line_lang = request.get("lang", lang)
    words = wording(line_lang)["variant_grade"]
    try:
        if problem["kind"] == "choice":
            return {**result, **_judge_choice(problem, request, words)}, None
        if problem["kind"] == "truefalse":
            return {**result, **_judge_truth(problem, request, words)}, None
        if problem["kind"] == "short":
            return {**result, **_judge_short(problem, words)}, None
        job = _request(problem, request, line_lang)
    except DeriveError as error:
        return {**result, **_fields("error", "", "", str(error))}, None
    return {**result, **_fields("timeout", "", "", "")}, job


# -- writing -------------------------------------------------------------------------------------------
def write(results: list[dict], fmt: str, roster: Roster) -> str:
    """The results as JSON lines or a Gradescope results.json (as every ``grade`` writes them), or
    as CSV: one row per student of the roster, a column per question (the points awarded; ``manual``
    for a short answer left to the teacher, ``error`` for an answer that could not be judged, empty
    where the student gave none; a later line for the same question replaces an earlier one), the
    total and the maximum."""
    if fmt != "csv":
        return write_batch(results, fmt)
    cells: dict[str, dict[str, object]] = {student: {} for student in roster.students}
    for r in results:
        if r["student"] in cells and r["question"] in roster.columns:
            cells[r["student"]][r["question"]] = r["points"] if r["verdict"] == "correct" else \
                r["verdict"] if r["verdict"] in ("manual", "error") else 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", *roster.columns, "total", "max_points"])
    most = _number(sum(roster.columns.values()))
    for student, row in cells.items():
        total = _number(sum(v for v in row.values() if not isinstance(v, str)))
        writer.writerow([student, roster.names[student], *(row.get(c, "") for c in roster.columns), total, most])
    return buffer.getvalue()


def _number(value: float) -> float | int:
    value = round(value, 4)
    return int(value) if value == int(value) else value


def summary(results: list[dict], seconds: float) -> str:
    """One line: how many answers got each verdict (manual included), and the wall time; lines
    that name no student of the roster are counted apart (a CSV has no row for them)."""
    counts = Counter(r["verdict"] for r in results)
    parts = ", ".join(f"{counts[v]} {v}" for v in ALL_VERDICTS if counts[v])
    outside = sum(r["student"] is None for r in results)
    apart = f" ({outside} of them no student's: not in a CSV)" if outside else ""
    answers = "1 answer" if len(results) == 1 else f"{len(results)} answers"
    return f"graded {answers} in {seconds:.1f} s: {parts or 'nothing'}{apart}"
