"""Display forms of the activation, loss, softmax and backpropagation families: every result is
printed in the order the course writes it (pinned by hand), and every display form is the
computed expression (evaluated independently, with Python floats and math, at random points)."""

import math
import pickle
import random

import pytest
import sympy as sp
from hostile import assert_each_step_moves_on

import derive
from derive.printing import NotationLatexPrinter

# (entry, target, the LaTeX of its result as the course writes it)
RESULTS = [
    ("sigmoid", "d1", r"\sigma(x) \left(1 - \sigma(x)\right)"),
    ("sigmoid", "d2", r"\sigma(x) \left(1 - \sigma(x)\right) \left(1 - 2 \sigma(x)\right)"),
    ("tanh", "d1", r"1 - \tanh^{2}(x)"),
    ("tanh", "d2", r"- 2 \tanh(x) \left(1 - \tanh^{2}(x)\right)"),
    ("relu", "d1", r"\begin{cases} 1 & \text{for}\: x > 0 \\ 0 & \text{for}\: x \leq 0 \end{cases}"),
    ("leaky-relu", "d1", r"\begin{cases} 1 & \text{for}\: x > 0 \\ \alpha & \text{for}\: x \leq 0 \end{cases}"),
    ("prelu", "d1", r"\begin{cases} 1 & \text{for}\: x > 0 \\ \alpha & \text{for}\: x \leq 0 \end{cases}"),
    ("elu", "d1", r"\begin{cases} 1 & \text{for}\: x > 0 \\ \alpha e^{x} & \text{for}\: x \leq 0 \end{cases}"),
    ("elu", "d1_in_f",
     r"\begin{cases} 1 & \text{for}\: x > 0 \\ \operatorname{ELU}(x) + \alpha & \text{for}\: x \leq 0 \end{cases}"),
    ("softplus", "d1", r"\sigma(x)"),
    ("softplus", "d2", r"\sigma(x) \left(1 - \sigma(x)\right)"),
    ("silu", "d1", r"\sigma(x) \left(1 + x \left(1 - \sigma(x)\right)\right)"),
    ("gelu", "d1", r"\Phi(x) + x \varphi(x)"),
    ("mse", "dl_dyhat", r"\hat{y} - y"),
    ("bce", "dl_dyhat", r"\frac{\hat{y} - y}{\hat{y} \left(1 - \hat{y}\right)}"),
    ("bce-sigmoid", "dl_dyhat", r"\frac{\hat{y} - y}{\hat{y} \left(1 - \hat{y}\right)}"),
    ("bce-sigmoid", "dl_dz", r"\hat{y} - y"),
    ("bce-sigmoid", "dl_dw1", r"\left(\hat{y} - y\right) x_1"),
    ("bce-sigmoid", "dl_dw2", r"\left(\hat{y} - y\right) x_2"),
    ("bce-sigmoid", "dl_db", r"\hat{y} - y"),
    ("huber", "dl_dyhat", (r"\begin{cases} \hat{y} - y & \text{for}\: \left|{\hat{y} - y}\right| \leq \delta \\ "
                           r"\delta \operatorname{sign}(\hat{y} - y) & \text{for}\: \left|{\hat{y} - y}\right| > \delta "
                           r"\end{cases}")),
    ("softmax", "jacobian", r"{p}_{i} \left(\delta_{i k} - {p}_{k}\right)"),
    ("log-softmax", "grad", r"\delta_{i k} - {p}_{k}"),
    ("softmax-ce", "dl_dz", r"{p}_{k} - {y}_{k}"),
    ("mlp-cost", "forward_mults", r"L n^{2}"),
    ("mlp-cost", "forward_adds", r"L n^{2}"),
    ("mlp-cost", "backward_mults", r"3 L n^{2} + 2 L n"),
    ("mlp-backprop", "output_error", r"\left({a^{(L)}}_{i} - {y}_{i}\right) \sigma'({z^{(L)}}_{i})"),
    ("mlp-backprop", "error_recursion",
     r"\left(\sum_{k=1}^{n} {W^{(l+1)}}_{kj} {\delta^{(l+1)}}_{k}\right) \sigma'({z^{(l)}}_{j})"),
    ("mlp-backprop", "grad_w", r"{\delta^{(l)}}_{i} {a^{(l-1)}}_{j}"),
    ("mlp-backprop", "grad_b", r"{\delta^{(l)}}_{i}"),
    ("conv-backprop", "error_recursion",
     (r"f'({z^{(l)}}_{ij}) \sum_{\substack{0 \leq u \leq K - 1\\0 \leq v \leq K - 1}} "
      r"{\omega^{(l+1)}}_{uv} {\tilde{\delta}^{(l+1)}}_{i - u, j - v}")),
    ("pool-backprop", "average_error", r"\frac{\delta^{(l)}}{K'^{2}}"),
]


def latex(name, expr):
    return NotationLatexPrinter(derive.get(name).quantities).doprint(expr)


@pytest.mark.parametrize("name, target, expected", RESULTS, ids=[f"{n}-{t}" for n, t, _ in RESULTS])
def test_result_is_printed_in_the_course_order(name, target, expected):
    assert latex(name, derive.get(name).target(target).display) == expected


@pytest.mark.parametrize("name", sorted({name for name, *_ in RESULTS}))
def test_every_result_of_the_family_is_pinned(name):
    pinned = {target for entry, target, _ in RESULTS if entry == name}
    missing = set(derive.get(name).targets) - pinned - {"max_error"}  # max pooling: SymPy's Heaviside form
    assert not missing


# The functions as their textbook definitions, in Python floats.
def _definitions(alpha):
    def sigmoid(t):
        return 1 / (1 + math.exp(-t))

    return {"sigma": sigmoid, "tanh": math.tanh, "Phi": lambda t: (1 + math.erf(t / math.sqrt(2))) / 2,
            "phi": lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi),
            "elu": lambda t: t if t > 0 else alpha * (math.exp(t) - 1),
            "Heaviside": lambda t: 1.0 if t > 0 else 0.0, "sign": lambda t: math.copysign(1.0, t)}


# Where each symbol is drawn from (by name): probabilities in (0, 1), sizes positive.
RANGES = {"yhat": (0.05, 0.95), "y": (0.0, 1.0), "alpha": (0.01, 2.0), "delta": (0.1, 3.0),
          "n": (1.0, 50.0), "L": (1.0, 20.0), "Kp": (1.0, 5.0)}


def _value(expr, point, alpha):
    """expr at a point, in floats: the class count and indices fixed to integers (sums written out),
    entries and symbols to the point's values."""
    indices = {s: point[s.name] for s in expr.free_symbols if s.is_Symbol and s.name in ("C", "i", "k")}
    expr = expr.xreplace(indices).doit()
    entries = {e: sp.Symbol(f"entry_{e.base}_{'_'.join(map(str, e.indices))}") for e in expr.atoms(sp.Indexed)}
    expr = expr.xreplace(entries)
    symbols = sorted(expr.free_symbols, key=str)
    function = sp.lambdify(symbols, expr, modules=[_definitions(alpha), "math"])
    return float(function(*(point.setdefault(s.name, random.uniform(*RANGES.get(s.name, (-3.0, 3.0))))
                             for s in symbols)))


# Every entry whose display forms are numbers at a point (the sums of backpropagation are not).
NUMERIC = ["sigmoid", "tanh", "relu", "leaky-relu", "prelu", "elu", "softplus", "silu", "gelu", "mse", "bce",
           "bce-sigmoid", "huber", "softmax", "log-softmax", "softmax-ce", "mlp-cost"]


def _shown(name):
    """(where, display form, computed expression) of every result and every step given a display form."""
    d = derive.get(name)
    forms = [(f"target {t.name}", t.display, t.rhs) for t in d.targets.values()]
    forms += [(f"step {n + 1} ({s.rule})", s.shown, s.rhs) for n, s in enumerate(d.steps)
              if s.shown is not None and not s.shown.has(sp.Derivative) and not s.rhs.has(sp.Derivative)]
    return forms


@pytest.mark.parametrize("name", NUMERIC)
def test_display_forms_equal_the_computed_expressions_at_random_points(name):
    rng = random.Random(name)
    random.seed(name)
    forms = _shown(name)
    assert forms
    for where, shown, computed in forms:
        for _ in range(5):
            alpha = rng.uniform(0.01, 2.0)
            point = {"alpha": alpha, "C": 3, "i": rng.randint(1, 3), "k": rng.randint(1, 3)}
            a, b = _value(shown, point, alpha), _value(computed, point, alpha)
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (name, where, point, a, b)


@pytest.mark.parametrize("name", ["mlp-backprop", "conv-backprop", "pool-backprop"])
def test_backpropagation_display_forms_are_the_computed_sums_reordered(name):
    for where, shown, computed in _shown(name):
        assert sp.expand(shown.doit() - computed) == 0, (name, where)


@pytest.mark.parametrize("name", ["sigmoid", "bce-sigmoid", "huber", "mlp-cost", "softmax"])
def test_display_forms_survive_pickling(name):
    d = derive.get(name)
    again = pickle.loads(pickle.dumps(d))
    for before, after in zip(d.steps, again.steps, strict=True):
        assert sp.srepr(before.display) == sp.srepr(after.display)
    assert [latex(name, t.display) for t in again.targets.values()] == \
        [latex(name, t.display) for t in d.targets.values()]


# Course order of steps (seeds 000/001/003/004): the product before it cancels, the parts of the count.
STEPS = [
    ("sigmoid", "split-product", r"\frac{1}{1 + e^{- x}} \cdot"),
    ("sigmoid", "substitute-derivative",
     r"\sigma(x) \left(1 - \sigma(x)\right)^{2} - \sigma^{2}(x) \left(1 - \sigma(x)\right)"),
    ("bce-sigmoid", "substitute",
     r"\left(\frac{\hat{y} - y}{\hat{y} \left(1 - \hat{y}\right)}\right) \cdot \left(\hat{y} \left(1 - \hat{y}\right)\right)"),
    ("mlp-cost", "collect-terms", r"L \left(3 n^{2} + 2 n\right)"),
]


@pytest.mark.parametrize("name, rule, expected", STEPS)
def test_steps_follow_the_course(name, rule, expected):
    shown = [latex(name, s.display) for s in derive.get(name).steps if s.rule == rule]
    assert any(line.startswith(expected) for line in shown), shown


@pytest.mark.parametrize("name", NUMERIC + ["mlp-backprop", "conv-backprop", "pool-backprop"])
def test_no_step_repeats_the_line_before_and_no_bare_substitute_twice(name):
    assert_each_step_moves_on(name)
