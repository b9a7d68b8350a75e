"""Hostile input to issue 19's paths: a hand-edited variants.json read by ``grade --variants``, and
the Gradescope autograder's submissions (one question answered under two names, a symbolic link)."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from derive.export import gradescope
from tests.hostile import assert_one_line_error, run_cli, write

SPEC = """title = "T"
course = "C"
date = "D"
lang = "en"
[[problem]]
id = "c1"
statement = "Pick"
choice = { options = ["a", "b", "c"], answer = [0] }
[[problem]]
id = "tf"
statement = "True?"
truefalse = false
[[problem]]
id = "num"
statement = "N?"
numeric = { value = "0.25", tolerance = "0.01" }
[[problem]]
id = "half"
statement = "N?"
numeric = { value = "0.5/2" }
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The spec, its variants.json for students s1 and s2, and a Gradescope autograder unpacked."""
    folder = tmp_path_factory.mktemp("issue19")
    spec = write(folder / "spec.toml", SPEC)
    roster = write(folder / "roster.csv", "id,name\ns1,A\ns2,B\n")
    from derive.cli import cli

    assert cli(["sheet", spec, "--variants", roster, "-o", str(folder / "out")]) == 0
    variants = folder / "out" / "variants.json"
    assert cli(["export", spec, "--format", "gradescope", "-o", str(folder / "ag.zip"),
                "--variants", str(variants)]) == 0
    return folder, json.loads(variants.read_text("utf-8"))


def _problem(document, student, number):
    return document["students"][student]["problems"][number - 1]


# each row: what a teacher's hand edit does to variants.json; grade --variants must refuse the file
EDITS = {
    "value-python-code": lambda d: _problem(d, 0, 3).update(value="__import__('os').system('true')"),
    "value-power-tower": lambda d: _problem(d, 0, 3).update(value="10**10**10"),
    "value-huge-exponent": lambda d: _problem(d, 0, 4).update(value="1e999999999"),  # a 5 s timeout per line
    "value-divides-by-zero": lambda d: _problem(d, 0, 3).update(value="1/0"),
    "value-nan": lambda d: _problem(d, 0, 4).update(value="NaN"),
    "tolerance-negative": lambda d: _problem(d, 0, 3).update(tolerance="-1"),  # was read as ± 1
    "tolerance-huge-exponent": lambda d: _problem(d, 0, 3).update(tolerance="1e999999999"),
    "choice-answer-empty": lambda d: _problem(d, 0, 1).update(answer=[]),  # nobody can be right
    "choice-answer-twice": lambda d: _problem(d, 0, 1).update(answer=[1, 1]),
    "choice-two-right-not-multiple": lambda d: _problem(d, 0, 1).update(answer=[0, 1]),
    "id-twice": lambda d: _problem(d, 0, 2).update(id="c1"),  # lines for c1 graded against the true/false
    "id-another-number": lambda d: _problem(d, 0, 1).update(id="2"),
}


@pytest.mark.parametrize("row", list(EDITS))
def test_hand_edited_variants_file_is_one_error_line(row, built, tmp_path, capsys):
    folder, document = built
    edited = copy.deepcopy(document)
    EDITS[row](edited)
    variants = write(tmp_path / "variants.json", json.dumps(edited))
    lines = write(tmp_path / "lines.jsonl", '{"student": "s1", "problem": "c1", "choice": "A"}\n'
                                            '{"student": "s1", "problem": "num", "answer": "0.25"}\n')
    status, _, err = run_cli(capsys, "grade", lines, "--variants", variants)
    assert_one_line_error(status, err, mentions="variants.json")


def test_the_written_variants_file_still_reads(built, tmp_path, capsys):
    """The checks above refuse nothing ``sheet --variants`` writes (0.5/2 included)."""
    folder, document = built
    lines = write(tmp_path / "lines.jsonl", '{"student": "s1", "problem": "half", "answer": "0.25"}\n')
    status, out, _ = run_cli(capsys, "grade", lines, "--variants", str(folder / "out" / "variants.json"))
    assert status == 0 and json.loads(out)["verdict"] == "correct"


def _autograder(folder: Path, root: Path, answers: dict | None = None) -> Path:
    with zipfile.ZipFile(folder / "ag.zip") as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission_metadata.json").write_text('{"users": [{"sid": "s1"}]}', encoding="utf-8")
    if answers is not None:
        (root / "submission" / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    return root


def _right_choice(document) -> str:
    return chr(ord("A") + _problem(document, 0, 1)["answer"][0])


SUBMISSIONS = {  # one question under its number and its id: points once, never for a guess of each option
    "same-answer-twice": lambda right: ({"1": right, "c1": right}, 1),
    "guess-under-two-names": lambda right: ({"1": "A" if right != "A" else "B", "c1": right}, 1),
    "true-false-twice": lambda right: ({"2": "false", "tf": "false"}, 1),
}


@pytest.mark.parametrize("row", list(SUBMISSIONS))
def test_autograder_counts_one_question_once(row, built, tmp_path):
    folder, document = built
    answers, most = SUBMISSIONS[row](_right_choice(document))
    root = _autograder(folder, tmp_path, answers)
    assert gradescope.run(root) == 0
    results = json.loads((root / "results" / "results.json").read_text("utf-8"))
    assert results["score"] <= most, results
    assert sum(t["max_score"] for t in results["tests"]) == 4, results  # the sheet's 4 points, not more


def test_autograder_does_not_follow_a_symbolic_link(built, tmp_path):
    folder, _ = built
    outside = tmp_path / "outside.tex"
    outside.write_text("% problem 3\n0.25\n", encoding="utf-8")
    root = _autograder(folder, tmp_path / "ag")
    (root / "submission" / "answers.tex").symlink_to(outside)
    assert gradescope.run(root) == 0
    results = json.loads((root / "results" / "results.json").read_text("utf-8"))
    assert results["score"] == 0 and "symbolic link" in results["output"], results


@pytest.mark.parametrize("fmt", ["moodle", "gradescope"])
def test_export_reads_a_decimal_over_a_whole_number(fmt, tmp_path, capsys):
    """numeric = { value = "0.5/2" } is a number the spec accepts: export writes it (was a traceback)."""
    spec = write(tmp_path / "spec.toml", SPEC)
    status, _, err = run_cli(capsys, "export", spec, "--format", fmt, "-o", str(tmp_path / "out"))
    assert status == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("value", ["1e999", "0.5/2", "-1/4", "2.5e-3"])
def test_sheet_variants_write_every_number_the_spec_accepts(value, tmp_path, capsys):
    """variants.json's number check on load takes every value questions.py accepts (1e999 included)."""
    spec = write(tmp_path / "spec.toml", SPEC.replace('value = "0.5/2"', f'value = "{value}"'))
    status, _, err = run_cli(capsys, "sheet", spec, "--variants", "2", "--seed", "1", "-o", str(tmp_path / "out"))
    assert status == 0, err


OVERWRITES = {  # the output named as one of the command's own inputs: refused, the input kept
    "export-moodle-over-spec": lambda spec, variants, lines: ["export", spec, "--format", "moodle", "-o", spec],
    "export-gradescope-over-spec": lambda spec, variants, lines: ["export", spec, "--format", "gradescope",
                                                                  "-o", spec],
    "export-over-variants": lambda spec, variants, lines: ["export", spec, "--format", "moodle", "--variants",
                                                           variants, "-o", variants],
    "grade-variants-over-variants": lambda spec, variants, lines: ["grade", lines, "--variants", variants,
                                                                   "-o", variants],
    "grade-variants-over-lines": lambda spec, variants, lines: ["grade", lines, "--variants", variants, "-o", lines],
}


@pytest.mark.parametrize("row", list(OVERWRITES))
def test_output_over_an_input_is_refused(row, built, tmp_path, capsys):
    folder, document = built
    spec = write(tmp_path / "spec.toml", SPEC)
    variants = write(tmp_path / "variants.json", json.dumps(document))
    lines = write(tmp_path / "lines.jsonl", '{"student": "s1", "problem": "c1", "choice": "A"}\n')
    before = {p: Path(p).read_bytes() for p in (spec, variants, lines)}
    status, _, err = run_cli(capsys, *OVERWRITES[row](spec, variants, lines))
    assert_one_line_error(status, err, mentions="input")
    assert {p: Path(p).read_bytes() for p in before} == before


SECOND_ANSWERS = {  # a second value hidden in a trailing \text{...} remark: never correct (it was dropped)
    "number-text-remark": ("num", r"0.25 \text{ (approx 0.3)}"),
    "number-text-or": ("num", r"0.25 \text{ (or 0.3)}"),
    "digits-text-remark": ("half", r"0.25\text{ maybe 0.3}"),
}


@pytest.mark.parametrize("row", list(SECOND_ANSWERS))
def test_a_number_hidden_in_a_text_remark_is_not_accepted(row, built, tmp_path, capsys):
    folder, _ = built
    problem, answer = SECOND_ANSWERS[row]
    lines = write(tmp_path / "lines.jsonl", json.dumps({"student": "s1", "problem": problem, "answer": answer}) + "\n")
    status, out, _ = run_cli(capsys, "grade", lines, "--variants", str(folder / "out" / "variants.json"))
    assert status == 0 and json.loads(out)["verdict"] != "correct", out


def test_a_formula_with_a_second_value_in_a_remark_is_not_accepted():
    from derive.check.batch import run_request

    reply = run_request({"expected": r"\frac{1}{256}", "answer": r"\frac{1}{256} \text{ (or 0.5)}", "lang": "en"})
    assert reply["verdict"] != "correct", reply
    plain = run_request({"expected": r"\frac{1}{256}", "answer": r"\frac{1}{256} \text{ (the variance)}", "lang": "en"})
    assert plain["verdict"] == "correct", plain  # a remark without a number is still dropped
