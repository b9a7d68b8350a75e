"""The depth entries against computations that do not go through the code that derived them:
a dense NumPy grid and a golden-section search with mpmath derivatives for the largest slopes,
torch autograd through random and extreme chains for the gradient bounds, mpmath quadrature
and torch.nn.init's gains for the activation gains, and NumPy Monte Carlo of deep stacks for
the variance recursion, its product over the layers and the conditions."""

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
import torch
from hostile import assert_display_is_computed, assert_each_step_moves_on

import derive
from derive.catalog.initialization import Z
from derive.printing import NotationLatexPrinter
from derive.render import wording

SIGMOID = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731 - the textbook definitions, written here
ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": np.tanh}
TORCH = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def target(name, key):
    return derive.get(name).target(key).rhs


def number(expr, **values):
    """The float an expression stands for, its symbols given by name."""
    return float(expr.xreplace({s: sp.nsimplify(values[s.name]) for s in expr.free_symbols if s.name in values}))


def golden_section_max(f, low, high, tol=mp.mpf("1e-20")):
    """The maximiser of a unimodal f on [low, high] by golden-section search."""
    ratio = (mp.sqrt(5) - 1) / 2
    a, b = mp.mpf(low), mp.mpf(high)
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    while b - a > tol:
        if f(c) > f(d):
            b, d = d, c
            c = b - ratio * (b - a)
        else:
            a, c = c, d
            d = a + ratio * (b - a)
    return (a + b) / 2


@pytest.mark.parametrize("name, peak", [("sigmoid", 0.25), ("tanh", 1.0)])
def test_largest_slope_on_a_dense_grid(name, peak):
    x = np.linspace(-12, 12, 240_001)
    slope = np.gradient(ACTIVATIONS[name](x), x)  # central differences of the function itself
    assert abs(slope.max() - number(target("vanishing", f"{name}_max"))) < 1e-8
    assert abs(x[slope.argmax()] - number(target("vanishing", f"{name}_argmax"))) < 1e-4
    assert number(target("vanishing", f"{name}_max")) == peak


def test_largest_slope_by_golden_section_search():
    functions = {"sigmoid": lambda t: 1 / (1 + mp.exp(-t)), "tanh": mp.tanh}
    with mp.workdps(40):
        for name, f in functions.items():
            slope = lambda t, f=f: mp.diff(f, t)  # noqa: E731
            best = golden_section_max(slope, -7, 5)
            assert abs(best - number(target("vanishing", f"{name}_argmax"))) < mp.mpf("1e-9")
            assert abs(slope(best) - mp.mpf(str(target("vanishing", f"{name}_max")))) < mp.mpf("1e-25")


def test_tanh_slope_is_below_one_away_from_zero():
    x = np.concatenate([np.linspace(-8, -1e-3, 5000), np.linspace(1e-3, 8, 5000)])
    h = 1e-6
    slope = (np.tanh(x + h) - np.tanh(x - h)) / (2 * h)
    assert (slope < number(target("vanishing", "tanh_max"))).all()


def _chains(name, depth, weights, biases, start):
    """Forward through a batch of scalar chains a_l = f(w_l a_(l-1) + b_l); the gradient by autograd."""
    a0 = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    a, pre = a0, []
    for layer in range(depth):
        z = torch.tensor(weights[:, layer]) * a + torch.tensor(biases[:, layer])
        pre.append(z.detach().numpy())
        a = TORCH[name](z)
    (grad,) = torch.autograd.grad(a.sum(), a0)
    return grad.numpy(), np.array(pre).T


def _extreme_biases(name, depth, weights, start):
    """Biases that put every pre-activation at 0 (where the slope is largest)."""
    biases = np.zeros_like(weights)
    a = np.array(start)
    for layer in range(depth):
        biases[:, layer] = -weights[:, layer] * a
        a = ACTIVATIONS[name](np.zeros_like(a))
    return biases


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("depth", [1, 2, 5, 10])
def test_gradient_through_random_chains_stays_below_the_bound_and_reaches_it(name, depth):
    rng = np.random.default_rng(depth)
    bound = number(target("vanishing", f"{name}_chain"), L=depth)
    batch = 20_000
    weights = rng.uniform(-1, 1, (batch, depth))
    biases = rng.uniform(-3, 3, (batch, depth))
    start = rng.uniform(-2, 2, batch)
    grad, pre = _chains(name, depth, weights, biases, start)
    # the chain rule written in the derivation: prod f'(z_l) w_l, with f' by finite differences
    h = 1e-6
    slopes = (ACTIVATIONS[name](pre + h) - ACTIVATIONS[name](pre - h)) / (2 * h)
    assert np.allclose(grad, np.prod(slopes * weights, axis=1), rtol=1e-6, atol=1e-300)
    assert np.abs(grad).max() <= bound * (1 + 1e-12)
    if name == "tanh":
        assert np.abs(grad).max() < bound  # strictly: some z_l != 0 in every random chain
    # |w_l| = 1 and every z_l = 0: the bound is reached
    signs = rng.choice([-1.0, 1.0], (4, depth))
    extreme, _ = _chains(name, depth, signs, _extreme_biases(name, depth, signs, start[:4]), start[:4])
    assert np.allclose(np.abs(extreme), bound, rtol=1e-12)


def test_sigmoid_bound_is_four_to_the_minus_depth():
    assert [number(target("vanishing", "sigmoid_chain"), L=depth) for depth in range(1, 6)] == [
        0.25, 0.0625, 0.015625, 0.00390625, 0.0009765625]


@pytest.mark.parametrize("depth", [1, 3, 8, 20])
def test_relu_passes_the_gradient_unchanged_along_active_units(depth):
    rng = np.random.default_rng(depth)
    weights = rng.uniform(-1.5, 1.5, (1000, depth))
    start = rng.uniform(0.1, 2, 1000)
    biases = np.zeros_like(weights)
    a = start.copy()
    for layer in range(depth):  # biases that keep every unit active (z_l > 0)
        biases[:, layer] = np.abs(weights[:, layer] * a) + rng.uniform(0.1, 1, 1000)
        a = np.maximum(weights[:, layer] * a + biases[:, layer], 0)
    grad, pre = _chains("relu", depth, weights, biases, start)
    assert (pre > 0).all()
    activation_factor = grad / np.prod(weights, axis=1)
    assert np.allclose(activation_factor, number(target("vanishing", "relu_chain")), rtol=1e-12)


DENSITIES = {
    "normal": lambda s: (lambda t: mp.npdf(t, 0, s)),
    "laplace": lambda s: (lambda t: mp.exp(-abs(t) / s) / (2 * s)),
}


@pytest.mark.parametrize("density", sorted(DENSITIES))
@pytest.mark.parametrize("alpha", ["0", "0.1", "0.25", "0.6"])
def test_gains_by_numeric_integration(density, alpha):
    s, a = mp.mpf("1.3"), mp.mpf(alpha)
    p = DENSITIES[density](s)
    variance = mp.quad(lambda t: t**2 * p(t), [-mp.inf, 0, mp.inf])
    second = mp.quad(lambda t: (t if t > 0 else a * t) ** 2 * p(t), [-mp.inf, 0, mp.inf])
    key = "gain_relu" if alpha == "0" else "gain_prelu"
    assert abs(second / variance - number(target("variance-recursion", key), alpha=alpha)) < 1e-14


def test_gain_of_tanh_tends_to_the_identity_gain_near_zero():
    for s, tol in (("0.01", 3e-4), ("0.001", 3e-6)):
        p = DENSITIES["normal"](mp.mpf(s))
        ratio = mp.quad(lambda t: mp.tanh(t) ** 2 * p(t), [-mp.inf, 0, mp.inf]) / mp.mpf(s) ** 2
        assert abs(ratio - number(target("variance-recursion", "gain_identity"))) < tol


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.25, 0.5])
def test_gains_match_torch_init_gains(alpha):
    # torch.nn.init's gain is the std multiplier 1/sqrt(g) that makes every factor 1.
    prelu = number(target("variance-recursion", "gain_prelu"), alpha=alpha)
    assert abs(prelu - 1 / torch.nn.init.calculate_gain("leaky_relu", alpha) ** 2) < 1e-12
    relu, identity = (number(target("variance-recursion", key)) for key in ("gain_relu", "gain_identity"))
    assert relu == pytest.approx(1 / torch.nn.init.calculate_gain("relu") ** 2, rel=1e-15)
    assert identity == 1 / torch.nn.init.calculate_gain("linear") ** 2


def test_one_layer_recursion_by_monte_carlo():
    rng = np.random.default_rng(0)
    n, var_w = 300, 0.004
    a = np.maximum(rng.normal(0.5, 1.0, (8192, n)), 0)  # not zero-mean: only E[a^2] enters
    w = rng.normal(0, np.sqrt(var_w), (n, n))
    z = a @ w
    predicted = number(target("variance-recursion", "recursion"), n_in=n, var_w=var_w, square_a=(a**2).mean())
    assert abs(z.var() / predicted - 1) < 0.03


def _stack(widths, variances, act, rng, batch=8192, scale=1.0):
    """Var(z^(l)) of a deep stack z^(l) = act(z^(l-1)) W^(l) (layer 1 on the raw input)."""
    x = rng.standard_normal((batch, widths[0])) * scale
    measured = []
    for layer in range(1, len(widths)):
        w = rng.normal(0, np.sqrt(variances[layer]), (widths[layer - 1], widths[layer]))
        x = (x if layer == 1 else act(x)) @ w
        measured.append(x.var())
    return measured


def _product(depth, widths, variances, gain):
    """The depth_product target at a concrete depth, with concrete widths and variances."""
    d = derive.get("variance-recursion")
    families = {q.symbol: q.key for q in d.quantities if isinstance(q.symbol, sp.IndexedBase)}
    values = {"n_layer": widths, "var_w_layer": variances, "var_z_layer": {1: 1.0}}
    expr = target("variance-recursion", "depth_product").xreplace({derive.get("variance-recursion").parameters()["L"].symbol: depth})
    expr = expr.doit().replace(lambda e: isinstance(e, sp.Indexed),
                               lambda e: sp.Float(values[families[e.base]][int(e.indices[0])]))
    return number(expr, g=gain)


ACT = {"identity": lambda t: t, "relu": lambda t: np.maximum(t, 0),
       "prelu": lambda t: np.where(t > 0, t, 0.25 * t)}
GAIN = {"identity": ("gain_identity", {}), "relu": ("gain_relu", {}), "prelu": ("gain_prelu", {"alpha": 0.25})}


@pytest.mark.parametrize("act", sorted(ACT))
def test_depth_product_by_monte_carlo(act):
    rng = np.random.default_rng(1)
    widths = {0: 400, 1: 300, 2: 500, 3: 350, 4: 450}  # n_0 .. n_4
    variances = {layer: rng.uniform(0.5, 3) / widths[layer - 1] for layer in range(1, 5)}
    measured = _stack([widths[k] for k in range(5)], variances, ACT[act], rng)
    gain = number(target("variance-recursion", GAIN[act][0]), **GAIN[act][1])
    for depth in range(2, 5):
        predicted = _product(depth, widths, variances, gain)  # Var(z^(L)) / Var(z^(1))
        assert abs(measured[depth - 1] / measured[0] / predicted - 1) < 0.06, (act, depth)


@pytest.mark.parametrize("key, act, params", [
    ("xavier_condition", "identity", {}),
    ("kaiming_condition", "relu", {}),
    ("prelu_condition", "prelu", {"alpha": 0.25}),
])
def test_conditions_keep_the_variance_through_ten_layers(key, act, params):
    rng = np.random.default_rng(2)
    n = 256
    var = number(target("variance-recursion", key), n_in=n, **params)
    measured = _stack([n] * 11, {layer: var for layer in range(1, 11)}, ACT[act], rng)
    per_layer = math.exp(np.log(np.array(measured[1:]) / np.array(measured[:-1])).mean())
    assert abs(per_layer - 1) < 0.03, measured
    assert 0.7 < measured[-1] / measured[0] < 1.4


def test_xavier_condition_holds_for_tanh_near_zero():
    rng = np.random.default_rng(3)
    n = 256
    var = number(target("variance-recursion", "xavier_condition"), n_in=n)
    measured = _stack([n] * 7, {layer: var for layer in range(1, 7)}, np.tanh, rng, scale=0.01)
    assert abs(measured[-1] / measured[0] - 1) < 0.1


@pytest.mark.parametrize("key, entry, entry_target, params", [
    ("xavier_condition", "xavier", "forward_var", {}),
    ("xavier_condition", "lecun", "var", {}),
    ("kaiming_condition", "kaiming", "var", {}),
    ("prelu_condition", "prelu-init", "var", {"alpha": 0.25}),
])
def test_conditions_equal_the_initialization_entries(key, entry, entry_target, params):
    for n in (1, 7, 256):
        ours = number(target("variance-recursion", key), n_in=n, **params)
        theirs = number(target(entry, entry_target), n_in=n, **params)
        assert ours == pytest.approx(theirs, rel=1e-15)


def test_conditions_are_shown_equal_to_the_entries_in_verified_steps():
    d = derive.get("variance-recursion")
    rules = {step.rule: step.check for step in d.steps}
    for rule in ("xavier-forward", "lecun-result", "xavier-equal-widths", "kaiming-result", "prelu-result"):
        assert rules[rule] == "symbolic"
    assert d.target("depth_product").entrywise  # also checked against the unrolled recursion, L = 2..5


# -- presentation: results in the course's order, each the computed expression -------------------

RESULTS = [
    ("variance-recursion", "recursion", r"n_{l-1} \operatorname{Var}(W^{(l)}) \operatorname{E}[(a^{(l-1)})^2]"),
    ("variance-recursion", "depth_product",
     r"{\operatorname{Var}(z)}_{1} \prod_{l=2}^{L} {n}_{l - 1} {\operatorname{Var}(W)}_{l} g"),
    ("variance-recursion", "gain_identity", "1"),
    ("variance-recursion", "gain_prelu", r"\frac{1 + \alpha^{2}}{2}"),
    ("variance-recursion", "gain_relu", r"\frac{1}{2}"),
    ("variance-recursion", "xavier_condition", r"\frac{1}{n_{l-1}}"),
    ("variance-recursion", "kaiming_condition", r"\frac{2}{n_{l-1}}"),
    ("variance-recursion", "prelu_condition", r"\frac{2}{\left(1 + \alpha^{2}\right) n_{l-1}}"),
    ("vanishing", "sigmoid_argmax", "0"),
    ("vanishing", "sigmoid_max", r"\frac{1}{4}"),
    ("vanishing", "sigmoid_chain", "4^{- L}"),
    ("vanishing", "tanh_argmax", "0"),
    ("vanishing", "tanh_max", "1"),
    ("vanishing", "tanh_chain", "1"),
    ("vanishing", "relu_chain", "1"),
]
RANGES = {"alpha": (0.0, 0.99), "n_in": (1.0, 4096.0), "L": (1.0, 40.0)}


def latex(name, expr):
    return NotationLatexPrinter(derive.get(name).quantities).doprint(expr)


@pytest.mark.parametrize("name, key, expected", RESULTS, ids=[f"{n}-{k}" for n, k, _ in RESULTS])
def test_result_is_printed_in_the_course_order(name, key, expected):
    assert latex(name, derive.get(name).target(key).display) == expected


@pytest.mark.parametrize("name", ["variance-recursion", "vanishing"])
def test_every_result_is_pinned(name):
    assert set(derive.get(name).targets) == {key for entry, key, _ in RESULTS if entry == name}


@pytest.mark.parametrize("name, key, _", [r for r in RESULTS if r[1] != "depth_product"],
                         ids=[f"{n}-{k}" for n, k, _ in RESULTS if k != "depth_product"])
def test_displayed_result_is_the_computed_one(name, key, _):
    result = derive.get(name).target(key)
    assert_display_is_computed(result.display, result.rhs, RANGES, f"{name}:{key}")


def test_displayed_depth_product_is_the_computed_one_at_concrete_depths():
    result = derive.get("variance-recursion").target("depth_product")
    depth = derive.get("variance-recursion").parameters()["L"].symbol
    assert sp.simplify(result.display.doit() - result.rhs.doit()) == 0
    rng = np.random.default_rng(4)
    for layers in (2, 3, 5):
        shown, computed = (e.xreplace({depth: layers}).doit() for e in (result.display, result.rhs))
        entries = sorted(shown.atoms(sp.Indexed) | computed.atoms(sp.Indexed), key=str)
        point = {e: float(rng.uniform(0.1, 3.0)) for e in entries}
        point.update({s: float(rng.uniform(0.1, 3.0)) for s in shown.free_symbols if s.is_Symbol})
        assert math.isclose(float(shown.xreplace(point)), float(computed.xreplace(point)), rel_tol=1e-12)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_boxed_recursion_reads_as_its_question_writes_it(lang):
    # the deep-init sheet asks for Var(z^(l)) = n_{l-1} Var(W^(l)) E[(a^(l-1))^2]: its key boxes that order
    # (the question names the fan-in \q{n_in}: the same quantity in the document's notation)
    factors = ("n_{l-1}", r"\operatorname{Var}(W^{(l)})", "(a^{(l-1)})^2")
    question = wording(lang)["statements"]["variance-recursion"].replace(r"\q{n_in}", "n_{l-1}")
    boxed = latex("variance-recursion", derive.get("variance-recursion").target("recursion").display)
    positions = [[text.index(factor) for factor in factors] for text in (question, boxed)]
    assert all(p == sorted(p) for p in positions), positions


def test_the_sigmoid_and_tanh_lines_read_as_their_entries_show_them():
    lines = [(s.rule, latex("vanishing", s.lhs if s.kind == "implies" else s.display))
             for s in derive.get("vanishing").steps
             if s.rule in ("substitute-second-derivative", "maximum-at-stationary-point")]
    assert lines == [
        ("substitute-second-derivative", r"\sigma(x) \left(1 - \sigma(x)\right) \left(1 - 2 \sigma(x)\right)"),
        ("maximum-at-stationary-point", r"\sigma(0) \left(1 - \sigma(0)\right)"),
        ("substitute-second-derivative", r"- 2 \tanh(x) \left(1 - \tanh^{2}(x)\right)"),
        ("maximum-at-stationary-point", r"1 - \tanh^{2}(0)"),
    ]


def test_variance_recursion_starts_with_z_and_names_the_recursion_before_unrolling_it():
    d = derive.get("variance-recursion")
    rules = [s.rule for s in d.steps]
    assert rules[:3] == ["layer-input", "variance-of-independent-sum", "independence"]
    recursion = next(n for n, s in enumerate(d.steps) if s.rule == "sum-of-identical-terms")
    assert d.steps[recursion].rhs == d.target("recursion").rhs
    assert recursion < rules.index("gain-of-activation") < rules.index("telescoping-product")
    # the Taylor line to O(z^5), just before the chain that uses it
    (taylor,) = [s for s in d.steps if s.rule == "taylor"]
    assert taylor.rhs.getO() == sp.O(Z.symbol**5)
    assert rules[rules.index("taylor") + 1] == "second-moment"


@pytest.mark.parametrize("name", ["variance-recursion", "vanishing"])
def test_no_step_repeats_the_line_before_and_no_bare_substitute_twice(name):
    assert_each_step_moves_on(name)
