"""Question types in sheets (issue 19 part 1): choice, true/false, numeric and short problems,
options generated from the checker's slips, their handouts and keys, and every malformed key refused."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from hostile import (
    ROOT,
    TEX_ATTACKS,
    assert_no_raw_tex,
    assert_one_line_error,
    run_cli,
    run_table,
    toml_string,
    write,
)

from derive.render import render_sheet
from derive.sheet import build_sheet, read_spec

EXAMPLES = ROOT / "examples"
#: seed 003 一 (1-7) and seed 004's four choice questions, as the seeds publish their answers
SEED_LETTERS = ["B", "C", "B", "B", "A", "D", "D", "C", "B", "B", "B"]
#: seed 004's three true/false questions: 错误, 错误, 正确
SEED_TRUTHS = ["错误", "错误", "正确"]

EVERY_TYPE_ZH = '''title = "题型"
lang = "zh"
[[problem]]
section = "一、选择题"
statement = "Sigmoid 的导数是？"
choice = { options = ["$\\\\sigma(1-\\\\sigma)$", "$\\\\sigma(1+\\\\sigma)$", "$1-\\\\sigma^2$"], answer = [0] }
[[problem]]
statement = "哪些激活函数会饱和？"
choice = { options = ["sigmoid", "tanh", "ReLU"], answer = [0, 1] }
[[problem]]
entry = "kaiming"
targets = ["var"]
choice = { distractors = "slips", count = 3 }
[[problem]]
section = "二、判断题"
statement = "学习率不影响收敛。"
truefalse = false
[[problem]]
section = "三、数值题"
statement = "$\\\\sigma(0)$ 等于多少？"
numeric = { value = "0.5", tolerance = "0.01" }
[[problem]]
entry = "xavier"
targets = ["var"]
params = { n_in = 256, n_out = 128 }
numeric = { digits = true }
[[problem]]
section = "四、简答题"
statement = "ReLU 相比 sigmoid 的优点？"
short = "正半轴梯度为 1，不饱和；计算简单。"
'''


def sheet(text: str, tmp_path: Path):
    """A sheet built from a spec's text."""
    import tomllib

    return build_sheet(tomllib.loads(text), tmp_path / "q.toml")


# --- the model -------------------------------------------------------------------------------------


def test_every_question_type_is_read(tmp_path):
    problems = sheet(EVERY_TYPE_ZH, tmp_path).problems
    kinds = [p.question.kind for p in problems]
    assert kinds == ["choice", "choice", "choice", "truefalse", "numeric", "numeric", "short"]
    assert problems[0].question.answer == (0,) and not problems[0].question.multiple
    assert problems[1].question.answer == (0, 1) and problems[1].question.multiple  # two right: multiple
    assert problems[3].question.truth is False
    assert (problems[4].question.value, problems[4].question.tolerance) == ("0.5", "0.01")
    assert problems[5].question.value == "1/192"  # 2/(256 + 128), by hand; digits-shown rule
    assert problems[5].question.tolerance is None and problems[5].derivation is not None
    assert problems[6].question.model.startswith("正半轴")
    assert [p.section for p in problems][:4] == ["一、选择题", None, None, "二、判断题"]


def test_a_choice_reordered_keeps_its_right_option(tmp_path):
    question = sheet(EVERY_TYPE_ZH, tmp_path).problems[2].question  # kaiming's generated options: 2/n_in first
    shown = question.reordered([2, 0, 3, 1])
    assert shown.answer == (1,) and shown.options[1] == question.options[0] == r"$\frac{2}{n_{in}}$"
    assert shown.formulas[1] == question.formulas[0]
    with pytest.raises(ValueError):
        question.reordered([0, 0, 1, 2])


def test_an_id_names_a_problem_and_old_problems_have_none(tmp_path):
    problems = sheet('[[problem]]\nid = "sig"\nentry = "sigmoid"\n[[problem]]\nentry = "mse"\n', tmp_path).problems
    assert [p.id for p in problems] == ["sig", None] and [p.question for p in problems] == [None, None]


# --- generated options: each verified wrong by an independent evaluation ---------------------------


def _logistic(x):
    return 1 / (1 + mpmath.exp(-x))


#: (entry, target, the right answer as a function of the sample point, by hand)
KNOWN = [
    ("sigmoid", "d1", lambda p: mpmath.diff(_logistic, p["x"])),            # mpmath's numerical derivative
    ("tanh", "d1", lambda p: mpmath.diff(mpmath.tanh, p["x"])),
    ("kaiming", "var", lambda p: 2 / p["n_in"]),                            # He et al. 2015
    ("kaiming", "std", lambda p: mpmath.sqrt(2 / p["n_in"])),
    ("xavier", "var", lambda p: 2 / (p["n_in"] + p["n_out"])),              # Glorot & Bengio 2010
    ("xavier", "uniform_bound", lambda p: mpmath.sqrt(6 / (p["n_in"] + p["n_out"]))),
]
POINTS = [{"x": mpmath.mpf(v), "n_in": mpmath.mpf(n), "n_out": mpmath.mpf(m)}
          for v, n, m in (("-1.3", 64, 32), ("0.4", 256, 128), ("2.1", 100, 300))]


def _value(formula: sp.Basic, point: dict) -> mpmath.mpf:
    """A generated option's value at a point: sigma as the logistic function, tanh as SymPy's."""
    meanings = {"sigma": lambda u: 1 / (1 + sp.exp(-u)), "tanh": sp.tanh}  # the course's own function objects
    formula = formula.replace(lambda e: isinstance(e, sp.Function) and type(e).__name__ in meanings,
                              lambda e: meanings[type(e).__name__](e.args[0]))
    values = {s: sp.Float(str(point[s.name]), 30) for s in formula.free_symbols}
    return mpmath.mpf(str(sp.N(formula.subs(values), 30)))


@pytest.mark.parametrize("entry, target, right", KNOWN, ids=[f"{e}-{t}" for e, t, _ in KNOWN])
def test_generated_options_are_each_wrong_and_the_first_right(tmp_path, entry, target, right):
    spec = f'[[problem]]\nentry = "{entry}"\ntargets = ["{target}"]\nchoice = {{ distractors = "slips", count = 3 }}\n'
    question = sheet(spec, tmp_path).problems[0].question
    assert question.generated and question.answer == (0,) and len(question.options) == 4
    values = [[_value(formula, point) for point in POINTS] for formula in question.formulas]
    for shown, expected in zip(values[0], (right(point) for point in POINTS), strict=True):
        assert abs(shown - expected) < mpmath.mpf("1e-12") * max(1, abs(expected))
    for i, first in enumerate(values):  # every option differs from every other at some point
        for second in values[i + 1:]:
            assert max(abs(a - b) for a, b in zip(first, second, strict=True)) > mpmath.mpf("1e-6")


def test_the_slips_the_feedback_names_are_among_the_options(tmp_path):
    def options(entry, target, count=3):
        spec = f'[[problem]]\nentry = "{entry}"\ntargets = ["{target}"]\nchoice = {{ distractors = "slips", count = {count} }}\n'
        return sheet(spec, tmp_path).problems[0].question.options

    assert r"\left(1 + \sigma(x)\right) \sigma(x)" in " ".join(options("sigmoid", "d1"))  # σ(1+σ)
    assert r"$\frac{1}{n_{in}}$" in options("kaiming", "var")                             # Kaiming without its 2
    assert r"$\frac{1}{n_{in}}$" in options("xavier", "var")                              # n_in alone: 2/(2 n_in)
    assert not any(option.startswith("$-") for option in options("kaiming", "var", 4))    # no negative variance


def test_generated_options_print_in_the_documents_notation(tmp_path):
    spec = '[[problem]]\nentry = "kaiming"\ntargets = ["var"]\nchoice = { distractors = "slips" }\n'
    built = sheet(spec, tmp_path)
    course = render_sheet(built, "handout", "en", notation="course")
    textbook = render_sheet(built, "handout", "en", notation="textbook")
    assert course != textbook  # the profile's names for n_in in the options
    assert r"\frac{2}{n_{in}}" in built.problems[0].question.options[0]


# --- rendering -------------------------------------------------------------------------------------


def test_seed_sheet_key_gives_the_seeds_answers(capsys, tmp_path):
    status, _, err = run_cli(capsys, "sheet", str(EXAMPLES / "seeds-choice-zh.toml"), "-o", str(tmp_path))
    assert status == 0, err
    key = (tmp_path / "seeds-choice-zh-key.tex").read_text(encoding="utf-8")
    handout = (tmp_path / "seeds-choice-zh.tex").read_text(encoding="utf-8")
    filled = re.findall(r"（\\makebox\[3em\]\{\\textbf\{([^}]*)\}\}）", key)
    assert filled == SEED_LETTERS + SEED_TRUTHS
    assert re.findall(r"（\\makebox\[3em\]\{\}）", handout).__len__() == len(filled)  # empty on the handout
    assert r"1 \times 1" in handout  # the seed's 1×1 convolution, not 1
    assert "参考答案：" in key and "参考答案：" not in handout
    assert r"\section*{一、选择题}" in handout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xelatex") is None, reason="needs xelatex")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_question_type_builds_as_pdf(capsys, tmp_path, lang):
    spec = write(tmp_path / "every.toml", EVERY_TYPE_ZH) if lang == "zh" else str(EXAMPLES / "questions-en.toml")
    status, _, err = run_cli(capsys, "sheet", spec, "--pdf", "-o", str(tmp_path / "out"))
    assert status == 0, err
    stem = Path(spec).stem
    key = subprocess.run(["pdftotext", str(tmp_path / "out" / f"{stem}-key.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    handout = subprocess.run(["pdftotext", str(tmp_path / "out" / f"{stem}.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
    if lang == "zh":
        assert "错误" in key and "错误" not in handout and "参考答案" in key and "答：" in handout
        assert "1/192" not in key and "192" in key and "允许误差 ±0.01" in key
    else:
        assert "A, B" in key and "False" in key and "Model answer:" in key and "±0.001" in key
        assert "Model answer:" not in handout and "Answer:" in handout


# --- hostile input ---------------------------------------------------------------------------------


def _spec(problem: str, extra: str = "") -> str:
    return f'title = "T"\n[[problem]]\n{problem}\n{extra}'


_S = 'statement = "Q?"\n'
HOSTILE = {
    "options not strings": (_S + "choice = { options = [1, 2], answer = [0] }", "problem[1].choice.options[0]' must be a string"),
    "options not a list": (_S + 'choice = { options = "AB", answer = [0] }', "problem[1].choice.options' must be a list"),
    "no options": (_S + "choice = { options = [], answer = [0] }", "at least 2 options"),
    "one option": (_S + 'choice = { options = ["a"], answer = [0] }', "at least 2 options"),
    "27 options": (_S + f"choice = {{ options = {[f'o{n}' for n in range(27)]}, answer = [0] }}".replace("'", '"'),
                   "at most 26"),
    "empty option": (_S + 'choice = { options = ["a", "  "], answer = [0] }', "problem[1].choice.options[1]' is empty"),
    "duplicate options": (_S + 'choice = { options = ["a", "b", " a"], answer = [0] }', "repeats option 0"),
    "answer out of range": (_S + 'choice = { options = ["a", "b"], answer = [2] }', "index 2 is out of range"),
    "answer negative": (_S + 'choice = { options = ["a", "b"], answer = [-1] }', "index -1 is out of range"),
    "answer twice": (_S + 'choice = { options = ["a", "b"], answer = [1, 1] }', "lists option 1 twice"),
    "answer a bool": (_S + 'choice = { options = ["a", "b"], answer = [true] }', "must be a whole number"),
    "answer a letter": (_S + 'choice = { options = ["a", "b"], answer = "A" }', "problem[1].choice.answer' must be a list"),
    "no answer": (_S + 'choice = { options = ["a", "b"] }', "problem[1].choice.answer' must be a list"),
    "single but two right": (_S + 'choice = { options = ["a", "b"], answer = [0, 1], multiple = false }',
                             "'multiple' is false"),
    "unknown choice key": (_S + 'choice = { options = ["a", "b"], answer = [0], shuffle = true }',
                           "unknown key 'problem[1].choice.shuffle'"),
    "choice not a table": (_S + 'choice = "A"', "problem[1].choice' must be a table"),
    "unreadable math in an option": (_S + r'choice = { options = ["$\\input{x}$", "b"], answer = [0] }',
                                     "problem[1].choice.options[0]': cannot read the formula"),
    "unclosed math in an option": (_S + 'choice = { options = ["$x", "b"], answer = [0] }', "an unclosed '$'"),
    "choice and truefalse": (_S + 'choice = { options = ["a", "b"], answer = [0] }\ntruefalse = true',
                             "has both 'choice' and 'truefalse'"),
    "truefalse a string": (_S + 'truefalse = "yes"', "problem[1].truefalse' must be true or false"),
    "numeric not a number": (_S + 'numeric = { value = "abc" }', "problem[1].numeric.value' must be a number"),
    "numeric python": (_S + 'numeric = { value = "__import__(\'os\')" }', "problem[1].numeric.value' must be a number"),
    "numeric no value": (_S + 'numeric = { tolerance = "0.1" }', "problem[1].numeric.value' must be given"),
    "numeric over zero": (_S + 'numeric = { value = "1/0" }', "divides by zero"),
    "negative tolerance": (_S + 'numeric = { value = "1", tolerance = "-0.1" }', "must not be negative"),
    "digits and tolerance": (_S + 'numeric = { value = "1", tolerance = "0.1", digits = true }', "give one"),
    "numeric infinite": (_S + "numeric = { value = inf }", "must be a finite number"),
    "short a number": (_S + "short = 3", "problem[1].short' must be the model answer"),
    "short empty": (_S + 'short = ""', "problem[1].short' is empty"),
    "short no model": (_S + "short = { lines = 3 }", "problem[1].short.model' must be given"),
    "short lines": (_S + 'short = { model = "m", lines = 0 }', "problem[1].short.lines' must be a whole number"),
    "model unreadable math": (_S + r'short = "$\\write18{x}$"', "problem[1].short': cannot read the formula"),
    "no statement": ('truefalse = true', "problem[1]' asks a question ('truefalse') but has no 'statement'"),
    "targets on a question": (_S + 'truefalse = true\ntargets = ["x"]', "problem[1].targets' does not apply"),
    "id a number": (_S + 'truefalse = true\nid = "1"', "problem[1].id' must be a name"),
    "id not a string": (_S + "truefalse = true\nid = 3", "problem[1].id' must be a string"),
    "id twice": (_S + 'truefalse = true\nid = "q"', "problem id 'q' is given twice"),
    "section unreadable": (_S + 'truefalse = true\nsection = "$\\\\input{x}$"', "problem[1].section"),
    "distractors unknown": ('entry = "sigmoid"\ntargets = ["d1"]\nchoice = { distractors = "random" }',
                            "problem[1].choice.distractors' must be \"slips\""),
    "slips without entry": (_S + 'choice = { distractors = "slips" }', "needs a derivation"),
    "slips two targets": ('entry = "sigmoid"\nchoice = { distractors = "slips" }', "asks one target"),
    "slips with options": ('entry = "sigmoid"\ntargets = ["d1"]\nchoice = { distractors = "slips", options = ["a", "b"] }',
                           "problem[1].choice.options' does not apply"),
    "slips count 0": ('entry = "sigmoid"\ntargets = ["d1"]\nchoice = { distractors = "slips", count = 0 }',
                      "problem[1].choice.count' must be a whole number from 1 to 25"),
    "slips count too many": ('entry = "sigmoid"\ntargets = ["d1"]\nchoice = { distractors = "slips", count = 25 }',
                             "wrong options verified"),
    "slips on a network": ('network = "sheet002-q5-fc"\ntargets = ["params"]\nchoice = { distractors = "slips" }',
                           "needs a catalog entry"),
    "truefalse on an entry": ('entry = "sigmoid"\ntargets = ["d1"]\ntruefalse = true', "does not apply to a problem with a derivation"),
    "numeric on a formula": ('entry = "xavier"\ntargets = ["var"]\nnumeric = { digits = true }', "is a formula, not a number"),
    "numeric value on an entry": ('entry = "xavier"\ntargets = ["var"]\nparams = { n_in = 2, n_out = 2 }\n'
                                  + 'numeric = { value = "1" }', "problem[1].numeric.value' does not apply"),
}


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory):
    """Every row of :data:`HOSTILE` run as ``derive sheet SPEC -o DIR`` in one process (run_table)."""
    folder = tmp_path_factory.mktemp("hostile")
    rows = {}
    for n, (name, (problem, _)) in enumerate(HOSTILE.items()):
        extra = '[[problem]]\nstatement = "R"\ntruefalse = true\nid = "q"\n' if name == "id twice" else ""
        rows[name] = ["sheet", write(folder / f"{n}.toml", _spec(problem, extra)), "-o", str(folder / f"out{n}")]
    return folder, run_table(rows, timeout=600)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_question_keys_are_one_line_errors(hostile_results, name):
    folder, results = hostile_results
    status, _, err = results[name]
    assert_one_line_error(status, err, mentions=HOSTILE[name][1])
    assert not (folder / f"out{list(HOSTILE).index(name)}").exists()  # nothing written


FIELDS = {
    "option": lambda attack: f'statement = "Q"\nchoice = {{ options = [{toml_string(attack)}, "b"], answer = [0] }}',
    "model": lambda attack: f'statement = "Q"\nshort = {toml_string(attack)}',
    "section": lambda attack: f'statement = "Q"\ntruefalse = true\nsection = {toml_string(attack)}',
    "statement": lambda attack: f'statement = {toml_string(attack)}\nnumeric = {{ value = "1" }}',
}


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("attack", TEX_ATTACKS)
def test_tex_attacks_in_question_text_print_literally(tmp_path, field, attack):
    built = read_spec(write(tmp_path / "a.toml", _spec(FIELDS[field](attack))))
    for layout in ("handout", "key"):
        assert_no_raw_tex(render_sheet(built, layout, "en"))
