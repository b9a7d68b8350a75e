"""Initialization results against numeric integration, a NumPy Monte Carlo and torch.nn.init; their
presentation (results and lines in the course's order, seed 001 section 3.1 and seed 000 section 3.2)."""


import mpmath as mp
import numpy as np
import pytest
import sympy as sp
import torch
from hostile import assert_display_is_computed, assert_each_step_moves_on

import derive
from derive.params import parse_number
from derive.printing import NotationLatexPrinter
from derive.render import wording

N_IN, N_OUT = 256, 128


def value(name, target, **params):
    return float(derive.get(name).value(target, {k: parse_number(str(v)) for k, v in params.items()}))


def test_hand_checked_xavier_numbers():
    # sqrt(6/384) = 1/8 and sqrt(2/384) = sqrt(3)/24, worked by hand.
    d = derive.get("xavier")
    values = {"n_in": sp.Integer(N_IN), "n_out": sp.Integer(N_OUT)}
    assert d.value("uniform_bound", values) == sp.Rational(1, 8)
    assert d.value("normal_std", values) == sp.sqrt(3) / 24
    assert d.value("var", values) == sp.Rational(1, 192)
    assert (d.value("forward_var", values), d.value("backward_var", values)) == (sp.Rational(1, 256),
                                                                                sp.Rational(1, 128))


DENSITIES = {
    "normal": lambda s: (lambda z: mp.npdf(z, 0, s)),
    "laplace": lambda s: (lambda z: mp.exp(-abs(z) / s) / (2 * s)),
    "uniform": lambda s: (lambda z: 1 / (2 * s) if abs(z) <= s else 0),
}


@pytest.mark.parametrize("density", sorted(DENSITIES))
@pytest.mark.parametrize("alpha", ["0", "0.25", "0.6"])
def test_second_moment_of_prelu_by_numeric_integration(density, alpha):
    s, a = mp.mpf("1.7"), mp.mpf(alpha)
    p = DENSITIES[density](s)
    breaks = [-s, 0, s] if density == "uniform" else [-mp.inf, 0, mp.inf]
    measured = mp.quad(lambda z: (z if z > 0 else a * z) ** 2 * p(z), breaks)
    variance = mp.quad(lambda z: z**2 * p(z), breaks)
    expr = derive.get("prelu-init" if alpha != "0" else "kaiming").target("second_moment").rhs
    derived = expr.xreplace({sym: sp.Float(str(variance), 30) if sym.name == "var_z_prev" else sp.Rational(alpha)
                             for sym in expr.free_symbols})
    assert abs(float(derived) - float(measured)) < 1e-12


@pytest.mark.parametrize("name, params, act", [
    ("xavier", {"n_in": N_IN, "n_out": N_IN}, np.tanh),
    ("kaiming", {"n_in": N_IN}, lambda z: np.maximum(z, 0)),
    ("prelu-init", {"n_in": N_IN, "alpha": 0.25}, lambda z: np.where(z > 0, z, 0.25 * z)),
    ("lecun", {"n_in": N_IN}, lambda z: z),
])
def test_variance_is_preserved_across_layers_by_monte_carlo(name, params, act):
    rng = np.random.default_rng(0)
    var = value(name, "var", **params)
    z = rng.standard_normal((4096, N_IN)) * (0.1 if name == "xavier" else 1.0)  # tanh: linear regime
    ratios = []
    for _ in range(6):
        w = rng.normal(0, np.sqrt(var), (N_IN, N_IN))
        z_next = act(z) @ w
        ratios.append(z_next.var() / z.var())
        z = z_next
    # Tanh shrinks slowly outside its linear regime; the rectifiers keep the variance exactly.
    assert abs(np.mean(ratios) - 1) < (0.06 if name == "xavier" else 0.03), ratios


def test_kaiming_fan_out_keeps_backward_variance_by_monte_carlo():
    rng = np.random.default_rng(1)
    var = value("kaiming", "var_fan_out", n_out=N_OUT)
    z = rng.standard_normal((4096, N_IN))
    delta = rng.standard_normal((4096, N_OUT))
    w = rng.normal(0, np.sqrt(var), (N_IN, N_OUT))
    back = (delta @ w.T) * (z > 0)
    assert abs(back.var() / delta.var() - 1) < 0.03


def _empirical(init, **kwargs):
    torch.manual_seed(0)
    w = torch.empty(N_OUT, N_IN, dtype=torch.float64)  # fan_in = 256, fan_out = 128
    init(w, **kwargs)
    return w.std().item(), w.abs().max().item()


def _within_sampling_error(empirical_std, std):
    # The sample std of n = 32768 draws has a standard error of about std / sqrt(2 n).
    return abs(empirical_std - std) < 4 * std / np.sqrt(2 * N_IN * N_OUT)


def test_xavier_matches_torch_init():
    params = {"n_in": N_IN, "n_out": N_OUT}
    std, top = _empirical(torch.nn.init.xavier_uniform_)
    assert _within_sampling_error(std, value("xavier", "normal_std", **params))
    assert value("xavier", "uniform_bound", **params) >= top > 0.99 * value("xavier", "uniform_bound", **params)
    std, _ = _empirical(torch.nn.init.xavier_normal_)
    assert _within_sampling_error(std, value("xavier", "normal_std", **params))


def test_kaiming_prelu_and_lecun_match_torch_init():
    std, top = _empirical(torch.nn.init.kaiming_uniform_, nonlinearity="relu")
    assert _within_sampling_error(std, value("kaiming", "std", n_in=N_IN))
    assert value("kaiming", "uniform_bound", n_in=N_IN) >= top > 0.99 * value("kaiming", "uniform_bound", n_in=N_IN)
    std, _ = _empirical(torch.nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert _within_sampling_error(std, np.sqrt(value("kaiming", "var_fan_out", n_out=N_OUT)))
    std, _ = _empirical(torch.nn.init.kaiming_normal_, a=0.25, nonlinearity="leaky_relu")
    assert _within_sampling_error(std, value("prelu-init", "std", n_in=N_IN, alpha=0.25))
    std, _ = _empirical(torch.nn.init.kaiming_normal_, nonlinearity="linear")
    assert _within_sampling_error(std, value("lecun", "std", n_in=N_IN))


@pytest.mark.parametrize("alpha", [0, 0.01, 0.25, 0.5])
def test_prelu_gain_matches_torch(alpha):
    assert abs(value("prelu-init", "gain", alpha=alpha)
               - torch.nn.init.calculate_gain("leaky_relu", alpha)) < 1e-12


# -- presentation: the course's order (seed 001 section 3.1, seed 000 section 3.2) -----------------

# (entry, target, the result as the course writes it, printed with the entry's own notation)
RESULTS = [
    ("xavier", "forward_var", r"\frac{1}{n_{in}}"),
    ("xavier", "backward_var", r"\frac{1}{n_{out}}"),
    ("xavier", "var", r"\frac{2}{n_{in} + n_{out}}"),
    ("xavier", "uniform_bound", r"\sqrt{\frac{6}{n_{in} + n_{out}}}"),
    ("xavier", "normal_std", r"\sqrt{\frac{2}{n_{in} + n_{out}}}"),
    ("kaiming", "second_moment", r"\frac{\operatorname{Var}(z^{(l-1)})}{2}"),
    ("kaiming", "var", r"\frac{2}{n_{in}}"),
    ("kaiming", "var_fan_out", r"\frac{2}{n_{out}}"),
    ("kaiming", "std", r"\sqrt{\frac{2}{n_{in}}}"),
    ("kaiming", "uniform_bound", r"\sqrt{\frac{6}{n_{in}}}"),
    ("prelu-init", "second_moment", r"\frac{1 + \alpha^{2}}{2} \operatorname{Var}(z^{(l-1)})"),
    ("prelu-init", "var", r"\frac{2}{\left(1 + \alpha^{2}\right) n_{in}}"),
    ("prelu-init", "std", r"\sqrt{\frac{2}{\left(1 + \alpha^{2}\right) n_{in}}}"),
    ("prelu-init", "gain", r"\sqrt{\frac{2}{1 + \alpha^{2}}}"),
    ("prelu-init", "uniform_bound", r"\sqrt{\frac{6}{\left(1 + \alpha^{2}\right) n_{in}}}"),
    ("lecun", "var", r"\frac{1}{n_{in}}"),
    ("lecun", "std", r"\frac{1}{\sqrt{n_{in}}}"),
]
ENTRIES = ("xavier", "kaiming", "prelu-init", "lecun")
RANGES = {"alpha": (0.0, 0.99), "n_in": (1.0, 4096.0), "n_out": (1.0, 4096.0)}


def latex(name, expr):
    return NotationLatexPrinter(derive.get(name).quantities).doprint(expr)


def steps_of(name, rule):
    """The indices of an entry's steps with this rule, in order."""
    return [n for n, step in enumerate(derive.get(name).steps) if step.rule == rule]


@pytest.mark.parametrize("name, target, expected", RESULTS, ids=[f"{n}-{t}" for n, t, _ in RESULTS])
def test_result_is_printed_in_the_course_order(name, target, expected):
    assert latex(name, derive.get(name).target(target).display) == expected


@pytest.mark.parametrize("name", ENTRIES)
def test_every_result_is_pinned(name):
    assert set(derive.get(name).targets) == {target for entry, target, _ in RESULTS if entry == name}


@pytest.mark.parametrize("name, target, _", RESULTS, ids=[f"{n}-{t}" for n, t, _ in RESULTS])
def test_displayed_result_is_the_computed_one(name, target, _):
    result = derive.get(name).target(target)
    assert_display_is_computed(result.display, result.rhs, RANGES, f"{name}:{target}")


@pytest.mark.parametrize("name", ENTRIES)
def test_every_display_form_of_a_step_is_the_computed_line(name):
    shown = [s for s in derive.get(name).steps if s.shown is not None]
    assert shown
    for step in shown:  # the integrals against p are lines of their own, never display forms
        assert_display_is_computed(step.shown, step.rhs, RANGES, f"{name}:{step.rule}")


# Lines of the derivations as the course writes them: (entry, rule, left side, right side)
LINES = [
    ("xavier", "layer-input", "z_i^{(l)}", r"\sum_{j=1}^{n_{in}} W_{ij}^{(l)} a_j^{(l-1)} + b_i^{(l)}"),
    ("xavier", "independence-variance", r"\operatorname{Var}(W_{ij} a_j)",
     (r"\operatorname{Var}(W) \operatorname{Var}(a^{(l-1)}) + \operatorname{Var}(W) \operatorname{E}[a]^{2}"
      r" + \operatorname{Var}(a^{(l-1)}) \operatorname{E}[W]^{2}")),
    ("xavier", "zero-means", "", r"\operatorname{Var}(W) \operatorname{Var}(a^{(l-1)})"),
    ("xavier", "identical-terms", r"n_{in} \operatorname{Var}(W) \operatorname{Var}(a^{(l-1)})",
     r"\operatorname{Var}(a^{(l-1)})"),
    ("xavier", "substitute-recursion", r"n_{out} \operatorname{Var}(W) \operatorname{Var}(\delta^{(l)})",
     r"\operatorname{Var}(\delta^{(l)})"),
    ("xavier", "harmonic-mean", r"\frac{1}{\operatorname{Var}(W)}", r"\frac{n_{in} + n_{out}}{2}"),
    ("kaiming", "sum-of-identical-terms", r"\operatorname{Var}(z^{(l)})",
     r"n_{in} \operatorname{Var}(W) \operatorname{E}[(a^{(l-1)})^2]"),
    ("kaiming", "substitute-second-moment", r"n_{in} \operatorname{Var}(W) \frac{1}{2} \operatorname{Var}(z^{(l-1)})",
     r"\operatorname{Var}(z^{(l-1)})"),
    ("prelu-init", "split-at-zero", "",
     r"\int_{-\infty}^{0} \left(\alpha z\right)^{2} p(z)\, dz + \int_{0}^{\infty} z^{2} p(z)\, dz"),
    ("prelu-init", "take-out-slope", "",
     r"\alpha^{2} \int_{-\infty}^{0} z^{2} p(z)\, dz + \int_{0}^{\infty} z^{2} p(z)\, dz"),
    ("prelu-init", "half-of-symmetric", "", r"\frac{1 + \alpha^{2}}{2} \int_{-\infty}^{\infty} z^{2} p(z)\, dz"),
    ("prelu-init", "substitute-second-moment",
     r"n_{in} \operatorname{Var}(W) \frac{1 + \alpha^{2}}{2} \operatorname{Var}(z^{(l-1)})",
     r"\operatorname{Var}(z^{(l-1)})"),
    ("lecun", "substitute-second-moment", r"n_{in} \operatorname{Var}(W) \operatorname{Var}(z^{(l-1)})",
     r"\operatorname{Var}(z^{(l-1)})"),
]


@pytest.mark.parametrize("name, rule, left, right", LINES, ids=[f"{n}-{r}" for n, r, *_ in LINES])
def test_line_is_written_as_the_course_writes_it(name, rule, left, right):
    (index, *_) = steps_of(name, rule)
    step = derive.get(name).steps[index]
    assert ("" if step.lhs is None else latex(name, step.lhs), latex(name, step.display)) == (left, right)


def test_the_forward_recursion_line_is_the_product_it_prints():
    # M_{l-1} Var(W) Var(a) = Var(a) is an equation the engine derived; its left side, as printed, is that product
    d = derive.get("xavier")
    step = d.steps[steps_of("xavier", "identical-terms")[0]]
    symbols = {q.key: q.symbol for q in d.quantities}
    assert sp.expand(step.lhs.doit() - symbols["n_in"] * symbols["var_w"] * symbols["var_a"]) == 0


@pytest.mark.parametrize("name", ENTRIES)
def test_the_definition_of_z_comes_first_then_the_variance_of_the_sum_then_of_one_term(name):
    first = [step.rule for step in derive.get(name).steps[:3]]
    assert first[:2] == ["layer-input", "variance-of-independent-sum"]
    assert first[2] in ("independence", "independence-variance")


def test_xavier_follows_seed_001():
    d = derive.get("xavier")
    rules = [step.rule for step in d.steps]
    forward = next(n for n, s in enumerate(d.steps) if s.rule == "solve" and s.rhs == 1 / sp.Symbol(
        "n_in", integer=True, positive=True))
    backward = next(n for n, s in enumerate(d.steps) if s.rule == "solve" and s.rhs == 1 / sp.Symbol(
        "n_out", integer=True, positive=True))
    # the product's variance is one unbroken line: nothing between its two steps
    assert rules.index("zero-means") == rules.index("independence-variance") + 1
    # the Taylor line stands where it is used: right before Var(a) = Var(z^(l-1)), after the product
    assert rules.index("taylor") == rules.index("linear-regime-variance") - 1 > rules.index("zero-means")
    # forward result, then the error recursion (delta, dL/dW, delta^(l-1)), then the backward result
    assert forward < rules.index("error-definition") < rules.index("weight-gradient") < rules.index("error-backward")
    assert rules.index("error-backward") < rules.index("backward-recursion") < backward
    # harmonic mean, then U(-r, r), then N(0, sigma^2)
    assert backward < rules.index("harmonic-mean") < rules.index("variance-of-uniform") \
        < rules.index("normal-with-variance")


def test_tanh_series_is_odd_to_order_five():
    z = sp.Symbol("z", real=True)
    (step,) = [s for s in derive.get("xavier").steps if s.rule == "taylor"]
    assert step.lhs == sp.tanh(z)
    assert step.rhs.removeO() == z - z**3 / 3 and step.rhs.getO() == sp.O(z**5)
    assert latex("xavier", step.display) == r"z - \frac{z^{3}}{3} + O(z^{5})"


@pytest.mark.parametrize("name", ["kaiming", "prelu-init"])
def test_the_second_moment_follows_seed_000(name):
    rules = [step.rule for step in derive.get(name).steps]
    start = rules.index("expectation")
    negative_half = ["split-at-zero", "take-out-slope"] if name == "prelu-init" else ["split-at-zero-relu"]
    expected = ["expectation", *negative_half, "half-of-symmetric", "zero-mean-variance"]
    assert rules[start:start + len(expected)] == expected
    # the recursion M_{l-1} Var(W) E[a^2] comes before the second moment, the condition after it
    assert rules.index("sum-of-identical-terms") < start < rules.index("forward-condition")


@pytest.mark.parametrize("name", ENTRIES)
def test_no_step_repeats_the_line_before_and_no_bare_substitute_twice(name):
    assert_each_step_moves_on(name)


def test_xavier_conditions_have_distinct_labels_and_none_repeats_its_left_side():
    for lang in ("en", "zh"):
        labels = wording(lang)["targets"]
        forward, backward, var = labels["forward_var"], labels["backward_var"], labels["var"]
        assert len({forward, backward, var}) == 3
        assert "Var" not in var and "operatorname" not in var, var
