"""`derive grade FILE --variants variants.json`: each answer judged against its student's own variant.

Two students whose drawn values differ (s001: n_in = 256, n_out = 128; s002: n_in = 512, n_out = 256)
and whose choice options are shown in different orders: the right answer of one is wrong for the
other. Every expected value below is worked by hand in its comment (Xavier's Var(W) = 2/(n_in + n_out),
its uniform bound sqrt(6/(n_in + n_out)); letters from each student's shown order), never taken
from the code under test. Hostile lines each get the verdict error with a one-line reason and the
batch goes on (exit status 0, as grade has always had); a broken variants file is one error line, exit 2.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hostile import TEX_ATTACKS, assert_one_line_error, run_cli

#: s001 sees the options of problem 2 in the order [2, 0, 1] (the right one, spec option 0, shown
#: second: B); s002 in the spec's order (A). Problem 3 (several right: spec options 0 and 2) is shown
#: to s001 reversed, [3, 2, 1, 0]: spec 0 at D, spec 2 at B; to s002 in order: A and C.
_XAVIER = {"s001": (256, 128, r"\frac{1}{192}", r"\sqrt{\frac{6}{384}}"),   # 2/384 = 1/192; sqrt(6/384) = 1/8
           "s002": (512, 256, r"\frac{1}{384}", r"\sqrt{\frac{6}{768}}")}   # 2/768 = 1/384; sqrt(6/768) = sqrt(2)/16
_CHOICES = {"s001": ([2, 0, 1], [1], [3, 2, 1, 0], [1, 3]), "s002": ([0, 1, 2], [0], [0, 1, 2, 3], [0, 2])}
_NUMERIC = {"s001": ("0.25", "2.536"), "s002": ("0.5", "1/3")}
MODEL = "正半轴梯度为 1，不饱和；计算简单。"


def _student(ident: str, name: str) -> dict:
    n_in, n_out, var, bound = _XAVIER[ident]
    order2, answer2, order3, answer3 = _CHOICES[ident]
    value5, value6 = _NUMERIC[ident]
    return {"id": ident, "name": name, "seed": 1, "params": {"1": {"n_in": n_in, "n_out": n_out}}, "problems": [
        {"number": 1, "id": "xavier", "kind": "derivation", "points": 10,
         "targets": {"var": {"expected": var, "notation": "xavier"},
                     "uniform_bound": {"expected": bound, "notation": "xavier"}}},
        {"number": 2, "id": "2", "kind": "choice", "order": order2, "answer": answer2, "multiple": False, "points": 2},
        {"number": 3, "id": "3", "kind": "choice", "order": order3, "answer": answer3, "multiple": True, "points": 2},
        {"number": 4, "id": "4", "kind": "truefalse", "truth": False, "points": 1},
        {"number": 5, "id": "5", "kind": "numeric", "value": value5, "tolerance": "0.01", "points": 3},
        {"number": 6, "id": "sigma0", "kind": "numeric", "value": value6, "points": 3},
        {"number": 7, "id": "7", "kind": "short", "model": MODEL, "points": 5}]}


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """A variants.json written by hand in the layout of derive.variants (interface 3)."""
    path = tmp_path_factory.mktemp("variants") / "variants.json"
    document = {"spec": "hw", "seed": 7, "format": 1,
                "students": [_student("s001", "张三"), _student("s002", "李四")]}
    path.write_text(json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")
    return path


#: (row id, the line's fields, verdict, words the feedback or expected answer must hold)
ROWS = [
    # a formula target: the variant's number; s001's right answer is s002's wrong one (a factor of 2)
    ("a-var-right", {"student": "s001", "problem": "xavier", "target": "var", "answer": r"\frac{2}{256+128}"},
     "correct", ""),
    ("a-var-simplified", {"student": "s001", "problem": 1, "target": "var", "answer": r"\frac{1}{192}"}, "correct", ""),
    ("b-var-a-answer", {"student": "s002", "problem": 1, "target": "var", "answer": r"\frac{1}{192}"}, "incorrect",
     "factor of 2"),
    ("b-var-right", {"student": "s002", "problem": "1", "target": "var", "answer": r"\frac{2}{768}"}, "correct", ""),
    # the variant's number as a decimal, judged by the digits it shows (1/192 = 0.0052083..., 1/384 = 0.0026041...)
    ("a-var-decimal", {"student": "s001", "problem": 1, "target": "var", "answer": "0.00521"}, "correct", "digits"),
    ("a-var-decimal-cut", {"student": "s001", "problem": 1, "target": "var", "answer": "0.00520"}, "incorrect", ""),
    ("b-var-a-decimal", {"student": "s002", "problem": 1, "target": "var", "answer": "0.00521"}, "incorrect", ""),
    ("b-var-decimal-false-side", {"student": "s002", "problem": 1, "target": "var", "answer": "0.0052 = 0.0026"},
     "incorrect", ""),
    # sqrt(6/768) = sqrt(2)/16 = 0.0883883...
    ("b-bound-decimal", {"student": "s002", "problem": 1, "target": "uniform_bound", "answer": "0.0884"}, "correct", ""),
    ("b-bound-decimal-wrong", {"student": "s002", "problem": 1, "target": "uniform_bound", "answer": "0.0883"},
     "incorrect", ""),
    ("a-bound-right", {"student": "s001", "problem": "xavier", "target": "uniform_bound", "answer": r"\frac{1}{8}"},
     "correct", ""),
    ("b-bound-a-answer", {"student": "s002", "problem": "xavier", "target": "uniform_bound", "answer": r"\frac{1}{8}"},
     "incorrect", ""),
    ("b-bound-right", {"student": "s002", "problem": "xavier", "target": "uniform_bound",
                       "answer": r"\frac{\sqrt{2}}{16}"}, "correct", ""),
    ("a-bound-nin-alone", {"student": "s001", "problem": "xavier", "target": "uniform_bound",
                           "answer": r"\sqrt{\frac{6}{256}}"}, "incorrect", ""),
    # a single choice: B for s001, A for s002 (the same option, shown elsewhere)
    ("a-choice-right", {"student": "s001", "problem": 2, "choice": "B"}, "correct", ""),
    ("a-choice-lower", {"student": "s001", "problem": 2, "choice": " b "}, "correct", ""),
    ("a-choice-list", {"student": "s001", "problem": 2, "choice": [1]}, "correct", ""),
    ("a-choice-dotted", {"student": "s001", "problem": 2, "choice": "(B)."}, "correct", ""),
    ("b-choice-a-answer", {"student": "s002", "problem": 2, "choice": "B"}, "incorrect", "A"),
    ("b-choice-right", {"student": "s002", "problem": "2", "choice": "A"}, "correct", ""),
    ("a-choice-two", {"student": "s001", "problem": 2, "choice": "A,B"}, "incorrect", "One option"),
    ("a-choice-answer-field", {"student": "s001", "problem": 2, "answer": "B"}, "correct", ""),
    # several right: B and D for s001, A and C for s002
    ("a-multi-right", {"student": "s001", "problem": 3, "choice": "B,D"}, "correct", ""),
    ("a-multi-glued", {"student": "s001", "problem": 3, "choice": "DB"}, "correct", ""),
    ("a-multi-fullwidth", {"student": "s001", "problem": 3, "choice": "Ｂ、Ｄ"}, "correct", ""),
    ("a-multi-half", {"student": "s001", "problem": 3, "choice": "B"}, "incorrect", "B, D"),
    ("b-multi-a-answer", {"student": "s002", "problem": 3, "choice": "B,D"}, "incorrect", "A, C"),
    ("b-multi-right", {"student": "s002", "problem": 3, "choice": [0, 2]}, "correct", ""),
    ("b-multi-none", {"student": "s002", "problem": 3, "choice": ""}, "incorrect", "A, C"),
    # true/false: the statement is false
    ("a-tf-cuo", {"student": "s001", "problem": 4, "answer": "错"}, "correct", ""),
    ("a-tf-cuowu", {"student": "s001", "problem": 4, "answer": "错误。"}, "correct", ""),
    ("a-tf-F", {"student": "s001", "problem": 4, "answer": "F"}, "correct", ""),
    ("b-tf-false", {"student": "s002", "problem": 4, "answer": "false"}, "correct", ""),
    ("b-tf-true", {"student": "s002", "problem": 4, "answer": "true"}, "incorrect", "false"),
    ("b-tf-dui", {"student": "s002", "problem": 4, "answer": "对"}, "incorrect", ""),
    ("b-tf-zhengque", {"student": "s002", "problem": 4, "answer": "正确"}, "incorrect", ""),
    ("b-tf-T", {"student": "s002", "problem": 4, "answer": "T"}, "incorrect", ""),
    ("b-tf-maybe", {"student": "s002", "problem": 4, "answer": "maybe"}, "unparsable", "maybe"),
    # numeric with a tolerance of 0.01: s001's value 0.25, s002's 0.5
    ("a-tol-inside", {"student": "s001", "problem": 5, "answer": "0.255"}, "correct", "0.25"),   # |0.005| <= 0.01
    ("a-tol-edge", {"student": "s001", "problem": 5, "answer": "0.26"}, "correct", ""),           # |0.01| <= 0.01
    ("a-tol-fraction", {"student": "s001", "problem": 5, "answer": r"\frac{1}{4}"}, "correct", ""),
    ("a-tol-outside", {"student": "s001", "problem": 5, "answer": "0.261"}, "incorrect", "0.01"),  # 0.011 > 0.01
    ("b-tol-a-answer", {"student": "s002", "problem": 5, "answer": "0.255"}, "incorrect", "0.5"),
    ("b-tol-right", {"student": "s002", "problem": 5, "answer": "0.495"}, "correct", ""),
    ("a-tol-false-middle", {"student": "s001", "problem": 5, "answer": "0.3 = 0.25"}, "incorrect", "0.3"),
    ("a-tol-false-last", {"student": "s001", "problem": 5, "answer": "0.25 = 0.3"}, "incorrect", "0.3"),
    ("a-tol-chain-right", {"student": "s001", "problem": 5, "answer": r"\frac{1}{4} = 0.255 = 0.25"}, "correct", ""),
    ("b-tol-words", {"student": "s002", "problem": 5, "answer": "half"}, "unparsable", ""),
    ("a-tol-huge", {"student": "s001", "problem": 5, "answer": "9" * 90_000}, "unparsable", "characters long"),
    ("a-tol-tex", {"student": "s001", "problem": 5, "answer": TEX_ATTACKS[0]}, "unparsable", "unknown command"),
    ("a-tol-tiny", {"student": "s001", "problem": 5, "answer": "1e-99"}, "incorrect", "1.000000000e-99"),
    ("a-var-huge", {"student": "s001", "problem": 1, "target": "var", "answer": r"\frac{1}{192}+" * 6000 + "0"},
     "unparsable", "characters long"),
    # numeric by the digits shown: s001's value 2.536, s002's 1/3 = 0.3333...
    ("a-digits-right", {"student": "s001", "problem": "sigma0", "answer": "2.536"}, "correct", ""),
    ("a-digits-rounded", {"student": "s001", "problem": "sigma0", "answer": "2.54"}, "correct", ""),
    ("a-digits-cut", {"student": "s001", "problem": "sigma0", "answer": "2.53"}, "incorrect", "cut off"),
    ("b-digits-a-answer", {"student": "s002", "problem": 6, "answer": "2.536"}, "incorrect", ""),
    ("b-digits-right", {"student": "s002", "problem": 6, "answer": "0.333"}, "correct", ""),
    ("b-digits-exact", {"student": "s002", "problem": 6, "answer": r"\frac{1}{3}"}, "correct", ""),
    ("b-digits-wrong", {"student": "s002", "problem": 6, "answer": "0.334"}, "incorrect", "exact value 1/3"),
    ("b-digits-too-few", {"student": "s002", "problem": 6, "answer": "0.3"}, "incorrect", "significant"),
    # short: left to the teacher, the model answer in the feedback
    ("a-short", {"student": "s001", "problem": 7, "answer": "不饱和"}, "manual", MODEL),
]


def _lines(rows) -> bytes:
    return "".join(json.dumps({"id": name, **fields}, ensure_ascii=False) + "\n"
                   for name, fields, *_ in rows).encode()


@pytest.fixture(scope="module")
def graded(variants, tmp_path_factory):
    """Every row of ROWS graded in one run of the command line (JSON lines)."""
    folder = tmp_path_factory.mktemp("answers")
    (folder / "answers.jsonl").write_bytes(_lines(ROWS))
    from derive.cli import cli

    out = folder / "out.jsonl"
    assert cli(["grade", str(folder / "answers.jsonl"), "--variants", str(variants), "-o", str(out), "--jobs",
                "2"]) == 0
    return {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


@pytest.mark.parametrize(("name", "fields", "verdict", "words"), ROWS, ids=[row[0] for row in ROWS])
def test_verdicts(graded, name, fields, verdict, words):
    result = graded[name]
    assert result["verdict"] == verdict, result
    assert result["student"] == fields["student"]
    assert words in result["feedback"] + " " + result["expected"], result


def test_one_question_right_for_one_student_is_wrong_for_the_other(graded):
    """The point of variants: the same text is judged against each student's own values."""
    pairs = [("a-var-simplified", "b-var-a-answer"), ("a-bound-right", "b-bound-a-answer"),
             ("a-choice-right", "b-choice-a-answer"), ("a-multi-right", "b-multi-a-answer"),
             ("a-tol-inside", "b-tol-a-answer"), ("a-digits-right", "b-digits-a-answer")]
    for right, wrong in pairs:
        assert graded[right]["verdict"] == "correct" and graded[wrong]["verdict"] == "incorrect", (right, wrong)


def test_expected_shown_in_the_students_own_letters(graded):
    assert graded["a-choice-right"]["expected"] == "B" and graded["b-choice-right"]["expected"] == "A"
    assert graded["a-multi-right"]["expected"] == "B, D" and graded["b-multi-right"]["expected"] == "A, C"
    assert graded["a-tol-inside"]["expected"] == "0.25 ± 0.01"


def test_csv_one_row_per_student(variants, tmp_path, capsys):
    """Points by hand: s001 var 5 (10 shared by 2 targets), bound 5, problem 2: 2, problem 3: 2,
    problem 4: 1, problem 5: 3, sigma0: 0 (2.53 cut off), 7: manual -> 18 of 26; s002 answers problem 2
    wrong, 3 right, 4 wrong, 5 right, sigma0 right -> 2 + 3 + 3 = 8 (the later line for a question wins)."""
    rows = [("r1", {"student": "s001", "problem": 1, "target": "var", "answer": r"\frac{1}{192}"}),
            ("r2", {"student": "s001", "problem": 1, "target": "uniform_bound", "answer": r"\frac{1}{8}"}),
            ("r3", {"student": "s001", "problem": 2, "choice": "B"}),
            ("r4", {"student": "s001", "problem": 3, "choice": "B,D"}),
            ("r5", {"student": "s001", "problem": 4, "answer": "错"}),
            ("r6", {"student": "s001", "problem": 5, "answer": "0.25"}),
            ("r7", {"student": "s001", "problem": 6, "answer": "2.53"}),
            ("r8", {"student": "s001", "problem": 7, "answer": "..."}),
            ("r9", {"student": "s002", "problem": 2, "choice": "B"}),
            ("r10", {"student": "s002", "problem": 3, "choice": "A,C"}),
            ("r11", {"student": "s002", "problem": 4, "answer": "对"}),
            ("r12", {"student": "s002", "problem": 5, "answer": "0.1"}),
            ("r13", {"student": "s002", "problem": 5, "answer": "0.5"}),
            ("r14", {"student": "s002", "problem": "sigma0", "answer": "0.33"}),
            ("r15", {"student": "s404", "problem": 2, "choice": "A"})]
    answers = tmp_path / "answers.jsonl"
    answers.write_bytes(_lines(rows))
    status, out, err = run_cli(capsys, "grade", str(answers), "--variants", str(variants), "--format", "csv")
    assert status == 0 and "1 of them no student's" in err, err
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["id"] for row in table] == ["s001", "s002"] and table[0]["name"] == "张三"
    assert set(table[0]) == {"id", "name", "xavier/var", "xavier/uniform_bound", "2", "3", "4", "5", "sigma0", "7",
                             "total", "max_points"}
    one, two = table
    assert (one["xavier/var"], one["xavier/uniform_bound"], one["2"], one["3"], one["4"], one["5"], one["sigma0"],
            one["7"], one["total"], one["max_points"]) == ("5", "5", "2", "2", "1", "3", "0", "manual", "18", "26")
    assert (two["xavier/var"], two["2"], two["3"], two["4"], two["5"], two["sigma0"], two["total"]) == \
        ("", "0", "2", "0", "3", "3", "8")


def test_gradescope_and_chinese_feedback(variants, tmp_path, capsys):
    answers = tmp_path / "answers.jsonl"
    answers.write_bytes(_lines([("g1", {"student": "s001", "problem": 2, "choice": "A"}),
                                ("g2", {"student": "s002", "problem": 4, "answer": "错"})]))
    status, _out, _ = run_cli(capsys, "grade", str(answers), "--variants", str(variants), "--lang", "zh",
                             "--format", "gradescope", "-o", str(tmp_path / "results.json"))
    report = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert status == 0 and report["score"] == 1  # g1 wrong (s001's right option is B), g2 right: 1 point
    assert [t["status"] for t in report["tests"]] == ["failed", "passed"]
    assert "正确选项：B" in report["tests"][0]["output"] and "错误" in report["tests"][1]["output"]


# -- hostile lines: each an error row between two good ones, the batch goes on ------------------------------
GOOD_BEFORE = json.dumps({"id": "before", "student": "s001", "problem": 2, "choice": "B"}).encode()
GOOD_AFTER = json.dumps({"id": "after", "student": "s002", "problem": 4, "answer": "false"}).encode()
HOSTILE = [
    ("unknown-student", {"student": "s999", "problem": 2, "choice": "A"}, "'s999' is not in the roster"),
    ("student-number", {"student": 17, "problem": 2, "choice": "A"}, "'17' is not in the roster"),
    ("student-missing", {"problem": 2, "choice": "A"}, "needs 'student'"),
    ("student-list", {"student": ["s001"], "problem": 2, "choice": "A"}, "needs 'student'"),
    ("unknown-problem", {"student": "s001", "problem": 9, "answer": "x"}, "problem '9' is not in"),
    ("unknown-problem-id", {"student": "s001", "problem": "kaiming", "answer": "x"}, "problem 'kaiming'"),
    ("problem-bool", {"student": "s001", "problem": True, "answer": "x"}, "needs 'problem'"),
    ("unknown-target", {"student": "s001", "problem": 1, "target": "std", "answer": "x"}, "no target 'std'"),
    ("target-missing", {"student": "s001", "problem": 1, "answer": "x"}, "several targets"),
    ("target-on-choice", {"student": "s001", "problem": 2, "target": "var", "choice": "B"}, "no target 'var'"),
    ("choice-out-of-range", {"student": "s001", "problem": 2, "choice": "D"}, "'D' is not among the 3 options"),
    ("choice-far-out", {"student": "s001", "problem": 3, "choice": "Z"}, "'Z' is not among the 4 options"),
    ("choice-position-out", {"student": "s001", "problem": 2, "choice": [3]}, "position 3 is not among"),
    ("choice-negative", {"student": "s001", "problem": 2, "choice": [-1]}, "position -1"),
    ("choice-bool-list", {"student": "s001", "problem": 2, "choice": [True]}, "0-based positions"),
    ("choice-digits", {"student": "s001", "problem": 2, "choice": "1"}, "is not letters A to C"),
    ("choice-on-truefalse", {"student": "s001", "problem": 4, "choice": "A"}, "not a choice"),
    ("choice-object", {"student": "s001", "problem": 2, "choice": {"a": 1}}, "must be letters"),
    ("answer-number", {"student": "s001", "problem": 5, "answer": 0.25}, "'answer' must be a string"),
    ("answer-missing", {"student": "s001", "problem": 1, "target": "var"}, "'answer' must be a string"),
    ("unknown-field", {"student": "s001", "problem": 2, "choice": "B", "points": 100}, "unknown field 'points'"),
    ("lang-unknown", {"student": "s001", "problem": 2, "choice": "B", "lang": "fr"}, "'lang'"),
    ("huge-student", {"student": "s" * 5000, "problem": 2, "choice": "A"}, "needs 'student'"),
    ("huge-choice", {"student": "s001", "problem": 2, "choice": "AB" * 20_000}, "One option"),
    *((f"tex-student-{n}", {"student": attack, "problem": 2, "choice": "A"}, "is not in the roster")
      for n, attack in enumerate(TEX_ATTACKS)),
    *((f"tex-choice-{n}", {"student": "s001", "problem": 2, "choice": attack}, "choice")
      for n, attack in enumerate(TEX_ATTACKS)),
]
RAW = [
    ("not-json", b"this is not JSON", "not JSON"),
    ("not-an-object", b'["s001", 2, "B"]', "not a JSON object"),
    ("not-utf8", b'{"student": "s001", "problem": 2, "choice": "\xff\xfe"}', "not UTF-8"),
    ("surrogate", b'{"student": "s001", "problem": 2, "choice": "\\ud800"}', "not valid Unicode"),
    ("huge-line", json.dumps({"student": "s001", "problem": 7, "answer": "x" * 200_000}).encode(), "longer than"),
    ("deep", b'{"student": "s001", "problem": 2, "choice": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper"),
]


def _run(capsys, variants, tmp_path, line: bytes) -> tuple[int, list[dict], str]:
    answers = tmp_path / "answers.jsonl"
    answers.write_bytes(b"\n".join([GOOD_BEFORE, line, GOOD_AFTER]) + b"\n")
    status, out, err = run_cli(capsys, "grade", str(answers), "--variants", str(variants))
    return status, [json.loads(text) for text in out.splitlines()], err


@pytest.mark.parametrize(("name", "fields", "reason"), HOSTILE, ids=[row[0] for row in HOSTILE])
def test_hostile_line_is_an_error_row(capsys, variants, tmp_path, name, fields, reason):
    status, results, err = _run(capsys, variants, tmp_path, json.dumps(fields, ensure_ascii=False).encode())
    _assert_error_row(status, results, err, reason, incorrect=name == "huge-choice")


@pytest.mark.parametrize(("name", "line", "reason"), RAW, ids=[row[0] for row in RAW])
def test_hostile_raw_line_is_an_error_row(capsys, variants, tmp_path, name, line, reason):
    status, results, err = _run(capsys, variants, tmp_path, line)
    _assert_error_row(status, results, err, reason)


def _assert_error_row(status, results, err, reason, incorrect=False):
    assert status == 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert [r["id"] for r in results[::2]] == ["before", "after"]
    assert [r["verdict"] for r in results[::2]] == ["correct", "correct"], results
    middle = results[1]
    assert middle["verdict"] == ("incorrect" if incorrect else "error"), middle
    assert reason in middle["feedback"] and "\n" not in middle["feedback"], middle
    assert len(middle["feedback"]) < 400


def test_tex_attack_as_a_formula_answer_is_judged_not_run(capsys, variants, tmp_path):
    """Every TeX attack as a formula answer (one batch, one pool) is read and refused, never run nor correct."""
    lines = [json.dumps({"id": f"t{n}", "student": "s001", "problem": 1, "target": "var", "answer": text})
             for n, text in enumerate(TEX_ATTACKS)]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, _err = run_cli(capsys, "grade", str(answers), "--variants", str(variants))
    results = [json.loads(text) for text in out.splitlines()]
    assert status == 0 and len(results) == len(TEX_ATTACKS)
    assert all(r["verdict"] in ("unparsable", "incorrect") for r in results), results


BROKEN_FILES = [
    ("missing", None, "no such file"),
    ("not-json", b"{", "not JSON"),
    ("not-utf8", b"\xff\xfe", "not UTF-8"),
    ("no-students", b'{"spec": "hw", "seed": 1, "format": 1}', "'students'"),
    ("choice-without-order", json.dumps({"spec": "hw", "seed": 1, "format": 1, "students": [
        {"id": "s1", "name": "", "seed": 1, "params": {}, "problems": [
            {"number": 1, "id": "1", "kind": "choice", "answer": [0], "multiple": False}]}]}).encode(), "order"),
]


@pytest.mark.parametrize(("name", "content", "words"), BROKEN_FILES, ids=[row[0] for row in BROKEN_FILES])
def test_broken_variants_file_is_one_error_line(capsys, tmp_path, name, content, words):
    path = tmp_path / "variants.json"
    if content is not None:
        path.write_bytes(content)
    answers = tmp_path / "answers.jsonl"
    answers.write_bytes(GOOD_BEFORE + b"\n")
    status, out, err = run_cli(capsys, "grade", str(answers), "--variants", str(path))
    assert_one_line_error(status, err, mentions=words)
    assert str(path) in err and out == ""


# -- variants as `derive sheet --variants` writes them ----------------------------------------------------
SPEC = r'''title = "Variants"
lang = "en"

[[problem]]
id = "xavier"
entry = "xavier"
targets = ["var", "uniform_bound"]
points = 10
params = { n_in = { from = 64, to = 1024, step = 64 }, n_out = [128, 256, 512] }

[[problem]]
statement = "Sigmoid's derivative?"
choice = { options = ["$\\sigma(1-\\sigma)$", "$\\sigma(1+\\sigma)$", "$1-\\sigma^2$"], answer = [0] }

[[problem]]
statement = "The learning rate does not affect convergence."
truefalse = false

[[problem]]
statement = "ReLU over sigmoid?"
short = "Gradient 1 on the positive side."

[[problem]]
example = "graph-xyz"
targets = ["grad[x]", "forward[f]"]

[[problem]]
network = "sheet003-q2-conv"
targets = ["output_shape[conv]"]

[[problem]]
example = "bp-221-relu"
targets = ["updated_w11"]
'''
_RIGHT_OPTION = re.compile(r"\\item\[([A-Z])\.\] \$\\sigma\(1 - \\sigma\)\$")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """Six students' variants written by `derive sheet --variants 6 --seed 3`: for each, n_in + n_out
    (from the values drawn) and the letter their handout shows sigma(1 - sigma) at (read from the
    handout itself: what the student saw)."""
    from derive.cli import cli

    folder = tmp_path_factory.mktemp("drawn")
    (folder / "hw.toml").write_text(SPEC, encoding="utf-8")
    assert cli(["sheet", str(folder / "hw.toml"), "--variants", "6", "--seed", "3", "-o", str(folder / "out")]) == 0
    document = json.loads((folder / "out" / "variants.json").read_text(encoding="utf-8"))
    students = {}
    for student in document["students"]:
        drawn_values = student["params"]["1"]
        handout = (folder / "out" / "handouts" / f"hw-{student['id']}.tex").read_text(encoding="utf-8")
        students[student["id"]] = (drawn_values["n_in"] + drawn_values["n_out"], _RIGHT_OPTION.findall(handout))
    return folder / "out" / "variants.json", students


def test_drawn_variants_graded_against_each_students_own(drawn, tmp_path, capsys):
    """Each student's right answers (Var = 2/(n_in + n_out), bound sqrt(6/(n_in + n_out)), the letter
    their handout shows the right option at, false) are correct for them; another student's answers
    are wrong where their sums or letters differ."""
    path, students = drawn
    assert all(len(letters) == 1 for _, letters in students.values()), students
    (a, (sum_a, [letter_a])), (b, (sum_b, [letter_b])) = next(
        (x, y) for x in students.items() for y in students.items()
        if x[1][0] != y[1][0] and x[1][1] != y[1][1])

    def answers(student: str, total: int, letter: str) -> list[tuple[str, dict]]:
        return [(f"{student}-var-{total}", {"student": student, "problem": "xavier", "target": "var",
                                            "answer": rf"\frac{{2}}{{{total}}}"}),
                (f"{student}-bound-{total}", {"student": student, "problem": 1, "target": "uniform_bound",
                                              "answer": rf"\sqrt{{\frac{{6}}{{{total}}}}}"}),
                (f"{student}-choice-{letter}", {"student": student, "problem": 2, "choice": letter})]
    rows = [*answers(a, sum_a, letter_a), *answers(b, sum_b, letter_b),      # each their own: right
            *answers(a, sum_b, letter_b), *answers(b, sum_a, letter_a),      # the other's: wrong
            ("tf", {"student": a, "problem": 3, "answer": "错"}), ("short", {"student": b, "problem": 4, "answer": "-"}),
            # a worked example's and a network's values (seed 002 q4: df/dx = -36, f = -54; seed 003: 32x32x10)
            ("worked", {"student": a, "problem": 5, "target": "grad[x]", "answer": "-36"}),
            ("worked-f", {"student": b, "problem": 5, "target": "forward[f]", "answer": "-54"}),
            ("worked-wrong", {"student": a, "problem": 5, "target": "grad[x]", "answer": "36"}),
            ("shape", {"student": b, "problem": 6, "target": "output_shape[conv]", "answer": r"32 \times 32 \times 10"}),
            ("shape-wrong", {"student": a, "problem": 6, "target": "output_shape[conv]", "answer": r"28 \times 28 \times 10"}),
            # a worked problem's target by the derivation's own name (seed 000 2.1: w11 after the update, 0.54068)
            ("own-name", {"student": a, "problem": 7, "target": "updated_w11", "answer": "0.54068"}),
            ("own-name-rounded", {"student": b, "problem": 7, "target": "updated_w11", "answer": "0.5407"}),
            ("own-name-wrong", {"student": a, "problem": 7, "target": "updated_w11", "answer": "0.5406"})]
    source = tmp_path / "answers.jsonl"
    source.write_bytes(_lines(rows))
    status, out, err = run_cli(capsys, "grade", str(source), "--variants", str(path))
    verdicts = [json.loads(line)["verdict"] for line in out.splitlines()]
    assert status == 0 and verdicts == ["correct"] * 6 + ["incorrect"] * 6 + ["correct", "manual"] + [
        "correct", "correct", "incorrect", "correct", "incorrect", "correct", "correct", "incorrect"], (verdicts, err)
