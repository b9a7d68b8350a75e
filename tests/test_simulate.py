"""`derive simulate`: the Monte Carlo against independent predictions, against PyTorch, and its outputs.

The references here do not go through derive.simulate's code paths: predictions are the textbook
closed forms (ReLU, leaky ReLU) or NumPy Gauss-Hermite quadrature of np.tanh (not the catalog's
lambdified definitions, not mpmath); the measured moments are recomputed by PyTorch autograd
from the same random numbers, drawn here by the documented recipe.
"""

import json
import math
import os
import re
import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derive import markup, pdf
from derive.cli import cli
from derive.render import render_sheet
from derive.sheet import read_spec
from derive.simulate import parse_config, simulate, weight_variance

WORDING = Path(__file__).resolve().parent.parent / "templates" / "wording"
needs_tex = pytest.mark.skipif(not pdf.tex_available() and not os.environ.get("CI"),
                               reason="TeX is not installed (the README's test command installs it)")

# Sizes of the statistical tests: wide (the scatter is set by the width, see sd below), short batches.
WIDTH, DEPTH, BATCH = 512, 20, 64


def sd(layers_of_weights: int, width: int = WIDTH, batch: int = BATCH) -> float:
    """Standard deviation of log(measured / predicted) for a moment after ``layers_of_weights`` layers.

    Two sources. (1) The batch: a variance estimated from batch*width Gaussian samples has relative
    standard error sqrt(2/(batch*width)). (2) The one draw of the weights, which dominates: every
    layer multiplies the moment by a squared norm of `width` Gaussian terms (a chi-square with
    `width` degrees of freedom over width), relative sd sqrt(2/width), and these compound like a
    random walk in the log, so after k layers sqrt(2k/width). Forward, z_l has passed k = l layers;
    backward, dL/dz_l has passed k = depth - l (dL/dz_depth = r exactly). The batch does not average
    (2) away: every row sees the same weights. Checked over 25 seeds x 3 configurations x 40 moments
    at these sizes: the largest deviation was 5.1 sd, so a single moment is allowed 6 sd.
    """
    return math.sqrt(2 * layers_of_weights / width + 2 / (batch * width))


def ratio_sd(depth: int = DEPTH, width: int = WIDTH) -> float:
    """sd of the log of the geometric-mean ratio: (log error at the end - at the start)/(depth - 1),
    the difference spanning depth - 1 layers of weights: sqrt(2 (depth-1)/width)/(depth-1).
    Over the same 25 seeds the largest deviation was 3.1 sd; allowed: 5 sd."""
    return math.sqrt(2 / (width * (depth - 1)))


def gauss_hermite_square(g, variance: float, nodes: int = 200) -> float:
    """E[g(z)^2] for z ~ N(0, variance) by NumPy's probabilists' Gauss-Hermite rule (smooth g only)."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    return float(np.sum(w * g(math.sqrt(variance) * t) ** 2) / math.sqrt(2 * math.pi))


def reference_prediction(depth: int, gain: float, square_f, square_slope):
    """The variance recursion written out again: forward from n Var(W), backward from 1."""
    forward = [gain]
    for _ in range(depth - 1):
        forward.append(gain * square_f(forward[-1]))
    backward = [1.0]
    for variance in reversed(forward[:-1]):
        backward.append(gain * square_slope(variance) * backward[-1])
    return np.array(forward), np.array(backward[::-1])


TANH = (lambda v: gauss_hermite_square(np.tanh, v), lambda v: gauss_hermite_square(lambda z: 1 - np.tanh(z) ** 2, v))
SIGMOID = (lambda v: gauss_hermite_square(lambda z: 1 / (1 + np.exp(-z)), v),
           lambda v: gauss_hermite_square(lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2, v))


def rectifier(slope: float):
    """E[f(z)^2] = (1 + a^2)/2 Var(z) and E[f'(z)^2] = (1 + a^2)/2 for a symmetric z (closed forms)."""
    half = (1 + slope**2) / 2
    return (lambda v: half * v), (lambda v: half)


@pytest.mark.parametrize("init, width, expected", [
    ("xavier", 64, Fraction(1, 64)), ("kaiming", 64, Fraction(1, 32)), ("lecun", 64, Fraction(1, 64)),
    ("prelu:0.25", 64, Fraction(1, 34)),          # 2/((1 + 1/16) 64)
    ("normal:0.05", 64, Fraction(1, 400)),
])
def test_weight_variance_is_the_catalogs_at_this_width(init, width, expected):
    _, value = weight_variance(parse_config("relu", init, 3, width, 8))
    assert value == sp.Rational(expected.numerator, expected.denominator)


@pytest.mark.parametrize("act, init, var_w, squares", [
    ("relu", "kaiming", 2 / 48, rectifier(0.0)),
    ("leaky_relu:0.2", "prelu", 2 / (1.04 * 48), rectifier(0.2)),
    ("linear", "lecun", 1 / 48, rectifier(1.0)),
    ("tanh", "xavier", 1 / 48, TANH),
    ("sigmoid", "normal:0.3", 0.09, SIGMOID),
])
def test_prediction_agrees_with_an_independent_recursion(act, init, var_w, squares):
    result = simulate(parse_config(act, init, depth=12, width=48, batch=4))
    forward, backward = reference_prediction(12, 48 * var_w, *squares)
    assert np.allclose(result.forward_pred, forward, rtol=1e-9, atol=0)
    assert np.allclose(result.backward_pred, backward, rtol=1e-9, atol=0)


def _json(capsys, *args) -> dict:
    assert cli(["simulate", *args]) == 0
    out, err = capsys.readouterr()
    assert not err
    return json.loads(out)


def _check_layers(document: dict, forward: np.ndarray, backward: np.ndarray) -> None:
    measured_f = np.array([layer["forward_var"] for layer in document["layers"]])
    measured_b = np.array([layer["backward_m2"] for layer in document["layers"]])
    depth = len(measured_f)
    for index in range(depth):
        assert abs(math.log(measured_f[index] / forward[index])) < 6 * sd(index + 1), ("forward", index + 1)
    for index in range(depth - 1):
        assert abs(math.log(measured_b[index] / backward[index])) < 6 * sd(depth - index - 1), ("backward", index + 1)
    assert measured_b[-1] == 1.0          # dL/dz_depth = r, and r_i^2 = 1


def test_relu_with_xavier_halves_the_variance_every_layer_both_ways(capsys):
    document = _json(capsys, "--act", "relu", "--init", "xavier", "--depth", str(DEPTH), "--width", str(WIDTH),
                     "--batch", str(BATCH), "--json")
    assert abs(math.log(document["forward_ratio"] / 0.5)) < 5 * ratio_sd()
    assert abs(math.log(document["backward_ratio"] / 0.5)) < 5 * ratio_sd()
    layers = np.arange(1, DEPTH + 1)
    _check_layers(document, 0.5 ** (layers - 1), 0.5 ** (DEPTH - layers))


def test_relu_with_kaiming_keeps_the_variance_both_ways(capsys):
    document = _json(capsys, "--act", "relu", "--init", "kaiming", "--depth", str(DEPTH), "--width", str(WIDTH),
                     "--batch", str(BATCH), "--seed", "1", "--json")
    assert abs(math.log(document["forward_ratio"])) < 5 * ratio_sd()
    assert abs(math.log(document["backward_ratio"])) < 5 * ratio_sd()
    _check_layers(document, np.full(DEPTH, 2.0), np.ones(DEPTH))


def test_tanh_with_xavier_follows_its_prediction(capsys):
    document = _json(capsys, "--act", "tanh", "--init", "xavier", "--depth", str(DEPTH), "--width", str(WIDTH),
                     "--batch", str(BATCH), "--seed", "2", "--json")
    forward, backward = reference_prediction(DEPTH, 1.0, *TANH)
    _check_layers(document, forward, backward)
    predicted = (forward[-1] / forward[0]) ** (1 / (DEPTH - 1))
    assert predicted < 0.9                # tanh with Xavier does shrink: the test can tell
    assert abs(math.log(document["forward_ratio"] / predicted)) < 5 * ratio_sd()
    predicted = (backward[0] / backward[-1]) ** (1 / (DEPTH - 1))
    assert abs(math.log(document["backward_ratio"] / predicted)) < 5 * ratio_sd()


@pytest.mark.parametrize("act, init, var_w", [("tanh", "xavier", 1 / 24), ("leaky_relu:0.2", "prelu", 2 / (1.04 * 24)),
                                              ("sigmoid", "normal:0.5", 0.25), ("relu", "kaiming", 2 / 24)])
def test_numpy_moments_equal_pytorch_autograd_on_the_same_numbers(act, init, var_w):
    torch = pytest.importorskip("torch")
    depth, width, batch, seed = 5, 24, 50, 7
    config = parse_config(act, init, depth, width, batch, seed)
    result = simulate(config, chunk_rows=7)          # 7 chunks of 7 rows and one of 1
    rng = np.random.default_rng(seed)                # the documented order: weights, readout, inputs
    weights = [torch.tensor(rng.standard_normal((width, width)) * math.sqrt(var_w), requires_grad=True)
               for _ in range(depth)]
    readout = torch.tensor(2.0 * rng.integers(0, 2, width) - 1.0)
    a = torch.tensor(rng.standard_normal((batch, width)))
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
         "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.2)}[act.partition(":")[0]]
    pre = []
    for index, w in enumerate(weights):
        z = a @ w.T
        z.retain_grad()
        pre.append(z)
        a = f(z) if index < depth - 1 else None
    (pre[-1] @ readout).sum().backward()
    forward = np.array([z.detach().var(correction=0).item() for z in pre])
    backward = np.array([(z.grad**2).mean().item() for z in pre])
    assert np.allclose(result.forward_var, forward, rtol=1e-10, atol=0)
    assert np.allclose(result.backward_m2, backward, rtol=1e-10, atol=0)


def test_json_contract(capsys):
    document = _json(capsys, "--act", "leaky_relu", "--init", "prelu", "--depth", "4", "--width", "16", "--batch", "8",
                     "--json")
    assert list(document) == ["act", "init", "depth", "width", "batch", "seed", "layers", "forward_ratio",
                              "backward_ratio"]
    assert (document["act"], document["init"]) == ("leaky_relu:0.01", "prelu:0.01")
    assert [document[k] for k in ("depth", "width", "batch", "seed")] == [4, 16, 8, 0]
    assert [layer["l"] for layer in document["layers"]] == [1, 2, 3, 4]
    for layer in document["layers"]:
        assert list(layer) == ["l", "forward_var", "forward_pred", "backward_m2", "backward_pred"]
        assert all(isinstance(layer[k], float) for k in list(layer)[1:])
    forward = [layer["forward_var"] for layer in document["layers"]]
    backward = [layer["backward_m2"] for layer in document["layers"]]
    # geometric means of the layer-to-layer ratios, forward l -> l+1 and backward l+1 -> l
    assert math.isclose(document["forward_ratio"], np.prod(np.array(forward[1:]) / forward[:-1]) ** (1 / 3))
    assert math.isclose(document["backward_ratio"], np.prod(np.array(backward[:-1]) / backward[1:]) ** (1 / 3))
    one = _json(capsys, "--act", "relu", "--init", "kaiming", "--depth", "1", "--width", "4", "--batch", "2", "--json")
    assert one["forward_ratio"] is None and one["backward_ratio"] is None


def _text(capsys, *args) -> str:
    """The text report of a small run, its lines joined (the report wraps at 100 columns)."""
    assert cli(["simulate", "--depth", "3", "--width", "8", "--batch", "4", *args]) == 0
    return " ".join(capsys.readouterr()[0].split())


def test_text_says_what_the_readout_is_in_both_languages(capsys):
    out = _text(capsys, "--act", "relu", "--init", "xavier")
    assert "fixed vector of random signs" in out and "Not a plain sum of the outputs" in out
    # the course's notation by default: Var(W) = 2/(M_(l-1) + M_l), the sizes named as they are here
    assert "Var(W) = 2/(M_(l-1) + M_l) = 1/8 ≈ 0.125 (M_(l-1) = M_l = n = 8)" in out
    # formulas in Unicode: the expectation as 𝔼, the partial derivative as ∂, no markup left
    assert "𝔼[(∂ L / ∂ z^(l))^2]" in out and "x ∼ N(0, 1)" in out and "√(2/8)" in out
    assert "$" not in out and "\\" not in out and "operatorname" not in out
    assert _text(capsys, "--act", "relu", "--init", "xavier", "--notation", "textbook").count("2/(n_in + n_out)") == 1
    out = _text(capsys, "--act", "relu", "--init", "xavier", "--lang", "zh")
    assert "随机符号向量" in out and "不直接对输出求和" in out and "Var(W) = 2/(M_(l-1) + M_l) = 1/8" in out


#: outside a phrase's formulas, what would be a formula typed as text
ASCII_FORMULAS = ("Var(", "E[", "^2", "dL/dz", "sqrt(", "alpha", "sigma", " ~ ", "+1 or -1", "[l]", "_in", "float64")


def _simulate_phrases():
    for lang in ("en", "zh"):
        table = tomllib.loads((WORDING / f"{lang}.toml").read_text(encoding="utf-8"))["simulate"]
        for key, phrase in table.items():
            yield pytest.param(lang, key, phrase, id=f"{lang}-{key}")


@pytest.mark.parametrize("lang, key, phrase", _simulate_phrases())
def test_a_simulation_phrase_types_its_formulas_as_math(lang, key, phrase):
    assert not key.endswith("_tex")                      # one phrase, every form from it
    text = "".join(piece for is_math, piece in markup.parts(phrase) if not is_math)
    assert not [residue for residue in ASCII_FORMULAS if residue in text], text
    assert r"\operatorname{E}" not in phrase              # an expectation is \mathbb{E}
    if lang == "zh":  # Chinese text ends its clauses with full-width punctuation
        assert not re.search(f"{markup.CJK}[,.;:!?]", text), text


def _sim_spec(tmp_path, init: str, notation: str = "") -> str:
    path = tmp_path / "sim.toml"
    path.write_text(f'title = "t"\nlang = "en"\n{notation}\n[[problem]]\nsimulate = {{act = "relu", init = "{init}", '
                    'depth = 3, width = 8, batch = 4}\npoints = 3\n', encoding="utf-8")
    return str(path)


# (init, --notation, the spec's notation key) -> what the statement's Var(W) reads, and what it never reads
NOTATIONS = [
    ("xavier", None, "", r"$\operatorname{Var}(W) = {\frac{2}{M_{l-1} + M_l}} = {\frac{1}{8}}$", ("n_{in}", r"\text{in}")),
    ("xavier", "course", 'notation = "textbook"', r"{M_{l-1} = M_l = n} = {8}", ("n_{in}", r"\text{in}")),
    ("xavier", "textbook", "", r"{\frac{2}{n_{\text{in}} + n_{\text{out}}}} = {\frac{1}{8}}", ("n_{in}", "M_{l-1}")),
    ("xavier", None, 'notation = "textbook"', r"{n_{\text{in}} = n_{\text{out}} = n} = {8}", ("n_{in}", "M_l")),
    ("kaiming", None, "", r"$\operatorname{Var}(W) = {\frac{2}{M_{l-1}}} = {\frac{1}{4}}$", ("n_{in}", "M_l =")),
    ("kaiming", None, "", r"{M_{l-1} = n} = {8}", ("n_{in}",)),
    ("prelu:0.5", "textbook", "", r"{\frac{2}{\left(1 + \alpha^{2}\right) n_{\text{in}}}} = {\frac{1}{5}}",
     ("n_{in}", "M_{l-1}")),                                   # 2/((1 + 1/4) 8), the order the catalog entry prints
    ("normal:0.5", None, "", r"$\operatorname{Var}(W) = {S^{2}} = {\frac{1}{4}}$", ("n_{in}", "M_{l-1}")),
]


@pytest.mark.parametrize("init, notation, key, printed, never", NOTATIONS)
def test_a_simulation_statement_writes_var_w_in_the_documents_notation(tmp_path, init, notation, key, printed, never):
    sheet = read_spec(_sim_spec(tmp_path, init, key))
    for layout in ("handout", "key"):
        tex = render_sheet(sheet, layout, "en", notation=notation)
        assert printed in tex and not [name for name in never if name in tex], (layout, tex)


@pytest.mark.parametrize("args, message", [
    (["--act", "swoosh", "--init", "xavier"], "--act: unknown activation 'swoosh'"),  # swish: derive init's name
    (["--act", "leaky_relu:1.5", "--init", "xavier"], "--act leaky_relu:1.5: the slope A must be in [0, 1)"),
    (["--act", "leaky_relu:-0.1", "--init", "xavier"], "the slope A must be in [0, 1)"),
    (["--act", "relu", "--init", "glorot"], "--init: unknown initialization 'glorot'"),
    (["--act", "relu", "--init", "prelu"], "--init prelu: prelu needs a slope"),
    (["--act", "relu", "--init", "normal:0"], "--init normal:0: give a positive standard deviation"),
    (["--act", "relu", "--init", "xavier", "--depth", "0"], "--depth must be an integer in [1, 1000], not 0"),
    (["--act", "relu", "--init", "xavier", "--width", "-4"], "--width must be an integer"),
    (["--act", "relu", "--init", "xavier", "--batch", "1e3"], "--batch '1e3' is not an integer"),
    (["--act", "relu", "--init", "xavier", "--width", "16384", "--depth", "30"], "too many to allocate"),
    (["--act", "relu", "--init", "xavier", "--batch", "100000000"], "--batch 100000000 and --width 512"),
    (["--init", "xavier"], "the following arguments are required: --act"),
    (["--act", "relu", "--init", "xavier", "--notation", "nope"], "unknown notation profile 'nope'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    status = cli(["simulate", *args])
    out, err = capsys.readouterr()
    assert status == 2 and not out
    assert err.count("\n") == 1 and err.startswith("derive: error: ") and message in err, err


def _spec(tmp_path, simulate: str) -> str:
    path = tmp_path / "sim.toml"
    path.write_text(f'title = "t"\nlang = "en"\n[[problem]]\nsimulate = {simulate}\npoints = 3\n', encoding="utf-8")
    return str(path)


def test_a_sheet_problem_may_be_a_simulation(tmp_path):
    sheet = read_spec(_spec(tmp_path, '{act = "tanh", init = "xavier", depth = 6, width = 32, batch = 16}'))
    handout, key, formulas = (render_sheet(sheet, layout, "en") for layout in ("handout", "key", "formulas"))
    assert "ymode=log" in handout and "ymode=log" in key
    assert handout.count(r"\addplot") == 2 and key.count(r"\addplot") == 4   # measured only; all four
    assert "stated as definitions" not in key          # no derivation, so no count of verified steps
    assert r"\begin{tabular}{rrrrr}" in key and "Per layer (geometric mean" in key
    # a formula sheet states the factor per layer the recursion predicts, never the measured ratios
    assert r"\frac{\operatorname{Var}(z^{(l+1)})}{\operatorname{Var}(z^{(l)})} &= n \operatorname{Var}(W)" in formulas
    assert "geometric mean" not in formulas and r"\addplot" not in formulas


@pytest.mark.parametrize("simulate, message", [
    ('{act = "relu", init = "xavier", depht = 3}', "unknown key 'problem[1].simulate.depht'"),
    ('{act = "relu", init = "xavier", depth = 0}', "problem[1].simulate.depth must be an integer in [1, 1000]"),
    ('{act = "relu"}', "'problem[1].simulate.init' must be given"),
    ('{act = "elu-ish", init = "xavier"}', "problem[1].simulate.act: unknown activation 'elu-ish'"),  # elu: init's name
])
def test_a_bad_simulation_in_a_spec_names_the_file_and_key(tmp_path, capsys, simulate, message):
    status = cli(["sheet", _spec(tmp_path, simulate), "-o", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert status == 2 and err.count("\n") == 1 and "sim.toml" in err and message in err, err
    assert not (tmp_path / "out").exists()


@needs_tex
def test_pdf_has_the_table_and_a_log_scale_plot(tmp_path, capsys):
    assert cli(["simulate", "--act", "relu", "--init", "xavier", "--depth", "8", "--width", "32", "--batch", "16",
                "--pdf", "-o", str(tmp_path)]) == 0
    capsys.readouterr()
    tex = (tmp_path / "simulate-relu-xavier-en.tex").read_text(encoding="utf-8")
    assert "ymode=log" in tex and tex.count(r"\addplot") == 4 and r"\begin{longtable}" in tex
    assert (tmp_path / "simulate-relu-xavier-en.pdf").stat().st_size > 1000
