"""derive export: the Moodle XML question bank and the Gradescope autograder zip.

The Moodle checks follow Moodle's XML format documentation (docs.moodle.org "Moodle XML format"
and the importer, question/format/xml/format.php): every question needs ``name/text`` and
``questiontext format="html"`` with ``text``; a ``multichoice`` has ``single``, ``shuffleanswers``,
``answernumbering`` and answers with a ``fraction`` (the right ones summing to 100 for several
right answers); a ``truefalse`` two answers ``true`` and ``false``; a ``numerical`` an answer with a
``tolerance``; a ``shortanswer`` ``usecase`` and its answers; an ``essay`` ``responseformat`` and
``graderinfo``; a category question ``category/text`` ``$course$/...``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from hostile import TEX_ATTACKS, assert_one_line_error, run_cli, toml_string

import derive

SPEC = r'''title = "Export test"
lang = "en"

[[problem]]
entry = "sigmoid"
targets = ["d1"]
points = 4

[[problem]]
id = "resnet"
network = "resnet18"
convention = "sheet"
targets = ["params"]

[[problem]]
statement = "The derivative of $\\sigma(x)$ is?"
choice = { options = ["$\\sigma(x)(1-\\sigma(x))$", "$\\sigma(x)(1+\\sigma(x))$", "$1-\\sigma(x)^2$"], answer = [0] }

[[problem]]
statement = "Which are activation functions?"
choice = { options = ["ReLU", "tanh", "SGD", "Adam"], answer = [0, 1] }

[[problem]]
statement = "The learning rate does not affect convergence."
truefalse = false

[[problem]]
statement = "$\\sigma(0)$ = ?"
numeric = { value = "0.5", tolerance = "0.01" }
points = 2

[[problem]]
statement = "Pros of ReLU over sigmoid?"
short = "Its gradient is $1$ for $x > 0$: no saturation; cheap to compute."
'''
#: an output shape: an exact text (Moodle's shortanswer)
SHAPE = '''
[[problem]]
network = "sheet003-q2-conv"
targets = ["output_shape[conv]"]
'''

#: the elements each question type needs (Moodle XML format documentation)
REQUIRED = {
    "multichoice": ("single", "shuffleanswers", "answernumbering", "answer"),
    "truefalse": ("answer",),
    "numerical": ("answer", "answer/tolerance"),
    "shortanswer": ("usecase", "answer"),
    "essay": ("responseformat", "graderinfo/text"),
}


def _bank(tmp_path: Path, capsys, spec: str, *extra: str) -> ET.Element:
    path = tmp_path / "quiz.toml"
    path.write_text(spec, encoding="utf-8")
    status, out, err = run_cli(capsys, "export", str(path), "--format", "moodle", "-o", str(tmp_path / "bank.xml"),
                               *extra)
    assert status == 0, err
    assert out == f"wrote {tmp_path / 'bank.xml'}\n" and not err  # the file written, as sheet reports its own
    data = (tmp_path / "bank.xml").read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<quiz>")  # the declaration on line 1
    return ET.fromstring(data)


def _questions(root: ET.Element) -> list[ET.Element]:
    return [q for q in root.findall("question") if q.get("type") != "category"]


def _math_free(html: str) -> str:
    """An HTML text with its MathJax formulas taken out."""
    return re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]", "", html, flags=re.DOTALL)


def test_moodle_every_type_has_the_elements_its_importer_needs(tmp_path, capsys):
    root = _bank(tmp_path, capsys, SPEC + SHAPE)
    assert root.tag == "quiz"
    category = root.find("question[@type='category']/category/text")
    assert category is not None and category.text == "$course$/quiz"
    questions = _questions(root)
    kinds = [q.get("type") for q in questions]
    assert kinds == ["essay", "numerical", "multichoice", "multichoice", "truefalse", "numerical", "essay",
                     "shortanswer"]
    for question in questions:
        assert question.findtext("name/text").strip()
        text = question.find("questiontext")
        assert text.get("format") == "html" and text.findtext("text").strip()
        assert float(question.findtext("defaultgrade")) > 0
        for path in REQUIRED[question.get("type")]:
            assert question.find(path) is not None, (question.get("type"), path)
        for answer in question.findall("answer"):
            assert -100 <= float(answer.get("fraction")) <= 100 and answer.find("text") is not None
    formula, count, single, several, truth, number, prose, shape = questions
    # the formula: Moodle cannot grade it; the grader sees sigma(1 - sigma)
    assert r"\( \sigma(x) \left(1 - \sigma(x)\right) \)" in formula.findtext("graderinfo/text")
    assert float(formula.findtext("defaultgrade")) == 4
    # ResNet-18's parameters as the course counts them (seed 000 3.3: 11,506,880), exactly
    answer = count.find("answer")
    assert (answer.findtext("text"), answer.findtext("tolerance")) == ("11506880", "0")
    # single answer: one option right (the first, sigma(1 - sigma)), radio buttons
    assert single.findtext("single") == "true"
    assert [a.get("fraction") for a in single.findall("answer")] == ["100", "0", "0"]
    # several: the right ones sum to 100, the wrong ones take it back
    assert several.findtext("single") == "false"
    fractions = [float(a.get("fraction")) for a in several.findall("answer")]
    assert sum(f for f in fractions if f > 0) == pytest.approx(100)
    assert sum(f for f in fractions if f < 0) == pytest.approx(-100)
    assert [a.findtext("text") for a in several.findall("answer") if float(a.get("fraction")) > 0] == ["ReLU", "tanh"]
    # true/false: "false" is right
    assert {a.findtext("text"): a.get("fraction") for a in truth.findall("answer")} == {"true": "0", "false": "100"}
    # a typed number with its tolerance
    answer = number.find("answer")
    assert (answer.get("fraction"), answer.findtext("text"), answer.findtext("tolerance")) == ("100", "0.5", "0.01")
    assert float(number.findtext("defaultgrade")) == 2
    # prose: the model answer for the grader, its formula as math
    assert r"\( x &gt; 0 \)" in prose.findtext("graderinfo/text")
    # 003 computation 2: 32x32x3 with 10 filters 5x5, S = 1, P = 2 gives 32 x 32 x 10
    assert "32x32x10" in [a.findtext("text") for a in shape.findall("answer")]
    assert all(a.get("fraction") == "100" for a in shape.findall("answer"))
    # statements: formulas for MathJax, never $...$
    assert r"\( \sigma(x) \)" in single.findtext("questiontext/text")
    assert all("$" not in q.findtext("questiontext/text") for q in questions)


def test_moodle_numbers_of_a_worked_problem_and_a_formula_at_given_values(tmp_path, capsys):
    spec = '''lang = "zh"
[[problem]]
entry = "xavier"
targets = ["var"]
params = { n_in = 256, n_out = 128 }

[[problem]]
example = "graph-xyz"
targets = ["grad[x]", "forward[s]"]
'''
    questions = _questions(_bank(tmp_path, capsys, spec))
    assert [q.get("type") for q in questions] == ["numerical"] * 3
    values = [q.findtext("answer/text") for q in questions]
    # Xavier: 2 / (256 + 128) = 1/192; seed 002 question 4: df/dx = -36, s = (1 + 2)^2 = 9
    assert abs(Fraction(values[0]) - Fraction(1, 192)) < Fraction(1, 10**15) and values[1:] == ["-36", "9"]
    tolerance = float(questions[0].findtext("answer/tolerance"))
    assert 0 < tolerance < 1 / 192 * 1e-3  # right to 4 significant digits
    assert "题目" in questions[0].findtext("name/text")


HOSTILE = {
    "closing tag": "</text></questiontext><question type='essay'>",
    "CDATA end": "a ]]> b",
    "ampersand": "R&D &amp; &lt;",
    "script": "<script>alert(1)</script>",
    "MathJax delimiters": r"\(\href{javascript:alert(1)}{x}\) \[x\] [tex]x[/tex]",
    **{f"TeX {n}": attack for n, attack in enumerate(TEX_ATTACKS)},
}


@pytest.mark.parametrize("where", ["statement", "option", "model"])
@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_moodle_user_text_is_inert(tmp_path, capsys, where, text):
    quoted = toml_string(text)
    if where == "statement":
        spec = f"[[problem]]\nstatement = {quoted}\ntruefalse = true\n"
    elif where == "option":
        spec = f'[[problem]]\nstatement = "Pick."\nchoice = {{ options = [{quoted}, "other"], answer = [0] }}\n'
    else:
        spec = f'[[problem]]\nstatement = "Say."\nshort = {quoted}\n'
    question = _questions(_bank(tmp_path, capsys, spec))[0]
    html = {"statement": question.findtext("questiontext/text"), "option": question.findtext("answer/text"),
            "model": question.findtext("graderinfo/text")}[where]
    inert = _math_free(html)
    for character in "\\$[]":  # no MathJax or Moodle filter delimiter: character references
        assert character not in inert
    assert "<script" not in html and "</text" not in html and "<question" not in html
    assert "&lt;" in html or "<" not in text.replace("\n", "")
    assert re.search(r"&(?!(amp|lt|gt|quot|#\d+|#x27);)", html) is None  # every & starts a reference
    shown = re.sub(r"<[^>]+>", "", inert)  # the browser's view: the text as written
    import html as htmllib

    assert " ".join(htmllib.unescape(shown).split()).endswith(" ".join(text.split()))


@pytest.mark.parametrize("args, mentions", [
    (["--format", "moodle"], "-o"),
    (["--format", "blackboard", "-o", "x.xml"], "--format"),
    (["-o", "x.xml"], "--format"),
], ids=["no output", "unknown format", "no format"])
def test_export_usage_errors_are_one_line(tmp_path, capsys, args, mentions):
    (tmp_path / "quiz.toml").write_text(SPEC, encoding="utf-8")
    status, _, err = run_cli(capsys, "export", str(tmp_path / "quiz.toml"), *args)
    assert_one_line_error(status, err, mentions=mentions)


@pytest.mark.parametrize("content, mentions", [
    ("not json", "variants.json"),
    ('{"spec": "quiz", "seed": 1, "format": 1}', "variants.json"),
], ids=["not JSON", "no students"])
def test_export_broken_variants_file_is_one_line(tmp_path, capsys, content, mentions):
    (tmp_path / "quiz.toml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "variants.json").write_text(content, encoding="utf-8")
    status, _, err = run_cli(capsys, "export", str(tmp_path / "quiz.toml"), "--format", "moodle", "-o",
                             str(tmp_path / "bank.xml"), "--variants", str(tmp_path / "variants.json"))
    assert_one_line_error(status, err, mentions=mentions)
    assert not (tmp_path / "bank.xml").exists()


# -- Gradescope ----------------------------------------------------------------------------------

RIGHT = {"1": {"d1": r"\sigma(x)\left(1-\sigma(x)\right)"}, "resnet": {"params": "11506880"}, "3": "A",
         "4": "A,B", "5": "false", "6": "0.5", "7": "No saturation for x > 0."}
WRONG = {"1": {"d1": r"\sigma(x)\left(1+\sigma(x)\right)"}, "resnet": {"params": "11506881"}, "3": "B",
         "4": "A", "5": "true", "6": "0.6"}
#: the tests' points: problem 1 has 4, problem 6 has 2, the others 1 each
MAX = {"1/d1": 4, "resnet/params": 1, "3": 1, "4": 1, "5": 1, "6": 2, "7": 1}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    """The autograder zip of SPEC, unpacked as Gradescope does (into ROOT/source)."""
    folder = tmp_path_factory.mktemp("gradescope")
    (folder / "quiz.toml").write_text(SPEC, encoding="utf-8")
    from derive.cli import cli

    assert cli(["export", str(folder / "quiz.toml"), "--format", "gradescope", "-o", str(folder / "ag.zip")]) == 0
    return folder / "ag.zip"


def _tree(zip_path: Path, root: Path, submission: dict[str, bytes], metadata: dict | None = None) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    for name, data in submission.items():
        (root / "submission" / name).write_bytes(data)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return root


def _run(root: Path) -> dict:
    """run_autograder as Gradescope runs it, with this checkout's derive (not the wheel)."""
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable,
           "PYTHONPATH": str(Path(derive.__file__).resolve().parent.parent)}
    done = subprocess.run(["bash", str(script)], check=False, env=env, capture_output=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_gradescope_zip_holds_setup_wheel_key_and_spec(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = archive.namelist()
        setup = archive.read("setup.sh").decode()
        wheel = next(n for n in names if n.startswith("wheels/derive-") and n.endswith("-py3-none-any.whl"))
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        key = json.loads(archive.read("variants.json"))
        inner = zipfile.ZipFile(archive.open(wheel))
        assert {"derive/cli.py", "derive/commands/check.py", "derive/export/gradescope.py",
                "derive/templates/handout.tex.j2"} <= set(inner.namelist())
        assert any(n.endswith(".dist-info/RECORD") for n in inner.namelist())
    assert {"setup.sh", "run_autograder", "variants.json", "spec.toml", "settings.json"} <= set(names)
    assert "pip install" in setup and "wheels/*.whl" in setup
    assert [s["id"] for s in key["students"]] == ["*"]


def _tests(results: dict) -> dict[str, dict]:
    return {t["name"].split(": ", 1)[1]: t for t in results["tests"]}


def test_gradescope_right_and_wrong_submissions(autograder, tmp_path):
    right = _run(_tree(autograder, tmp_path / "right", {"answers.json": json.dumps(RIGHT).encode()}))
    tests = _tests(right)
    assert {name: t["max_score"] for name, t in tests.items()} == MAX
    assert all(set(t) >= {"name", "score", "max_score", "output"} for t in right["tests"])
    assert {name: t["score"] for name, t in tests.items()} == {**MAX, "7": 0}  # the short answer: by hand
    assert tests["7"]["output"].startswith("manual")
    assert right["score"] == sum(MAX.values()) - 1
    wrong = _run(_tree(autograder, tmp_path / "wrong", {"answers.json": json.dumps(WRONG).encode()}))
    assert wrong["score"] == 0 and {name: t["max_score"] for name, t in _tests(wrong).items()} == MAX
    assert _tests(wrong)["7"]["output"].startswith("incorrect")  # not answered
    stray = _run(_tree(autograder, tmp_path / "stray", {"answers.json": json.dumps({**RIGHT, "99": "1"}).encode()}))
    assert stray["score"] == right["score"]
    assert [(t["score"], t["max_score"]) for t in stray["tests"] if t["output"].startswith("error")] == [(0, 0)]


def test_gradescope_answers_tex(autograder, tmp_path):
    tex = ("\\documentclass{article}\n% problem 1 d1\n$\\sigma(x)(1-\\sigma(x))$\n% problem resnet params\n11506880\n"
           "% problem 3\nB\n% Problem 5\nfalse\n")
    results = _run(_tree(autograder, tmp_path / "tex", {"answers.tex": tex.encode()}))
    scores = {name: t["score"] for name, t in _tests(results).items()}
    assert scores == {"1/d1": 4, "resnet/params": 1, "3": 0, "4": 0, "5": 1, "6": 0, "7": 0}


MALFORMED = {
    "no answers file": ({"notes.txt": b"hello"}, "no answers.json or answers.tex"),
    "not JSON": ({"answers.json": b"{\"1\": "}, "not JSON"),
    "a list": ({"answers.json": b"[1, 2]"}, "must be an object"),
    "a number answer": ({"answers.json": b"{\"3\": 5}"}, "must be a string"),
    "nested too deep": ({"answers.json": b"[" * 100000}, "not JSON"),
    "not UTF-8": ({"answers.json": b"\xff\xfe{"}, "not UTF-8"),
    "tex without markers": ({"answers.tex": b"\\sigma(x)"}, "marker"),
}


@pytest.mark.parametrize("files, mentions", list(MALFORMED.values()), ids=list(MALFORMED))
def test_gradescope_malformed_submission_gives_an_error_result(autograder, tmp_path, files, mentions):
    from derive.export.gradescope import main

    root = _tree(autograder, tmp_path / "bad", files)
    assert main(["--root", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("derive: error: ") and mentions in results["output"]
    assert "\n" not in results["output"]


@pytest.mark.parametrize("answer", [*TEX_ATTACKS, "", "x" * 5000, "\\frac{", "\x00"])
def test_gradescope_hostile_answers_are_graded_not_run(autograder, tmp_path, answer):
    from derive.export.gradescope import main

    root = _tree(autograder, tmp_path / "hostile", {"answers.json": json.dumps({"1": {"d1": answer}}).encode()})
    assert main(["--root", str(root)]) == 0
    test = _tests(json.loads((root / "results" / "results.json").read_text(encoding="utf-8")))["1/d1"]
    assert test["score"] == 0 and test["max_score"] == 4
    assert not Path("/tmp/derive-pwned").exists()


def test_gradescope_setup_installs_the_wheel(autograder, tmp_path):
    """setup.sh as Gradescope runs it, offline (pip's PIP_NO_INDEX and PIP_NO_DEPS: the wheel alone):
    a virtual environment beside source/ with derive, its templates and its command installed."""
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(tmp_path / "source")
    done = subprocess.run(["bash", str(tmp_path / "source" / "setup.sh")], capture_output=True, timeout=600,
                          check=False, env={**os.environ, "PIP_NO_INDEX": "1", "PIP_NO_DEPS": "1"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    site = next((tmp_path / "venv" / "lib").glob("python3.*/site-packages"))
    assert (site / "derive" / "export" / "gradescope.py").is_file()
    assert (site / "derive" / "templates" / "handout.tex.j2").is_file()
    assert (tmp_path / "venv" / "bin" / "derive").is_file()
    shutil.rmtree(tmp_path / "venv")


# -- per-student variants ---------------------------------------------------------------------------

VARIANT_SPEC = '''title = "Variant test"
lang = "en"

[[problem]]
entry = "xavier"
targets = ["var"]
params = { n_in = { from = 64, to = 1024, step = 64 }, n_out = [128, 256, 512] }
points = 2

[[problem]]
statement = "Which are activation functions?"
choice = { options = ["ReLU", "tanh", "SGD", "Adam"], answer = [0, 1] }
'''


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> tuple[Path, dict]:
    """A spec with drawn parameters and shuffled options, and the variants.json of three students."""
    from derive.cli import cli

    folder = tmp_path_factory.mktemp("variants")
    (folder / "hw.toml").write_text(VARIANT_SPEC, encoding="utf-8")
    (folder / "roster.csv").write_text("id,name\ns001,Ann\ns002,Bob\ns003,Cid\n", encoding="utf-8")
    assert cli(["sheet", str(folder / "hw.toml"), "--variants", str(folder / "roster.csv"), "-o",
                str(folder / "out")]) == 0
    return folder, json.loads((folder / "out" / "variants.json").read_text(encoding="utf-8"))


def _xavier(student: dict) -> Fraction:
    """Xavier's variance 2 / (n_in + n_out) at the student's drawn sizes."""
    drawn = student["params"]["1"]
    return Fraction(2, int(drawn["n_in"]) + int(drawn["n_out"]))


def test_moodle_variants_a_category_per_problem_a_question_per_student(variants, tmp_path, capsys):
    folder, document = variants
    root = _bank(tmp_path, capsys, VARIANT_SPEC, "--variants", str(folder / "out" / "variants.json"))
    categories = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert categories == ["$course$/quiz/problem 1", "$course$/quiz/problem 2"]
    questions = _questions(root)
    assert len(questions) == 2 * len(document["students"])
    for student, question in zip(document["students"], questions[:3], strict=True):
        assert question.findtext("name/text").endswith(student["id"])
        assert abs(Fraction(question.findtext("answer/text")) - _xavier(student)) < Fraction(1, 10**15)
    for student, question in zip(document["students"], questions[3:], strict=True):  # the student's order
        options = ["ReLU", "tanh", "SGD", "Adam"]
        shown = [a.findtext("text") for a in question.findall("answer")]
        assert shown == [options[i] for i in student["problems"][1]["order"]]
        assert sorted(a.findtext("text") for a in question.findall("answer") if float(a.get("fraction")) > 0) \
            == ["ReLU", "tanh"]
    assert len({_xavier(s) for s in document["students"]}) > 1  # the variants differ


def test_gradescope_variants_graded_against_the_students_own(variants, tmp_path, capsys):
    folder, document = variants
    status, out, err = run_cli(capsys, "export", str(folder / "hw.toml"), "--format", "gradescope", "-o",
                               str(tmp_path / "ag.zip"), "--variants", str(folder / "out" / "variants.json"))
    assert status == 0, err
    assert out == f"wrote {tmp_path / 'ag.zip'}\n" and not err
    first = document["students"][0]
    second = next(s for s in document["students"] if _xavier(s) != _xavier(first))
    letters = "".join(chr(ord("A") + first["problems"][1]["order"].index(i)) for i in (0, 1))
    value = _xavier(first)
    answers = json.dumps({"1": rf"\frac{{{value.numerator}}}{{{value.denominator}}}", "2": ",".join(sorted(letters))})
    own = _run(_tree(tmp_path / "ag.zip", tmp_path / "own", {"answers.json": answers.encode()},
                     {"users": [{"email": "x@example.org", "id": 7, "name": "A", "sid": first["id"]}]}))
    assert own["score"] == 3 and {t["max_score"] for t in own["tests"]} == {2, 1}
    other = _run(_tree(tmp_path / "ag.zip", tmp_path / "other", {"answers.json": answers.encode()},
                       {"users": [{"email": f"{second['id']}@example.org", "id": 8, "name": "B"}]}))
    assert _tests(other)["1/var"]["score"] == 0  # the first student's value is wrong for the second
    from derive.export.gradescope import main

    root = _tree(tmp_path / "ag.zip", tmp_path / "stranger", {"answers.json": answers.encode()},
                 {"users": [{"email": "who@example.org", "id": 9, "name": "C", "sid": "s999"}]})
    assert main(["--root", str(root)]) == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and "not in the variants' roster" in results["output"]


@pytest.mark.parametrize("spec", [
    SPEC,  # no drawn parameters where the variants have some
    VARIANT_SPEC.replace('"SGD", "Adam"', '"SGD"'),  # the choice has 3 options, the variants' orders 4
], ids=["another spec", "fewer options"])
def test_moodle_variants_of_another_spec_is_one_line(variants, tmp_path, capsys, spec):
    folder, _ = variants
    (tmp_path / "quiz.toml").write_text(spec, encoding="utf-8")
    status, _, err = run_cli(capsys, "export", str(tmp_path / "quiz.toml"), "--format", "moodle", "-o",
                             str(tmp_path / "bank.xml"), "--variants", str(folder / "out" / "variants.json"))
    assert_one_line_error(status, err, mentions="this spec's")
    assert not (tmp_path / "bank.xml").exists()


@pytest.mark.parametrize("fmt", ["moodle", "gradescope"])
def test_a_variants_file_of_another_spec_is_named_as_given(variants, tmp_path, capsys, monkeypatch, fmt):
    """The error names the variants file by the path given (relative here, another name than variants.json)."""
    folder, document = variants
    (tmp_path / "class 7").mkdir()
    (tmp_path / "class 7" / "drawn.json").write_bytes((folder / "out" / "variants.json").read_bytes())
    (tmp_path / "quiz.toml").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "export", "quiz.toml", "--format", fmt, "-o", "out.bin",
                             "--variants", "class 7/drawn.json")
    first = document["students"][0]["id"]
    assert_one_line_error(status, err, mentions=f"derive: error: class 7/drawn.json: student '{first}': problem 1 ")
    assert not (tmp_path / "out.bin").exists()


def test_gradescope_a_teachers_catalog_entry_is_graded_in_the_autograder(tmp_path, capsys):
    """The catalog file the spec names goes into the zip and is loaded where the answers are checked."""
    catalog = Path(__file__).resolve().parents[1] / "examples" / "teacher-catalog.toml"
    spec = tmp_path / "own.toml"
    spec.write_text(f'lang = "en"\ncatalog = {toml_string(str(catalog))}\n[[problem]]\nentry = "log-cosh"\n'
                    'points = 3\n', encoding="utf-8")
    status, _, err = run_cli(capsys, "export", str(spec), "--format", "gradescope", "-o", str(tmp_path / "ag.zip"))
    assert status == 0, err
    # L = ln cosh(yhat - y): dL/dyhat = tanh(yhat - y), by hand
    answers = {"1": r"\tanh(\hat{y} - y)"}
    right = _run(_tree(tmp_path / "ag.zip", tmp_path / "right", {"answers.json": json.dumps(answers).encode()}))
    assert (right["score"], [t["max_score"] for t in right["tests"]]) == (3, [3])
    wrong = {"1": r"\tanh(y - \hat{y})"}  # the sign slipped
    results = _run(_tree(tmp_path / "ag.zip", tmp_path / "wrong", {"answers.json": json.dumps(wrong).encode()}))
    assert results["score"] == 0
