"""Softmax-family gradients against finite differences of the explicit C-class formula and PyTorch."""

import random

import mpmath as mp
import pytest
import sympy as sp
import torch
from reference import close

import derive


def _logits(n, seed):
    rng = random.Random(seed)
    return [mp.mpf(rng.uniform(-3, 3)) for _ in range(n)]


def _softmax(xs):
    total = mp.fsum(mp.exp(v) for v in xs)
    return [mp.exp(v) / total for v in xs]


def _evaluate_indexed(expr, i, k, xs, ys=()):
    """Evaluate a target written with p_i, y_i, delta_ik at concrete indices, by this file's softmax."""
    families = {"p": _softmax(xs), "y": ys}
    concrete = expr.xreplace({s: {"i": i, "k": k}[s.name] for s in expr.free_symbols if s.name in ("i", "k")})
    values = {atom: sp.Float(mp.nstr(families[str(atom.base)][int(atom.indices[0]) - 1], 40), 40)
              for atom in concrete.atoms(sp.Indexed)}
    return mp.mpf(str(sp.N(concrete.xreplace(values), 40)))


def _partial(f, xs, k):
    def along(t):
        moved = list(xs)
        moved[k - 1] = t
        return f(moved)
    return mp.diff(along, xs[k - 1])


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_softmax_jacobian_matches_finite_differences(n):
    xs = _logits(n, n)
    jacobian = derive.get("softmax").target("jacobian").rhs
    for i in range(1, n + 1):
        for k in range(1, n + 1):
            expected = _partial(lambda v, i=i: _softmax(v)[i - 1], xs, k)
            assert close(_evaluate_indexed(jacobian, i, k, xs), expected)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_log_softmax_gradient_matches_finite_differences(n):
    xs = _logits(n, 10 + n)
    grad = derive.get("log-softmax").target("grad").rhs
    for i in range(1, n + 1):
        for k in range(1, n + 1):
            expected = _partial(lambda v, i=i: mp.log(_softmax(v)[i - 1]), xs, k)
            assert close(_evaluate_indexed(grad, i, k, xs), expected)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_softmax_cross_entropy_gradient_matches_torch(n):
    rng = random.Random(n)
    xs = _logits(n, 20 + n)
    weights = [rng.random() for _ in range(n)]
    ys = [mp.mpf(w) / sum(weights) for w in weights]
    logits = torch.tensor([float(v) for v in xs], dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([float(v) for v in ys], dtype=torch.float64)
    torch.nn.functional.cross_entropy(logits[None], labels[None]).backward()
    grad = derive.get("softmax-ce").target("dl_dz").rhs
    for k in range(1, n + 1):
        assert abs(float(_evaluate_indexed(grad, 1, k, xs, ys)) - logits.grad[k - 1].item()) < 1e-12


def test_index_valued_targets_were_checked_entrywise_for_two_to_five_classes():
    for name, target in (("softmax", "jacobian"), ("log-softmax", "grad"), ("softmax-ce", "dl_dz")):
        assert derive.get(name).target(target).entrywise == (("C", (2, 3, 4, 5)),)
