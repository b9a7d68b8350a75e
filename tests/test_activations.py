"""Activation derivatives against mpmath finite differences and PyTorch autograd."""

import mpmath as mp
import pytest
import torch
from reference import close, evaluate

import derive

POINTS = [mp.mpf(v) for v in ("-3.7", "-1.25", "-0.4", "0.05", "0.3", "1.1", "2.9", "5.5")]

# Each activation written from its textbook definition, for mpmath to differentiate.
DEFINITIONS = {
    "sigmoid": lambda t: 1 / (1 + mp.exp(-t)),
    "tanh": lambda t: (mp.exp(t) - mp.exp(-t)) / (mp.exp(t) + mp.exp(-t)),
    "softplus": lambda t: mp.log(1 + mp.exp(t)),
    "silu": lambda t: t / (1 + mp.exp(-t)),
    "gelu": lambda t: t * (1 + mp.erf(t / mp.sqrt(2))) / 2,
    "relu": lambda t: max(t, 0),
    "leaky-relu": lambda t, a=mp.mpf("0.2"): t if t > 0 else a * t,
    "prelu": lambda t, a=mp.mpf("0.25"): t if t > 0 else a * t,
    "elu": lambda t, a=mp.mpf("1.3"): t if t > 0 else a * (mp.exp(t) - 1),
}
ALPHA = {"leaky-relu": "0.2", "prelu": "0.25", "elu": "1.3"}


def _target(name, target, t):
    expr = derive.get(name).target(target).rhs
    functions = {name: DEFINITIONS[name]} if name == "elu" else None
    return evaluate(expr, functions, x=t, alpha=mp.mpf(ALPHA.get(name, "0")))


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
@pytest.mark.parametrize("t", POINTS)
def test_first_derivative_matches_finite_differences(name, t):
    assert close(_target(name, "d1", t), mp.diff(DEFINITIONS[name], t, 1))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("t", POINTS)
def test_second_derivative_matches_finite_differences(name, t):
    assert close(_target(name, "d2", t), mp.diff(DEFINITIONS[name], t, 2))


@pytest.mark.parametrize("t", POINTS)
def test_elu_derivative_written_in_f_agrees(t):
    assert close(_target("elu", "d1_in_f", t), mp.diff(DEFINITIONS["elu"], t, 1))


TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": torch.nn.functional.softplus,
    "silu": torch.nn.functional.silu,
    "gelu": torch.nn.functional.gelu,
    "relu": torch.relu,
    "leaky-relu": lambda v: torch.nn.functional.leaky_relu(v, 0.2),
    "prelu": lambda v: torch.nn.functional.prelu(v, torch.tensor([0.25], dtype=torch.float64)),
    "elu": lambda v: torch.nn.functional.elu(v, 1.3),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_first_derivative_matches_torch_autograd_including_zero(name):
    # 0 is included: there the derivation's stated convention must be the one PyTorch uses.
    grid = [-2.5, -0.7, 0.0, 0.4, 1.9]
    v = torch.tensor(grid, dtype=torch.float64, requires_grad=True)
    TORCH[name](v).sum().backward()
    for t, expected in zip(grid, v.grad.tolist(), strict=False):
        assert abs(float(_target(name, "d1", mp.mpf(t))) - expected) < 1e-12, (name, t)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_results_are_written_in_the_function_itself(name):
    for target in derive.get(name).targets.values():
        assert "exp" not in str(target.rhs) and target.rhs.has(target.lhs.expr.func)


def test_conventions_are_stated_for_kinks():
    assert derive.get("relu").conventions == ("relu-at-zero",)
    assert "leaky-at-zero" in derive.get("leaky-relu").conventions
