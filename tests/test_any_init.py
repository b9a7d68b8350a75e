"""derive init --act: initialization for any activation (issue 18, part B).

Independent values only: E[f(z)^2] and E[f'(z)^2] against a NumPy Monte Carlo of 10^6 normal draws
(activations and their derivatives written here in NumPy, never taken from the derivation), Kaiming's
2/n_in and PReLU's 2/((1 + a^2) n_in) as published (seed 000 section 3.2), the linear regime's 1/n_in
(LeCun; seed 001 section 3.1's forward condition), the gains against torch.nn.init.calculate_gain.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hostile import TEX_ATTACKS, assert_no_raw_tex, assert_one_line_error, run_cli

from derive.catalog.any_init import init_derivation
from derive.pdf import build_pdf
from derive.render import render, render_document

VAR_Z = 2  # the moments are checked at Var(z) = 2: closed forms put it in, numeric integrals are taken there
SAMPLES = 10**6


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


#: name or definition -> (f, f') in NumPy, written independently of the derivation
ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    "leaky-relu:0.2": (lambda z: np.where(z > 0, z, 0.2 * z), lambda z: np.where(z > 0, 1.0, 0.2)),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
    "elu:1": (
        lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        lambda z: np.where(z > 0, 1.0, np.exp(z)),
    ),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    r"f(z) = \max(0, z) + \frac{1}{2} z": (lambda z: np.maximum(z, 0) + z / 2, lambda z: (z > 0) + 0.5),
    r"f(x) = x^2 - 1": (lambda z: z**2 - 1, lambda z: 2 * z),
    # a kink away from 0: integrated piece by piece between the kinks
    r"f(z) = \begin{cases} 1 & z > 1 \\ z & \text{otherwise} \end{cases}": (
        lambda z: np.minimum(z, 1),
        lambda z: (z < 1) * 1.0,
    ),
}


@pytest.fixture(scope="module")
def derived():
    """Each activation's derivation, built once (at Var(z) = 2 where an integral is numeric)."""
    return {act: init_derivation(act, var_z=str(VAR_Z)) for act in ACTIVATIONS}


def _value(derivation, target: str, **values) -> float:
    rhs = derivation.target(target).rhs
    given = {"var_z_prev": VAR_Z, **values}
    return float(rhs.xreplace({s: given[s.name] for s in rhs.free_symbols if s.name in given}))


def _monte_carlo(g) -> tuple[float, float]:
    """mean of g(z)^2 for z ~ N(0, VAR_Z), and its standard error."""
    z = np.random.default_rng(18).standard_normal(SAMPLES) * math.sqrt(VAR_Z)
    squares = np.asarray(g(z), dtype=np.float64) ** 2
    return float(squares.mean()), float(squares.std() / math.sqrt(SAMPLES))


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_moments_agree_with_a_monte_carlo(derived, act):
    f, slope = ACTIVATIONS[act]
    for target, g in (("second_moment", f), ("square_slope", slope)):
        mean, error = _monte_carlo(g)
        assert abs(_value(derived[act], target) - mean) <= 5 * error + 1e-12, (act, target, mean, error)


@pytest.mark.parametrize("act", list(ACTIVATIONS))
def test_var_w_keeps_the_forward_variance(derived, act):
    """Var(W) n_in E[f(z)^2] = Var(z): the forward condition, with the Monte Carlo's moment."""
    mean, error = _monte_carlo(ACTIVATIONS[act][0])
    product = _value(derived[act], "var", n_in=1) * mean
    assert abs(product - VAR_Z) <= 5 * error * _value(derived[act], "var", n_in=1) + 1e-9


def test_kaiming_and_prelu_come_out_of_the_machinery():
    n_in, n_out, a = sp.symbols("n_in n_out alpha", positive=True)
    relu = init_derivation("relu")
    targets = {
        name: t.rhs.xreplace({s: sp.Symbol(s.name, positive=True) for s in t.rhs.free_symbols})
        for name, t in relu.targets.items()
    }
    assert sp.simplify(targets["var"] - 2 / n_in) == 0
    assert sp.simplify(targets["var_fan_out"] - 2 / n_out) == 0
    assert targets["gain"] == sp.sqrt(2)
    prelu = init_derivation("prelu")  # the slope stays a symbol: a closed form in alpha
    var = prelu.target("var").rhs
    var = var.xreplace({s: sp.Symbol(s.name, positive=True) for s in var.free_symbols})
    assert sp.simplify(var - 2 / ((1 + a**2) * n_in)) == 0
    assert [s.rule for s in relu.steps].count("integrate-normal") == 2  # closed forms, no numeric integral


def test_tanh_linear_regime_beside_the_exact_result(derived):
    tanh = derived["tanh"]
    n_in = next(s for s in tanh.target("var_linear").rhs.free_symbols if s.name == "n_in")
    assert tanh.target("var_linear").rhs == 1 / n_in  # LeCun, Xavier's forward condition
    assert tanh.target("gain_linear").rhs == 1
    exact = _value(tanh, "var", n_in=1)
    assert exact > 1  # tanh shrinks the variance: more than 1/n_in
    steps = [s for s in tanh.steps if s.rule == "numeric-integral"]
    assert len(steps) == 2 and all(s.check == "numeric" for s in steps)
    assert not any(s.rule == "numeric-integral" for s in derived["relu"].steps)


@pytest.mark.parametrize(
    "act, torch_name, param",
    [
        ("relu", "relu", None),
        ("linear", "linear", None),
        ("leaky-relu:0.2", "leaky_relu", 0.2),
        ("tanh", "tanh", None),
    ],
)
def test_gain_against_pytorch(derived, act, torch_name, param):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.init.calculate_gain(torch_name, param)
    if act == "tanh":
        # PyTorch's 5/3 for tanh is a recommended value, not E[f(z)^2]'s gain at any one Var(z): the linear
        # regime gives 1 (as calculate_gain('linear')), the exact gain at Var(z) = 2 is its own number
        assert derived[act].target("gain_linear").rhs == torch.nn.init.calculate_gain("linear")
        assert abs(_value(derived[act], "gain") - theirs) > 0.05
    else:
        assert _value(derived[act], "gain") == pytest.approx(theirs, rel=1e-12)


def test_formats_render(derived):
    derivation = derived["tanh"]
    decimal = sp.sstr(derivation.target("second_moment").display)  # 15 significant digits
    assert len(decimal.strip("0.")) == 15
    for fmt in ("text", "latex", "md", "json"):
        for lang in ("en", "zh"):
            assert decimal in render(derivation, fmt, lang), (fmt, lang)


def test_pdf_of_a_numeric_derivation(derived, tmp_path):
    tex = render_document(derived["tanh"], "zh")
    assert_no_raw_tex(tex)
    assert build_pdf(tex, "init-tanh-zh", tmp_path).stat().st_size > 0


@pytest.mark.parametrize(
    "args, mentions",
    [
        (["--act", "swoosh"], "unknown activation for --act 'swoosh'"),
        (["--act", r"f(z) = \frac{1}{"], "does not read"),
        (["--act", "f(z, y) = z y"], "one variable"),
        (["--act", "f(z) = z + y"], "besides its variable"),
        (["--act", "f(z) = e^{z^2}"], "diverges"),
        (["--act", "f(z) = e^{z^2/4}"], "diverges"),
        (["--act", r"f(z) = \ln(z)"], "not real"),
        (["--act", "f(z) = g(z)"], "--act 'f(z) = g(z)'"),  # an undefined function, named
        (["--act", "relu:0.5"], "only leaky-relu, prelu and elu take a slope"),
        (["--act", "leaky-relu:1.5"], "[0, 1)"),
        (["--act", "elu:x"], "is not a number"),
        (["--act", ""], "--act"),
        (["--act", "relu", "--density", "uniform"], "--density"),
        (["--act", "tanh", "--var-z", "0"], "--var-z"),
        (["--act", "tanh", "--var-z", "nan"], "--var-z"),
        (["--density", "normal"], "--act"),
        (
            ["--act", r"f(z) = \sin(e^{z^2})", "--timeout", "2"],
            "longer than --timeout 2 s",
        ),  # quadrature never settles
        (["--act", "relu", "--timeout", "0"], "--timeout"),
        (["--act", "relu", "--timeout", "601"], "(limit init.timeout)"),
        *((["--act", attack], "--act") for attack in TEX_ATTACKS),
    ],
)
def test_hostile_act_is_one_line_exit_2(capsys, args, mentions):
    status, out, err = run_cli(capsys, "init", *args)
    assert_one_line_error(status, err)
    assert mentions in err and not out


# -- simulate --act takes init's names and definitions ------------------------------------------------
def test_simulate_lambdifies_a_definition_as_pytorch_computes_it():
    """GELU by name and as 'f(z) = z \\Phi(z)': the same network, and f, f' as PyTorch's gelu and autograd."""
    torch = pytest.importorskip("torch")
    from derive.simulate import _numpy_activation, parse_config, simulate

    by_name = parse_config("gelu", "lecun", depth=3, width=16, batch=8)
    written = parse_config(r"f(z) = z \Phi(z)", "lecun", depth=3, width=16, batch=8)
    assert simulate(by_name).forward_var == pytest.approx(simulate(written).forward_var, rel=1e-12)
    points = np.linspace(-4, 4, 41)
    value, slope = _numpy_activation(written)(points.copy())
    z = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.gelu(z)
    out.sum().backward()
    assert np.allclose(value, out.detach().numpy(), rtol=1e-12, atol=1e-15)
    assert np.allclose(slope, z.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "act, mentions",
    [
        ("swoosh", "unknown activation 'swoosh'"),
        ("leaky-relu", "give the slope a value"),
        ("f(z) = e^{z^2} + y", "besides its variable"),
        *((attack, "--act") for attack in TEX_ATTACKS),
    ],
)
def test_simulate_hostile_act(capsys, act, mentions):
    status, out, err = run_cli(
        capsys, "simulate", "--act", act, "--init", "lecun", "--depth", "2", "--width", "4"
    )
    assert_one_line_error(status, err)
    assert mentions in err and not out


# -- a teacher's init entry graded by check: wrong answers stay wrong ---------------------------------
CATALOG = '[[entry]]\nname = "relu-he"\nkind = "init"\nactivation = "relu"\n'


@pytest.mark.parametrize("target, answer, verdict", [
    ("var", r"\frac{2}{M_{l-1}}", "correct"),
    ("var", r"\frac{1}{n_{in}}", "incorrect"),               # LeCun's, the ReLU's factor 2 forgotten
    ("var", r"\frac{2}{n_{out}}", "incorrect"),              # fan-out for fan-in
    ("var", r"\sqrt{\frac{2}{n_{in}}}", "incorrect"),        # the standard deviation for the variance
    ("var", r"\frac{2}{n_{in} + n_{out}}", "incorrect"),     # Xavier's
    ("gain", r"2", "incorrect"),                             # the variance's factor for the gain
    ("square_slope", r"1", "incorrect"),                     # ReLU'(z)^2 = 1 on the whole line
])
def test_check_grades_an_init_entry(capsys, tmp_path, target, answer, verdict):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    status, out, err = run_cli(capsys, "check", "relu-he", "--target", target, "--answer", answer, "--json",
                               "--catalog", str(catalog))
    assert "Traceback" not in err and json.loads(out)["verdict"] == verdict, (out, err)
    assert status == (0 if verdict == "correct" else 1)


# -- a numeric moment answered as a decimal: judged by the digits it shows --------------------------------
TANH_CATALOG = '[[entry]]\nname = "tanh-num"\nkind = "init"\nactivation = "tanh"\n'


def _rounded(value, digits: int) -> str:
    return mpmath.nstr(value, digits, strip_zeros=False)


def _tanh_moment():
    """E[tanh(z)^2] for z ~ N(0, 1), by mpmath quadrature (independent of derive's integral)."""
    with mpmath.workdps(30):
        return mpmath.quad(lambda t: mpmath.tanh(t) ** 2 * mpmath.npdf(t), [-mpmath.inf, 0, mpmath.inf])


def _tanh_rows():
    moment = _tanh_moment()
    gain = mpmath.sqrt(1 / moment)  # sigma = gain / sqrt(n_in) with Var(W) = 1/(n_in E[f^2])
    return [
        ("second_moment", _rounded(moment, 3), "correct"),
        ("second_moment", _rounded(moment, 6), "correct"),
        ("second_moment", _rounded(moment, 15), "correct"),
        ("second_moment", _rounded(moment + mpmath.mpf("0.001"), 3), "incorrect"),  # the next value at 3 digits
        ("second_moment", _rounded(moment, 1), "incorrect"),                        # one digit shows too little
        ("second_moment", str(mpmath.floor(moment * 10**4) / 10**4)[:6], "incorrect"),  # cut off, not rounded
        ("second_moment", r"\frac{2}{5}", "incorrect"),                              # an exact value it is not
        ("gain", _rounded(gain, 3), "correct"),
        ("gain", "1.67", "incorrect"),                                               # PyTorch's 5/3 for tanh
    ]


@pytest.mark.parametrize("row", range(9))
def test_a_numeric_moment_is_judged_by_the_digits_shown(capsys, tmp_path, row):
    target, answer, verdict = _tanh_rows()[row]
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(TANH_CATALOG, encoding="utf-8")
    status, out, err = run_cli(capsys, "check", "tanh-num", "--target", target, "--answer", answer, "--json",
                               "--catalog", str(catalog))
    report = json.loads(out)
    assert "Traceback" not in err and report["verdict"] == verdict, (answer, out, err)
    assert status == (0 if verdict == "correct" else 1)
    if verdict == "correct":
        assert report["certificate"]["method"] in ("digits", "exact")
