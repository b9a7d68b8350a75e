"""Per-question targets as numbered sub-questions (derive/subquestions.py, the sheet spec's ``targets``).

Seed 002 Q6 asks five things of an AlexNet-like network, (1)-(5); a sheet spec that names them
(``params[Conv-1]``, ...: the names ``derive check NAME --targets`` lists) prints them numbered in
the handout and answers each in the key. The seed's published answers are the reference; an
unknown target is one line naming the spec, the problem and the target, with the closest names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile import assert_no_raw_tex, assert_one_line_error, run_table, toml_string, write

from derive.render import render_sheet
from derive.sheet import read_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: seed 002 Q6, as the seed words it (the layer list is the problem's givens)
STATEMENT = (r"某一个卷积神经网络结构如下：输入层 Input 的 RGB 图像大小是 $227 \times 227 \times 3$；"
             r"Conv-1 用 96 个 $11 \times 11 \times 3$ 的滤波器，步长为 4，不做边缘填充；"
             r"MaxPool-1 用 $3 \times 3$ 尺寸、步长为 2；Conv-2 用 256 个 $5 \times 5$ 的滤波器，填充值为 2，步长为 1；"
             r"MaxPool-2 用 $3 \times 3$ 尺寸、步长为 2；FC-1 有 4096 个神经元；FC-2 对 1000 个类别分类。")
TARGETS = ["params[Conv-1]", "activations[MaxPool-1]", "output_shape[Conv-2]", "params[FC-1]", "params[FC-2]"]
#: the seed's answers to (1)-(5), as its text gives them (002 Q6, 解)
SEED = {1: "34944", 2: str(27 * 27 * 96), 3: "27 × 27", 4: "177213440", 5: "4097000"}


def _spec(folder, lang: str, targets=TARGETS, network: str = "sheet002-q6", statement: str = STATEMENT) -> str:
    return write(folder / f"q6-{lang}.toml",
                 f"title = \"作业 002 第 6 题\"\nlang = \"{lang}\"\n[[problem]]\nnetwork = {toml_string(network)}\n"
                 f"targets = {toml_string(targets) if isinstance(targets, str) else _toml_list(targets)}\n"
                 f"statement = {toml_string(statement)}\n")


def _toml_list(items) -> str:
    return "[" + ", ".join(toml_string(item) if isinstance(item, str) else str(item).lower() for item in items) + "]"


def _answers(key: str, lang: str) -> dict[int, str]:
    """The key's answer lines: sub-question number -> its value as plain digits (or a shape)."""
    opening, closing, colon = ("（", "）", "：") if lang == "zh" else ("(", ")", ": ")
    found = re.findall(rf"\\par\\noindent {re.escape(opening)}(\d){re.escape(closing)}.*?{colon}\$(.*?)\$\n", key)
    return {int(n): value.replace(r"\,", "").replace("{,}", "").replace(r" \times ", " × ") for n, value in found}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_seed_002_q6_asks_five_numbered_sub_questions_and_the_key_answers_each(tmp_path, lang):
    sheet = read_spec(_spec(tmp_path, lang))
    handout, key = (render_sheet(sheet, layout, lang) for layout in ("handout", "key"))
    numbers = ["（1）", "（2）", "（3）", "（4）", "（5）"] if lang == "zh" else ["(1) ", "(2) ", "(3) ", "(4) ", "(5) "]
    places = [handout.index(number) for number in numbers]
    assert places == sorted(places), "numbered in order"
    assert "Conv-1" in handout[places[0]:places[1]] and "FC-2" in handout[places[4]:]
    assert r"$227 \times 227 \times 3$" in handout  # the statement's formulas as mathematics
    for value in ("34944", "34\\,944", "34{,}944", "177\\,213\\,440", "177{,}213{,}440"):
        assert value not in handout, "a handout asks without answering"
    answers = _answers(key, lang)
    assert sorted(answers) == [1, 2, 3, 4, 5], key[-3000:]
    for number, seed in SEED.items():
        assert answers[number].startswith(seed), (number, answers[number], seed)  # (3): 27 × 27 × 256
    assert_no_raw_tex(handout + key)


@pytest.mark.skipif(shutil.which("xelatex") is None, reason="needs TeX")
def test_the_key_pdf_reads_the_seeds_answers(tmp_path, capsys):
    from derive.cli import cli

    assert cli(["sheet", _spec(tmp_path, "zh"), "--pdf", "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "out" / "q6-zh-key.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for number, seed in SEED.items():
        assert f"（{number}）" in flat
        assert re.sub(r"\s+", "", seed) in flat, seed
    handout = subprocess.run(["pdftotext", str(tmp_path / "out" / "q6-zh.pdf"), "-"], capture_output=True,
                             text=True, check=True).stdout
    assert "（5）FC-2" in re.sub(r"\s+", "", handout) and "34944" not in re.sub(r"\s+", "", handout)


def test_inception_reduction_is_a_target_with_the_seeds_ratio(tmp_path):
    """Seed 003 二3: 854.2 M MACs naive, 191.8 M with 1x1 reductions, a drop of about 77.5 %,
    asked to two decimals: the key answers 77.54 % beside the exact fraction."""
    sheet = read_spec(_spec(tmp_path, "en", ["macs_reduction", "macs", "macs_ratio"], "inception-bottleneck",
                            "Inception."))
    answers = _answers(render_sheet(sheet, "key", "en"), "en")
    reduction = re.fullmatch(r"\\frac\{(\d+)\}\{(\d+)\} \\approx (\d+\.\d\d)\\%", answers[1])
    numerator, denominator, percent = reduction.groups()
    assert abs(int(numerator) / int(denominator) - (854.2 - 191.8) / 854.2) < 0.001
    assert percent == "77.54" and round(float(percent), 1) == 77.5
    ratio = re.fullmatch(r"\\frac\{(\d+)\}\{(\d+)\} \\approx ([\d.]+)", answers[3])
    assert abs(int(ratio[1]) / int(ratio[2]) - 854.2 / 191.8) < 0.01 and abs(float(ratio[3]) - 854.2 / 191.8) < 0.01
    assert abs(int(answers[2]) / 1e6 - 191.8) < 0.1  # the seed adds branches rounded to 0.1 M


def test_worked_problem_targets_are_the_checkers(tmp_path):
    """Seed 000 2.1 (bp-221-relu): the output y = f(0.274) = 0.274 and E = (0.274 - 0.5)^2 / 2 = 0.025538."""
    spec = write(tmp_path / "bp.toml", "lang = \"en\"\n[[problem]]\nexample = \"bp-221-relu\"\n"
                                       "targets = [\"forward[y]\", \"loss\"]\n")
    answers = _answers(render_sheet(read_spec(spec), "key", "en"), "en")
    assert sorted(answers) == [1, 2]
    assert answers == {1: "0.274", 2: "0.025538"}, answers  # decimals as the seed prints them, no fraction


def test_convolution_outputs_by_the_checkers_names(tmp_path):
    """Seed 003 二4: the outputs for padding 1, stride 1 and padding 0, stride 2, as the seed prints them."""
    spec = write(tmp_path / "conv.toml", "lang = \"zh\"\n[[problem]]\nexample = \"conv2d-4x4\"\n"
                                         "targets = [\"output[p1s1]\", \"output[p0s2]\"]\n")
    sheet = read_spec(spec)
    handout, key = (render_sheet(sheet, layout, "zh") for layout in ("handout", "key"))
    assert "（1）填充（padding）为 1、步长（stride）为 1 时的输出" in handout
    assert "（2）填充（padding）为 0、步长（stride）为 2 时的输出" in handout
    seed = {1: [[20, 50, 80, 110, 40], [100, 160, 180, 200, 40], [180, 240, 260, 280, 40],
                [260, 320, 340, 360, 40], [0, -130, -140, -150, -160]], 2: [[160, 200], [320, 360]]}
    for number, rows in seed.items():
        line = re.search(rf"\\par\\noindent （{number}）.*：\$(.*)\$\n", key)[1]
        shown = re.search(r"\\begin\{matrix\}(.*)\\end\{matrix\}", line)[1]
        assert [[int(v) for v in row.split("&")] for row in shown.split(r"\\")] == rows


#: target names a spec may try -> what the one-line error must mention
HOSTILE_TARGETS = {
    "unknown-layer": (["params[Conv-9]"], "unknown target 'params[Conv-9]'"),
    "misspelt-quantity": (["param[Conv-1]"], "did you mean 'params[Conv-1]'"),
    "wrong-case": (["params[conv-1]"], "'params[Conv-1]'"),
    "worked-target-on-a-network": (["grad[w11]"], "unknown target 'grad[w11]'"),
    "ratio-without-reference": (["macs_ratio"], "unknown target 'macs_ratio'"),
    "empty": ([""], "unknown target ''"),
    "a-number": ([5], "item 1 must be a string, not int"),
    "a-boolean": ([True], "item 1 must be a string, not bool"),
    "twice": (["params[Conv-1]", "params[Conv-1]"], "target 'params[Conv-1]' is asked twice"),
    "tex-command": ([r"params[\input{/etc/hostname}]"], "unknown target 'params[\\input{/etc/hostname}]'"),
    "line-break": (["params[Conv-1]\n\\input{/etc/hostname}"], "unknown target"),
    "long": (["x" * 10_000], "unknown target 'xxxx"),
    "dunder": (["__class__"], "unknown target '__class__'"),
    "format-field": (["{0.__class__}"], "unknown target '{0.__class__}'"),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    folder = tmp_path_factory.mktemp("targets")
    rows, specs = {}, {}
    for key, (targets, _) in HOSTILE_TARGETS.items():
        specs[key] = write(folder / f"{key}.toml", f"lang = \"en\"\n[[problem]]\nnetwork = \"sheet002-q6\"\n"
                                                  f"targets = {_toml_list(targets)}\n")
        rows[key] = ["sheet", specs[key], "-o", str(folder / key)]
    return {key: (*value, specs[key], folder / key) for key, value in run_table(rows).items()}


@pytest.mark.parametrize("row", list(HOSTILE_TARGETS))
def test_a_bad_target_is_one_line_naming_the_spec_problem_and_target(refused, row):
    status, _, err, spec, folder = refused[row]
    assert_one_line_error(status, err, 2, mentions=f"{spec}: ")
    assert "problem[1]" in err and HOSTILE_TARGETS[row][1] in err, err
    assert len(err) < 500, "the target is quoted, cut short"
    assert not folder.exists() or not any(folder.iterdir()), "nothing is written"


@pytest.mark.parametrize("lang, grouped", [("zh", r"$11\,506\,880$"), ("en", r"$11{,}506{,}880$")])
def test_a_count_answered_in_a_sub_question_has_its_thousands_grouped(lang, grouped):
    # seed 000 3.3: ResNet-18 under the sheet's convention has 11 506 880 parameters
    key = render_sheet(read_spec(EXAMPLES / "resnet18-zh.toml"), "key", lang)
    lines = [line.replace(r"\par\noindent", "").strip() for line in key.splitlines()]
    (line,) = [line for line in lines if line.startswith(("（1）", "(1)"))]
    assert line.endswith(grouped), line
