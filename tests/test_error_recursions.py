"""Backpropagation entries (mlp-backprop, conv-backprop, pool-backprop, mlp-cost) against
PyTorch autograd on concrete networks, and the operation counts against an instrumented
plain-Python forward and backward pass."""

import itertools

import numpy as np
import pytest
import sympy as sp
import torch

import derive

torch.set_default_dtype(torch.float64)
SIGMOID = sp.Lambda(sp.Symbol("t"), 1 / (1 + sp.exp(-sp.Symbol("t"))))
TANH = sp.Lambda(sp.Symbol("t"), sp.tanh(sp.Symbol("t")))


def evaluate(derivation, expr, sizes, arrays, function, index_values):
    """The number ``expr`` stands for: sizes and indices substituted, sums written out, every
    entry x_ij of a family read from ``arrays`` (1-based unless ``arrays["first_index"]`` says
    otherwise; the families named in ``arrays["unfold"]`` unfolded first), and the unknown
    activation replaced by ``function``."""
    by_key = {q.key: q for q in derivation.quantities}
    symbols = {by_key[k].symbol: v for k, v in {**sizes, **index_values}.items()}
    expr = expr.xreplace(symbols).doit()
    for q in derivation.quantities:  # defined families such as the zero-padded error
        if isinstance(q.symbol, sp.IndexedBase) and q.meaning is not None and q.key in arrays.get("unfold", ()):
            expr = expr.replace(lambda e, q=q: isinstance(e, sp.Indexed) and e.base == q.symbol,
                                lambda e, q=q: q.meaning(*e.indices))
    for f in {type(f) for f in expr.atoms(sp.core.function.AppliedUndef)}:
        expr = expr.replace(f, function)
    expr = expr.xreplace(symbols).doit()
    entries = {}
    for entry in expr.atoms(sp.Indexed):
        values = arrays[entry.base.name]
        first = arrays.get("first_index", {}).get(entry.base.name, 1)
        entries[entry] = float(values[tuple(int(i) - first for i in entry.indices)])
    return float(sp.sympify(expr.xreplace(entries)).evalf(30))


def test_mlp_backprop_matches_autograd_on_a_three_layer_network():
    n = 3
    rng = np.random.default_rng(7)
    x = torch.tensor(rng.standard_normal(n))
    y = torch.tensor(rng.uniform(0, 1, n))
    weights = [torch.tensor(rng.standard_normal((n, n)), requires_grad=True) for _ in range(3)]
    biases = [torch.tensor(rng.standard_normal(n), requires_grad=True) for _ in range(3)]
    zs, a = [], x
    for weight, bias in zip(weights, biases, strict=True):
        z = weight @ a + bias
        z.retain_grad()
        zs.append(z)
        a = torch.sigmoid(z)
    loss = ((a - y) ** 2).sum() / 2
    loss.backward()

    d = derive.get("mlp-backprop")
    detach = lambda t: t.detach().numpy()  # noqa: E731
    top = {"z_out": detach(zs[2]), "a_out": detach(torch.sigmoid(zs[2])), "y": y.numpy()}
    for i in range(1, n + 1):
        got = evaluate(d, d.target("output_error").rhs, {"n": n}, top, SIGMOID, {"i": i})
        assert got == pytest.approx(zs[2].grad[i - 1].item(), rel=1e-12)
    # layer l = 2 under the output layer l + 1 = 3; layer 1 gets the weight gradients
    middle = {"z": detach(zs[1]), "W_next": detach(weights[2]), "delta_next": zs[2].grad.numpy()}
    for j in range(1, n + 1):
        got = evaluate(d, d.target("error_recursion").rhs, {"n": n}, middle, SIGMOID, {"j": j})
        assert got == pytest.approx(zs[1].grad[j - 1].item(), rel=1e-12)
    first = {"a_prev": x.numpy(), "delta": zs[0].grad.numpy()}
    for i, j in itertools.product(range(1, n + 1), repeat=2):
        got = evaluate(d, d.target("grad_w").rhs, {"n": n}, first, SIGMOID, {"i": i, "j": j})
        assert got == pytest.approx(weights[0].grad[i - 1, j - 1].item(), rel=1e-12)
    for i in range(1, n + 1):
        assert evaluate(d, d.target("grad_b").rhs, {"n": n}, first, SIGMOID, {"i": i}) == \
            pytest.approx(biases[0].grad[i - 1].item(), rel=1e-12)


@pytest.mark.parametrize("side, kernel", [(5, 3), (4, 2), (3, 1)])
def test_conv_backprop_matches_autograd_for_a_cross_correlation_layer(side, kernel):
    rng = np.random.default_rng(side * 10 + kernel)
    z = torch.tensor(rng.standard_normal((side, side)), requires_grad=True)
    omega = torch.tensor(rng.standard_normal((kernel, kernel)))
    upstream = torch.tensor(rng.standard_normal((side - kernel + 1,) * 2))
    z_next = torch.nn.functional.conv2d(torch.tanh(z)[None, None], omega[None, None])[0, 0] + 0.3
    (z_next * upstream).sum().backward()  # so dL/dz^(l+1) is the upstream map

    d = derive.get("conv-backprop")
    arrays = {"z": z.detach().numpy(), "omega": omega.numpy(), "delta_next": upstream.numpy(),
              "unfold": ("delta_padded",), "first_index": {"omega": 0}}
    for i, j in itertools.product(range(1, side + 1), repeat=2):
        got = evaluate(d, d.target("error_recursion").rhs, {"N": side, "K": kernel}, arrays, TANH,
                       {"i": i, "j": j})
        assert got == pytest.approx(z.grad[i - 1, j - 1].item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("window", [1, 2, 3])
def test_average_pooling_shares_the_error_equally(window):
    z = torch.randn(1, 1, window, window, requires_grad=True)
    torch.nn.functional.avg_pool2d(z, window).sum().mul(0.7).backward()
    d = derive.get("pool-backprop")
    by_key = {q.key: q.symbol for q in d.quantities}
    derived = d.target("average_error").rhs.xreplace({by_key["Kp"]: window, by_key["delta"]: sp.Rational(7, 10)})
    assert torch.allclose(z.grad, torch.full_like(z, float(derived)))


def test_max_pooling_sends_the_error_to_the_arg_max():
    d = derive.get("pool-backprop")
    by_key = {q.key: q.symbol for q in d.quantities}
    derived = d.target("max_error").rhs.xreplace({by_key["delta"]: sp.Rational(3, 2)})
    at_max = 0
    for seed in range(8):
        z = torch.tensor(np.random.default_rng(seed).standard_normal((1, 1, 2, 2)), requires_grad=True)
        torch.nn.functional.max_pool2d(z, 2).sum().mul(1.5).backward()
        values = {sp.Indexed(by_key["z"], r, c): sp.Float(z[0, 0, r - 1, c - 1].item(), 30)
                  for r in (1, 2) for c in (1, 2)}
        assert float(derived.xreplace(values)) == z.grad[0, 0, 0, 0].item()
        at_max += z.grad[0, 0, 0, 0].item() != 0
    assert 0 < at_max < 8  # both cases met: the maximum at (1, 1) and elsewhere


class Counted:
    """A number that counts the multiplications and additions done with it."""

    counts = {"mul": 0, "add": 0}

    def __init__(self, value):
        self.value = value

    def _op(self, other, kind, result):
        Counted.counts[kind] += 1
        return Counted(result)

    def __mul__(self, other):
        return self._op(other, "mul", self.value * _value(other))

    __rmul__ = __mul__

    def __add__(self, other):
        return self._op(other, "add", self.value + _value(other))

    __radd__ = __add__

    def __sub__(self, other):
        return self._op(other, "add", self.value - _value(other))


def _value(x):
    return x.value if isinstance(x, Counted) else x


def _instrumented_passes(n, layers):
    """Counts of a forward pass, and of a backward pass with the update, written as loops
    the way the course counts them (sigma and sigma' are given, not counted)."""
    rng = np.random.default_rng(0)
    weights = [[[Counted(rng.standard_normal()) for _ in range(n)] for _ in range(n)] for _ in range(layers)]
    biases = [[Counted(rng.standard_normal()) for _ in range(n)] for _ in range(layers)]
    a = [Counted(v) for v in rng.standard_normal(n)]
    Counted.counts = {"mul": 0, "add": 0}
    inputs = []
    for weight, bias in zip(weights, biases, strict=True):
        inputs.append(a)
        z = []
        for i in range(n):
            total = weight[i][0] * a[0]
            for m in range(1, n):
                total = total + weight[i][m] * a[m]
            z.append(total + bias[i])
        a = [Counted(1 / (1 + np.exp(-entry.value))) for entry in z]  # sigma: not counted
    forward = dict(Counted.counts)

    Counted.counts = {"mul": 0, "add": 0}
    slope = [Counted(0.2) for _ in range(n)]  # sigma'(z), given
    rate = 0.1
    for layer in reversed(range(layers)):
        upstream = [Counted(v) for v in rng.standard_normal(n)]
        weight = weights[layer]
        delta = []
        for j in range(n):  # (W^T delta') * sigma'
            total = weight[0][j] * upstream[0]
            for k in range(1, n):
                total = total + weight[k][j] * upstream[k]
            delta.append(total * slope[j])
        grad_w = [[delta[i] * inputs[layer][j] for j in range(n)] for i in range(n)]
        for i in range(n):
            for j in range(n):
                weight[i][j] = weight[i][j] - grad_w[i][j] * rate
            biases[layer][i] = biases[layer][i] - delta[i] * rate
    return forward, dict(Counted.counts)


@pytest.mark.parametrize("n, layers", [(3, 2), (4, 3), (1, 5)])
def test_mlp_cost_matches_an_instrumented_pass(n, layers):
    forward, backward = _instrumented_passes(n, layers)
    d = derive.get("mlp-cost")
    values = {"n": n, "L": layers}
    assert d.value("forward_mults", values) == forward["mul"]
    assert d.value("forward_adds", values) == forward["add"]
    assert d.value("backward_mults", values) == backward["mul"]


def test_mlp_cost_hand_checked():
    d = derive.get("mlp-cost")
    n, L = (q.symbol for q in d.quantities[:2])
    assert sp.expand(d.target("backward_mults").rhs - (3 * L * n**2 + 2 * L * n)) == 0
    assert sp.expand(d.target("forward_mults").rhs - L * n**2) == 0
