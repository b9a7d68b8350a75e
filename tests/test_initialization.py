"""Initialization results against numeric integration, a NumPy Monte Carlo and torch.nn.init."""

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
import torch

import derive
from derive.params import parse_number

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
