"""The course reader on the notation of layers, activations and the seeds' derivations (issue 17).

A layer label x^{(l-1)} is an index, never a power; an integral over a layered variable reads;
the rectifiers, the problem's activation f, f'(0), theta'(S_j^{(3)}) are applications; \\text{var}
is the variance; the evaluation bar, a unary minus after \\cdot and a decimal after \\approx read.
Each reading is compared with a SymPy object built here by hand (or evaluated at hand-picked
points), and each comes with wrong answers in the same notation that must stay wrong.
"""

from __future__ import annotations

import json

import pytest
import sympy as sp
from hostile import assert_one_line_error, run_cli

import derive
from derive.check.decide import check, private_table, problem_table
from derive.check.reader import Parser, ReadError, normalize, read
from derive.render import render

p, f, sigma = sp.Function("p"), sp.Function("f"), sp.Function("sigma")
z, x = sp.Symbol("z", real=True), sp.Symbol("x", real=True)
alpha = sp.Symbol("alpha", nonnegative=True)
layered = sp.Symbol("z^(l-1)", real=True)  # z at layer l-1, where the problem names only z
prelu = sp.Piecewise((layered, layered > 0), (alpha * layered, True))


def _read(problem: str, text: str, layer_shift: int = 0) -> list[sp.Basic]:
    return read(text, private_table(problem_table(problem, True)[1]), layer_shift).sides


def _names(problem: str) -> dict:
    return problem_table(problem, True)[1].names


# (problem, LaTeX, the reading's sides built by hand from the problem's own symbols)
READINGS = [
    ("prelu-init", r"(z^{(l-1)})^2", lambda n: [layered**2]),
    ("prelu-init", r"\left(z^{(l-1)}\right)^{2}", lambda n: [layered**2]),
    ("prelu-init", r"p(z^{(l-1)})", lambda n: [p(layered)]),
    ("prelu-init", r"\int_{-\infty}^{\infty} (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}",
     lambda n: [sp.Integral(layered**2 * p(layered), (layered, -sp.oo, sp.oo))]),
    ("prelu-init", r"\int_{-\infty}^{0} (\alpha z^{(l-1)})^2 p(z^{(l-1)})\, dz^{(l-1)}",
     lambda n: [sp.Integral(alpha**2 * layered**2 * p(layered), (layered, -sp.oo, 0))]),
    ("prelu-init", r"\alpha^2 \int_{-\infty}^{0} (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}",
     lambda n: [alpha**2 * sp.Integral(layered**2 * p(layered), (layered, -sp.oo, 0))]),
    ("prelu-init", r"\int_{-\infty}^{\infty} \text{PReLU}(z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}",
     lambda n: [sp.Integral(prelu**2 * p(layered), (layered, -sp.oo, sp.oo))]),
    ("prelu-init", r"z_j^{(l-1)}", lambda n: [n["z_j^(l-1)"]]),
    ("prelu-init", r"\frac{1+\alpha^2}{2} \mathbb{E}[(z^{(l-1)})^2]",
     lambda n: [(1 + alpha**2) / 2 * n["var_z_prev"]]),
    ("prelu-init", r"\text{var}[z^{(l)}] = M_{l-1}\text{var}[w^{(l)}] E[(a^{(l-1)})^2]",
     lambda n: [n["var_z"], n["n_in"] * n["var_w"] * n["square_a"]]),
    ("prelu-init", r"\text{var}(W)", lambda n: [n["var_w"]]),
    ("prelu-init", r"\textrm{var}(W)", lambda n: [n["var_w"]]),
    ("prelu-init", r"\mathrm{Var}(W)", lambda n: [n["var_w"]]),
    ("prelu-init", r"\operatorname{var}(W)", lambda n: [n["var_w"]]),
    ("prelu-init", r"\text{Var}(W_{ij}^{(l)})", lambda n: [n["var_w"]]),
    ("prelu-init", r"\text{E}[(a^{(l-1)})^2]", lambda n: [n["square_a"]]),
    ("prelu-init", r"\mathbb{E} \left[(\text{PReLU}(z^{(l-1)}))^2 \right]",
     lambda n: [sp.Integral(sp.Piecewise((z, z > 0), (alpha * z, True)) ** 2 * p(z), (z, -sp.oo, sp.oo))]),
    ("prelu-init", r"\mathbb{E}[\text{PReLU}(z_j^{(l-1)})^2]",
     lambda n: [sp.Integral(sp.Piecewise((z, z > 0), (alpha * z, True)) ** 2 * p(z), (z, -sp.oo, sp.oo))]),
    ("prelu-init", r"\frac{1 + \alpha^2}{2} \mathbb{E}(z^{(l-1)})^2", lambda n: [(1 + alpha**2) / 2 * n["var_z_prev"]]),
    ("prelu-init", r"\mathbb{E}(a^{(l-1)})^{2}", lambda n: [n["mean_a"] ** 2]),  # E(a) is a quantity: its square
    ("xavier", r"\mathbb{E}W_{ij}^{(l)} = 0", lambda n: [n["mean_w"], sp.Integer(0)]),
    ("xavier", r"\operatorname{E} a_j^{(l-1)}", lambda n: [n["mean_a"]]),
    # the loss of sample n is the problem's loss L; y-hat is no name of mlp-backprop: its derivative an unknown
    ("mlp-backprop", r"\frac{\partial \ell_n}{\partial \hat{y}}", lambda n: [sp.Symbol("d(L)/d(hat(y))", real=True)]),
    ("kaiming", r"\operatorname{ReLU}(z)", lambda n: [sp.Piecewise((z, z > 0), (0, True))]),
    ("xavier", r"f'(0)^{2}", lambda n: [n["f'(0)"] ** 2]),
    ("xavier", r"2 f'(0)^2", lambda n: [2 * n["f'(0)"] ** 2]),
    ("xavier", r"\left(\sum_{i=1}^{M_l} W_{ij}^{(l)} \delta_i^{(l)}\right) f'(z_j^{(l-1)})",
     lambda n: [sp.Derivative(f(n["z_j^(l-1)"]), n["z_j^(l-1)"])
                * sp.Sum(n["W_ij^(l)"] * n["delta_i^(l)"], (sp.Dummy("i"), 1, n["n_out"]))]),
    ("xavier", r"\mathbb{E}[f^{\prime}(z)^2]", lambda n: [n["square_slope"]]),
    ("xavier", r"\frac{d}{dz} \tanh z\big|_{z=0}", lambda n: [sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0)]),
    ("xavier", r"\left.\frac{d}{dz}\tanh z\right|_{z=0}", lambda n: [sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0)]),
    ("xavier", r"f'(0) = \frac{d}{dz} \tanh z\Big|_{z=0}",
     lambda n: [n["f'(0)"], sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0)]),
    ("variance-recursion", r"\frac{1 + \alpha^{2}}{2}\Big|_{\alpha=0}",
     lambda n: [sp.Subs((1 + n["alpha"] ** 2) / 2, n["alpha"], 0)]),
    ("mlp-backprop", r"\theta'(S_j^{(3)})",
     lambda n: [sp.Derivative(sigma(sp.IndexedBase("S^(3)", real=True)[n["j"]]),
                              sp.IndexedBase("S^(3)", real=True)[n["j"]])]),
    ("mlp-backprop", r"\sigma'(x)", lambda n: [sp.Derivative(sigma(x), x)]),
    ("mlp-backprop", r"\sigma^{(l)}(z_j^{(l)})", lambda n: [sigma(n["z^(l)"][n["j"]])]),  # layer l's activation
    ("sigmoid", r"-(1 + e^{-x})^{-2} \cdot (e^{-x} \cdot -1)", lambda n: [sp.exp(-x) / (1 + sp.exp(-x)) ** 2]),
    ("sigmoid", r"2 \times -x", lambda n: [-2 * x]),
    ("sigmoid", r"6 / -2", lambda n: [sp.Integer(-3)]),
    ("vanishing", r"\frac{1}{4} \approx 0.25", lambda n: [sp.Rational(1, 4)]),
    ("vanishing", r"-\frac{1}{3} \approx -0.333", lambda n: [-sp.Rational(1, 3)]),
]


def _same(a: sp.Basic, b: sp.Basic) -> bool:
    """Equal up to the names of bound variables (sums' dummies) and SymPy's ordering."""
    if a == b:
        return True
    if isinstance(a, sp.Sum) or a.has(sp.Sum):
        a, b = (e.replace(lambda s: isinstance(s, sp.Sum), lambda s: s.doit()) for e in (a, b))
    return sp.simplify(a - b) == 0


@pytest.mark.parametrize(("problem", "text", "expected"), READINGS, ids=[f"{r[0]}:{r[1]}" for r in READINGS])
def test_a_layered_or_applied_form_reads_as_built_by_hand(problem, text, expected):
    sides = _read(problem, text)
    wanted = expected(_names(problem))
    assert len(sides) == len(wanted), sides
    for got, want in zip(sides, wanted, strict=True):
        assert _same(got, want), (got, want)


def test_a_layer_label_is_never_a_power_and_each_layer_is_its_own():
    """z^{(l-1)} and z^{(l)} are two quantities, neither the problem's z, and no power of l appears."""
    for problem in ("prelu-init", "kaiming", "xavier", "mlp-backprop"):
        for text in (r"z^{(l-1)}", r"(z^{(l)})^2", r"a^{(3)}", r"\int_0^1 z^{(l-1)} dz^{(l-1)}"):
            value = _read(problem, text)[-1]
            assert not any(isinstance(e, sp.Pow) and e.exp.free_symbols for e in sp.preorder_traversal(value)), value
    assert _read("prelu-init", r"z^{(l-1)}") != _read("prelu-init", r"z^{(l)}")
    assert _read("prelu-init", r"z^{(l-1)}")[0] != _names("prelu-init")["z"]


def test_a_derivative_between_unknown_layers_is_an_unknown_never_zero():
    """dS_j^{(3)}/dw_{ij}^{(3)}: the problem does not relate them; SymPy's 0 for independent symbols
    would make every chain of such factors 0 = 0 (a slip theta for theta' accepted)."""
    for text in (r"\frac{\partial S_j^{(3)}}{\partial w_{ij}^{(3)}}",
                 r"\frac{\partial \ell_n}{\partial w_{ij}^{(3)}}",
                 r"\frac{\partial x_j^{(2)}}{\partial S_j^{(2)}}"):
        value = _read("mlp-backprop", text)[0]
        assert value != 0 and sp.sympify(value).doit() != 0, (text, value)
    first, second = (_read("mlp-backprop", rf"\frac{{\partial S_j^{{(3)}}}}{{\partial w_{{{i}j}}^{{(3)}}}}")[0]
                     for i in "ik")
    assert first != second


def test_the_problems_gradient_reads_in_any_name_of_its_variable_and_an_undeclared_one_is_unknown():
    """mse's dL/d(y-hat) written with the course's alias a is the problem's gradient (not SymPy's 0 for
    an undeclared L); dQ/da of a Q the problem never names is an unknown of its own, never 0."""
    gradient = _names("mse")["dl_dyhat"]
    assert _read("mse", r"\frac{\partial L}{\partial a}") == [gradient]
    assert _read("mse", r"\frac{\partial E}{\partial a}") == [gradient]
    unknown = _read("mse", r"\frac{\partial Q}{\partial a}")[0]
    assert unknown != 0 and sp.sympify(unknown).doit() != 0 and unknown != gradient


def test_an_operation_count_reads_as_the_problems_quantity():
    """mlp-cost's \\#_{\\times}(\\text{forward}) is that entry's quantity, as --latex prints it."""
    names = _names("mlp-cost")
    assert _read("mlp-cost", r"\#_{\times}(\text{forward}) = L \#_{\times}(z^{(l)})") == [
        names["mul_forward"], names["L"] * names["mul_z"]]
    assert _read("mlp-cost", r"\#_{+}(z^{(l)})") == [names["add_z"]]


def test_a_derivative_of_another_entry_keeps_its_argument_and_an_unlabeled_delta_of_a_sum_is_kronecker():
    """conv-backprop: df(z_{u+p,v+q})/dz_{ij} is f'(z_{u+p,v+q}) times Kronecker deltas (never f'(z_{ij}));
    \\delta_{i, u+p} inside a sum over u is a Kronecker delta, \\delta_{ij} the problem's delta^(l)."""
    names = _names("conv-backprop")
    z, i, j, u, v, p, q = (names[k] for k in ("z", "i", "j", "u", "v", "p", "q"))
    value = _read("conv-backprop", r"\frac{\partial f({z^{(l)}}_{u + p, v + q})}{\partial {z^{(l)}}_{ij}}")[0]
    assert value == sp.Derivative(f(z[u + p, v + q]), z[i, j])
    assert value.doit().has(sp.KroneckerDelta) and value != sp.Derivative(f(z[i, j]), z[i, j])
    summed = _read("conv-backprop", r"\sum_{u=0}^{K-1} \delta_{i, u + p}")[0]
    assert summed.has(sp.KroneckerDelta) and not summed.has(names["delta"])
    assert _read("conv-backprop", r"\delta_{ij}") == [names["delta"][i, j]]


def test_conv_backprops_printed_chain_finds_each_slip_at_its_line():
    """The printed derivation's lines 3-4 (the derivative inside the sums): a slip there is found there."""
    from derive.check.steps import check_steps

    printed = render(derive.get("conv-backprop"), "latex", "en")
    for right, wrong, line in ((r"\frac{\partial f({z^{(l)}}_{u + p, v + q})}{\partial {z^{(l)}}_{ij}}",
                                r"f'({z^{(l)}}_{ij})", 3),
                               (r"\delta_{i, u + p} \delta_{j, v + q}",
                                r"\delta_{i, u - p} \delta_{j, v + q}", 4)):
        assert right in printed
        assert check_steps(printed.replace(right, wrong, 1), "conv-backprop")["first_error"] == line, wrong


def test_prelu_by_name_is_the_problems_piecewise_at_hand_picked_points():
    """PReLU(z) = z for z > 0 and alpha z otherwise, with prelu-init's alpha (alpha = 1/4: PReLU(-2) = -1/2)."""
    value = _read("prelu-init", r"\text{PReLU}(z)")[0]
    a = _names("prelu-init")["alpha"]
    assert value.subs({z: -2, a: sp.Rational(1, 4)}) == -sp.Rational(1, 2)
    assert value.subs({z: 3, a: sp.Rational(1, 4)}) == 3
    relu = _read("kaiming", r"\operatorname{ReLU}(z)")[0]
    assert (relu.subs(z, -2), relu.subs(z, 3)) == (0, 3)


def test_the_evaluation_bar_gives_the_value_at_the_point():
    """d/dz tanh z at z = 0 is 1 (tanh' = 1 - tanh^2); the bar is applied to the whole expression before it."""
    assert _read("xavier", r"\frac{d}{dz} \tanh z\big|_{z=0}")[0].doit() == 1
    assert _read("xavier", r"\frac{d}{dz} \tanh z\big|_{z=1}")[0].doit() == 1 - sp.tanh(1) ** 2
    assert _read("xavier", r"\left|\frac{d}{dz}\tanh z\right|")[0] == sp.Abs(sp.Derivative(sp.tanh(z), z))


# Vector forms, read at a concrete size (n = 2) as derive.check.vectors reads them: entries by hand.
def _vector(problem: str, text: str, layer_shift: int = 0) -> list[sp.Basic]:
    shared = problem_table(problem, True)[1]
    parser = Parser(normalize(text), private_table(shared))
    parser.sizes, parser.layer_shift = {shared.names["n"]: sp.Integer(2)}, layer_shift
    return parser.answer().sides


def test_backprop_vector_lines_read_entry_by_entry():
    n = _names("mlp-backprop")
    W, W_next, delta, delta_next, a_prev = (n[k] for k in ("W^(l)", "W^(l+1)", "delta^(l)", "delta^(l+1)", "a^(l-1)"))
    grad_W, grad_b, zl = n["nablaW^(l)"], n["nablab^(l)"], n["z^(l)"]
    slope = [sp.Derivative(sigma(zl[k]), zl[k]) for k in (1, 2)]
    recursion = sp.ImmutableMatrix([(W_next[1, k] * delta_next[1] + W_next[2, k] * delta_next[2]) * slope[k - 1]
                                    for k in (1, 2)])
    assert _vector("mlp-backprop", r"\nabla_{b^{(l)}} = \delta^{(l)}") == [
        sp.ImmutableMatrix([grad_b[1], grad_b[2]]), sp.ImmutableMatrix([delta[1], delta[2]])]
    assert _vector("mlp-backprop", r"\nabla_{b^{(l)}} \mathcal{L} = \delta^{(l)}")[0] == sp.ImmutableMatrix(
        [grad_b[1], grad_b[2]])
    sides = _vector("mlp-backprop", r"\nabla_{W^{(l)}} L = \delta^{(l)} (a^{(l-1)})^T")
    assert sides[0] == sp.ImmutableMatrix(2, 2, lambda r, c: grad_W[r + 1, c + 1])
    assert sides[1] == sp.ImmutableMatrix(2, 2, lambda r, c: delta[r + 1] * a_prev[c + 1])
    assert _vector("mlp-backprop", r"(W^{(l+1)})^T \delta^{(l+1)} \odot f'(z^{(l)})")[0] == recursion
    # the seed's form, one layer down, read with the layer shift +1 is the problem's recursion
    shifted = _vector("mlp-backprop", r"\delta^{(l-1)} = (W^{(l)})^T \delta^{(l)} \odot f'(z^{(l-1)})", 1)
    assert shifted == [sp.ImmutableMatrix([delta[1], delta[2]]), recursion]
    # unshifted, z^{(l-1)} is a family of its own: never the problem's z^{(l)}
    unshifted = _vector("mlp-backprop", r"(W^{(l)})^T \delta^{(l)} \odot f'(z^{(l-1)})")[0]
    assert not unshifted.has(zl) and unshifted.has(W)


# Wrong answers in the same notation: never `correct` (problem, target, answer).
WRONG = [
    ("prelu-init", "second_moment", r"\frac{1+\alpha}{2} \mathbb{E}[(z^{(l-1)})^2]"),      # alpha, not alpha^2
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} \mathbb{E}[(z^{(l)})^2]"),      # the wrong layer
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} \text{var}(z^{(l)})"),          # the wrong layer
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} (z^{(l-1)})^3"),               # a cube
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} (z^{(l-1)})^2"),               # z itself, no mean
    ("prelu-init", "var", r"\text{var}(W) = \frac{2}{(1+\alpha) M_{l-1}}"),
    ("prelu-init", "var", r"\frac{2}{(1+\alpha^2) M_l}"),
    ("kaiming", "var", r"\text{var}(W) = 2/M_l"),                                          # 2/M_{l-1} expected
    ("kaiming", "var", r"\mathrm{Var}(W^{(l)}) = \frac{1}{M_{l-1}}"),
    ("kaiming", "var", r"\operatorname{Var}(W^{(l+1)}) = \frac{2}{M_{l-1}}"),             # another layer's W
    ("kaiming", "var", r"\frac{2}{M_{l-1}} \approx 0.5"),
    ("xavier", "forward_var", r"\text{Var}(W) = \frac{1}{M_l}"),
    ("mlp-backprop", "output_error", r"\delta^{(L)}_i = (a^{(L)}_i - y_i)\theta'(z^{(L-1)}_i)"),  # theta' one layer off
    ("mlp-backprop", "output_error", r"(a^{(L)}_i - y_i)\theta(z^{(L)}_i)"),
    ("mlp-backprop", "error_recursion", r"\sigma'(z_j^{(l-1)}) \sum_{k=1}^{n} W_{kj}^{(l+1)} \delta_k^{(l+1)}"),
    ("mlp-backprop", "error_recursion", r"(W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l-1)})"),
    ("mlp-backprop", "error_recursion", r"W^{(l+1)} \delta^{(l+1)} \odot \sigma'(z^{(l)})"),       # no transpose
    ("mlp-backprop", "error_recursion", r"(W^{(l)})^T \delta^{(l)} \odot f'(z^{(l-1)})"),         # unshifted seed form
    ("mlp-backprop", "grad_w", r"\nabla_{W^{(l)}} L = a^{(l-1)} (\delta^{(l)})^T"),               # transposed
    ("mlp-backprop", "grad_w", r"\nabla_{W^{(l)}} L = \delta^{(l)} (a^{(l)})^T"),                 # the wrong layer
    ("mlp-backprop", "grad_b", r"\nabla_{b^{(l)}} = \delta^{(l+1)}"),
    ("mlp-backprop", "grad_b", r"\nabla_{b^{(l)}} = 2\delta^{(l)}"),
    ("sigmoid", "d1", r"-(1 + e^{-x})^{-2} \cdot (e^{-x} \cdot 1)"),
    ("sigmoid", "d1", r"(1 + e^{-x})^{-2} \cdot (e^{-x} \cdot -1)"),
    ("vanishing", "sigmoid_max", r"\frac{1}{5} \approx 0.25"),                          # the decimal is not 1/5
    ("vanishing", "sigmoid_max", r"\frac{1}{5}"),
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} \mathbb{E}(z^{(l)})^2"),           # the wrong layer
    ("prelu-init", "second_moment", r"(1+\alpha^2) \mathbb{E}(z^{(l-1)})^2"),                 # the half dropped
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} \mathbb{E}(a^{(l-1)})^2"),          # (E a)^2, not E[a^2]
    ("prelu-init", "second_moment", r"\mathbb{E}[\text{PReLU}(z^{(l)})^2]"),                   # another layer's z
    ("xavier", "forward_var", r"\mathbb{E} W_{ij}^{(l)}"),
    ("mse", "dl_dyhat", r"\frac{\partial L}{\partial a} = y - a"),                        # the sign
    ("mse", "dl_dyhat", r"\frac{\partial L}{\partial a} = \frac{(a-y)^2}{2}"),             # not differentiated
    ("mse", "dl_dyhat", r"\frac{\partial L}{\partial a} = 0"),
    ("mlp-cost", "forward_mults", r"\#_{\times}(\text{forward}) = L n^{3}"),                 # an operation count's slip
    ("mlp-cost", "forward_mults", r"\#_{\times}(\text{forward}) = n^{2}"),                   # one layer only
    ("mlp-cost", "forward_mults", r"\#_{\times}(\text{forward}) = L \#_{+}(z^{(l)}) + 1"),
]

#: Right answers in the same notation: `correct` (so that the wrong rows above are wrong for their slip).
RIGHT = [
    ("prelu-init", "second_moment", r"\frac{1+\alpha^2}{2} \mathbb{E}[(z^{(l-1)})^2]"),
    ("prelu-init", "var", r"\text{var}(W) = \frac{2}{(1+\alpha^2) M_{l-1}}"),
    ("kaiming", "var", r"\text{var}(W) = 2/M_{l-1}"),
    ("mlp-backprop", "output_error", r"\delta^{(L)}_i = (a^{(L)}_i - y_i)\theta'(z^{(L)}_i)"),
    ("mlp-backprop", "error_recursion", r"(W^{(l+1)})^T \delta^{(l+1)} \odot \sigma'(z^{(l)})"),
    ("mlp-backprop", "grad_w", r"\nabla_{W^{(l)}} L = \delta^{(l)} (a^{(l-1)})^T"),
    ("mlp-backprop", "grad_b", r"\nabla_{b^{(l)}} = \delta^{(l)}"),
    ("sigmoid", "d1", r"-(1 + e^{-x})^{-2} \cdot (e^{-x} \cdot -1)"),
    ("vanishing", "sigmoid_max", r"\frac{1}{4} \approx 0.25"),
    ("mse", "dl_dyhat", r"\frac{\partial L}{\partial a} = a - y"),
    ("mlp-cost", "forward_mults", r"\#_{\times}(\text{forward}) = L n^{2}"),
]


@pytest.mark.parametrize(("problem", "target", "answer"), WRONG, ids=[f"{r[0]}:{r[2]}" for r in WRONG])
def test_a_wrong_answer_in_layer_notation_is_never_correct(problem, target, answer):
    assert check(answer, problem, target)["verdict"] in ("incorrect", "unparsable")


@pytest.mark.parametrize(("problem", "target", "answer"), RIGHT, ids=[f"{r[0]}:{r[2]}" for r in RIGHT])
def test_the_same_notation_written_right_is_correct(problem, target, answer):
    assert check(answer, problem, target)["verdict"] == "correct"


def test_the_evaluation_bar_at_another_point_is_never_correct():
    """d/dz tanh z at 1 is 1 - tanh(1)^2, and cosh' at 0 is 0: neither is 1 (a free comparison; at 0 the
    value is 1, read above, though `check` asks for the derivative to be taken in a final answer)."""
    assert check(r"\frac{d}{dz} \tanh z\big|_{z=1}", expected="1")["verdict"] == "incorrect"
    assert check(r"\left.\frac{d}{dz}\cosh z\right|_{z=0}", expected="1")["verdict"] == "incorrect"


# Hostile or unreadable forms: a ReadError naming the problem, never a traceback.
UNREADABLE = [
    ("prelu-init", r"z^{(99999999999)}"),
    ("prelu-init", r"\text{\input{/etc/passwd}}(z)"),
    ("prelu-init", r"\operatorname{\immediate\write18{touch /tmp/x}}(z)"),
    ("xavier", r"\text{PReLU}(z)"),                         # xavier has no alpha: PReLU means nothing there
    ("prelu-init", r"\text{Softsign}(z)"),
    ("prelu-init", r"\mathbb{E}[(z^{(l)})^2]"),
    ("kaiming", r"\operatorname{Var}(W^{(l+1)})"),
    ("prelu-init", "(" * 80 + "z^{(l-1)}" + ")" * 80),
    ("prelu-init", r"z^{(l-1)}" * 5 + r"^{(l)}" * 5),
    ("prelu-init", r"\int z^{(l-1)} dz^{(\alpha)}"),
    ("prelu-init", r"\int z^{(l-1)} dz^{(l-1)}^{(l)}"),
    ("xavier", r"\frac{d}{dz}\tanh z |_{z}"),
    ("xavier", r"\frac{d}{dz}\tanh z |_{1=0}"),
    ("vanishing", r"\frac{1}{4} \approx x"),
    ("vanishing", r"\frac{1}{5} \approx 0.25"),
    ("mlp-backprop", r"\nabla_{b^{(l)}} = \delta^{(l)}"),   # a vector form outside vector mode
    ("mlp-backprop", r"\delta^{(l)} (a^{(l-1)})^T"),
    ("sigmoid", r"2 \cdot - - 3"),
    ("tanh", r"\tanh^{(2)}(x)"),                                  # the second derivative, or layer 2: not guessed
    ("prelu-init", r"\mathbb{E}[W z^{(l-1)}]"),                 # W is random too: no integral against p alone
    ("prelu-init", r"\mathbb{E}[z^{(l)} \text{PReLU}(z^{(l-1)})]"),
    ("prelu-init", r"\mathbb{E}[z^{(l-1)}]"),                   # a moment the problem does not name
    ("xavier", r"\mathbb{E} \delta_i^{(l)}"),
    ("xavier", r"(W^{(l)})^T \delta^{(l)}"),                # a transpose where the problem has no family: never a power T
    ("xavier", r"(W^{(l)})^{T}"),
    ("xavier", r"(W^{(l)})^\top \delta^{(l)}"),
    ("mlp-cost", r"\#_{\times}(\text{sideways})"),            # an operation count the problem does not name
    ("mlp-cost", r"\#_{\times}(\text{\input{/etc/passwd}})"),
    ("mlp-cost", r"\#"),
    ("sigmoid", r"\#_{\times}(z)"),
    # a gradient without its variable where the problem differentiates with respect to no single entry
    # (mlp-backprop: W_ij, b_i, z_j): never 'nablalog' times it (log-softmax's reading: test_reader_sheet_forms)
    ("mlp-backprop", r"\nabla \log \text{softmax}(x)_{[i]}"),
    ("mlp-backprop", r"\nabla (x_i)"),
]


# The seed's second moment (000 3.2) line by line: the layered integrals are judged, a slip is found.
PRELU_CHAIN = [
    r"\mathbb{E}[(a^{(l-1)})^2] = \mathbb{E}[(\text{PReLU}(z^{(l-1)}))^2]",
    r"= \int_{-\infty}^0 (\alpha z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)} + \int_0^{+\infty} (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}",
    r"= \alpha^2 \int_{-\infty}^0 (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)} + \int_0^{+\infty} (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}",
    r"= \frac{1 + \alpha^2}{2} \mathbb{E}(z^{(l-1)})^2",
]
SLIPS = {  # line (1-based) -> its slip
    2: (r"(\alpha z^{(l-1)})^2", r"\alpha (z^{(l-1)})^2"),
    3: (r"\int_0^{+\infty} (z^{(l-1)})^2 p(z^{(l-1)}) dz^{(l-1)}", r"\int_0^{+\infty} (z^{(l-1)})^3 p(z^{(l-1)}) dz^{(l-1)}"),
    4: (r"\frac{1 + \alpha^2}{2}", r"(1 + \alpha^2)"),
}


def test_the_seeds_prelu_second_moment_is_judged_line_by_line_and_each_slip_found():
    from derive.check.steps import check_steps

    report = check_steps("\n".join(PRELU_CHAIN), "prelu-init")
    assert [line["verdict"] for line in report["lines"]] != [] and report["first_error"] is None, report["lines"]
    assert all(line["verdict"] in ("valid", "equal", "skips") for line in report["lines"]), report["lines"]
    assert report["final"] == {"target": "second_moment", "verdict": "correct"}
    for number, (right, wrong) in SLIPS.items():
        lines = list(PRELU_CHAIN)
        assert right in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(right, wrong)
        assert check_steps("\n".join(lines), "prelu-init")["first_error"] == number, (number, wrong)



@pytest.mark.parametrize(("problem", "text"), UNREADABLE, ids=[f"{r[0]}:{r[1][:40]}" for r in UNREADABLE])
def test_hostile_or_meaningless_forms_are_unreadable_never_a_traceback(problem, text):
    with pytest.raises(ReadError):
        _read(problem, text)


def test_a_shifted_reading_refuses_a_subscript_that_names_the_layer():
    """M_{l-1} is a size of layer l-1: shifting the labels but not it would change the statement."""
    with pytest.raises(ReadError):
        _read("xavier", r"\operatorname{Var}(W_{ij}^{(l)}) = \frac{1}{M_{l-1}}", layer_shift=1)


@pytest.mark.parametrize("answer", [r"z^{(99999999999)}", r"\text{\input{/etc/passwd}}(z)", "{" * 70 + "z" + "}" * 70])
def test_hostile_layer_answers_on_the_command_line_are_one_verdict_never_a_traceback(capsys, answer):
    status, out, err = run_cli(capsys, "check", "prelu-init", "--target", "var", "--answer", answer, "--json")
    assert "Traceback" not in err
    if status == 2 and not out:
        assert_one_line_error(status, err)
    else:
        assert json.loads(out)["verdict"] == "unparsable"
