"""Numeric problems in the checker: networks, worked examples and their spec files as problems,
values checked against published and hand-computed numbers, judged by the digits shown."""

import json
from fractions import Fraction
from pathlib import Path

import pytest
from hostile import assert_one_line_error, run_cli, write

from derive.check.decide import check
from derive.errors import UnknownNameError, UsageError

SEEDS = Path(__file__).parents[2] / "shared" / "seeds"


def _verdict(answer, problem, target, convention=None):
    return check(answer, problem, target, convention=convention)


# -- published numbers ---------------------------------------------------------------------------
# torchvision's model documentation publishes the parameter counts; the seeds (shared/seeds) the
# course's own: 000 line 887 and 001 line 459 give ResNet-18 counted the sheet's way, 11 506 880
# ≈ 11.5 M; 002/003 give AlexNet-like conv layers (34,944, 614,656, 290,400 and 55 x 55 x 96);
# 000/001 the 2-2-1 network's losses (0.025538, then 0.01598 after one step) and updated weights.
PUBLISHED = [
    ("resnet18", "params", None, "11,689,512"),
    ("resnet18", "params", None, "11689512"),
    ("resnet18", "params", None, r"11\,689\,512"),
    ("resnet18", "params", None, "11 689 512"),
    ("resnet18", "params", None, r"\#p = 11,689,512"),
    ("resnet34", "params", None, "21,797,672"),
    ("vgg16", "params", None, "138,357,544"),
    ("alexnet-torchvision", "params", None, "61,100,840"),
    ("resnet18", "params", "sheet", r"11\,506\,880"),
    ("resnet18", "params", "sheet", r"11.5\text{ M}"),
    ("sheet002-q6", "params[Conv-1]", None, r"11 \times 11 \times 3 \times 96 + 96 = 34,944"),
    ("sheet002-q6", "params[Conv-2]", None, "614,656"),
    ("sheet002-q6", "activations[Conv-1]", None, "290,400"),
    ("sheet002-q6", "output_shape[Conv-1]", None, r"55 \times 55 \times 96"),
    ("sheet002-q6", "output_shape[MaxPool-1]", None, "27×27×96"),
    ("bp-221-relu", "loss", None, "0.025538"),
    ("bp-221-relu", "loss_after", None, "0.01598"),
    ("bp-221-relu", "forward[y]", None, "0.274"),
    ("bp-221-relu", "updated[w11]", None, "0.54068"),
    ("bp-221-relu", "updated[v11]", None, "0.6226"),
    ("relu-chain", "grad[w3]", None, "12"),
    ("relu-chain", "forward[L]", None, "L = 8"),
    ("conv2d-4x4", "output[p0s2]", None, "[[160, 200], [320, 360]]"),
    ("conv2d-4x4", "output[p0s2]", None, r"\begin{pmatrix}160 & 200 \\ 320 & 360\end{pmatrix}"),
]


@pytest.mark.parametrize(("problem", "target", "convention", "answer"), PUBLISHED)
def test_published_values_are_correct(problem, target, convention, answer):
    result = _verdict(answer, problem, target, convention)
    assert result["verdict"] == "correct", result


def test_the_seeds_state_what_the_table_cites():
    if not SEEDS.is_dir():
        pytest.skip("the seeds are not beside the repository")
    text = "".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt"))
    for published in (r"11\,506\,880", "34,944", "614,656", "290,400", "0.025538", "0.01598"):
        assert published in text, published


# -- a tiny network and a tiny backprop problem, computed by hand ---------------------------------
TINY_NET = """name = "tiny"
input = [8, 8, 1]
[[layer]]
type = "conv"
name = "c"
out = 2
kernel = 3
padding = 1
[[layer]]
type = "maxpool"
name = "p"
kernel = 2
[[layer]]
type = "flatten"
name = "f"
[[layer]]
type = "linear"
name = "fc"
out = 3
"""


def _tiny_net_by_hand() -> dict:
    conv_weights, conv_bias = 3 * 3 * 1 * 2, 2
    side = (8 + 2 * 1 - 3) // 1 + 1                     # 8: padding 1 keeps the size
    pooled = (side - 2) // 2 + 1                         # 4
    features = pooled * pooled * 2                       # 32
    fc_weights, fc_bias = features * 3, 3
    rf_pool = 3 + (2 - 1) * 1                            # jump 1 before the pool, 2 after it
    return {"params": conv_weights + conv_bias + fc_weights + fc_bias,
            "activations": 8 * 8 * 1 + side * side * 2 + pooled * pooled * 2 + features + 3,
            "macs": side * side * 2 * 3 * 3 * 1 + features * 3,
            "params[c]": conv_weights + conv_bias, "params[fc]": fc_weights + fc_bias,
            "macs[c]": side * side * 2 * 9, "activations[p]": pooled * pooled * 2,
            "receptive_field[c]": 3, "receptive_field[p]": rf_pool,
            "receptive_field[fc]": rf_pool + (pooled - 1) * 2,
            "output_shape[p]": f"{pooled} \\times {pooled} \\times 2", "output_shape[f]": f"[{features}]"}


@pytest.mark.parametrize("target", list(_tiny_net_by_hand()))
def test_a_network_spec_file_is_a_problem(tmp_path, target):
    spec = write(tmp_path / "tiny.toml", TINY_NET)
    answer = _tiny_net_by_hand()[target]
    assert _verdict(str(answer), spec, target)["verdict"] == "correct"
    if isinstance(answer, int):
        assert _verdict(str(answer + 1), spec, target)["verdict"] == "incorrect"


def test_the_tiny_network_without_biases_is_named_as_that_convention(tmp_path):
    spec = write(tmp_path / "tiny.toml", TINY_NET)
    without_bias = 3 * 3 * 1 * 2 + 32 * 3
    result = _verdict(str(without_bias), spec, "params")
    assert result["verdict"] == "incorrect" and "without biases" in result["feedback"]
    assert _verdict(str(without_bias), spec, "params", "no-bias")["verdict"] == "correct"


TINY_BACKPROP = """name = "tinybp"
loss = "E"
learning_rate = 1
[inputs]
x = 0.5
t = 1
[params]
w = 0.25
[nodes]
y = "w*x"
E = "(y - t)^2/2"
"""


def _tiny_backprop_by_hand() -> dict:
    x, t, w = Fraction(1, 2), Fraction(1), Fraction(1, 4)
    y = w * x
    grad = (y - t) * x
    updated = w - 1 * grad
    return {"forward[y]": y, "loss": (y - t) ** 2 / 2, "grad[w]": grad, "updated[w]": updated,
            "loss_after": (updated * x - t) ** 2 / 2}


@pytest.mark.parametrize("target", list(_tiny_backprop_by_hand()))
def test_a_backprop_spec_file_is_a_problem(tmp_path, target):
    spec = write(tmp_path / "tinybp.toml", TINY_BACKPROP)
    value = _tiny_backprop_by_hand()[target]
    fraction = rf"\frac{{{value.numerator}}}{{{value.denominator}}}"
    assert _verdict(fraction, spec, target)["verdict"] == "correct"
    assert _verdict(f"{value.numerator}/{value.denominator}", spec, target)["verdict"] == "correct"
    assert _verdict(f"{float(value):.4f}", spec, target)["verdict"] == "correct"
    assert _verdict(f"{float(value) + 0.01:.4f}", spec, target)["verdict"] == "incorrect"


# -- the digits shown ---------------------------------------------------------------------------------
# bp-221-relu's loss after the step is 4992692668193094921/312500000000000000000 = 0.0159766165...;
# the tiny problem's 441/2048 = 0.21533203125; grad[w11] is -0.04068 exactly.
DIGITS = [
    ("bp-221-relu", "loss_after", "0.01598", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", "0.0160", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", "0.016", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", "0.015977", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", "0.01597662", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", r"1.598 \times 10^{-2}", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", r"E^+ \approx 0.01598", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", r"E^+ = \frac{1}{2}(0.3212 - 0.5)^2 = 0.01598", "correct", "digits shown"),
    ("bp-221-relu", "loss_after", "E = 0.01598 = 0.0160", "correct", "to the digits shown"),
    ("bp-221-relu", "loss_after", "0.5 = 0.01598", "incorrect", "Not every side"),
    ("bp-221-relu", "loss_after", r"0.0159 \approx 0.016", "incorrect", "Not every side"),
    ("bp-221-relu", "loss_after", "0.01598 = 0.5", "incorrect", ""),
    ("bp-221-relu", "loss_after", "E = ", "unparsable", ""),
    ("bp-221-relu", "loss_after", "0.015", "incorrect", "rounded down"),
    ("bp-221-relu", "loss_after", "0.0159", "incorrect", "rounded down"),
    ("bp-221-relu", "loss_after", "0.01597661", "incorrect", "0.01597662"),
    ("bp-221-relu", "loss_after", "0.0161", "incorrect", "0.0160"),
    ("bp-221-relu", "loss_after", "0.02", "incorrect", "significant"),
    ("bp-221-relu", "loss_after", "0", "incorrect", "judged exactly"),
    ("bp-221-relu", "loss_after", "0.00", "incorrect", "significant"),
    ("bp-221-relu", "loss_after", "0.016 + 1", "incorrect", ""),
    ("bp-221-relu", "grad[w11]", "-0.04068", "correct", "Exactly"),
    ("bp-221-relu", "grad[w11]", r"-\frac{1017}{25000}", "correct", "Exactly"),
    ("bp-221-relu", "grad[w11]", "-0.0407", "correct", "to the digits shown"),
    ("bp-221-relu", "grad[w11]", "0.0407", "incorrect", "-0.0407"),
    ("bp-221-relu", "grad[w11]", "-0.0406", "incorrect", "rounded down"),
    ("bp-221-relu", "updated[w11]", "0.85198", "incorrect", "updated[w21]"),
    ("linear-unit", "forward[L]", "12.5", "correct", "Exactly"),
    ("linear-unit", "forward[L]", "12.50", "correct", "Exactly"),
    ("linear-unit", "forward[L]", "12", "incorrect", "judged exactly"),
    ("linear-unit", "forward[L]", "13", "incorrect", "judged exactly"),
    ("linear-unit", "forward[L]", "12.4", "incorrect", "12.5"),
    ("resnet18", "params", "11.7M", "correct", "to the digits shown"),
    ("resnet18", "params", r"11.69 \text{M}", "correct", "to the digits shown"),
    ("resnet18", "params", r"1.169 \times 10^{7}", "correct", "to the digits shown"),
    ("resnet18", "params", "11.6M", "incorrect", "11,700,000"),
    ("resnet18", "params", "11,689,500", "incorrect", "judged exactly"),
    ("resnet18", "params", "11,690,000", "incorrect", "judged exactly"),
    ("resnet18", "params", "11.689512", "incorrect", ""),
    ("resnet18", "params", "11.7 MB", "unparsable", "bytes"),
    ("resnet18", "params", "1,5", "unparsable", "thousands separator"),
    ("resnet18", "params", "11 68 9512", "unparsable", "groups of three"),
    ("resnet18", "params", r"11\,68\,9512", "unparsable", "groups of three"),
    # seed 003 二3 (b): (854.2 M - 191.8 M) / 854.2 M ≈ 77.5 %, asked to two decimals; by hand
    # (854 196 224 - 191 873 024) / 854 196 224 = 0.775376; naive / bottleneck = 4.45188.
    ("inception-bottleneck", "macs_reduction", r"77.54\%", "correct", "to the digits shown"),
    ("inception-bottleneck", "macs_reduction", "77.5 %", "correct", "to the digits shown"),
    ("inception-bottleneck", "macs_reduction", "0.7754", "correct", "to the digits shown"),
    ("inception-bottleneck", "macs_reduction", r"\frac{662323200}{854196224}", "correct", "Exactly"),
    ("inception-bottleneck", "macs_reduction", r"77.53\%", "incorrect", "rounded down"),
    ("inception-bottleneck", "macs_reduction", r"22.46\%", "incorrect", "0.7754"),
    ("inception-bottleneck", "macs_reduction", "77.6 %", "incorrect", "0.775"),
    ("inception-bottleneck", "macs_reduction", "4.45", "incorrect", "0.78"),
    ("inception-bottleneck", "macs_ratio", "4.45", "correct", "to the digits shown"),
    ("inception-bottleneck", "macs_ratio", "0.2246", "incorrect", "4.4519"),
]


@pytest.mark.parametrize(("problem", "target", "answer", "verdict", "says"), DIGITS)
def test_a_rounded_answer_is_judged_by_the_digits_it_shows(problem, target, answer, verdict, says):
    result = _verdict(answer, problem, target)
    assert (result["verdict"], says in result["feedback"]) == (verdict, True), result


def test_the_digits_rule_on_hand_computed_values(tmp_path):
    spec = write(tmp_path / "tinybp.toml", TINY_BACKPROP)
    assert _tiny_backprop_by_hand()["loss_after"] == Fraction(441, 2048)  # 0.21533203125
    table = {"0.2153": "correct", "0.215": "correct", "0.22": "correct", "0.21533203125": "correct",
             "0.2154": "incorrect", "0.21": "incorrect", "0.2": "incorrect", "0.216": "incorrect"}
    got = {answer: _verdict(answer, spec, "loss_after")["verdict"] for answer in table}
    assert got == table
    assert _tiny_backprop_by_hand()["forward[y]"] == Fraction(1, 8)  # 0.125: exactly halfway at 0.01
    halfway = {"0.125": "correct", "0.13": "correct", "0.12": "correct", "0.1": "incorrect", "0.126": "incorrect",
               "0.124": "incorrect"}
    assert {answer: _verdict(answer, spec, "forward[y]")["verdict"] for answer in halfway} == halfway


# -- conventions ---------------------------------------------------------------------------------------
# Batch norm in ResNet-18: gamma and beta per channel, channels 64 (stem) + 4 x 64 + 5 x 128 + 5 x 256
# + 5 x 512 (two per block, one per downsample) = 4 800, so 9 600 parameters.
CONVENTIONS = [
    (None, "11,506,880", "course sheet"),
    (None, f"{11_689_512 - 2 * (64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512):,}", "without batch norm"),
    ("sheet", "11,689,512", "full"),
    ("sheet", "11.7M", "full"),
]


@pytest.mark.parametrize(("convention", "answer", "named"), CONVENTIONS)
def test_another_conventions_count_is_incorrect_and_named(convention, answer, named):
    result = _verdict(answer, "resnet18", "params", convention)
    assert result["verdict"] == "incorrect" and named in result["feedback"], result


# -- shapes --------------------------------------------------------------------------------------------
SHAPES = [
    ("[56, 56, 64]", "correct"), (r"56 \times 56 \times 64", "correct"), ("(56, 56, 64)", "correct"),
    ("56x56x64", "correct"), (r"\left[56, 56, 64\right]", "correct"),
    ("(64, 56, 56)", "incorrect"), (r"64 \times 56 \times 56", "incorrect"), ("56 \\times 56", "incorrect"),
    ("[56, 56, 128]", "incorrect"), ("200704", "incorrect"), ("[1, 56, 56, 64]", "incorrect"),
    ("fifty-six", "unparsable"), ("[56, 56, -64]", "unparsable"),
]


@pytest.mark.parametrize(("answer", "verdict"), SHAPES)
def test_output_shapes_are_h_w_c_as_net_prints_them(answer, verdict):
    result = _verdict(answer, "resnet18", "output_shape[layer1.0.conv1]")
    assert result["verdict"] == verdict, result
    assert ("channels first" in result["feedback"]) == (answer in ("(64, 56, 56)", r"64 \times 56 \times 56"))


HOSTILE = [
    ("9" * 5000, "unparsable"), ("1e99999", "unparsable"), ("nan", "unparsable"), ("inf", "unparsable"),
    (r"\infty", "unparsable"), (r"-\infty", "unparsable"), ("1/0", "unparsable"), ("0/0", "unparsable"),
    (r"\frac{1}{0}", "unparsable"), (r"\sqrt{-1}", "unparsable"), (r"\log(0)", "unparsable"),
    ("{" * 500, "unparsable"), (r"\input{/etc/passwd}", "unparsable"), ("__import__('os')", "unparsable"),
    ("", "unparsable"), (r"e^{e^{e^{e^{10}}}}", "unparsable"), ("1e-99", "incorrect"),
    (r"1 \times 10^{999}", "incorrect"), (r"\pi", "incorrect"), ("11 689 512 K", "incorrect"),
    ("-11,689,512", "incorrect"), ("11,689,512 + 1", "unparsable"), ("11689512 + 1", "incorrect"),
]


@pytest.mark.parametrize(("answer", "verdict"), HOSTILE)
def test_hostile_numeric_answers_are_never_correct(answer, verdict):
    assert _verdict(answer, "resnet18", "params")["verdict"] == verdict


# Conv-1 of sheet 002, question 6 is 11 x 11 with stride 4: its receptive field is 11, FC-1's output 4096.
SIDES = [
    ("receptive_field[Conv-1]", "11", "correct"), ("receptive_field[Conv-1]", r"11 \times 11", "correct"),
    ("receptive_field[Conv-1]", "11x11", "correct"), ("receptive_field[Conv-1]", "121", "incorrect"),
    ("receptive_field[Conv-1]", "12x12", "incorrect"), ("receptive_field[Conv-1]", "11x12", "unparsable"),
    ("output_shape[FC-1]", "4096", "correct"), ("output_shape[FC-1]", "(4096,)", "correct"),
    ("output_shape[FC-1]", "[4096]", "correct"), ("output_shape[FC-1]", "[1000]", "incorrect"),
    ("params[Conv-1]", "11x11", "unparsable"),
]


@pytest.mark.parametrize(("target", "answer", "verdict"), SIDES)
def test_a_receptive_field_as_its_square_and_a_flat_shape_as_one_number(target, answer, verdict):
    assert _verdict(answer, "sheet002-q6", target)["verdict"] == verdict


def test_matrices_are_compared_entrywise():
    wrong = _verdict("[[160, 200], [320, 361]]", "conv2d-4x4", "output[p0s2]")
    assert wrong["verdict"] == "incorrect" and "(2, 2): 361 / 360" in wrong["feedback"]
    assert _verdict("[[160, 200]]", "conv2d-4x4", "output[p0s2]")["verdict"] == "incorrect"
    assert _verdict("[[160, 200], [320]]", "conv2d-4x4", "output[p0s2]")["verdict"] == "unparsable"


# -- unknown names -----------------------------------------------------------------------------------
UNKNOWN = [
    ("resnt18", "params", None, "unknown problem 'resnt18'; did you mean 'resnet18'?"),
    ("resnet18", "parms", None, "did you mean 'params'?"),
    ("resnet18", "params[layer1.0.cnv1]", None, "unknown layer 'layer1.0.cnv1' in 'resnet18'; did you mean "
                                                "'layer1.0.conv1'?"),
    ("bp-221-relu", "grad[w111]", None, "did you mean 'grad[w11]'?"),
    ("resnet18", "params", "shet", "unknown convention 'shet'; did you mean 'sheet'?"),
    ("bp-221-relu", "loss", "sheet", "applies to a network's counts"),
    ("sigmoid", "d1", "sheet", "applies to a network's counts"),
    ("resnet18", None, None, "--targets"),
    ("missing.toml", "params", None, "no such file"),
    ("a\x00.toml", "params", None, "NUL"),
]


@pytest.mark.parametrize(("problem", "target", "convention", "message"), UNKNOWN)
def test_unknown_names_are_errors_with_a_suggestion(problem, target, convention, message):
    with pytest.raises(UsageError, match=None) as raised:
        _verdict("1", problem, target, convention)
    assert message in str(raised.value)
    if "did you mean" in message:
        assert isinstance(raised.value, UnknownNameError)


def test_feedback_in_chinese():
    result = check("0.0160", "bp-221-relu", "loss_after", lang="zh")
    assert result["verdict"] == "correct" and "按所写位数正确" in result["feedback"]
    result = check("11,506,880", "resnet18", "params", lang="zh")
    assert result["verdict"] == "incorrect" and "课程讲义的计数" in result["feedback"]


# -- the command line and grade ---------------------------------------------------------------------
def test_targets_are_listed_as_text_and_json(capsys):
    status, out, _ = run_cli(capsys, "check", "sheet002-q6", "--targets")
    listed = set(out.split())
    wanted = {"params", "params[Conv-1]", "output_shape[FC-1]", "receptive_field[MaxPool-2]"}
    assert status == 0 and wanted <= listed
    status, out, _ = run_cli(capsys, "check", "bp-221-relu", "--targets", "--json")
    listing = json.loads(out)
    wanted = {"loss", "loss_after", "grad[w11]", "updated[v22]", "forward[E]"}
    assert listing["kind"] == "example" and wanted <= set(listing["targets"])
    status, out, _ = run_cli(capsys, "check", "sigmoid", "--targets", "--json")
    assert json.loads(out)["targets"] == ["d1", "d2"]


def test_check_on_the_command_line(capsys):
    status, out, _ = run_cli(capsys, "check", "resnet18", "--target", "params", "--answer", "11,506,880",
                             "--convention", "sheet")
    assert status == 0 and out.startswith("correct: Exactly")
    status, out, _ = run_cli(capsys, "check", "resnet18", "--target", "params", "--answer", "11,506,880")
    assert status == 1 and "course sheet" in out


@pytest.mark.parametrize(("args", "mentions"), [
    (["check", "resnt18", "--target", "params", "--answer", "1"], "did you mean 'resnet18'"),
    (["check", "resnet18", "--target", "params[cnv1]", "--answer", "1"], "did you mean 'conv1'"),
    (["check", "resnet18", "--target", "params", "--answer", "1", "--convention", "shet"],
     "did you mean 'sheet'"),
    (["check", "--targets"], "needs a problem"),
    (["check", "resnt18", "--targets"], "did you mean 'resnet18'"),
    (["check", "resnet18", "--target", "params"], "--answer"),
])
def test_command_line_errors_are_one_line(capsys, args, mentions):
    status, _, err = run_cli(capsys, *args)
    assert_one_line_error(status, err, mentions=mentions)


def test_grade_mixes_numeric_and_symbolic_lines_and_goes_on_after_errors(tmp_path, capsys):
    lines = [
        {"id": 1, "problem": "sigmoid", "target": "d1", "answer": r"\sigma(x)(1-\sigma(x))"},
        {"id": 2, "problem": "resnet18", "target": "params", "answer": "11,689,512"},
        {"id": 3, "problem": "resnet18", "target": "params", "answer": "11,506,880", "convention": "sheet"},
        {"id": 4, "problem": "resnet18", "target": "params", "answer": "11,506,880"},
        {"id": 5, "problem": "bp-221-relu", "target": "loss_after", "answer": "0.0160"},
        {"id": 6, "problem": "resnt18", "target": "params", "answer": "1"},
        {"id": 7, "problem": "resnet18", "target": "params[cnv1]", "answer": "1"},
        {"id": 8, "problem": "resnet18", "target": "params", "answer": "1", "convention": 3},
        {"id": 9, "problem": "sigmoid", "target": "d1", "answer": r"\sigma(x)"},
        {"id": 10, "problem": "conv2d-4x4", "target": "output[p0s2]", "answer": "[[160, 200], [320, 360]]"},
    ]
    path = write(tmp_path / "class.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    status, out, _ = run_cli(capsys, "grade", path)
    results = [json.loads(line) for line in out.splitlines()]
    verdicts = ["correct", "correct", "correct", "incorrect", "correct",
                "error", "error", "error", "incorrect", "correct"]
    assert status == 0 and [r["verdict"] for r in results] == verdicts
    assert "course sheet" in results[3]["feedback"]
    assert "did you mean 'resnet18'" in results[5]["feedback"]
    assert "did you mean 'conv1'" in results[6]["feedback"]
    assert "'convention' must be a string" in results[7]["feedback"]
